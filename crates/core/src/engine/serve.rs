//! The engine's side of the page/worker protocol ([`flash_api::protocol`]): one request in,
//! its answer out, through the same [`WalletHandle`] methods the page calls today. The
//! engine's worker (issue 9) runs this for every message; until then it is what proves the
//! protocol covers the handle.

use flash_api::protocol::{Answer, Request, Secret};
use zeroize::Zeroizing;

use super::watch::Watchers;
use super::{EngineError, Sleep, WalletHandle};

/// How often a payment or an invoice is checked while the page waits, and how many checks a
/// payment gets before it is reported as still in flight (the values the page uses now).
const POLL_MS: u32 = 1_000;
const PAY_TRIES: u32 = 20;

/// The text of a secret. The page only ever sends text: anything else is a page of another
/// build, answered as [`EngineError::Stopped`] (reload).
fn text(secret: &Secret) -> Result<Zeroizing<String>, EngineError> {
    secret
        .text()
        .map(|t| Zeroizing::new(t.to_string()))
        .ok_or(EngineError::Stopped)
}

/// Answers `request` with `handle`. `sleep` is the worker's timer; `watchers` the invoices
/// the engine watches by itself (an invoice is watched from the moment it is made, and a
/// request waiting for it only joins that watch).
pub async fn answer(
    handle: &WalletHandle,
    request: Request,
    sleep: Sleep,
    watchers: &Watchers,
) -> Result<Answer, EngineError> {
    use Request as R;
    let opens = matches!(
        request,
        R::Unlock { .. } | R::UnlockWithPasskey { .. } | R::ImportBackup { .. }
    );
    let answer = answer_one(handle, request, sleep, watchers).await?;
    if opens {
        // The last session's watches ended with its lock; pick up its open invoices.
        watchers.resume(handle).await;
    }
    Ok(answer)
}

async fn answer_one(
    handle: &WalletHandle,
    request: Request,
    sleep: Sleep,
    watchers: &Watchers,
) -> Result<Answer, EngineError> {
    use Request as R;
    Ok(match request {
        R::Status => Answer::Status(handle.status().await?),
        R::NewPhrase { words } => {
            let phrase = handle.new_phrase(usize::from(words)).await?;
            Answer::Phrase(Secret::new(phrase.as_bytes()))
        }
        R::Setup { phrase, passphrase } => {
            Answer::Identity(handle.setup(&text(&phrase)?, &text(&passphrase)?).await?)
        }
        R::Unlock { passphrase } => Answer::Identity(handle.unlock(&text(&passphrase)?).await?),
        R::Lock => {
            handle.lock().await?;
            Answer::Done
        }
        R::LockNow => {
            handle.lock_now().await?;
            Answer::Done
        }
        R::Identity => Answer::Identity(handle.identity().await?),
        R::ExportBackup => Answer::Backup(handle.export_backup().await?),
        R::BackupSaved => {
            handle.backup_saved().await?;
            Answer::Done
        }
        R::ImportBackup { file, passphrase } => {
            Answer::Identity(handle.import_backup(file, &text(&passphrase)?).await?)
        }
        R::LastBackup => Answer::LastBackup(handle.last_backup().await?),
        R::ChangePassphrase {
            current,
            new,
            keep_passkey,
        } => {
            handle
                .change_passphrase(&text(&current)?, &text(&new)?, keep_passkey)
                .await?;
            Answer::Done
        }
        R::SetNsec { nsec } => {
            let nsec = nsec.as_ref().map(text).transpose()?;
            Answer::Identity(handle.set_nsec(nsec.as_deref().map(|s| s.as_str())).await?)
        }
        R::Passkey => Answer::Passkey(handle.passkey().await?),
        R::AddPasskey {
            passphrase,
            credential_id,
            prf_salt,
            prf_output,
        } => {
            handle
                .add_passkey(
                    &text(&passphrase)?,
                    credential_id,
                    prf_salt,
                    prf_output.bytes().to_vec(),
                )
                .await?;
            Answer::Done
        }
        R::RemovePasskey => {
            handle.remove_passkey().await?;
            Answer::Done
        }
        R::UnlockWithPasskey { prf_output } => Answer::Identity(
            handle
                .unlock_with_passkey(prf_output.bytes().to_vec())
                .await?,
        ),
        R::AddMint { url } => Answer::Mint(handle.add_mint(&url).await?),
        R::RemoveMint { url, force } => {
            handle.remove_mint(&url, force).await?;
            Answer::Done
        }
        R::Mints => Answer::Mints(handle.mints().await?),
        R::Invoice { mint, sats } => {
            let invoice = handle.invoice(&mint, sats).await?;
            // Watched from now on, whether or not a screen waits for it.
            drop(watchers.watch(handle, &invoice.mint, &invoice.quote_id));
            Answer::Invoice(invoice)
        }
        R::AwaitInvoice { mint, quote_id } => {
            Answer::Sats(watchers.watch(handle, &mint, &quote_id).await?.sats)
        }
        R::QuotePayment { mint, invoice } => {
            Answer::Preview(handle.quote_payment(&mint, &invoice).await?)
        }
        R::Pay { mint, quote_id } => {
            match handle
                .pay(&mint, &quote_id, sleep, POLL_MS, PAY_TRIES)
                .await
            {
                Ok(paid) => Answer::Paid(paid),
                Err(e @ EngineError::Ecash(crate::ecash::EcashError::PaymentPending)) => {
                    // Still in flight when the screen stops waiting: the engine follows it
                    // and announces how it ends.
                    drop(watchers.watch_payment(handle, &mint, &quote_id));
                    return Err(e);
                }
                Err(e) => return Err(e),
            }
        }
        R::SendToken {
            mint,
            sats,
            memo,
            offline,
            lock,
        } => Answer::Sent(handle.send_token(&mint, sats, memo, offline, lock).await?),
        R::LockPubkey => Answer::LockPubkey(handle.lock_pubkey().await?),
        R::InspectToken { token } => Answer::Token(handle.inspect_token(&text(&token)?).await?),
        R::ReceiveToken {
            token,
            add_new_mint,
        } => Answer::Received(handle.receive_token(&text(&token)?, add_new_mint).await?),
        R::FailedTokens => Answer::Failed(handle.failed_tokens().await?),
        R::DismissFailed { id } => {
            handle.dismiss_failed(&id).await?;
            Answer::Done
        }
        R::SavedTokens => Answer::Saved(handle.saved_tokens().await?),
        R::Pending => Answer::Pending(handle.pending().await?),
        R::Reclaim { mint, id } => Answer::Sats(handle.reclaim(&mint, &id).await?),
        R::Recover => Answer::Recovered(handle.recover().await?),
        R::Restore { mint } => Answer::Sats(handle.restore(mint).await?),
        R::History => Answer::History(handle.history().await?),
    })
}
