// One writer across tabs: an exclusive Web Lock names the tab that runs the wallet engine.
// Thin glue over navigator.locks; the logic stays in Rust.

function hold() {
  // The lock is held until this promise settles: never, so until the tab goes away or the
  // lock is stolen by another tab.
  return new Promise(() => {});
}

export function locksSupported() {
  return !!(globalThis.navigator && navigator.locks && navigator.locks.request);
}

// Resolves true when this tab got the lock, false when another tab holds it.
// `onLost` runs if another tab later takes the lock over.
export function claim(name, onLost) {
  return new Promise((resolve) => {
    navigator.locks
      .request(name, { ifAvailable: true }, (lock) => {
        if (!lock) {
          resolve(false);
          return undefined;
        }
        resolve(true);
        return hold();
      })
      .catch((e) => {
        if (e && e.name === "AbortError") onLost();
      });
  });
}

// Takes the lock from whichever tab holds it; resolves once this tab holds it.
export function steal(name, onLost) {
  return new Promise((resolve) => {
    navigator.locks
      .request(name, { steal: true }, () => {
        resolve(true);
        return hold();
      })
      .catch((e) => {
        if (e && e.name === "AbortError") onLost();
      });
  });
}

// Queues for the lock and calls `onGranted` once the tab holding it goes away (closed or
// navigated off). `onLost` runs if another tab later takes it from this one.
export function waitFor(name, onGranted, onLost) {
  navigator.locks
    .request(name, () => {
      onGranted();
      return hold();
    })
    .catch((e) => {
      if (e && e.name === "AbortError") onLost();
    });
}

