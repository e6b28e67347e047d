// The engine's worker script. It loads the engine module and reports, in plain JS, whatever
// stops the engine before or outside Rust's panic hook: a failed download or compile (a deploy
// between the glue and the module, out of memory on a phone), or an unhandled rejection. The
// page then shows "Flash stopped" instead of waiting for an engine that is gone.
"use strict";
function said(why, e) {
  postMessage("crashed:" + why + ": " + String((e && e.message) || e || "unknown"));
}
self.addEventListener("unhandledrejection", function (e) { said("the engine stopped", e.reason); });
try {
  importScripts("./engine-worker.js");
  wasm_bindgen("./engine-worker_bg.wasm").catch(function (e) { said("the engine could not load", e); });
} catch (e) {
  said("the engine could not load", e);
}
