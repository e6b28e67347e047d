// Starts the local stack (flash-sandbox) on free ports, waits for its ready line, and stops it
// by PID afterwards. Shared by the end-to-end tests and the benchmarks.
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const READY = "FLASH_STACK_READY ";

/** Starts the sandbox serving a private copy of dist/ (tests may modify it). */
export async function startStack({ copyDist = false } = {}) {
  const bin = process.env.FLASH_SANDBOX_BIN;
  const distSrc = process.env.FLASH_DIST;
  if (!bin || !distSrc) throw new Error("run through `cargo xtask test` (FLASH_SANDBOX_BIN and FLASH_DIST unset)");
  const work = mkdtempSync(join(tmpdir(), "flash-e2e-"));
  let dist = distSrc;
  if (copyDist) {
    dist = join(work, "dist");
    cpSync(distSrc, dist, { recursive: true, preserveTimestamps: true }); // copies stay as new as their files
  }
  const args = ["--port", "0", "--mint-port", "0", "--relay-port", "0", "--flash-port", "0", "--control",
    "--dist", dist, "--data-dir", join(work, "data"), "--quote-delay", "1"];
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const urls = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`sandbox not ready after 60 s\n${out}\n${stderr}`)), 60_000);
    child.stdout.on("data", (d) => {
      out += d;
      const line = out.split("\n").find((l) => l.startsWith(READY));
      if (line) { clearTimeout(timer); resolve(JSON.parse(line.slice(READY.length))); }
    });
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`sandbox exited (${code}) before ready:\n${stderr}`)); });
  });
  child.removeAllListeners("exit");
  return {
    ...urls,
    dist,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        process.kill(child.pid, "SIGINT");
        const timer = setTimeout(() => { try { process.kill(child.pid, "SIGKILL"); } catch {} }, 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(work, { recursive: true, force: true });
    },
  };
}

const BROWSER_OPTIONS = {
  executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run"],
};

/** Debian's Chromium, headless, without background traffic to the (closed) outside network. */
export function launchBrowser() {
  return chromium.launch(BROWSER_OPTIONS);
}

/**
 * A browser with a real on-disk profile (not incognito), for what Chromium only allows there
 * (installability). Returns the context; closing it removes the profile.
 */
export async function launchProfile() {
  const dir = mkdtempSync(join(tmpdir(), "flash-profile-"));
  const context = await chromium.launchPersistentContext(dir, BROWSER_OPTIONS);
  const close = context.close.bind(context);
  context.close = async () => { await close(); rmSync(dir, { recursive: true, force: true }); };
  return context;
}

/**
 * A browser on the on-disk profile `dir`, which outlives it: closed or killed, the same
 * profile (IndexedDB, service worker) opens again with another call.
 */
export async function openProfileAt(dir) {
  const context = await chromium.launchPersistentContext(dir, BROWSER_OPTIONS);
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

/** Kills the browser of profile `dir` as the OS would (SIGKILL), and waits until it is gone. */
export async function killProfile(context, dir) {
  const gone = new Promise((resolve) => context.once("close", resolve));
  let killed = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let cmdline;
    try { cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8"); } catch { continue; }
    if (cmdline.split("\0").includes(`--user-data-dir=${dir}`)) {
      try { process.kill(Number(pid), "SIGKILL"); killed += 1; } catch {}
    }
  }
  if (killed === 0) throw new Error(`no browser process runs profile ${dir}`);
  await gone;
  // The browser's helpers die with it; reopening the profile waits until none is left.
  while (readdirSync("/proc").some((pid) => {
    try { return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir); } catch { return false; }
  })) await new Promise((r) => setTimeout(r, 50));
}

/** Waits until the app has mounted (it sets <html data-ready>). */
export async function appReady(page) {
  await page.waitForSelector("html[data-ready]", { timeout: 30_000 });
}

/** Waits until a service worker controls the page. */
export function controlled(page) {
  return page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((r) => navigator.serviceWorker.addEventListener("controllerchange", r, { once: true }));
    }
    return navigator.serviceWorker.controller.scriptURL;
  });
}
