// Parley's service worker: keeps the app's shell (page, WASM, script, styles) so the page
// opens without the server. One cache per build of the site: the page registers
// `/sw.js?v=<build>`, so a new deploy installs a new worker, which keeps the new build's
// files and deletes the old build's. Files with a hash in their name never change: served
// from the cache first. Everything else: network first, the cached copy when the server
// does not answer. Server functions, the socket and files (which are private to their
// channel's members) are never kept; signing out deletes the copies.
const VERSION = new URL(self.location.href).searchParams.get('v') || 'unversioned';
const PREFIX = 'parley-shell-';
const CACHE = PREFIX + VERSION;
const HASHED = /\.[A-Za-z0-9_-]{22}\.[a-z0-9]+$/;

// The page, and every file of the package it names (the hashed script, WASM and styles).
async function keepShell() {
  const cache = await caches.open(CACHE);
  const page = await fetch('/', { cache: 'no-store' });
  if (!page.ok) return;
  const html = await page.clone().text();
  await cache.put('/', page);
  // The icons and the manifest too: the installed app opens without the server.
  const assets = new Set(['/favicon.svg', '/manifest.webmanifest', '/icon-192.png', '/icon-512.png']);
  for (const match of html.matchAll(/["'(](\/pkg\/[^"'()\s]+)/g)) assets.add(match[1]);
  // Each file on its own: one that is missing (the Trunk bundle has no /pkg) is skipped. A
  // hashed file the previous build shares with this one is copied, not downloaded again.
  const keep = (urls) =>
    Promise.all(
      urls.map(async (url) => {
        const kept = HASHED.test(url) ? await caches.match(url, { ignoreVary: true }) : undefined;
        return (kept ? cache.put(url, kept) : cache.add(url)).catch(() => undefined);
      }),
    );
  await keep([...assets]);
  // Then the parts of the app that load when first opened (app/src/ui/later.rs), so they
  // open offline too: the scripts of the package name the script that fetches them
  // (__wasm_split.<hash>.js), which names each piece (split_<part>.<hash>.wasm).
  const seen = new Set(assets);
  let scripts = [...assets].filter((url) => url.startsWith('/pkg/') && url.endsWith('.js'));
  while (scripts.length > 0) {
    const found = new Set();
    for (const script of scripts) {
      const kept = await cache.match(script, { ignoreVary: true });
      const text = kept ? await kept.text() : '';
      for (const match of text.matchAll(/["']\.\/([\w-]+\.[A-Za-z0-9_-]{22}\.(?:js|wasm))["']/g)) {
        const url = new URL(match[1], self.location.origin + script).pathname;
        if (!seen.has(url)) found.add(url);
      }
    }
    found.forEach((url) => seen.add(url));
    await keep([...found]);
    scripts = [...found].filter((url) => url.endsWith('.js'));
  }
}

self.addEventListener('install', (event) => {
  self.skipWaiting();
  event.waitUntil(keepShell().catch(() => undefined));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      // The page's request starts while the worker boots, instead of after.
      .then(() => self.registration.navigationPreload?.enable())
      .then(() => self.clients.claim()),
  );
});

async function fromNetwork(request) {
  const response = await fetch(request);
  if (response.ok) {
    const copy = response.clone();
    caches.open(CACHE).then((cache) => cache.put(request, copy));
  }
  return response;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/files/') || url.pathname === '/ws') return;
  // Ignore Vary: module scripts and the WASM are fetched with an Origin header, the
  // cached copies were not, and the CORS layer varies on it.
  const cached = () => caches.match(request, { ignoreSearch: true, ignoreVary: true });
  if (HASHED.test(url.pathname)) {
    // A hashed name has no query: looked up by its exact address in this build's cache (an
    // index lookup; ignoreSearch makes the browser read every entry of every cache).
    const kept = caches.open(CACHE).then((cache) => cache.match(request, { ignoreVary: true }));
    event.respondWith(kept.then((hit) => hit || fromNetwork(request)));
    return;
  }
  // The page: the answer navigation preload already asked for, if there is one.
  const preloaded = request.mode === 'navigate' ? event.preloadResponse : undefined;
  const network = () =>
    Promise.resolve(preloaded).then((answer) => {
      if (!answer) return fromNetwork(request);
      if (answer.ok) {
        const copy = answer.clone();
        caches.open(CACHE).then((cache) => cache.put(request, copy));
      }
      return answer;
    });
  event.respondWith(
    network().catch(async () => {
      const hit = await cached();
      if (hit) return hit;
      if (request.mode === 'navigate') {
        const shell = await caches.match('/', { ignoreVary: true });
        if (shell) return shell;
      }
      return Response.error();
    }),
  );
});
