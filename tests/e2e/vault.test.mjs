// End-to-end: the key vault as a person uses it — create, reload, unlock, restore — in
// headless Chromium with real IndexedDB, against the local stack.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appReady } from "../support/stack.mjs";
import { ABOUT, identity, PASS, restoreFromWords, setPassphrase, useStack } from "../support/wallet.mjs";

async function createWallet(page, app) {
  await page.goto(app);
  await appReady(page);
  await page.getByRole("button", { name: "Create a new wallet" }).click();
  // The words come from the engine, which may still be loading in its worker.
  await page.getByTestId("recovery-words").locator("li").first().waitFor();
  const words = await page.getByTestId("recovery-words").locator("li").allTextContents();
  assert.equal(words.length, 12);
  await page.getByRole("button", { name: "I have written them down" }).click();
  const labels = await page.locator("label[for^=confirm-word-]").allTextContents();
  assert.equal(labels.length, 3);
  for (const label of labels) {
    const n = Number(/\d+/.exec(label)[0]);
    await page.getByLabel(label, { exact: true }).fill(words[n - 1]);
  }
  await page.getByRole("button", { name: "Continue" }).click();
  return words;
}

describe("key vault", () => {
  const env = useStack();

  test("create → reload → locked → wrong passphrase refused → unlock; restore elsewhere gives the same keys", async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    const workers = [];
    page.on("worker", (w) => workers.push(new URL(w.url()).pathname));
    const words = await createWallet(page, env.stack.app);

    // A weak passphrase is refused with its reason, and nothing is created.
    await setPassphrase(page, "short");
    await page.getByRole("alert").filter({ hasText: "at least 10 characters" }).waitFor();
    await setPassphrase(page, PASS);
    await page.getByRole("button", { name: "Lock", exact: true }).waitFor();
    assert.equal(await page.locator(".balance .amount").textContent(), "0 sats");
    const created = await identity(page);
    assert.match(created.npub, /^npub1[02-9ac-hj-np-z]{58}$/);
    assert.match(created.address, /^bc1q[02-9ac-hj-np-z]{38}$/);

    // A reload starts locked: the keys were never stored in the clear, only the sealed vault.
    await page.goto(env.stack.app);
    await appReady(page);
    await page.getByRole("heading", { name: "Unlock your wallet" }).waitFor();
    await page.getByLabel("Passphrase").fill("not my passphrase");
    await page.getByRole("button", { name: "Unlock", exact: true }).click();
    await page.getByRole("alert").filter({ hasText: "that passphrase is not right" }).waitFor();
    workers.length = 0;
    await page.getByLabel("Passphrase").fill(PASS);
    await page.getByRole("button", { name: "Unlock", exact: true }).click();
    await page.getByRole("button", { name: "Lock", exact: true }).waitFor();
    assert.deepEqual(workers, ["/kdf-worker_loader.js"], "the KDF ran in its Web Worker");
    assert.deepEqual(await identity(page), created);

    // Lock on demand.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Wallet" }).click();
    await page.getByRole("button", { name: "Lock", exact: true }).click();
    await page.getByRole("heading", { name: "Unlock your wallet" }).waitFor();
    await context.close();

    // Restore from the words in a fresh browser context: same NOSTR key and address.
    const other = await env.browser.newContext();
    const page2 = await other.newPage();
    await page2.goto(env.stack.app);
    await appReady(page2);
    await page2.getByRole("button", { name: "Restore from recovery words" }).click();
    await page2.getByLabel("Your 12 or 24 recovery words").fill(`  ${words.join("  ").toUpperCase()} `);
    await setPassphrase(page2, "a different passphrase here");
    await page2.getByRole("button", { name: "Lock", exact: true }).waitFor();
    assert.deepEqual(await identity(page2), created);
    await other.close();
  });

  test("restoring the BIP84 test mnemonic gives the published address; a bad word is named", async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    await page.goto(env.stack.app);
    await appReady(page);
    await page.getByRole("button", { name: "Restore from recovery words" }).click();
    const about = ABOUT;
    await page.getByLabel("Your 12 or 24 recovery words").fill(about.replace("abandon abandon abandon", "abandon abandn abandon"));
    await setPassphrase(page, PASS);
    await page.getByRole("alert").filter({ hasText: 'word 2 ("abandn")' }).waitFor();
    await page.getByLabel("Your 12 or 24 recovery words").fill(about);
    await page.getByRole("button", { name: "Create wallet" }).click();
    await page.getByRole("button", { name: "Lock", exact: true }).waitFor();
    const { address } = await identity(page);
    assert.equal(address, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu");
    await context.close();
  });

  test("auto-lock fires after the configured idle time, and activity postpones it", async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    await page.clock.install();
    await restoreFromWords(page, env.stack.app);

    // Settings: 1 minute, and storage durability is reported either way.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
    await page.getByLabel("Lock automatically after").selectOption("1");
    await page.getByTestId("storage-persisted").filter({ hasText: /Protected|Not protected/ }).waitFor();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Wallet" }).click();
    const lockButton = page.getByRole("button", { name: "Lock", exact: true });

    await page.clock.runFor(45_000);
    await page.keyboard.press("Shift"); // activity
    await page.clock.runFor(45_000);
    assert.equal(await lockButton.isVisible(), true, "activity 45 s ago: still unlocked");
    await page.clock.runFor(30_000);
    await page.getByRole("heading", { name: "Unlock your wallet" }).waitFor();
    await context.close();
  });

  test("backup file: export, then import in a fresh profile gives the same wallet; bad files are refused", async () => {
    const a = await env.browser.newContext();
    const page = await a.newPage();
    await restoreFromWords(page, env.stack.app);
    // A fresh (incognito) profile is not granted persistent storage: the home screen asks
    // for a backup until one is made.
    await page.getByTestId("backup-prompt").waitFor();
    const original = await identity(page);
    await page.getByTestId("storage-persisted").filter({ hasText: "Not protected" }).waitFor();
    await page.getByTestId("last-backup").filter({ hasText: "none made yet" }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download encrypted backup" }).click(),
    ]);
    assert.equal(download.suggestedFilename(), "flash-wallet-backup.json");
    const file = join(tmpdir(), `flash-backup-${process.pid}.json`);
    await download.saveAs(file); // the download itself goes with its context
    const content = readFileSync(file, "utf8");
    assert.doesNotMatch(content, /abandon|about/, "the file reveals nothing");
    await page.getByTestId("last-backup").filter({ hasText: "last made" }).waitFor();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Wallet" }).click();
    await page.getByRole("button", { name: "Lock", exact: true }).waitFor();
    assert.equal(await page.getByTestId("backup-prompt").count(), 0, "no prompt once a backup exists");
    await a.close();

    const b = await env.browser.newContext();
    const fresh = await b.newPage();
    await fresh.goto(env.stack.app);
    await appReady(fresh);
    await fresh.getByRole("button", { name: "Restore from a backup file" }).click();
    const truncated = join(tmpdir(), `flash-truncated-${process.pid}.json`);
    writeFileSync(truncated, content.slice(0, content.length / 2));
    await fresh.getByLabel("Backup file").setInputFiles(truncated);
    await fresh.getByLabel("The passphrase the backup was made with").fill(PASS);
    await fresh.getByRole("button", { name: "Restore" }).click();
    await fresh.getByRole("alert").filter({ hasText: "damaged or incomplete" }).waitFor();
    await fresh.getByLabel("Backup file").setInputFiles(file);
    await fresh.getByLabel("The passphrase the backup was made with").fill("wrong passphrase");
    await fresh.getByRole("button", { name: "Restore" }).click();
    await fresh.getByRole("alert").filter({ hasText: "that passphrase is not right" }).waitFor();
    await fresh.getByLabel("The passphrase the backup was made with").fill(PASS);
    await fresh.getByRole("button", { name: "Restore" }).click();
    await fresh.getByRole("button", { name: "Lock", exact: true }).waitFor();
    assert.deepEqual(await identity(fresh), original);
    await b.close();
    rmSync(file, { force: true });
    rmSync(truncated, { force: true });
  });

  test("a browser without IndexedDB (some private modes) is told so plainly", async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    // What some private modes do: IndexedDB exists but refuses to open. The engine opens it
    // in its own worker, so the refusal goes into the worker's script (init scripts reach only
    // the page).
    const refuse = `IDBFactory.prototype.open = function () {
      throw new DOMException("The user denied permission to access the database.", "InvalidStateError");
    };`;
    await page.route("**/engine-loader.js", async (route) => {
      const original = await route.fetch();
      await route.fulfill({ response: original, body: refuse + (await original.text()) });
    });
    await page.goto(env.stack.app);
    await appReady(page);
    await page.getByRole("alert").filter({ hasText: "does not let Flash save data here" }).waitFor();
    if (await page.getByRole("button", { name: "Create a new wallet" }).count() !== 0) {
      throw new Error("onboarding offered although nothing could be saved");
    }
    await context.close();
  });

  test("changing the passphrase: the old one stops working, the new one opens the same wallet", async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    await restoreFromWords(page, env.stack.app);
    const before = await identity(page);
    await page.getByLabel("Current passphrase").fill("not the passphrase");
    await page.getByLabel("New passphrase", { exact: true }).fill("a brand new passphrase");
    await page.getByLabel("Repeat new passphrase").fill("a brand new passphrase");
    await page.getByRole("button", { name: "Change passphrase" }).click();
    await page.getByRole("alert").filter({ hasText: "that passphrase is not right" }).waitFor();
    await page.getByLabel("Current passphrase").fill(PASS);
    await page.getByRole("button", { name: "Change passphrase" }).click();
    await page.getByRole("status").filter({ hasText: "Passphrase changed" }).waitFor();

    await page.goto(env.stack.app); // reload: locked
    await appReady(page);
    await page.getByLabel("Passphrase").fill(PASS);
    await page.getByRole("button", { name: "Unlock", exact: true }).click();
    await page.getByRole("alert").filter({ hasText: "that passphrase is not right" }).waitFor();
    await page.getByLabel("Passphrase").fill("a brand new passphrase");
    await page.getByRole("button", { name: "Unlock", exact: true }).click();
    await page.getByRole("button", { name: "Lock", exact: true }).waitFor();
    assert.deepEqual(await identity(page), before);
    await context.close();
  });

  test("an existing nsec can replace the derived NOSTR key, and be dropped again", async () => {
    const context = await env.browser.newContext();
    const page = await context.newPage();
    await restoreFromWords(page, env.stack.app);
    const derived = await identity(page);
    await page.getByLabel("Use an existing NOSTR key (nsec)").fill("npub1zutzeysacnf9rru6zqwmxd54mud0k44tst6l70ja5mhv8jjumytsd2x7nu");
    await page.getByRole("button", { name: "Use this key" }).click();
    await page.getByRole("alert").filter({ hasText: "that is a public key (npub)" }).waitFor();
    await page.getByLabel("Use an existing NOSTR key (nsec)").fill("nsec10allq0gjx7fddtzef0ax00mdps9t2kmtrldkyjfs8l5xruwvh2dq0lhhkp");
    await page.getByRole("button", { name: "Use this key" }).click();
    await page.getByTestId("npub").filter({ hasText: "npub1zutzeysacnf9rru6zqwmxd54mud0k44tst6l70ja5mhv8jjumytsd2x7nu" }).waitFor();
    assert.equal(await page.getByTestId("bip84-address").textContent(), derived.address);
    await page.getByRole("button", { name: "Use the key from my recovery words" }).click();
    // Asked once more; Cancel keeps the imported key.
    await page.getByTestId("nsec-drop-confirm").waitFor();
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.getByTestId("npub").filter({ hasText: "npub1zutzeysacnf9rru6zqwmxd54mud0k44tst6l70ja5mhv8jjumytsd2x7nu" }).waitFor();
    await page.getByRole("button", { name: "Use the key from my recovery words" }).click();
    await page.getByRole("button", { name: "Yes, switch back" }).click();
    await page.getByTestId("npub").filter({ hasText: derived.npub }).waitFor();
    await context.close();
  });
});
