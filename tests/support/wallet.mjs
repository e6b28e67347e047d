// Shared steps of the end-to-end tests: one stack and one browser per test file, and the
// wallet steps a person takes (restore, set a passphrase, read the keys in settings).
import { after, before } from "node:test";
import { appReady, launchBrowser, startStack } from "./stack.mjs";

export const PASS = "correct horse battery staple";
/** BIP84's published test mnemonic: its first address is known. */
export const ABOUT = "abandon ".repeat(11) + "about";

/** Starts the stack and a browser before the file's tests and stops both after them. */
export function useStack(options) {
  const env = {};
  before(async () => {
    env.stack = await startStack(options);
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.stack?.stop();
  });
  return env;
}

/** Fills the new-passphrase form twice and submits it. */
export async function setPassphrase(page, pass) {
  await page.getByLabel("Passphrase", { exact: true }).fill(pass);
  await page.getByLabel("Repeat passphrase").fill(pass);
  await page.getByRole("button", { name: "Create wallet" }).click();
}

/** Opens the app on a new device and restores `words`; resolves once unlocked. */
export async function restoreFromWords(page, app, words = ABOUT, pass = PASS) {
  await page.goto(app);
  await appReady(page);
  await page.getByRole("button", { name: "Restore from recovery words" }).click();
  await page.getByLabel("Your 12 or 24 recovery words").fill(words);
  await setPassphrase(page, pass);
  await page.getByRole("button", { name: "Lock", exact: true }).waitFor();
}

/** Goes to settings in-app (a full page load would start locked) and reads the keys. */
export async function identity(page) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  await page.getByRole("heading", { level: 1, name: "Settings" }).waitFor();
  const npub = await page.getByTestId("npub").textContent();
  const address = await page.getByTestId("bip84-address").textContent();
  return { npub, address };
}
