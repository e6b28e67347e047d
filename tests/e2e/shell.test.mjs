// End-to-end: the app shell, PWA and hosting contract, in Debian's headless Chromium against the
// real local stack. Each test fails if the feature it names breaks.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { appReady, controlled, launchProfile } from "../support/stack.mjs";
import { restoreFromWords, useStack } from "../support/wallet.mjs";

describe("app shell and PWA", () => {
  const env = useStack({ copyDist: true }); // the update test edits its own copy of dist/

  test("the app loads and navigates between pages", async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(env.stack.app);
    await appReady(page);
    await assert.doesNotReject(page.getByRole("heading", { level: 1, name: "Wallet" }).waitFor());
    // A new device: the engine opened IndexedDB and found no wallet.
    await page.getByRole("button", { name: "Create a new wallet" }).waitFor();
    const nav = page.getByRole("navigation", { name: "Main" });
    for (const [link, heading, path] of [["Send", "Send", "/send"], ["Receive", "Receive", "/receive"],
      ["Chat", "Chat", "/chat"], ["Point of sale", "Point of sale", "/pos"], ["Settings", "Settings", "/settings"]]) {
      await nav.getByRole("link", { name: link }).click();
      await page.getByRole("heading", { level: 1, name: heading }).waitFor();
      assert.equal(new URL(page.url()).pathname, path);
      assert.equal(await nav.getByRole("link", { name: link }).getAttribute("aria-current"), "page");
    }
    await page.goBack();
    await page.getByRole("heading", { level: 1, name: "Point of sale" }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("a first screen paints before any wasm arrives, and the app takes its place", async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    let release;
    const held = new Promise((resolve) => (release = resolve));
    let wasmAsked;
    const asked = new Promise((resolve) => (wasmAsked = resolve));
    await page.route(/flash-web-[0-9a-f]+_bg\.wasm$/, async (route) => {
      wasmAsked();
      await held;
      await route.continue();
    });
    await page.goto(env.stack.app, { waitUntil: "commit" });
    await asked;
    // The wasm is held: what shows is index.html's own shell, styled.
    const boot = page.locator("#boot");
    await boot.locator(".brand").filter({ hasText: "Flash" }).waitFor();
    assert.ok((await boot.locator(".skeleton").count()) >= 3, "a skeleton of the first card");
    await page.waitForFunction(() => performance.getEntriesByName("first-contentful-paint").length === 1);
    assert.equal(await page.locator("html[data-ready]").count(), 0);
    release();
    await appReady(page);
    assert.equal(await boot.count(), 0, "the app replaced the shell");
    assert.equal(await page.locator(".app-header").count(), 1, "one header, the app's");
    await page.getByRole("button", { name: "Create a new wallet" }).waitFor();
    await context.close();
  });

  test("every compressible file is sent brotli-compressed to a browser that accepts it", async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    const encodings = new Map();
    page.on("response", async (r) => {
      const path = new URL(r.url()).pathname;
      if (/\.(wasm|js|css)$/.test(path) || path === "/") encodings.set(path, (await r.allHeaders())["content-encoding"]);
    });
    await page.goto(env.stack.app);
    await appReady(page);
    const wasm = [...encodings].filter(([p]) => p.endsWith(".wasm"));
    assert.ok(wasm.length >= 1, `the app's wasm was fetched: ${[...encodings.keys()]}`);
    for (const [path, encoding] of encodings) assert.equal(encoding, "br", path);
    // Without Accept-Encoding, the same URL is the file itself.
    const [path] = wasm[0];
    const plain = await fetch(`${env.stack.app}${path}`, { headers: { "accept-encoding": "identity" } });
    assert.equal(plain.headers.get("content-encoding"), null);
    assert.equal(plain.headers.get("vary"), "Accept-Encoding");
    const raw = Buffer.from(await plain.arrayBuffer());
    assert.deepEqual([...raw.subarray(0, 4)], [0, 0x61, 0x73, 0x6d], "a wasm module, uncompressed");
    await context.close();
  });

  test("deep links load through the SPA fallback, unknown paths say so", async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    const res = await page.goto(`${env.stack.app}/pos`);
    assert.equal(res.status(), 200);
    await appReady(page);
    await page.getByRole("heading", { level: 1, name: "Point of sale" }).waitFor();
    await page.goto(`${env.stack.app}/no/such/page`);
    await appReady(page);
    await page.getByRole("heading", { level: 1, name: "Page not found" }).waitFor();
    const missingAsset = await page.request.get(`${env.stack.app}/missing.js`);
    assert.equal(missingAsset.status(), 404, "a missing file is a 404, not the app");
    await context.close();
  });

  test("the CSP header is strict and the app runs under it", async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    const violations = [];
    page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
    const res = await page.goto(env.stack.app);
    const csp = res.headers()["content-security-policy"];
    assert.ok(csp, "CSP header present");
    assert.doesNotMatch(csp, /unsafe-inline|'unsafe-eval'/);
    assert.match(csp, /script-src 'self' 'wasm-unsafe-eval' 'sha256-/);
    await appReady(page);
    assert.deepEqual(violations, [], "the app itself triggers no CSP violation");
    // The policy is enforced: an injected inline script does not run.
    await page.evaluate(() => {
      const s = document.createElement("script");
      s.textContent = "window.__injected = true";
      document.body.appendChild(s);
    });
    assert.equal(await page.evaluate(() => window.__injected === true), false);
    for (const [name, value] of [["x-frame-options", "DENY"], ["x-content-type-options", "nosniff"],
      ["referrer-policy", "no-referrer"]]) {
      assert.equal(res.headers()[name], value, name);
    }
    assert.match(csp, /frame-ancestors 'none'/);
    await context.close();
  });

  test("dist carries the headers a static host needs, and a meta CSP for hosts that send none", async () => {
    const dist = process.env.FLASH_DIST;
    const headers = readFileSync(join(dist, "_headers"), "utf8");
    for (const h of ["Content-Security-Policy:", "frame-ancestors 'none'", "X-Content-Type-Options: nosniff",
      "Referrer-Policy: no-referrer", "X-Frame-Options: DENY", "immutable"]) {
      assert.ok(headers.includes(h), `${h} in _headers`);
    }
    const html = readFileSync(join(dist, "index.html"), "utf8");
    const meta = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)">/);
    assert.ok(meta, "meta CSP present");
    assert.match(meta[1], /script-src 'self' 'wasm-unsafe-eval' 'sha256-/);
    // The header's script hashes and the meta's agree, so the app runs under both.
    const hashes = (s) => [...s.matchAll(/'sha256-[^']+'/g)].map((m) => m[0]).sort();
    assert.deepEqual(hashes(meta[1]), hashes(headers));
    assert.ok(!readFileSync(join(dist, "sw.js"), "utf8").includes("_headers"), "not precached");
  });

  test("a panic shows the crash screen with reload and copyable details, never a frozen page", async () => {
    const context = await env.browser.newContext();
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: env.stack.app });
    const page = await context.newPage();
    await page.goto(env.stack.app);
    await appReady(page);
    // The test-only trigger (an origin's own storage): the next start panics on purpose.
    await page.evaluate(() => localStorage.setItem("flash-test-panic", "1"));
    await page.reload();
    const screen = page.getByTestId("crash-screen");
    await screen.waitFor();
    await assert.doesNotReject(page.getByRole("heading", { name: "Flash stopped unexpectedly" }).waitFor());
    assert.match(await screen.textContent(), /Your money is safe/);
    const details = await page.getByTestId("crash-details").textContent();
    assert.match(details, /panicked at .*test panic requested/);
    await page.getByTestId("crash-copy").click();
    await page.waitForFunction((d) => navigator.clipboard.readText().then((t) => t === d), details);
    // Reload brings the app back (the trigger was one-shot).
    await Promise.all([page.waitForEvent("load"), page.getByTestId("crash-reload").click()]);
    await appReady(page);
    assert.equal(await page.getByTestId("crash-screen").count(), 0);
    await context.close();
  });

  test("an engine that dies shows 'Flash stopped' at once, never a frozen screen; reload brings it back", async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    const engines = [];
    page.on("worker", (w) => { if (new URL(w.url()).pathname === "/engine-loader.js") engines.push(w); });
    await restoreFromWords(page, env.stack.app);
    assert.equal(engines.length, 1, "one engine worker, started by the page");
    // What the page sees when the engine's worker dies: an uncaught error there.
    await engines[0].evaluate(() => { setTimeout(() => { throw new Error("the engine died on purpose"); }); });
    await page.getByTestId("crash-screen").waitFor();
    assert.match(await page.getByTestId("crash-details").textContent(), /the engine stopped/);
    await Promise.all([page.waitForEvent("load"), page.getByTestId("crash-reload").click()]);
    await appReady(page);
    await page.getByRole("heading", { name: "Unlock your wallet" }).waitFor();
    assert.equal(await page.getByTestId("crash-screen").count(), 0);
    await context.close();
  });

  test("an engine module that cannot load is reported as stopped, not waited for", async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    // What a broken deploy or a phone out of memory looks like to the worker: no module.
    await page.route("**/engine-worker_bg.wasm", (route) => route.fulfill({ status: 404, body: "gone" }));
    await page.goto(env.stack.app);
    await page.getByTestId("crash-screen").waitFor();
    assert.match(await page.getByTestId("crash-details").textContent(), /the engine could not load: /);
    await context.close();
  });

  test("Chromium finds no installability errors in the manifest", async () => {
    const context = await launchProfile(); // installability is never reported in incognito
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(env.stack.app);
    await appReady(page);
    await controlled(page);
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
    assert.deepEqual(installabilityErrors, []);
    const { url, errors } = await cdp.send("Page.getAppManifest");
    assert.ok(url.endsWith("/manifest.webmanifest"), url);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("the service worker controls the page and the shell opens offline", async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    await page.goto(env.stack.app);
    await appReady(page);
    const script = await controlled(page);
    assert.ok(script.endsWith("/sw.js"), script);
    const version = /const VERSION = "([0-9a-f]+)"/.exec(readFileSync(join(env.stack.dist, "sw.js"), "utf8"))[1];
    const caches = await page.evaluate(() => caches.keys());
    assert.deepEqual(caches, [`flash-shell-${version}`], "one cache, named after the build");

    await context.setOffline(true);
    // Offline for real: the network is unreachable from the page.
    await assert.rejects(page.evaluate((u) => fetch(u, { cache: "no-store" }), `${env.stack.mint}/v1/info`));
    await page.reload();
    await appReady(page);
    await page.getByRole("heading", { level: 1, name: "Wallet" }).waitFor();
    await page.goto(`${env.stack.app}/settings`);
    await appReady(page);
    await page.getByRole("heading", { level: 1, name: "Settings" }).waitFor();
    await context.setOffline(false);
    await context.close();
  });

  test("a new deploy offers 'new version available — reload', and reload switches to it", async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    await page.goto(env.stack.app);
    await appReady(page);
    await controlled(page);
    const banner = page.getByRole("status").filter({ hasText: "A new version of Flash is ready." });
    assert.equal(await banner.count(), 0, "no banner before a deploy");

    // Deploy: a changed build means a changed worker (new VERSION).
    const swPath = join(env.stack.dist, "sw.js");
    const old = readFileSync(swPath, "utf8");
    const oldVersion = /const VERSION = "([0-9a-f]+)"/.exec(old)[1];
    writeFileSync(swPath, old.replace(oldVersion, "0000000000000001"));
    try {
      await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
      await banner.waitFor();
      await banner.getByRole("button", { name: "Reload" }).click();
      await page.waitForFunction(async () =>
        (await caches.keys()).includes("flash-shell-0000000000000001"));
      await page.waitForFunction(() => document.documentElement.hasAttribute("data-ready"));
      const keys = await page.evaluate(() => caches.keys());
      assert.deepEqual(keys, ["flash-shell-0000000000000001"], "the old cache is dropped");
    } finally {
      writeFileSync(swPath, old);
    }
    await context.close();
  });
});
