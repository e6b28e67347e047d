// Interop: Flash's tokens are ordinary Cashu. A token made in Flash Web is redeemed by
// @cashu/cashu-ts (the reference TypeScript wallet) against the stack's mint, and a token made
// by cashu-ts is received by Flash Web.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Wallet, getEncodedToken } from "@cashu/cashu-ts";
import { restoreFromWords, useStack } from "../support/wallet.mjs";

const WORDS = "vessel ladder alter error federal sibling chat ability sun glass valve picture";

async function go(page, name) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name }).click();
}

async function waitBalance(page, sats) {
  await go(page, "Wallet");
  await page.locator(`.balance .amount[data-sats="${sats}"]`).waitFor({ timeout: 30_000 });
}

/** cashu-ts mints `sats` (the sandbox's fake node pays the invoice after about a second). */
async function tsMint(wallet, sats) {
  const quote = await wallet.createMintQuoteBolt11(sats);
  for (let i = 0; i < 100; i++) {
    const q = await wallet.checkMintQuoteBolt11(quote.quote);
    if (q.state === "PAID") return wallet.mintProofsBolt11(sats, quote.quote);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the mint never saw the invoice paid");
}

const total = (proofs) => proofs.reduce((s, p) => s + Number(p.amount), 0);

describe("interop with cashu-ts", () => {
  const env = useStack();

  test("Flash → cashu-ts and cashu-ts → Flash, amounts exact", async () => {
    const ts = new Wallet(env.stack.mint, { unit: "sat" });
    await ts.loadMint();

    // cashu-ts makes a token; Flash receives it (adding the mint on the way).
    const minted = await tsMint(ts, 64);
    const fromTs = getEncodedToken({ mint: env.stack.mint, proofs: minted, unit: "sat" });
    const page = await (await env.browser.newContext()).newPage();
    await restoreFromWords(page, env.stack.app, WORDS);
    await go(page, "Receive");
    await page.getByTestId("token-input").fill(fromTs);
    await page.getByRole("button", { name: "Check token" }).click();
    await page.getByTestId("token-amount").filter({ hasText: "64 sat" }).waitFor();
    await page.getByTestId("token-receive").click();
    await page.getByTestId("token-received").filter({ hasText: "Received 64 sat" }).waitFor();
    await waitBalance(page, 64);

    // Flash makes a token; cashu-ts redeems it at the mint.
    await go(page, "Send");
    await page.getByTestId("send-amount").fill("21");
    await page.getByRole("button", { name: "Make token" }).click();
    const fromFlash = await page.getByTestId("token-text").inputValue();
    assert.match(fromFlash, /^cashuB/);
    const redeemed = await ts.receive(fromFlash, { requireDleq: true });
    assert.equal(total(redeemed), 21);
    await waitBalance(page, 43);
    await page.context().close();
  });
});
