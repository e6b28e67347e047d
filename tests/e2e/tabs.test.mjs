// End-to-end: one writer across tabs (Web Locks), in one browser profile with two tabs.
import { describe, test } from "node:test";
import { appReady } from "../support/stack.mjs";
import { restoreFromWords, useStack } from "../support/wallet.mjs";

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

    await second.getByRole("button", { name: "Use here" }).click();
    // The second tab now runs the wallet (locked: keys never travel between tabs)...
    await second.getByRole("heading", { name: "Unlock your wallet" }).waitFor();
    // ...and the first one locked itself and says why.
    await first.getByText("Flash is now open in another tab, so it was locked here.").waitFor();
    await first.getByRole("button", { name: "Use here" }).waitFor();

    // And back: the first tab takes over again; its wallet is locked.
    await first.getByRole("button", { name: "Use here" }).click();
    await first.getByRole("heading", { name: "Unlock your wallet" }).waitFor();
    await second.getByText("Flash is now open in another tab, so it was locked here.").waitFor();
    await context.close();
  });

  test("a waiting tab carries on by itself when the tab that had Flash closes", async () => {
    const context = await env.browser.newContext();
    const first = await context.newPage();
    await first.goto(env.stack.app);
    await appReady(first);
    await first.getByRole("button", { name: "Create a new wallet" }).waitFor();
    const second = await context.newPage();
    await second.goto(env.stack.app);
    await appReady(second);
    await second.getByRole("heading", { level: 1, name: "Flash is open in another tab" }).waitFor();
    await first.close();
    await second.getByRole("button", { name: "Create a new wallet" }).waitFor();
    await context.close();
  });
});
