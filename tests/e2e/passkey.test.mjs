// End-to-end: passkey unlock (WebAuthn PRF) with Chromium's virtual authenticator. Served on
// `localhost`: WebAuthn refuses IP-address origins.
import { describe, test } from "node:test";
import { PASS, restoreFromWords, useStack } from "../support/wallet.mjs";

describe("passkey unlock", () => {
  const env = useStack();

  test("add a passkey, lock, unlock with it; the passphrase still works; remove it", async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("WebAuthn.enable", { enableUI: false });
    await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true,
        isUserVerified: true, automaticPresenceSimulation: true, hasPrf: true,
      },
    });
    await restoreFromWords(page, env.stack.app.replace("127.0.0.1", "localhost"));

    const nav = page.getByRole("navigation", { name: "Main" });
    await nav.getByRole("link", { name: "Settings" }).click();
    // Enrolling needs the passphrase: a wrong one adds nothing.
    await page.getByLabel("Your passphrase (needed to add a passkey)").fill("not the passphrase");
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await page.getByRole("alert").filter({ hasText: "passphrase is not right" }).waitFor();
    await page.getByLabel("Your passphrase (needed to add a passkey)").fill(PASS);
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
