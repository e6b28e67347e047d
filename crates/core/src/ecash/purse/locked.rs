//! Locked sends (NUT-11) that survive an interruption.
//!
//! cdk makes a locked token's outputs from random secrets it holds only in memory, so a tab
//! closed between the mint's swap and its answer loses the amount: the inputs are spent and
//! nobody holds the locked proofs (a restore from the words cannot find them either). Flash
//! sends locked in two steps instead:
//! 1. cdk makes an ordinary token of the amount plus the fees (a send saga like any other,
//!    recoverable from the words);
//! 2. Flash writes the locked outputs — secrets, blinding factors, blinded messages — to the
//!    encrypted store, and only then asks the mint to swap that token into them.
//!
//! [`Purse::recover`] finishes a record left without its token: when the mint has swapped,
//! it asks the mint to sign the same outputs again (NUT-09) and unblinds them; when it has
//! not, it swaps now. The locked token is listed under Pending (with the token, to hand over
//! again) until the receiver has claimed it.

use cdk::dhke::construct_proofs;
use cdk::mint_url::MintUrl;
use cdk::nuts::{
    BlindedMessage, CheckStateRequest, CurrencyUnit, PreMintSecrets, Proofs, RestoreRequest,
    SecretKey, SpendingConditions, State, SwapRequest, Token,
};
use cdk::secret::Secret;
use cdk::wallet::{MintConnector, SendMemo, SendOptions, Wallet};
use cdk::Amount;
use cdk_common::database::WalletDatabase;
use serde::{Deserialize, Serialize};

use super::{EcashError, PendingItem, Purse, SentToken, KV_APP};

/// The kv list of locked sends, keyed by the id of the plain send they swap.
pub(super) const KV_LOCKED: &str = "locked-sends";

/// One locked output, with what is needed to unblind its signature. No `Debug`: `r` and the
/// secret are what the token is made of.
#[derive(Clone, Serialize, Deserialize)]
struct Output {
    blinded: BlindedMessage,
    secret: Secret,
    r: SecretKey,
}

/// A locked send, written before the mint is asked to swap. No `Debug` (secrets inside).
#[derive(Clone, Serialize, Deserialize)]
struct LockedSend {
    mint: String,
    /// What the receiver gets, in sat.
    sats: u64,
    /// Every fee on top of `sats` (the plain send's, the lock swap's, the receiver's).
    fee: u64,
    memo: Option<String>,
    created: u64,
    /// The plain token's proofs, the swap's inputs (none yet: cdk had not made it).
    inputs: Option<Proofs>,
    outputs: Vec<Output>,
    /// The locked token, once the mint has signed.
    token: Option<String>,
}

/// Why a locked send fell back to cdk's own (see [`Purse::send_locked`]).
pub(super) const NO_RESTORE: &str = "this mint cannot sign outputs again (NUT-09)";

/// How the mint sees the plain token's proofs.
enum Spent {
    All,
    None,
    /// Some spent, some unspent, none pending: not our swap (it spends all or nothing).
    Some,
    /// Pending, or left out of the answer: ask again later.
    Unknown,
}

fn spent(states: &[State]) -> Spent {
    if states.is_empty()
        || states
            .iter()
            .any(|s| !matches!(s, State::Spent | State::Unspent))
    {
        Spent::Unknown
    } else if states.iter().all(|s| *s == State::Spent) {
        Spent::All
    } else if states.iter().all(|s| *s == State::Unspent) {
        Spent::None
    } else {
        Spent::Some
    }
}

fn outputs(secrets: PreMintSecrets) -> Vec<Output> {
    secrets
        .secrets
        .into_iter()
        .map(|p| Output {
            blinded: p.blinded_message,
            secret: p.secret,
            r: p.r,
        })
        .collect()
}

/// What finishing a locked send found.
enum Finished {
    Token(String),
    /// The mint has not said yet (unreachable, or the swap is still pending there).
    Later,
    /// The mint refused the swap for good and its inputs are unspent: the record is gone and
    /// the plain token taken back (or, if that failed too, left under Pending to take back).
    Refused(EcashError),
}

