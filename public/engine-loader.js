// The engine's worker script. It loads the engine module and reports, in plain JS, whatever
// stops the engine from starting: a failed download or compile (a deploy between the glue and
// the module, out of memory on a phone), or a rejection while it loads. The page then shows
// "Flash stopped" instead of waiting for an engine that is gone. Once the module runs, Rust's
// panic hook reports (a later stray rejection is only logged, never a reason to stop a
// working engine mid-payment).
"use strict";
function said(why, e) {
  postMessage("crashed:" + why + ": " + String((e && e.message) || e || "unknown"));
}
function whileLoading(e) { said("the engine could not load", e.reason); }
self.addEventListener("unhandledrejection", whileLoading);
try {
  importScripts("./engine-worker.js");
  wasm_bindgen({ module_or_path: "./engine-worker_bg.wasm" }).then(
    function () { self.removeEventListener("unhandledrejection", whileLoading); },
    function (e) { said("the engine could not load", e); });
} catch (e) {
  said("the engine could not load", e);
}
