// End-to-end: passkey unlock (WebAuthn PRF) with Chromium's virtual authenticator. Served on
// `localhost`: WebAuthn refuses IP-address origins.
import { after, before, describe, test } from "node:test";
import { appReady, launchBrowser, startStack } from "../support/stack.mjs";

const PASS = "correct horse battery staple";

describe("passkey unlock", () => {
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

  test("add a passkey, lock, unlock with it; the passphrase still works; remove it", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable", { enableUI: false });
    await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true,
        isUserVerified: true, automaticPresenceSimulation: true, hasPrf: true,
      },
    });
    const app = stack.app.replace("127.0.0.1", "localhost");
    await page.goto(app);
    await appReady(page);
    await page.getByRole("button", { name: "Restore from recovery words" }).click();
    await page.getByLabel("Your 12 or 24 recovery words").fill("abandon ".repeat(11) + "about");
    await page.getByLabel("Passphrase", { exact: true }).fill(PASS);
    await page.getByLabel("Repeat passphrase").fill(PASS);
    await page.getByRole("button", { name: "Create wallet" }).click();
    await page.getByRole("button", { name: "Lock", exact: true }).waitFor();

    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await page.getByTestId("passkey-status").filter({ hasText: "A passkey can unlock this wallet" }).waitFor();

    await nav.getByRole("link", { name: "Wallet" }).click();
    await page.getByRole("button", { name: "Lock", exact: true }).click();
    await page.getByRole("button", { name: "Unlock with passkey" }).click();
    await page.getByRole("button", { name: "Lock", exact: true }).waitFor();

    // The passphrase keeps working beside the passkey.
    await page.getByRole("button", { name: "Lock", exact: true }).click();
    await page.getByLabel("Passphrase").fill(PASS);
    await page.getByRole("button", { name: "Unlock", exact: true }).click();
    await page.getByRole("button", { name: "Lock", exact: true }).waitFor();

    // Removing it removes that way in.
    await nav.getByRole("link", { name: "Settings" }).click();
    await page.getByRole("button", { name: "Remove passkey" }).click();
    await page.getByRole("button", { name: "Add a passkey" }).waitFor();
    await nav.getByRole("link", { name: "Wallet" }).click();
    await page.getByRole("button", { name: "Lock", exact: true }).click();
    await page.getByRole("heading", { name: "Unlock your wallet" }).waitFor();
    if (await page.getByRole("button", { name: "Unlock with passkey" }).count() !== 0) {
      throw new Error("the passkey button is still offered after removal");
    }
    await context.close();
  });
});