impl Purse {
    /// A locked send, as the module doc says. Runs under `moving`. Once the record is
    /// written, every failure leaves the rest to recovery ([`EcashError::SendPending`]): the
    /// plain token is never left without an owner.
    pub(super) async fn send_locked(
        &self,
        wallet: &Wallet,
        sats: u64,
        memo: Option<String>,
        conditions: SpendingConditions,
    ) -> Result<SentToken, EcashError> {
        // Recovery rebuilds the locked proofs by asking the mint to sign their outputs again
        // (NUT-09); a mint that cannot do that gets cdk's one-step locked send.
        if !self.mint_restores(wallet).await {
            return Err(EcashError::Other(NO_RESTORE.into()));
        }
        let keyset = wallet.active_keyset().await?;
        let fees = wallet.get_keyset_fees_and_amounts_by_id(keyset.id).await?;
        // What the locked outputs carry: `sats` plus the receiver's fee to redeem them, which
        // depends on how many proofs they make.
        let mut locked = sats;
        for _ in 0..8 {
            let count = Amount::from(locked)
                .split_targeted(&cdk::amount::SplitTarget::default(), &fees)
                .map_err(|e| EcashError::Other(e.to_string()))?
                .len() as u64;
            let next = sats.saturating_add((count.saturating_mul(fees.fee())).div_ceil(1000));
            if next == locked {
                break;
            }
            locked = next;
        }
        let secrets = PreMintSecrets::with_conditions(
            keyset.id,
            Amount::from(locked),
            &cdk::amount::SplitTarget::default(),
            &conditions,
            &fees,
        )
        .map_err(|e| EcashError::Other(e.to_string()))?;
        // Step 1: a plain token of `locked` plus the fee of swapping it (include_fee). Its
        // memo is the history line's; the plain token itself is never shown.
        let memo = memo.filter(|m| !m.trim().is_empty());
        let opts = SendOptions {
            send_kind: cdk_common::wallet::SendKind::OnlineExact,
            include_fee: true,
            memo: memo.clone().map(|m| SendMemo {
                memo: m,
                include_memo: true,
            }),
            ..SendOptions::default()
        };
        let prepared = wallet.prepare_send(Amount::from(locked), opts).await?;
        let send_id = prepared.operation_id();
        let mut record = LockedSend {
            mint: wallet.mint_url.to_string(),
            sats,
            fee: locked.saturating_sub(sats),
            memo,
            created: cdk::util::unix_time(),
            inputs: None,
            outputs: outputs(secrets),
            token: None,
        };
        let key = send_id.to_string();
        // Durable before the plain token exists: recovery can always tie it to this record.
        if let Err(e) = self.write_locked(&key, &record).await {
            let _ = prepared.cancel().await;
            return Err(e);
        }
        if let Err(e) = prepared.confirm(None).await {
            // cdk rolled its send back (nothing was made): say why, leave nothing behind.
            if self.db.get_saga(&send_id).await?.is_none() {
                self.db.kv_remove(KV_APP, KV_LOCKED, &key).await?;
                return Err(e.into());
            }
            return Err(EcashError::SendPending);
        }
        let made = async {
            let inputs = self.plain_proofs(&send_id).await?;
            // What the inputs really give after the lock swap's fee (cdk may have picked
            // other coins than its estimate): the outputs must match it exactly, and no swap
            // has used the first set, so they can still be made again.
            let total = inputs
                .iter()
                .map(|p| p.amount)
                .try_fold(Amount::ZERO, |a, b| a.checked_add(b))
                .ok_or(EcashError::BadAmount)?;
            let swap_fee = wallet.get_proofs_fee(&inputs).await?.total;
            let out = total
                .checked_sub(swap_fee)
                .filter(|a| u64::from(*a) >= sats)
                .ok_or(EcashError::InsufficientFunds)?;
            if out != Amount::from(locked) {
                record.outputs = outputs(
                    PreMintSecrets::with_conditions(
                        keyset.id,
                        out,
                        &cdk::amount::SplitTarget::default(),
                        &conditions,
                        &fees,
                    )
                    .map_err(|e| EcashError::Other(e.to_string()))?,
                );
            }
            record.fee = u64::from(total).saturating_sub(sats);
            record.inputs = Some(inputs);
            self.write_locked(&key, &record).await?;
            self.finish_locked(wallet, &key, record.clone(), false)
                .await
        };
        match made.await {
            Ok(Finished::Token(token)) => Ok(SentToken {
                token,
                amount: sats,
                fee: record.fee,
            }),
            Ok(Finished::Refused(e)) => Err(e),
            Ok(Finished::Later) | Err(_) => Err(EcashError::SendPending),
        }
    }

