// End-to-end: eCash as people use it — two browser contexts are two wallets on two devices,
// against the stack's real cdk mint (FakeWallet Lightning settles invoices after 1 s).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ABOUT, identity, restoreFromWords, useStack } from "../support/wallet.mjs";
import { addMint, balance, fund, go, makeToken, pasteToken, waitBalance } from "../support/ecash.mjs";

/** Other valid BIP39 phrases (published vectors), one per wallet. */
const ZOO = "zoo ".repeat(11) + "wrong";
const LETTER = "letter advice cage absurd amount doctor acoustic avoid letter advice cage above";

describe("eCash", () => {
  const env = useStack();

  test("A mints 1000, sends 100 as a token, B receives it; exact balances; the spent token is refused", async () => {
    const a = await (await env.browser.newContext()).newPage();
    const b = await (await env.browser.newContext()).newPage();
    await restoreFromWords(a, env.stack.app, ABOUT);
    await restoreFromWords(b, env.stack.app, ZOO);
    await addMint(a, env.stack.mint);
    await fund(a, 1000);
    await waitBalance(a, 1000);

    const token = await makeToken(a, 100);
    await waitBalance(a, 900);
    await a.getByTestId("pending-item").filter({ hasText: "100 sat" }).waitFor();

    await pasteToken(b, token);
    await b.getByTestId("token-amount").filter({ hasText: "100 sat" }).waitFor();
    await b.getByTestId("token-preview").filter({ hasText: "a new mint" }).waitFor();
    // A stranger's token never adds a mint silently: the user is asked, and says yes.
    await b.getByTestId("token-new-mint").filter({ hasText: "mint you don't use" }).waitFor();
    await b.getByRole("button", { name: "Add mint and receive" }).click();
    await b.getByTestId("token-received").filter({ hasText: "Received 100 sat" }).waitFor();
    await waitBalance(b, 100);
    await b.getByTestId("history-item").filter({ hasText: "+100 sat" }).waitFor();

    // The same token again: a clear error, nothing changes.
    await pasteToken(b, token);
    await b.getByTestId("token-receive").click();
    await b.getByTestId("token-error").filter({ hasText: "already been claimed" }).waitFor();
    assert.equal(await balance(b), "100");
    assert.equal(await balance(a), "900");

    // Garbage is explained, not crashed on.
    await pasteToken(b, "cashuBnotatoken");
    await b.getByTestId("token-error").filter({ hasText: "not a Cashu token" }).waitFor();

    // Locked to B's npub (NUT-11): anyone else is refused with the reason; B claims it.
    const { npub } = await identity(b);
    await go(a, "Send");
    await a.getByTestId("send-amount").fill("50");
    await a.getByTestId("send-lock").fill(npub);
    await a.getByRole("button", { name: "Make token" }).click();
    const locked = await a.getByTestId("token-text").inputValue();
    await waitBalance(a, 850);
    await pasteToken(a, locked);
    await a.getByTestId("token-receive").click();
    await a.getByTestId("token-error").filter({ hasText: "locked to someone else" }).waitFor();
    assert.equal(await balance(a), "850");
    await pasteToken(b, locked);
    await b.getByTestId("token-receive").click();
    await b.getByTestId("token-received").filter({ hasText: "Received 50 sat" }).waitFor();
    await waitBalance(b, 150);
    await a.context().close();
    await b.context().close();
  });

  test("mint down during a payment: error shown, funds held not lost; mint back: resolved, balance exact", async () => {
    const a = await (await env.browser.newContext()).newPage();
    const b = await (await env.browser.newContext()).newPage();
    await restoreFromWords(a, env.stack.app, LETTER);
    await restoreFromWords(b, env.stack.app, ABOUT);
    await addMint(a, env.stack.mint);
    await addMint(b, env.stack.mint);
    await fund(a, 300);
    await waitBalance(a, 300);
    const before = Number(await balance(b));

    // B asks for 100 over Lightning; A reviews the invoice.
    await go(b, "Receive");
    await b.getByTestId("receive-amount").fill("100");
    await b.getByRole("button", { name: "Create invoice" }).click();
    const invoice = await b.getByTestId("invoice-text").inputValue();
    await go(a, "Send");
    await a.getByTestId("pay-invoice").fill(invoice);
    await a.getByRole("button", { name: "Review payment" }).click();
    await a.getByTestId("pay-preview").filter({ hasText: "100 sat" }).waitFor();

    // The mint goes down before A pays.
    const stop = await fetch(`${env.stack.app}/__control/mint/stop`, { method: "POST" });
    assert.equal(stop.status, 200);
    await a.getByTestId("pay-confirm").click();
    await a.getByTestId("pay-error").filter({ hasText: "has not confirmed the payment" }).waitFor({ timeout: 60_000 });
    await go(a, "Wallet");
    await a.getByTestId("pending-item").first().waitFor();

    // Mint back: one tap resolves it; nothing was paid, every sat is back.
    const start = await fetch(`${env.stack.app}/__control/mint/start`, { method: "POST" });
    assert.equal(start.status, 200);
    await a.getByRole("button", { name: "Check again" }).first().click();
    await waitBalance(a, 300);
    await a.getByTestId("no-pending").waitFor();

    // And paying for real works (a shop's invoice, outside the mint): exact amounts.
    const shop = await (await fetch(`${env.stack.app}/__control/invoice/100`)).text();
    assert.match(shop, /^lnbc1u/);
    await go(a, "Send");
    await a.getByTestId("pay-invoice").fill(shop);
    await a.getByRole("button", { name: "Review payment" }).click();
    await a.getByTestId("pay-confirm").click();
    await a.getByTestId("paid").filter({ hasText: "Paid 100 sat" }).waitFor({ timeout: 30_000 });
    const fee = Number(/fee (\d+) sat/.exec(await a.getByTestId("paid").textContent())[1]);
    await waitBalance(a, 300 - 100 - fee);
    await a.getByTestId("history-item").filter({ hasText: "−100 sat" }).filter({ hasText: "completed" }).waitFor();
    await a.getByTestId("history-item").filter({ hasText: "−100 sat" }).filter({ hasText: "failed" }).waitFor();
    // B's own invoice was settled by the sandbox's fake node (it pays every mint invoice).
    await waitBalance(b, before + 100);
    await a.context().close();
    await b.context().close();
  });

  test("both offline: A sends from exact coins, B verifies offline ('not yet redeemed'); online again, B's balance updates by itself", async () => {
    const ctxA = await env.browser.newContext();
    const ctxB = await env.browser.newContext();
    const a = await ctxA.newPage();
    const b = await ctxB.newPage();
    await restoreFromWords(a, env.stack.app, "panda eyebrow bullet gorilla call smoke muffin taste mesh discover soft ostrich alcohol speed nation flash devote level hobby quick inner drive ghost inside");
    await restoreFromWords(b, env.stack.app, "scheme spot photo card baby mountain device kick cradle pact join borrow");
    await addMint(a, env.stack.mint);
    await addMint(b, env.stack.mint);
    await fund(a, 32);
    await waitBalance(a, 32);

    await ctxA.setOffline(true);
    await ctxB.setOffline(true);
    const token = await makeToken(a, 32, { offline: true });
    await waitBalance(a, 0);
    await pasteToken(b, token);
    await b.getByTestId("token-amount").filter({ hasText: "32 sat" }).waitFor();
    await b.getByTestId("token-receive").click();
    await b.getByTestId("token-saved").filter({ hasText: "not yet redeemed" }).waitFor();
    await go(b, "Wallet");
    await b.getByTestId("not-redeemed").filter({ hasText: "32 sat" }).waitFor();
    assert.equal(await balance(b), "0", "not spendable before the mint confirms");

    // Back online: no tap needed.
    await ctxB.setOffline(false);
    await waitBalance(b, 32);
    await b.getByTestId("not-redeemed").waitFor({ state: "detached" });
    await ctxA.close();
    await ctxB.close();
  });

  test("a fresh device restores A from its words and sees A's balance", async () => {
    const a = await (await env.browser.newContext()).newPage();
    const words = "legal winner thank year wave sausage worth useful legal winner thank yellow";
    await restoreFromWords(a, env.stack.app, words);
    await addMint(a, env.stack.mint);
    await fund(a, 250);
    await makeToken(a, 50); // sent away: not A's any more
    await waitBalance(a, 200);

    const fresh = await (await env.browser.newContext()).newPage();
    await restoreFromWords(fresh, env.stack.app, words);
    // Adding the mint looks for the words' eCash by itself. The unclaimed 50 sat token is
    // still unspent at the mint, so it is found too.
    await addMint(fresh, env.stack.mint);
    await waitBalance(fresh, 250);
    // Asking again finds nothing new and changes nothing.
    await go(fresh, "Settings");
    await fresh.getByRole("button", { name: "Restore eCash from recovery words" }).click();
    await fresh.getByTestId("restored").waitFor({ timeout: 60_000 });
    await waitBalance(fresh, 250);
    // Counters moved past every used secret: minting more works.
    await fund(fresh, 5);
    await waitBalance(fresh, 255);
    await a.context().close();
    await fresh.context().close();
  });
});
