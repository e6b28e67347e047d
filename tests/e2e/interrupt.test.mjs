// End-to-end, issue 8 finding 3: a payment and a receive are interrupted after the
// mint has done its part and before its answer reaches the page — by a reload, by closing the
// browser, and by killing the browser's process — then the wallet is reopened and unlocked.
// The truth is a fresh device restoring the same words. The bar: the balance equals it,
// nothing is left waiting, and history says what happened. A locked send killed after the mint
// swapped finds its token again under Pending. (A plain send's interruptions are covered
// natively, after each of its durable writes: crates/sandbox/src/fault_tests.rs.)
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PASS, identity, restoreFromWords, useStack } from "../support/wallet.mjs";
import { appReady, killProfile, openProfileAt } from "../support/stack.mjs";
import { addMint, balance, fund, go, makeToken, pasteToken, waitBalance } from "../support/ecash.mjs";

/** Valid BIP39 phrases (randomly generated for these tests), one per wallet. */
const PHRASES = [
  "rhythm vibrant dentist oil mom spend video task capital blast coin rain",
  "drop divorce belt brown stock sea vote athlete spend clever combine goat",
  "total pet item equip hill crater cactus attract rival essay sustain middle",
  "spend buddy fashion arrest artefact mirror cherry frozen bag gravity odor path",
  "boring kit fatal enhance buyer wealth mix power pepper vapor coil bus",
  "great stove relief mix merry symptom tennis abuse unusual ensure duck like",
  "mimic coral balcony stumble float gain gospel gloom citizen title dilemma auction",
  "typical weekend sauce lumber finger waste other twice word eternal dwarf piano",
  "antique mail miss hint attend bracket chalk parent reveal village decrease base",
];
/** The one who sends B the tokens of the receive tests. */
const SENDER = "people sponsor cigar wise betray size appear scorpion public cherry depart camera";

/**
 * Lets the page's request to `path` reach the mint and the mint answer it, and keeps the
 * answer from the page. Resolves once the mint has answered.
 */