    /// The proofs cdk's send `id` put in its token.
    async fn plain_proofs(&self, id: &uuid::Uuid) -> Result<Proofs, EcashError> {
        self.made_token(id)
            .await?
            .ok_or_else(|| EcashError::Other("the send was not recorded".into()))
    }

    /// The proofs of cdk's send `id` once its token is made; `None` before (or never).
    async fn made_token(&self, id: &uuid::Uuid) -> Result<Option<Proofs>, EcashError> {
        use cdk_common::wallet::{OperationData, SendSagaState, WalletSagaState};
        Ok(match self.db.get_saga(id).await? {
            Some(saga) => match (saga.state, saga.data) {
                (WalletSagaState::Send(SendSagaState::TokenCreated), OperationData::Send(data)) => {
                    data.proofs
                }
                _ => None,
            },
            None => None,
        })
    }

    async fn write_locked(&self, key: &str, record: &LockedSend) -> Result<(), EcashError> {
        let bytes = serde_json::to_vec(record).map_err(|e| EcashError::Other(e.to_string()))?;
        Ok(self.db.kv_write(KV_APP, KV_LOCKED, key, &bytes).await?)
    }

    async fn locked_sends(&self) -> Result<Vec<(String, LockedSend)>, EcashError> {
        let mut out = Vec::new();
        for key in self.db.kv_list(KV_APP, KV_LOCKED).await? {
            if let Some(bytes) = self.db.kv_read(KV_APP, KV_LOCKED, &key).await? {
                if let Ok(record) = serde_json::from_slice::<LockedSend>(&bytes) {
                    out.push((key, record));
                }
            }
        }
        Ok(out)
    }

