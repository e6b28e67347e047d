// Flash Web service worker body. `cargo xtask dist` writes dist/sw.js as a generated header
// (const VERSION and const PRECACHE, derived from the build's content hashes) followed by this
// file. It precaches the app shell only: wallet data never enters this cache, and requests to
// other origins (mints, relays, payment APIs) are never intercepted.
const CACHE = `flash-shell-${VERSION}`;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith("flash-shell-") && key !== CACHE) await caches.delete(key);
      }
      await self.clients.claim();
    })(),
  );
});

// The page asks a waiting worker to take over only after the user chose "reload".
self.addEventListener("message", (event) => {
  if (event.data === "SKIP_WAITING") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/__")) return;
  if (request.mode === "navigate") {
    // Every in-app route is the same shell; the app's router takes it from there.
    event.respondWith(
      caches.match("/index.html", { cacheName: CACHE }).then((hit) => hit || fetch(request)),
    );
    return;
  }
  if (PRECACHE.includes(url.pathname)) {
    event.respondWith(
      caches.match(url.pathname, { cacheName: CACHE }).then((hit) => hit || fetch(request)),
    );
  }
});
