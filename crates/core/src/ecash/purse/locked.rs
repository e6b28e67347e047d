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

use super::{amount, EcashError, PendingItem, Purse, SentToken, KV_APP};

/// The kv list of locked sends, keyed by the id of the plain send they swap.
const KV_LOCKED: &str = "locked-sends";

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
    /// The plain token's proofs: the swap's inputs.
    inputs: Proofs,
    outputs: Vec<Output>,
    /// The locked token, once the mint has signed.
    token: Option<String>,
}

/// What finishing a locked send found.
enum Finished {
    Token(String),
    /// The mint has not said yet (unreachable, or the swap is still pending there).
    Later,
}

impl Purse {
    /// A locked send, as the module doc says. Runs under `moving`.
    pub(super) async fn send_locked(
        &self,
        wallet: &Wallet,
        sats: u64,
        memo: Option<String>,
        conditions: SpendingConditions,
    ) -> Result<SentToken, EcashError> {
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
        // Step 1: a plain token of `locked` plus the fee of swapping it (include_fee).
        let memo = memo.filter(|m| !m.trim().is_empty());
        let opts = SendOptions {
            send_kind: cdk_common::wallet::SendKind::OnlineExact,
            include_fee: true,
            memo: memo.clone().map(|m| SendMemo {
                memo: m,
                include_memo: false,
            }),
            ..SendOptions::default()
        };
        let prepared = wallet.prepare_send(Amount::from(locked), opts).await?;
        let send_id = prepared.operation_id();
        prepared.confirm(None).await?;
        let inputs = self.plain_proofs(&send_id).await?;
        let total = amount(
            inputs
                .iter()
                .map(|p| p.amount)
                .try_fold(Amount::ZERO, |a, b| a.checked_add(b))
                .ok_or(EcashError::BadAmount)?,
        );
        let swap_fee = amount(wallet.get_proofs_fee(&inputs).await?.total);
        let out_amount = total
            .checked_sub(swap_fee)
            .filter(|a| *a >= sats)
            .ok_or(EcashError::InsufficientFunds)?;
        // Step 2: the locked outputs, durable before the mint sees them.
        let secrets = PreMintSecrets::with_conditions(
            keyset.id,
            Amount::from(out_amount),
            &cdk::amount::SplitTarget::default(),
            &conditions,
            &fees,
        )
        .map_err(|e| EcashError::Other(e.to_string()))?;
        let record = LockedSend {
            mint: wallet.mint_url.to_string(),
            sats,
            fee: total.saturating_sub(sats),
            memo,
            created: cdk::util::unix_time(),
            inputs,
            outputs: secrets
                .secrets
                .into_iter()
                .map(|p| Output {
                    blinded: p.blinded_message,
                    secret: p.secret,
                    r: p.r,
                })
                .collect(),
            token: None,
        };
        let key = send_id.to_string();
        self.write_locked(&key, &record).await?;
        match self
            .finish_locked(wallet, &key, record.clone(), false)
            .await?
        {
            Finished::Token(token) => Ok(SentToken {
                token,
                amount: sats,
                fee: record.fee,
            }),
            Finished::Later => Err(EcashError::SendPending),
        }
    }

    /// The proofs cdk's send `id` put in its token.
    async fn plain_proofs(&self, id: &uuid::Uuid) -> Result<Proofs, EcashError> {
        use cdk_common::wallet::OperationData;
        match self.db.get_saga(id).await?.map(|s| s.data) {
            Some(OperationData::Send(data)) => data
                .proofs
                .ok_or_else(|| EcashError::Other("the send has no proofs".into())),
            _ => Err(EcashError::Other("the send was not recorded".into())),
        }
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
    /// again. Writes the token before returning it.
    async fn finish_locked(
        &self,
        wallet: &Wallet,
        key: &str,
        mut record: LockedSend,
        swapped: bool,
    ) -> Result<Finished, EcashError> {
        let client = self.client_for(&wallet.mint_url);
        let blinded: Vec<BlindedMessage> =
            record.outputs.iter().map(|o| o.blinded.clone()).collect();
        let signatures = if swapped {
            let answer = client
                .post_restore(RestoreRequest {
                    outputs: blinded.clone(),
                })
                .await?;
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
                .post_swap(SwapRequest::new(record.inputs.clone(), blinded.clone()))
                .await
            {
                Ok(answer) => answer.signatures,
                // The mint said no for good (it refused the inputs): the plain token stays a
                // send that can be taken back.
                Err(e) if e.is_definitive_failure() => {
                    self.db.kv_remove(KV_APP, KV_LOCKED, key).await?;
                    return Err(e.into());
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
        for p in &proofs {
            let key = keys.amount_key(p.amount).ok_or(EcashError::BadSignature)?;
            p.verify_dleq(key).map_err(|_| EcashError::BadSignature)?;
        }
        let url: MintUrl = wallet.mint_url.clone();
        let token = Token::new(url, proofs, record.memo.clone(), CurrencyUnit::Sat).to_string();
        record.token = Some(token.clone());
        self.write_locked(key, &record).await?;
        Ok(Finished::Token(token))
    }

    /// Finishes locked sends an interruption left without their token (see the module doc).
    /// Runs under `moving`, inside [`Purse::recover`].
    pub(super) async fn recover_locked(&self, wallet: &Wallet) -> Result<(), EcashError> {
        let mint = wallet.mint_url.to_string();
        for (key, record) in self.locked_sends().await? {
            if record.mint != mint || record.token.is_some() {
                continue;
            }
            let ys = record
                .inputs
                .iter()
                .map(|p| p.y())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| EcashError::Other(e.to_string()))?;
            let states = self.states(&wallet.mint_url, ys).await?;
            let swapped = if states.iter().all(|s| *s == State::Spent) {
                true
            } else if states.iter().all(|s| *s == State::Unspent) {
                false
            } else {
                continue; // the mint is still working on it
            };
            if let Finished::Later = self.finish_locked(wallet, &key, record, swapped).await? {
                return Err(EcashError::Unreachable(mint));
            }
        }
        Ok(())
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
            let ys = record
                .outputs
                .iter()
                .map(|o| cdk::dhke::hash_to_curve(o.secret.as_bytes()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| EcashError::Other(e.to_string()))?;
            let states = self.states(&url, ys).await?;
            if !states.is_empty() && states.iter().all(|s| *s == State::Spent) {
                self.db.kv_remove(KV_APP, KV_LOCKED, &key).await?;
                claimed += 1;
            }
        }
        Ok(claimed)
    }

    /// The mint's word on the proofs with these Ys (NUT-07), asked without touching the
    /// wallet's records (cdk's check deletes spent proofs it holds).
    async fn states(
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

    /// Locked sends for Pending, and the ids of the plain sends they stand for (hidden: their
    /// token is not the one to hand over, and taking it back would fail once swapped).
    pub(super) async fn locked_pending(
        &self,
    ) -> Result<(Vec<PendingItem>, Vec<String>, Vec<cdk::nuts::PublicKey>), EcashError> {
        let (mut items, mut hidden, mut ys) = (Vec::new(), Vec::new(), Vec::new());
        for (key, record) in self.locked_sends().await? {
            for p in &record.inputs {
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