    /// Gets the mint's signatures on the record's outputs: by swapping (`swapped` false), or
    /// (`swapped` true: the inputs are already spent, by this swap) by asking it to sign them
    /// again (NUT-09). Writes the token before returning it, then drops the spent plain token.
    async fn finish_locked(
        &self,
        wallet: &Wallet,
        key: &str,
        mut record: LockedSend,
        swapped: bool,
    ) -> Result<Finished, EcashError> {
        let Some(inputs) = record.inputs.clone() else {
            return Ok(Finished::Later);
        };
        let client = self.client_for(&wallet.mint_url);
        let blinded: Vec<BlindedMessage> =
            record.outputs.iter().map(|o| o.blinded.clone()).collect();
        let signatures = if swapped {
            let answer = client
                .post_restore(RestoreRequest {
                    outputs: blinded.clone(),
                })
                .await?;
            if answer.signatures.is_empty() {
                // Spent, and not by this swap (the mint signed none of our outputs): another
                // device restoring the same words spent the plain token. Nothing to make.
                self.drop_plain(wallet, key, &inputs).await?;
                self.db.kv_remove(KV_APP, KV_LOCKED, key).await?;
                return Ok(Finished::Refused(EcashError::TokenSpent));
            }
            // Back in the order of our outputs; every one must be there exactly once.
            let mut ordered = Vec::with_capacity(blinded.len());
            for b in &blinded {
                let at = answer
                    .outputs
                    .iter()
                    .position(|o| o.blinded_secret == b.blinded_secret);
                match at.and_then(|i| answer.signatures.get(i)) {
                    Some(sig) => ordered.push(sig.clone()),
                    None => return Ok(Finished::Later),
                }
            }
            ordered
        } else {
            match client
                .post_swap(SwapRequest::new(inputs.clone(), blinded.clone()))
                .await
            {
                Ok(answer) => answer.signatures,
                Err(e) if e.is_definitive_failure() => {
                    // A "no" is believed only if the inputs are still unspent (a proxy may
                    // say no after the mint said yes).
                    let states = self.states(&wallet.mint_url, ys(&inputs)?).await?;
                    match spent(&states) {
                        Spent::All => {
                            return Box::pin(self.finish_locked(wallet, key, record, true)).await
                        }
                        Spent::Some => {
                            self.spent_elsewhere(key, &inputs, &states).await?;
                            return Ok(Finished::Refused(EcashError::TokenSpent));
                        }
                        Spent::Unknown => return Ok(Finished::Later),
                        Spent::None => {}
                    }
                    // The plain token was never shown to anyone: take it back. The record
                    // goes only once that has worked (if the first swap still lands
                    // meanwhile, the take-back fails and recovery rebuilds the token).
                    let Ok(id) = uuid::Uuid::parse_str(key) else {
                        return Ok(Finished::Later);
                    };
                    if wallet.revoke_send(id).await.is_err() {
                        return Ok(Finished::Later);
                    }
                    self.db.kv_remove(KV_APP, KV_LOCKED, key).await?;
                    return Ok(Finished::Refused(e.into()));
                }
                Err(_) => return Ok(Finished::Later),
            }
        };
        if signatures.len() != blinded.len()
            || signatures
                .iter()
                .zip(&blinded)
                .any(|(s, b)| s.amount != b.amount || s.keyset_id != b.keyset_id)
        {
            return Err(EcashError::BadSignature);
        }
        let keyset_id = blinded
            .first()
            .map(|b| b.keyset_id)
            .ok_or(EcashError::BadAmount)?;
        let keys = wallet.keyset(keyset_id).await?.keys;
        let proofs = construct_proofs(
            signatures,
            record.outputs.iter().map(|o| o.r.clone()).collect(),
            record.outputs.iter().map(|o| o.secret.clone()).collect(),
            &keys,
        )
        .map_err(|_| EcashError::BadSignature)?;
        // DLEQ is optional for mints (NUT-12): checked when given, so a forged signature is
        // caught here; a token without it is still good online.
        for p in proofs.iter().filter(|p| p.dleq.is_some()) {
            let key = keys.amount_key(p.amount).ok_or(EcashError::BadSignature)?;
            p.verify_dleq(key).map_err(|_| EcashError::BadSignature)?;
        }
        let url: MintUrl = wallet.mint_url.clone();
        let token = Token::new(url, proofs, record.memo.clone(), CurrencyUnit::Sat).to_string();
        record.token = Some(token.clone());
        self.write_locked(key, &record).await?;
        self.drop_plain(wallet, key, &inputs).await?;
        Ok(Finished::Token(token))
    }

    /// The plain token's proofs are spent (swapped into the locked outputs): cdk's send is
    /// closed (its history line completed) and the proofs leave the wallet's records, so no
    /// "sent" row stays behind under Pending. Only what the mint calls spent is deleted (an
    /// answer is not proof enough); a mint that does not answer leaves it to
    /// [`Purse::check_locked`].
    async fn drop_plain(
        &self,
        wallet: &Wallet,
        key: &str,
        inputs: &Proofs,
    ) -> Result<(), EcashError> {
        if let Ok(id) = uuid::Uuid::parse_str(key) {
            let _ = wallet.check_send_status(id).await;
        }
        let input_ys = ys(inputs)?;
        let Ok(states) = self.states(&wallet.mint_url, input_ys.clone()).await else {
            return Ok(());
        };
        let gone: Vec<_> = input_ys
            .into_iter()
            .zip(&states)
            .filter(|(_, s)| **s == State::Spent)
            .map(|(y, _)| y)
            .collect();
        Ok(self.db.update_proofs(vec![], gone).await?)
    }

