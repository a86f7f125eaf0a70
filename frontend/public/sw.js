// Parley's service worker: keeps the app's shell (page, WASM, script, styles) so the page
// opens without the server. Network first: a fresh copy whenever the server answers,
// the cached one when it does not. Server functions, the socket and files (which are
// private to their channel's members) are never kept; signing out deletes the copies.
const CACHE = 'parley-shell-v3';
const SHELL = ['/', '/pkg/parley.js', '/pkg/parley.wasm', '/pkg/parley.css', '/favicon.svg'];

self.addEventListener('install', (event) => {
  self.skipWaiting();
  // Each file on its own: a build that lacks one (the Trunk bundle) still installs.
  event.waitUntil(
    caches.open(CACHE).then((cache) => Promise.all(SHELL.map((url) => cache.add(url).catch(() => undefined)))),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/files/') || url.pathname === '/ws') return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      })
      .catch(async () => {
        // Ignore Vary: module scripts and the WASM are fetched with an Origin header, the
        // cached copies were not, and the CORS layer varies on it.
        const cached = await caches.match(request, { ignoreSearch: true, ignoreVary: true });
        if (cached) return cached;
        if (request.mode === 'navigate') {
          const shell = await caches.match("/", { ignoreVary: true });
          if (shell) return shell;
        }
        return Response.error();
      }),
  );
});
