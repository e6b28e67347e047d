//! `WalletHandle`: the UI's side of the engine. Each method sends one `Command` and awaits
//! its reply; nothing here touches wallet state.

use super::*;
use crate::ecash::purse::{ask_invoice, Asked, InvoiceLook};

impl WalletHandle {
    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .unbounded_send(make(reply))
            .map_err(|_| EngineError::Stopped)?;
        answer.await.map_err(|_| EngineError::Stopped)?
    }

    /// The current status.
    pub async fn status(&self) -> Result<Status, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .unbounded_send(Command::Status(reply))
            .map_err(|_| EngineError::Stopped)?;
        answer.await.map_err(|_| EngineError::Stopped)
    }

    /// A stream of events from now on; it starts with the current status.
    pub fn events(&self) -> Result<mpsc::UnboundedReceiver<Event>, EngineError> {
        let (tx, rx) = mpsc::unbounded();
        self.tx
            .unbounded_send(Command::Subscribe(tx))
            .map_err(|_| EngineError::Stopped)?;
        Ok(rx)
    }

    /// A fresh recovery phrase of `words` words, not yet saved: the UI shows it, the user
    /// confirms some words, then [`WalletHandle::setup`] saves it.
    pub async fn new_phrase(&self, words: usize) -> Result<Zeroizing<String>, EngineError> {
        self.ask(|reply| Command::NewPhrase(words, reply)).await
    }

    /// Creates the wallet from `phrase` (new or restored) protected by `passphrase`.
    pub async fn setup(&self, phrase: &str, passphrase: &str) -> Result<Identity, EngineError> {
        let phrase = Zeroizing::new(phrase.to_string());
        let passphrase = Zeroizing::new(passphrase.to_string());
        self.ask(|reply| Command::Setup {
            phrase,
            passphrase,
            reply,
        })
        .await
    }

    /// Unlocks with `passphrase`.
    pub async fn unlock(&self, passphrase: &str) -> Result<Identity, EngineError> {
        let passphrase = Zeroizing::new(passphrase.to_string());
        self.ask(|reply| Command::Unlock { passphrase, reply })
            .await
    }

    /// Locks: keys are wiped from memory.
    pub async fn lock(&self) -> Result<(), EngineError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .unbounded_send(Command::Lock(reply))
            .map_err(|_| EngineError::Stopped)?;
        answer.await.map_err(|_| EngineError::Stopped)
    }

    /// Locks at once, dropping running jobs where they stand (their sagas are durable and
    /// resume at the next unlock): for when another tab has taken over the wallet, which must
    /// never be written by two tabs at the same time. It also looks again whether a wallet
    /// exists (a tab that gets the wallet back may find one another tab made).
    pub async fn lock_now(&self) -> Result<(), EngineError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .unbounded_send(Command::LockNow(reply))
            .map_err(|_| EngineError::Stopped)?;
        answer.await.map_err(|_| EngineError::Stopped)
    }

    /// The encrypted backup file (needs an unlocked wallet). Call
    /// [`WalletHandle::backup_saved`] once it has been handed to the user.
    pub async fn export_backup(&self) -> Result<Vec<u8>, EngineError> {
        self.ask(Command::ExportBackup).await
    }

    /// Records that a backup file was just saved (shown as "last backup").
    pub async fn backup_saved(&self) -> Result<(), EngineError> {
        self.ask(Command::BackupSaved).await
    }

    /// Restores a backup file on a device with no wallet, opening it with `passphrase`.
    pub async fn import_backup(
        &self,
        file: Vec<u8>,
        passphrase: &str,
    ) -> Result<Identity, EngineError> {
        let passphrase = Zeroizing::new(passphrase.to_string());
        self.ask(|reply| Command::ImportBackup {
            file,
            passphrase,
            reply,
        })
        .await
    }

    /// When the last backup file was made (ms since the epoch), if ever.
    pub async fn last_backup(&self) -> Result<Option<u64>, EngineError> {
        self.ask(Command::LastBackup).await
    }

    /// Re-wraps the data key under `new` after checking `current` (needs unlocked); records are
    /// not re-encrypted. A passkey set up before stays only with `keep_passkey` (a new
    /// passphrase often means the old way in was compromised).
    pub async fn change_passphrase(
        &self,
        current: &str,
        new: &str,
        keep_passkey: bool,
    ) -> Result<(), EngineError> {
        let current = Zeroizing::new(current.to_string());
        let new = Zeroizing::new(new.to_string());
        self.ask(|reply| Command::ChangePassphrase {
            current,
            new,
            keep_passkey,
            reply,
        })
        .await
    }

    /// Uses an imported NOSTR secret key (`nsec1…`) instead of the one derived from the words;
    /// `None` goes back to the derived key.
    pub async fn set_nsec(&self, nsec: Option<&str>) -> Result<Identity, EngineError> {
        let nsec = nsec.map(|n| Zeroizing::new(n.to_string()));
        self.ask(|reply| Command::SetNsec(nsec, reply)).await
    }

    /// The passkey set up for this wallet, if any (also while locked).
    pub async fn passkey(&self) -> Result<Option<PasskeyRequest>, EngineError> {
        self.ask(Command::Passkey).await
    }

    /// Adds a passkey unlock from its credential id, PRF salt and PRF output (needs unlocked
    /// and the passphrase: someone at an unlocked wallet must not enrol their own
    /// authenticator and come back later).
    pub async fn add_passkey(
        &self,
        passphrase: &str,
        credential_id: Vec<u8>,
        prf_salt: Vec<u8>,
        prf_output: Vec<u8>,
    ) -> Result<(), EngineError> {
        let prf_output = Zeroizing::new(prf_output);
        let passphrase = Zeroizing::new(passphrase.to_string());
        self.ask(|reply| Command::AddPasskey {
            passphrase,
            credential_id,
            prf_salt,
            prf_output,
            reply,
        })
        .await
    }

    /// Removes the passkey unlock (needs unlocked).
    pub async fn remove_passkey(&self) -> Result<(), EngineError> {
        self.ask(Command::RemovePasskey).await
    }

    /// Unlocks with the passkey's PRF output.
    pub async fn unlock_with_passkey(&self, prf_output: Vec<u8>) -> Result<Identity, EngineError> {
        let prf_output = Zeroizing::new(prf_output);
        self.ask(|reply| Command::UnlockWithPasskey { prf_output, reply })
            .await
    }

    /// The wallet's public identifiers (needs an unlocked wallet).
    pub async fn identity(&self) -> Result<Identity, EngineError> {
        self.ask(Command::Identity).await
    }

    /// Runs `op` on the purse inside the engine (so it survives the page that asked) and
    /// returns its answer. A locked wallet answers [`EngineError::Locked`].
    async fn ecash<T: Send + 'static>(
        &self,
        op: impl FnOnce(Purse) -> LocalBoxFuture<'static, Result<T, EcashError>> + Send + 'static,
    ) -> Result<T, EngineError> {
        let (reply, answer) = oneshot::channel();
        let job: EcashJob = Box::new(move |purse| {
            Box::pin(async move {
                let _ = reply.send(op(purse).await);
            })
        });
        self.tx
            .unbounded_send(Command::Ecash(job))
            .map_err(|_| EngineError::Stopped)?;
        match answer.await {
            Ok(result) => result.map_err(EngineError::from),
            // The job was dropped: the wallet is (or got) locked.
            Err(_) => Err(EngineError::Locked),
        }
    }

    /// Adds a mint by URL and returns what it says about itself.
    pub async fn add_mint(&self, url: &str) -> Result<MintView, EngineError> {
        let url = url.to_string();
        self.ecash(move |p| Box::pin(async move { p.add_mint(&url).await }))
            .await
    }

    /// Forgets a mint; refused while it holds a balance unless `force`.
    pub async fn remove_mint(&self, url: &str, force: bool) -> Result<(), EngineError> {
        let url = url.to_string();
        self.ecash(move |p| Box::pin(async move { p.remove_mint(&url, force).await }))
            .await
    }

    /// Every mint with info and balances.
    pub async fn mints(&self) -> Result<Vec<MintView>, EngineError> {
        self.ecash(|p| Box::pin(async move { p.mints().await }))
            .await
    }

    /// A Lightning invoice to receive `sats` as eCash at `mint`.
    pub async fn invoice(&self, mint: &str, sats: u64) -> Result<InvoiceView, EngineError> {
        let mint = mint.to_string();
        self.ecash(move |p| Box::pin(async move { p.invoice(&mint, sats).await }))
            .await
    }

    /// Checks an invoice once, and mints it if it is paid. Only the
    /// reads and the minting are engine jobs; the wait for the mint's answer is the caller's
    /// (a watcher's), so a slow or unreachable mint holds up neither other work nor a lock.
    pub async fn check_invoice(&self, quote_id: &str) -> Result<Asked, EngineError> {
        let q = quote_id.to_string();
        let look = self
            .ecash(move |p| Box::pin(async move { p.look_invoice(&q).await }))
            .await?;
        let ask = match look {
            InvoiceLook::Minted(done) => return Ok(Asked::Minted(done)),
            InvoiceLook::Ask(ask) => ask,
        };
        match ask_invoice(&ask, quote_id, cdk::util::unix_time()).await? {
            Asked::Paid => {
                let q = quote_id.to_string();
                let minted = self
                    .ecash(move |p| Box::pin(async move { p.mint_invoice(&q).await }))
                    .await?;
                Ok(minted.map_or(Asked::Unpaid, Asked::Minted))
            }
            other => Ok(other),
        }
    }

    /// Waits until the invoice is paid, then mints; returns the sats it brought (also when
    /// minted before, by a recovery). Checks every `every_ms` using `sleep`, slower while the
    /// mint cannot be reached ([`super::watch::follow`]); ends with an error when the invoice
    /// expires unpaid.
    pub async fn await_invoice(
        &self,
        quote_id: &str,
        sleep: Sleep,
        every_ms: u32,
    ) -> Result<u64, EngineError> {
        Ok(super::watch::follow(self, quote_id, &sleep, every_ms)
            .await?
            .sats)
    }

    /// The invoices made and not yet minted nor expired, as (mint, quote id): watched again
    /// at every unlock, so one paid while the wallet was locked lands without a visit to
    /// Receive.
    pub async fn open_invoices(&self) -> Result<Vec<(String, String)>, EngineError> {
        self.ecash(|p| Box::pin(async move { p.open_invoices().await }))
            .await
    }

    /// Tells every subscriber `event` (for the engine's own watchers).
    pub(super) fn announce(&self, event: Event) {
        let _ = self.tx.unbounded_send(Command::Announce(event));
    }

    /// Reads an invoice and gets the mint's price for paying it.
    pub async fn quote_payment(
        &self,
        mint: &str,
        invoice: &str,
    ) -> Result<MeltPreview, EngineError> {
        let (mint, invoice) = (mint.to_string(), invoice.to_string());
        self.ecash(move |p| Box::pin(async move { p.quote_payment(&mint, &invoice).await }))
            .await
    }

    /// Pays a quoted invoice and follows it for up to `tries` checks `every_ms` apart; still
    /// unsettled after that is [`EcashError::PaymentPending`] (held, tracked under Pending).
    pub async fn pay(
        &self,
        mint: &str,
        quote_id: &str,
        sleep: Sleep,
        every_ms: u32,
        tries: u32,
    ) -> Result<Paid, EngineError> {
        let (m, q) = (mint.to_string(), quote_id.to_string());
        let first = self
            .ecash(move |p| Box::pin(async move { p.pay(&m, &q).await }))
            .await?;
        if let Some(paid) = first {
            return Ok(paid);
        }
        for _ in 0..tries {
            sleep(every_ms).await;
            let (m, q) = (mint.to_string(), quote_id.to_string());
            match self
                .ecash(move |p| Box::pin(async move { p.payment_outcome(&m, &q).await }))
                .await
            {
                Ok(Some(paid)) => return Ok(paid),
                Ok(None) | Err(EngineError::Ecash(EcashError::Unreachable(_))) => {}
                Err(e) => return Err(e),
            }
        }
        Err(EcashError::PaymentPending.into())
    }

    /// Checks a payment in flight once: the mint is asked outside the wallet's operations;
    /// only a payment with an outcome is settled, as an engine job. `Ok(None)` while in
    /// flight; [`EcashError::PaymentPending`] when the mint has an outcome that could not be
    /// settled here yet; [`EcashError::PaymentFailed`] once failed (its eCash back).
    pub async fn check_payment(
        &self,
        mint: &str,
        quote_id: &str,
    ) -> Result<Option<Paid>, EngineError> {
        if !crate::ecash::purse::payment_finished(mint, quote_id).await? {
            return Ok(None);
        }
        let (m, q) = (mint.to_string(), quote_id.to_string());
        match self
            .ecash(move |p| Box::pin(async move { p.payment_outcome(&m, &q).await }))
            .await?
        {
            Some(paid) => Ok(Some(paid)),
            // Finished at the mint, still open here: not "in flight" any more.
            None => Err(EcashError::PaymentPending.into()),
        }
    }

    /// The payments in flight, as (mint, quote id).
    pub async fn open_payments(&self) -> Result<Vec<(String, String)>, EngineError> {
        self.ecash(|p| Box::pin(async move { p.open_payments().await }))
            .await
    }

    /// Makes a token to send.
    pub async fn send_token(
        &self,
        mint: &str,
        sats: u64,
        memo: Option<String>,
        offline: bool,
        lock: Option<Lock>,
    ) -> Result<SentToken, EngineError> {
        let mint = mint.to_string();
        self.ecash(move |p| Box::pin(async move { p.send(&mint, sats, memo, offline, lock).await }))
            .await
    }

    /// The public key others can lock tokens to (hex), when unlocked.
    pub async fn lock_pubkey(&self) -> Result<Option<String>, EngineError> {
        self.ecash(|p| Box::pin(async move { Ok(p.lock_pubkey()) }))
            .await
    }

    /// Decodes a token without redeeming it.
    pub async fn inspect_token(&self, token: &str) -> Result<TokenView, EngineError> {
        let token = token.to_string();
        self.ecash(move |p| Box::pin(async move { p.inspect(&token).await }))
            .await
    }

    /// Receives a token: redeemed now, or verified and kept for when its mint answers. A token
    /// from a mint the wallet does not use is refused with [`EcashError::NewMint`] unless
    /// `add_new_mint` (the user agreed to add it).
    pub async fn receive_token(
        &self,
        token: &str,
        add_new_mint: bool,
    ) -> Result<Received, EngineError> {
        let token = Zeroizing::new(token.to_string());
        self.ecash(move |p| Box::pin(async move { p.receive(&token, add_new_mint).await }))
            .await
    }

    /// Saved tokens that could not be redeemed for good, with the reason and the token.
    pub async fn failed_tokens(&self) -> Result<Vec<FailedToken>, EngineError> {
        self.ecash(|p| Box::pin(async move { p.failed_tokens().await }))
            .await
    }

    /// Removes one token from the "could not redeem" list.
    pub async fn dismiss_failed(&self, id: &str) -> Result<(), EngineError> {
        let id = id.to_string();
        self.ecash(move |p| Box::pin(async move { p.dismiss_failed(&id).await }))
            .await
    }

    /// Tokens received offline and not yet redeemed: (id, mint, sats).
    pub async fn saved_tokens(&self) -> Result<Vec<(String, String, u64)>, EngineError> {
        self.ecash(|p| Box::pin(async move { p.saved_tokens().await }))
            .await
    }

    /// Unfinished operations.
    pub async fn pending(&self) -> Result<Vec<PendingItem>, EngineError> {
        self.ecash(|p| {
            Box::pin(async move {
                // Claimed tokens leave the list (checked at most once a minute); an
                // unreachable mint just leaves it as is.
                let _ = p.check_sent_now_and_then().await;
                p.pending().await
            })
        })
        .await
    }

    /// Takes back an unclaimed sent token.
    pub async fn reclaim(&self, mint: &str, id: &str) -> Result<u64, EngineError> {
        let (mint, id) = (mint.to_string(), id.to_string());
        self.ecash(move |p| Box::pin(async move { p.reclaim(&mint, &id).await }))
            .await
    }

    /// Retries every interrupted operation now.
    pub async fn recover(&self) -> Result<crate::ecash::purse::Recovered, EngineError> {
        // Asked for (a button, back online): also ask the mints whether sent tokens were
        // claimed, which recovery alone does not.
        self.ecash(|p| {
            Box::pin(async move {
                let recovered = p.recover().await;
                let _ = p.check_sent().await;
                Ok(recovered)
            })
        })
        .await
    }

    /// Restores eCash from the recovery words at every known mint (plus `mint`, if given).
    pub async fn restore(&self, mint: Option<String>) -> Result<u64, EngineError> {
        self.ecash(move |p| {
            Box::pin(async move {
                if let Some(url) = mint {
                    p.add_mint(&url).await?;
                }
                p.restore().await
            })
        })
        .await
    }

    /// Every operation, newest first.
    pub async fn history(&self) -> Result<Vec<HistoryItem>, EngineError> {
        self.ecash(|p| Box::pin(async move { p.history().await }))
            .await
    }
}
