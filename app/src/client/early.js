// The cached history's read, begun by the page's head before its WASM is fetched and
// compiled: the newest page of the channel in the address and its cursor, from the same
// IndexedDB store, the same rows as `LocalStore::load` (app/src/client/local.rs),
// which takes the answer from `window.parleyEarly` (and reads for itself when it is missing,
// failed, or is another channel's). Inline in the server's page, under its nonce; the
// client-only build has none of this. Never creates the store: a first visit has nothing.
(() => {
  const script = document.currentScript;
  const general = script.dataset.general;
  const limit = Number(script.dataset.limit);
  const asked = new URLSearchParams(location.search).get('c');
  const channel = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(asked ?? '') ? asked : general;
  drawSnapshot(script.dataset, channel);
  hideSignInIfRemembered(script.dataset);
  keepEarlyTyping();
  window.parleyEarly = new Promise((answer) => {
    if (!window.indexedDB || !(limit > 0)) return answer(null);
    let open;
    try {
      open = indexedDB.open('parley');
    } catch {
      return answer(null);
    }
    open.onupgradeneeded = () => open.transaction.abort();
    open.onerror = () => answer(null);
    open.onblocked = () => answer(null);
    open.onsuccess = () => {
      const db = open.result;
      // The app's own opening (a newer version) is never held up by this one.
      db.onversionchange = () => db.close();
      const fail = () => {
        db.close();
        answer(null);
      };
      let tx;
      let rows = null;
      let cursor = null;
      // A store of another shape (an older or newer build's), or a browser that refuses a
      // request: no answer from here, and the app reads for itself.
      try {
        tx = db.transaction(['messages', 'cursors'], 'readonly');
        const index = tx.objectStore('messages').index('by_channel');
        const last = [channel, Infinity];
        const range = IDBKeyRange.bound([channel, 0], last);
        if (index.getAllRecords) {
          // One request, newest first (each request waits its turn on a page that is still
          // loading: about 25 ms a request in a reload's trace).
          const all = index.getAllRecords({ query: range, count: limit, direction: 'prev' });
          all.onsuccess = () => {
            rows = all.result.map((record) => record.value).reverse();
          };
        } else {
          // A cursor from the newest end jumps to the oldest of the newest `limit`, then one
          // read takes everything from there on.
          const newest = index.openCursor(range, 'prev');
          let skipped = false;
          newest.onsuccess = () => {
            const at = newest.result;
            if (at && !skipped && limit > 1) {
              skipped = true;
              at.advance(limit - 1);
              return;
            }
            const first = at ? at.key : [channel, 0];
            const all = index.getAll(IDBKeyRange.bound(first, last), limit);
            all.onsuccess = () => {
              rows = all.result;
            };
          };
        }
        const kept = tx.objectStore('cursors').get(channel);
        kept.onsuccess = () => {
          cursor = kept.result ?? null;
        };
      } catch {
        return fail();
      }
      tx.oncomplete = () => {
        db.close();
        answer(rows && { channel, rows, cursor });
      };
      tx.onabort = fail;
      tx.onerror = fail;
    };
  });

  // A page drawn for a visitor with no session cookie (`data-signed-out`: the sign-in form
  // is in it, ui/auth.rs) in a browser that remembers a user: the service worker's copy of
  // the page from before signing in, opened offline, or a session cookie the browser has
  // lost. The app starts as the remembered user there, as on any page, and decides once it
  // runs: until then the form is hidden (`data-remembered`, style/main.css), not flashed.
  function hideSignInIfRemembered(data) {
    try {
      const html = document.documentElement;
      if (html.hasAttribute('data-signed-out') && localStorage.getItem(data.meKey)) html.setAttribute('data-remembered', '');
    } catch {
      // No storage: nothing is remembered.
    }
  }

  // The channel's message box takes text from the server's page on, before the app has
  // come (on a slow link, seconds): what is typed there is kept for the app, which puts it
  // back in the box as it hydrates (`window.parleyTyped`, client/mod.rs), and Enter asks
  // it to send the text once it has come, as Enter does afterwards (not a new line).
  function keepEarlyTyping() {
    const box = (event) =>
      event.target instanceof HTMLTextAreaElement && event.target.id === 'composer' && document.querySelector('main[data-hydrated="false"]')
        ? event.target
        : null;
    document.addEventListener('input', (event) => {
      const typed = box(event);
      if (typed) window.parleyTyped = { text: typed.value, send: window.parleyTyped?.send === true };
    });
    document.addEventListener('keydown', (event) => {
      const typed = box(event);
      if (!typed || event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
      event.preventDefault();
      if (!typed.value.trim()) return;
      window.parleyTyped = { text: typed.value, send: true };
      // Shown as waiting (style/main.css) until the app takes it.
      typed.setAttribute('aria-busy', 'true');
    });
  }

  // The channel's picture kept at the last visit (client/snapshot.rs), for the user this
  // browser remembers: drawn into the message list once the server's list is parsed, so
  // the history is on screen before the WASM runs. Its lines are inert and marked
  // `data-snapshot`; the app takes them away as it hydrates and draws the channel.
  function drawSnapshot(data, channel) {
    let picture;
    try {
      const me = JSON.parse(localStorage.getItem(data.meKey) ?? 'null');
      picture = JSON.parse(localStorage.getItem(data.snapshotPrefix + channel) ?? 'null');
      if (!me || !picture || picture.user !== me.user_id || picture.channel !== channel || typeof picture.html !== 'string') return;
    } catch {
      return;
    }
    let drawn = false;
    const draw = () => {
      const list = document.querySelector('ol.messages');
      if (drawn || !list) return;
      drawn = true;
      const lines = document.createElement('template');
      lines.innerHTML = picture.html;
      for (const line of lines.content.children) {
        line.setAttribute('data-snapshot', '');
        line.inert = true;
      }
      list.append(lines.content);
      list.scrollTop = list.scrollHeight;
      requestAnimationFrame(() => performance.mark('parley:snapshot-painted'));
    };
    // The list is complete once something follows its wrapper (the composer).
    const watch = new MutationObserver(() => {
      if (document.querySelector('ol.messages')?.parentElement?.nextSibling) {
        watch.disconnect();
        draw();
      }
    });
    watch.observe(document.documentElement, { childList: true, subtree: true });
    document.addEventListener('DOMContentLoaded', () => {
      watch.disconnect();
      draw();
    }, { once: true });
  }
})();