    /// Some of the plain token's proofs were spent and some not: not by our swap (a swap
    /// spends all or nothing), so by another device on the same words. The locked send is
    /// off: the spent proofs leave, the unspent ones are the wallet's again, and cdk's send
    /// (never shown to anyone) is closed.
    async fn spent_elsewhere(
        &self,
        key: &str,
        inputs: &Proofs,
        states: &[State],
    ) -> Result<(), EcashError> {
        let input_ys = ys(inputs)?;
        let pick = |want: State| -> Vec<cdk::nuts::PublicKey> {
            input_ys
                .iter()
                .zip(states)
                .filter(|(_, s)| **s == want)
                .map(|(y, _)| *y)
                .collect()
        };
        let (gone, back) = (pick(State::Spent), pick(State::Unspent));
        let free: Vec<_> = self
            .db
            .get_proofs(None, None, None, None)
            .await?
            .into_iter()
            .filter(|info| back.contains(&info.y))
            .map(|mut info| {
                info.state = State::Unspent;
                info.used_by_operation = None;
                info
            })
            .collect();
        self.db.update_proofs(free, gone).await?;
        if let Ok(id) = uuid::Uuid::parse_str(key) {
            self.db.delete_saga(&id).await?;
        }
        self.db.kv_remove(KV_APP, KV_LOCKED, key).await?;
        Ok(())
    }

    /// Whether the mint says it can sign outputs again (NUT-09), from its cached info.
    async fn mint_restores(&self, wallet: &Wallet) -> bool {
        match self.db.get_mint(wallet.mint_url.clone()).await {
            Ok(Some(info)) => info.nuts.nut09.supported,
            _ => matches!(
                wallet.fetch_mint_info().await,
                Ok(Some(info)) if info.nuts.nut09.supported
            ),
        }
    }

    /// Sats of locked sends at `url` still waiting for their token (not to be forgotten by
    /// removing the mint).
    pub(super) async fn locked_waiting(&self, url: &MintUrl) -> Result<u64, EcashError> {
        let url = url.to_string();
        Ok(self
            .locked_sends()
            .await?
            .iter()
            .filter(|(_, r)| r.mint == url && r.token.is_none())
            .map(|(_, r)| r.sats)
            .fold(0, u64::saturating_add))
    }

    /// Finishes locked sends an interruption left without their token (see the module doc).
    /// Runs under `moving`, inside [`Purse::recover`], before and after cdk's own recovery:
    /// before, to adopt a plain token cdk made (cdk may close its send at recovery); after,
    /// to drop records whose plain send cdk rolled back. Returns how many wait for the mint.
    pub(super) async fn recover_locked(&self, wallet: &Wallet) -> Result<usize, EcashError> {
        let mint = wallet.mint_url.to_string();
        let mut waiting = 0;
        for (key, mut record) in self.locked_sends().await? {
            if record.mint != mint || record.token.is_some() {
                continue;
            }
            let inputs = match &record.inputs {
                Some(inputs) => inputs.clone(),
                None => {
                    let Ok(id) = uuid::Uuid::parse_str(&key) else {
                        continue;
                    };
                    match self.made_token(&id).await {
                        Ok(Some(proofs)) => {
                            record.inputs = Some(proofs.clone());
                            if self.write_locked(&key, &record).await.is_err() {
                                waiting += 1;
                                continue;
                            }
                            proofs
                        }
                        // Still being rolled back by cdk: the next pass sees it gone.
                        Ok(None) if matches!(self.db.get_saga(&id).await, Ok(Some(_))) => continue,
                        // No plain token was made (or cdk took it back): nothing moved.
                        Ok(None) => {
                            let _ = self.db.kv_remove(KV_APP, KV_LOCKED, &key).await;
                            continue;
                        }
                        Err(_) => {
                            waiting += 1;
                            continue;
                        }
                    }
                }
            };
            let Ok(input_ys) = ys(&inputs) else {
                continue;
            };
            let states = match self.states(&wallet.mint_url, input_ys).await {
                Ok(states) => states,
                Err(_) => {
                    waiting += 1;
                    continue;
                }
            };
            let swapped = match spent(&states) {
                Spent::All => true,
                Spent::None => false,
                Spent::Some => {
                    if self.spent_elsewhere(&key, &inputs, &states).await.is_err() {
                        waiting += 1;
                    }
                    continue;
                }
                Spent::Unknown => {
                    waiting += 1; // the mint is still working on it
                    continue;
                }
            };
            match self.finish_locked(wallet, &key, record, swapped).await {
                Ok(Finished::Token(_) | Finished::Refused(_)) => {}
                Ok(Finished::Later) | Err(_) => waiting += 1,
            }
        }
        Ok(waiting)
    }

