// End-to-end: one writer across tabs (Web Locks), in one browser profile with two tabs.
import { after, before, describe, test } from "node:test";
import { appReady, launchBrowser, startStack } from "../support/stack.mjs";

describe("one writer across tabs", () => {
  let stack;
  let browser;

  before(async () => {
    stack = await startStack();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test("a second tab says 'open in another tab'; 'use here' takes over and the first locks itself", async () => {
    const context = await browser.newContext();
    const first = await context.newPage();
    await first.goto(stack.app);
    await appReady(first);
    await first.getByRole("button", { name: "Restore from recovery words" }).click();
    await first.getByLabel("Your 12 or 24 recovery words").fill("abandon ".repeat(11) + "about");
    await first.getByLabel("Passphrase", { exact: true }).fill("correct horse battery staple");
    await first.getByLabel("Repeat passphrase").fill("correct horse battery staple");
    await first.getByRole("button", { name: "Create wallet" }).click();
    await first.getByRole("button", { name: "Lock", exact: true }).waitFor();

    const second = await context.newPage();
    await second.goto(stack.app);
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
});
