// End-to-end: one writer across tabs (Web Locks), in one browser profile with two tabs.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { appReady } from "../support/stack.mjs";
import { PASS, restoreFromWords, useStack } from "../support/wallet.mjs";
import { addMint, fund, makeToken, pasteToken, waitBalance } from "../support/ecash.mjs";

/** A published BIP39 vector no other test uses, so this wallet's coins are its own. */
const LEGAL = "legal winner thank year wave sausage worth useful legal winner thank yellow";

/** The wallet database's writer epoch (bumped by each engine that becomes the writer). */
async function writerEpoch(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open("flash-web");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const read = db.transaction("meta").objectStore("meta").get("writer-epoch");
          read.onerror = () => reject(read.error);
          read.onsuccess = () => {
            db.close();
            const v = read.result;
            resolve(v ? Number(new DataView(v.buffer, v.byteOffset, v.byteLength).getBigUint64(0)) : 0);
          };
        };
      }),
  );
}

/** A new tab of `context` at the app, once its first screen is up. */
async function openTab(context, app) {
  const page = await context.newPage();
  await page.goto(app);
  await appReady(page);
  return page;
}

describe("one writer across tabs", () => {
  const env = useStack();

  test("a second tab says 'open in another tab'; 'use here' takes over and the first locks itself", async () => {
    const context = await env.browser.newContext();
    const first = await context.newPage();
    await restoreFromWords(first, env.stack.app);

    const second = await context.newPage();
    await second.goto(env.stack.app);
    await appReady(second);
    await second.getByRole("heading", { level: 1, name: "Flash is open in another tab" }).waitFor();
    await second.getByText("Flash runs in one tab at a time").waitFor();

    const before = await writerEpoch(first);
    assert.ok(before >= 1, `the first tab's engine is the writer (epoch ${before})`);
    await second.getByRole("button", { name: "Use here" }).click();
    // The second tab now runs the wallet (locked: keys never travel between tabs)...
    await second.getByRole("heading", { name: "Unlock your wallet" }).waitFor();
    // ...and the first one locked itself and says why.
    await first.getByText("Flash is now open in another tab, so it was locked here.").waitFor();
    await first.getByRole("button", { name: "Use here" }).waitFor();
    // The second tab's engine bumped the writer epoch: whatever the first one's engine
    // still had queued can no longer commit.
    assert.ok((await writerEpoch(second)) > before, "a new writer epoch");

    // And back: the first tab takes over again; its wallet is locked.
    const middle = await writerEpoch(first);
    await first.getByRole("button", { name: "Use here" }).click();
    await first.getByRole("heading", { name: "Unlock your wallet" }).waitFor();
    await second.getByText("Flash is now open in another tab, so it was locked here.").waitFor();
    await first.getByLabel("Passphrase").fill(PASS);
    await first.getByRole("button", { name: "Unlock", exact: true }).click();
    await first.getByRole("button", { name: "Lock", exact: true }).waitFor();
    assert.ok((await writerEpoch(first)) > middle, "the first tab's engine is the writer again");
    await context.close();
  });

  test("a tab that gets the wallet back sees the wallet another tab made meanwhile", async () => {
    const context = await env.browser.newContext();
    const first = await openTab(context, env.stack.app);
    await first.getByRole("button", { name: "Create a new wallet" }).waitFor();

    const second = await openTab(context, env.stack.app);
    await second.getByRole("button", { name: "Use here" }).click();
    await first.getByText("Flash is now open in another tab, so it was locked here.").waitFor();
    await restoreFromWords(second, env.stack.app, LEGAL);

    await first.getByRole("button", { name: "Use here" }).click();
    // Not onboarding: the wallet the other tab made is here, locked.
    await first.getByRole("heading", { name: "Unlock your wallet" }).waitFor();
    await context.close();
  });

  test("'use here' is a hand-over: the first tab finishes the receive in flight, then locks", async () => {
    const context = await env.browser.newContext();
    const first = await context.newPage();
    await restoreFromWords(first, env.stack.app, LEGAL);
    await addMint(first, env.stack.mint);
    await fund(first, 200);
    await waitBalance(first, 200);
    const token = await makeToken(first, 100);
    await waitBalance(first, 100);

    // The mint's answer to the receive's swap is held until the hand-over has begun.
    let swapArrived;
    const arrived = new Promise((resolve) => (swapArrived = resolve));
    await first.route("**/v1/swap", (route) => swapArrived(route));
    await pasteToken(first, token);
    await first.getByTestId("token-receive").click();
    const swap = await arrived;

    const second = await context.newPage();
    await second.goto(env.stack.app);
    await appReady(second);
    await second.getByRole("button", { name: "Use here" }).click();
    await second.getByTestId("tab-taking").waitFor();
    // The first tab was asked and is finishing, not dropping the receive.
    await first.getByTestId("tab-handing").waitFor();
    await swap.continue();
    await first.getByText("Flash is now open in another tab, so it was locked here.").waitFor();

    // The second tab has the wallet; the money is exact, no recovery needed.
    await second.getByRole("heading", { name: "Unlock your wallet" }).waitFor();
    await second.getByLabel("Passphrase").fill(PASS);
    await second.getByRole("button", { name: "Unlock", exact: true }).click();
    await waitBalance(second, 200);
    await context.close();
  });

  test("a waiting tab carries on by itself when the tab that had Flash closes", async () => {
    const context = await env.browser.newContext();
    const first = await openTab(context, env.stack.app);
    await first.getByRole("button", { name: "Create a new wallet" }).waitFor();
    const second = await openTab(context, env.stack.app);
    await second.getByRole("heading", { level: 1, name: "Flash is open in another tab" }).waitFor();
    await first.close();
    await second.getByRole("button", { name: "Create a new wallet" }).waitFor();
    await context.close();
  });
});