    /// Drops locked sends whose receiver has claimed the token. Returns how many.
    pub(super) async fn check_locked(&self) -> Result<usize, EcashError> {
        let mut claimed = 0;
        for (key, record) in self.locked_sends().await? {
            if record.token.is_none() {
                continue;
            }
            let Ok(url) = super::parse_url(&record.mint) else {
                continue;
            };
            let locked_ys = record
                .outputs
                .iter()
                .map(|o| cdk::dhke::hash_to_curve(o.secret.as_bytes()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| EcashError::Other(e.to_string()))?;
            let Ok(states) = self.states(&url, locked_ys).await else {
                continue; // that mint is down: the others are still checked
            };
            if !states.is_empty() && states.iter().all(|s| *s == State::Spent) {
                if let Some(inputs) = &record.inputs {
                    self.db.update_proofs(vec![], ys(inputs)?).await?;
                }
                self.db.kv_remove(KV_APP, KV_LOCKED, &key).await?;
                claimed += 1;
            }
        }
        Ok(claimed)
    }

    /// The mint's word on the proofs with these Ys (NUT-07), asked without touching the
    /// wallet's records (cdk's check deletes spent proofs it holds).
    pub(super) async fn states(
        &self,
        url: &MintUrl,
        ys: Vec<cdk::nuts::PublicKey>,
    ) -> Result<Vec<State>, EcashError> {
        let answer = self
            .client_for(url)
            .post_check_state(CheckStateRequest { ys: ys.clone() })
            .await?;
        // In our order; a Y the mint left out counts as not known yet.
        Ok(ys
            .iter()
            .map(|y| {
                answer
                    .states
                    .iter()
                    .find(|s| s.y == *y)
                    .map_or(State::Pending, |s| s.state)
            })
            .collect())
    }

    /// The Ys of the proofs open sends hold: cdk's live sends (it stores a send's swapped
    /// token proofs with no owning operation) and locked sends. They are not "untracked".
    pub(super) async fn tracked_send_ys(&self) -> Result<Vec<cdk::nuts::PublicKey>, EcashError> {
        use cdk_common::wallet::OperationData;
        let mut out = Vec::new();
        for saga in self.db.get_incomplete_sagas().await? {
            if let OperationData::Send(data) = saga.data {
                for p in data.proofs.iter().flatten() {
                    if let Ok(y) = p.y() {
                        out.push(y);
                    }
                }
            }
        }
        let (_, _, locked) = self.locked_pending().await?;
        out.extend(locked);
        Ok(out)
    }

    /// Locked sends for Pending, and the ids of the plain sends they stand for (hidden: their
    /// token is not the one to hand over, and taking it back would fail once swapped).
    pub(super) async fn locked_pending(
        &self,
    ) -> Result<(Vec<PendingItem>, Vec<String>, Vec<cdk::nuts::PublicKey>), EcashError> {
        let (mut items, mut hidden, mut ys) = (Vec::new(), Vec::new(), Vec::new());
        for (key, record) in self.locked_sends().await? {
            for p in record.inputs.iter().flatten() {
                if let Ok(y) = p.y() {
                    ys.push(y);
                }
            }
            items.push(PendingItem {
                id: format!("locked-{key}"),
                kind: "locked".into(),
                amount: record.sats,
                mint: record.mint.clone(),
                since: record.created,
                reclaimable: false,
                token: record.token.clone(),
            });
            hidden.push(key);
        }
        Ok((items, hidden, ys))
    }
}

/// The Ys (NUT-00 `hash_to_curve` of the secrets) of `proofs`.
fn ys(proofs: &Proofs) -> Result<Vec<cdk::nuts::PublicKey>, EcashError> {
    proofs
        .iter()
        .map(|p| p.y())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| EcashError::Other(e.to_string()))
}