async function holdAnswer(page, path) {
  let answered;
  const done = new Promise((resolve) => (answered = resolve));
  await page.route(`**${path}`, async (route) => {
    const answer = await route.fetch();
    answered(answer.status());
  });
  let timer;
  const never = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the page never asked the mint for ${path}`)), 30_000);
  });
  return Promise.race([done, never]).finally(() => clearTimeout(timer));
}

/** The interruptions, each leaving a reopened page on the same profile. */
const INTERRUPT = {
  async reload(w) {
    await w.page.reload();
    await w.page.unrouteAll({ behavior: "ignoreErrors" });
  },
  async close(w) {
    await w.context.close();
    Object.assign(w, await openProfileAt(w.dir));
  },
  async kill(w) {
    await killProfile(w.context, w.dir);
    Object.assign(w, await openProfileAt(w.dir));
  },
};

async function unlock(page, app) {
  await page.goto(app);
  await appReady(page);
  await page.getByLabel("Passphrase").fill(PASS);
  await page.getByRole("button", { name: "Unlock", exact: true }).click();
  await page.getByRole("button", { name: "Lock", exact: true }).waitFor();
}

describe("interrupted while the mint's answer is on its way", () => {
  const env = useStack();
  const dirs = [];
  let phrase = 0;

  /** A wallet on its own on-disk profile, restored from the next phrase, at the stack's mint. */
  async function wallet() {
    const dir = mkdtempSync(join(tmpdir(), "flash-interrupt-"));
    dirs.push(dir);
    const w = { dir, words: PHRASES[phrase++], ...(await openProfileAt(dir)) };
    await restoreFromWords(w.page, env.stack.app, w.words);
    await addMint(w.page, env.stack.mint);
    return w;
  }

  /** What a fresh device restoring `words` finds at the stack's mint. */
  async function truth(words) {
    const context = await env.browser.newContext();
    const fresh = await context.newPage();
    await restoreFromWords(fresh, env.stack.app, words);
    await addMint(fresh, env.stack.mint);
    await go(fresh, "Settings");
    await fresh.getByRole("button", { name: "Restore eCash from recovery words" }).click();
    await fresh.getByTestId("restored").waitFor({ timeout: 60_000 });
    const sats = Number(await balance(fresh));
    await context.close();
    return sats;
  }

  let sender;
  async function senderPage() {
    if (!sender) {
      sender = await (await env.browser.newContext()).newPage();
      await restoreFromWords(sender, env.stack.app, SENDER);
      await addMint(sender, env.stack.mint);
      await fund(sender, 1000);
    }
    return sender;
  }
  async function tokenFromSender(sats) {
    return makeToken(await senderPage(), sats);
  }

  test("a locked send, then kill: the locked token is under Pending again and pays its receiver", async () => {
    const receiver = await senderPage();
    const { npub } = await identity(receiver);
    const w = await wallet();
    // All of it: the plain token needs no swap, so the one swap held is the lock's.
    await fund(w.page, 100);
    await waitBalance(w.page, 100);
    await go(w.page, "Send");
    await w.page.getByTestId("send-amount").fill("100");
    await w.page.getByTestId("send-lock").fill(npub);
    const answered = holdAnswer(w.page, "/v1/swap");
    await w.page.getByRole("button", { name: "Make token" }).click();
    assert.equal(await answered, 200);
    await INTERRUPT.kill(w);
    await unlock(w.page, env.stack.app);

    assert.equal(await truth(w.words), 0);
    await waitBalance(w.page, 0);
    const token = await w.page.getByTestId("locked-token").inputValue();
    assert.match(token, /^cashuB/);
    await pasteToken(receiver, token);
    await receiver.getByTestId("token-amount").filter({ hasText: "100 sat" }).waitFor();
    await receiver.getByTestId("token-receive").click();
    await receiver.getByTestId("token-received").filter({ hasText: "Received 100 sat" }).waitFor();
    await w.context.close();
  });

  for (const how of Object.keys(INTERRUPT)) {
    test(`a payment, then ${how}: paid once, history says completed`, async () => {
      const w = await wallet();
      await fund(w.page, 300);
      await waitBalance(w.page, 300);
      const shop = await (await fetch(`${env.stack.app}/__control/invoice/100`)).text();
      await go(w.page, "Send");
      await w.page.getByTestId("pay-invoice").fill(shop);
      await w.page.getByRole("button", { name: "Review payment" }).click();
      await w.page.getByTestId("pay-preview").filter({ hasText: "100 sat" }).waitFor();
      const answered = holdAnswer(w.page, "/v1/melt/bolt11");
      await w.page.getByTestId("pay-confirm").click();
      assert.equal(await answered, 200);
      await INTERRUPT[how](w);
      await unlock(w.page, env.stack.app);

      const sats = await truth(w.words);
      assert.ok(sats <= 200 && sats >= 190, `paid once, with a fee: ${sats}`);
      await waitBalance(w.page, sats);
      await w.page.getByTestId("no-pending").waitFor();
      const paid = w.page.getByTestId("history-item").filter({ hasText: "−100 sat" });
      await paid.filter({ hasText: "completed" }).waitFor();
      assert.equal(await paid.filter({ hasText: "pending" }).count(), 0);
      await w.context.close();
    });

    test(`a receive, then ${how}: the sats are kept, once`, async () => {
      const token = await tokenFromSender(120);
      const w = await wallet();
      await pasteToken(w.page, token);
      await w.page.getByTestId("token-amount").filter({ hasText: "120 sat" }).waitFor();
      const answered = holdAnswer(w.page, "/v1/swap");
      await w.page.getByTestId("token-receive").click();
      assert.equal(await answered, 200);
      await INTERRUPT[how](w);
      await unlock(w.page, env.stack.app);

      assert.equal(await truth(w.words), 120);
      await waitBalance(w.page, 120);
      await w.page.getByTestId("no-pending").waitFor();
      await w.page.getByTestId("history-item").filter({ hasText: "+120 sat" }).waitFor();
      // The same token again is refused: it was received, once.
      await pasteToken(w.page, token);
      await w.page.getByTestId("token-receive").click();
      await w.page.getByTestId("token-error").filter({ hasText: "already been claimed" }).waitFor();
      await waitBalance(w.page, 120);
      await w.context.close();
    });
  }

  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
});
