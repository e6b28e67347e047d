// One writer across tabs: an exclusive Web Lock names the tab that runs the wallet engine.
// Thin glue over navigator.locks; the logic stays in Rust.

function hold() {
  // The lock is held until this promise settles: never, so until the tab goes away or the
  // lock is stolen by another tab.
  return new Promise(() => {});
}

// Tabs ask the owner to hand over here ({type: "release", id}) and the owner answers when it
// has finished what was running ({type: "released", id}).
const channel = globalThis.BroadcastChannel ? new BroadcastChannel("flash-engine") : null;

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


// The owner's side of a hand-over: `onAsked(id)` runs when another tab asks for the wallet.
export function onReleaseAsked(onAsked) {
  if (!channel) return;
  channel.addEventListener("message", (e) => {
    if (e.data && e.data.type === "release" && typeof e.data.id === "string") onAsked(e.data.id);
  });
}

// Tells the asking tab `id` that this tab has finished and locked: it may take over now.
export function released(id) {
  if (channel) channel.postMessage({ type: "released", id });
}

// Asks the owner to finish and hand over, then takes the lock: as soon as the owner says it
// has finished, or after `graceMs` (an owner that hangs or never answers), whichever is first.
export function askAndSteal(name, onLost, graceMs) {
  const id = String(Math.random()).slice(2) + String(Date.now());
  return new Promise((resolve) => {
    let going = false;
    let timer = null;
    const listener = (e) => {
      if (e.data && e.data.type === "released" && e.data.id === id) go();
    };
    const go = () => {
      if (going) return;
      going = true;
      if (timer !== null) clearTimeout(timer);
      if (channel) channel.removeEventListener("message", listener);
      steal(name, onLost).then(resolve);
    };
    if (channel) {
      channel.addEventListener("message", listener);
      channel.postMessage({ type: "release", id });
    }
    timer = setTimeout(go, channel ? graceMs : 0);
  });
}
