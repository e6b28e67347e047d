// eCash steps as a person takes them in the app, shared by the end-to-end tests.
import assert from "node:assert/strict";

export async function go(page, name) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name }).click();
}

export async function addMint(page, url) {
  await go(page, "Settings");
  await page.getByTestId("mint-url").fill(url);
  await page.getByRole("button", { name: "Add mint" }).click();
  await page.getByTestId("mint").filter({ hasText: "Flash sandbox mint" }).waitFor();
}

/** Receive `sats` over Lightning; the sandbox's fake node pays the invoice. */
export async function fund(page, sats) {
  await go(page, "Receive");
  await page.getByTestId("receive-amount").fill(String(sats));
  await page.getByRole("button", { name: "Create invoice" }).click();
  const invoice = await page.getByTestId("invoice-text").inputValue();
  assert.match(invoice, /^lnbc/);
  await page.locator("figure.qr svg").first().waitFor();
  await page.getByTestId("received").filter({ hasText: `Received ${sats} sat` }).waitFor({ timeout: 30_000 });
}

export async function balance(page) {
  await go(page, "Wallet");
  return page.locator(".balance .amount").getAttribute("data-sats");
}

export async function waitBalance(page, sats) {
  await go(page, "Wallet");
  await page.locator(`.balance .amount[data-sats="${sats}"]`).waitFor({ timeout: 30_000 });
}

export async function makeToken(page, sats, { offline = false } = {}) {
  await go(page, "Send");
  await page.getByTestId("send-amount").fill(String(sats));
  if (offline) await page.getByTestId("send-offline").check();
  await page.getByRole("button", { name: "Make token" }).click();
  const token = await page.getByTestId("token-text").inputValue();
  assert.match(token, /^cashuB/);
  return token;
}

export async function pasteToken(page, token) {
  await go(page, "Receive");
  await page.getByTestId("token-input").fill(token);
  await page.getByRole("button", { name: "Check token" }).click();
}

