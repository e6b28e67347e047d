// One writer across tabs: an exclusive Web Lock names the tab that runs the wallet engine.
// Thin glue over navigator.locks; the logic stays in Rust.

// Whether this tab holds the lock now (a hand-over must never steal it from itself).
let holding = false;
// Ends this tab's pending hand-over request, if any (the lock came by another way).
let endAsk = null;

function hold() {
  // The lock is held until this promise settles: never, so until the tab goes away or the
  // lock is stolen by another tab.
  holding = true;
  if (endAsk) endAsk();
  return new Promise(() => {});
}

function lost(e, onLost) {
  if (e && e.name === "AbortError") {
    holding = false;
    onLost();
  }
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
      .catch((e) => lost(e, onLost));
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
      .catch((e) => lost(e, onLost));
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
    .catch((e) => lost(e, onLost));
}


// The owner's side of a hand-over: `onAsked(id)` runs when another tab asks for the wallet,
// after this tab has said at once that it is finishing ({type: "releasing", id}).
export function onReleaseAsked(onAsked) {
  if (!channel) return;
  channel.addEventListener("message", (e) => {
    if (!holding || !e.data || e.data.type !== "release" || typeof e.data.id !== "string") return;
    channel.postMessage({ type: "releasing", id: e.data.id });
    onAsked(e.data.id);
  });
}

// Tells the asking tab `id` that this tab has finished and locked: it may take over now.
export function released(id) {
  if (channel) channel.postMessage({ type: "released", id });
}

// Asks the owner to finish and hand over, then takes the lock: as soon as the owner says it
// has finished; after `graceMs` from the owner's first answer (an owner that hangs); or after
// `ackMs` if no owner answers at all (an older build, a frozen tab). If the lock comes to
// this tab meanwhile (the owner closed), nothing is stolen.
export function askAndSteal(name, onLost, graceMs, ackMs) {
  const id = String(Math.random()).slice(2) + String(Date.now());
  return new Promise((resolve) => {
    let ended = false;
    let timer = null;
    const end = () => {
      if (ended) return false;
      ended = true;
      endAsk = null;
      if (timer !== null) clearTimeout(timer);
      if (channel) channel.removeEventListener("message", listener);
      return true;
    };
    const go = () => {
      if (!end()) return;
      if (holding) resolve(true);
      else steal(name, onLost).then(resolve);
    };
    const listener = (e) => {
      if (!e.data || e.data.id !== id) return;
      if (e.data.type === "released") go();
      if (e.data.type === "releasing" && !ended) {
        clearTimeout(timer);
        timer = setTimeout(go, graceMs);
      }
    };
    endAsk = () => {
      if (end()) resolve(true);
    };
    if (holding) {
      endAsk();
      return;
    }
    if (channel) {
      channel.addEventListener("message", listener);
      channel.postMessage({ type: "release", id });
    }
    timer = setTimeout(go, channel ? ackMs : 0);
  });
}
