//! The eCash purse: one cdk [`Wallet`] per mint (sat unit) over one shared [`EcashDb`], and the
//! operations the app offers, each returning a plain view the UI can render. cdk's sagas make
//! every step durable before the mint is asked; [`Purse::recover`] finishes or rolls back
//! whatever a crash or a closed tab interrupted.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use cdk::amount::SplitTarget;
use cdk::mint_url::MintUrl;
use cdk::nuts::{CurrencyUnit, MeltQuoteState, MintQuoteState, PaymentMethod, State, Token};
use cdk::wallet::{ReceiveOptions, SendMemo, SendOptions, Wallet, WalletBuilder};
use cdk::Amount;
use cdk_common::database::WalletDatabase;
use cdk_common::wallet::{TransactionDirection, TransactionStatus};
use zeroize::Zeroizing;

use super::{EcashDb, EcashError};

pub use flash_api::views::{
    history_csv, FailedToken, HistoryItem, InvoiceView, Lock, MeltPreview, MintView, Paid,
    PendingItem, ReadInvoice, Received, Recovered, SentToken, TokenView,
};

mod locked;

/// Reads and checks a payable invoice: mainnet, with an amount, not expired at `now` (unix
/// seconds). Outside input: every field is checked without arithmetic that can overflow
/// (an invoice may claim an expiry of 2^64-1 seconds), so no text makes this panic.
pub fn read_invoice(text: &str, now: u64) -> Result<ReadInvoice, EcashError> {
    let text = text.trim();
    let text = text
        .strip_prefix("lightning:")
        .or_else(|| text.strip_prefix("LIGHTNING:"))
        .unwrap_or(text);
    let parsed = cdk::Bolt11Invoice::from_str(text).map_err(|_| EcashError::BadInvoice)?;
    if parsed.network() != bitcoin::Network::Bitcoin {
        return Err(EcashError::WrongNetwork);
    }
    // `expires_at` is a checked sum; the invoice's own `is_expired` uses std::time, which a
    // browser page does not have.
    let expiry = parsed.expires_at().map_or(u64::MAX, |d| d.as_secs());
    if expiry <= now {
        return Err(EcashError::InvoiceExpired);
    }
    let amount_msat = parsed
        .amount_milli_satoshis()
        .ok_or(EcashError::InvoiceWithoutAmount)?;
    let description = match parsed.description() {
        cdk::lightning_invoice::Bolt11InvoiceDescriptionRef::Direct(d) => {
            Some(d.to_string()).filter(|d| !d.is_empty())
        }
        cdk::lightning_invoice::Bolt11InvoiceDescriptionRef::Hash(_) => None,
    };
    Ok(ReadInvoice {
        text: text.to_string(),
        amount_msat,
        description,
        expiry,
    })
}

/// Reads the key a token is to be locked to. An npub (a NOSTR key, x-only) is the even-y
/// point, as Cashu wallets lock to npubs.
pub fn parse_lock_key(text: &str) -> Result<cdk::nuts::PublicKey, EcashError> {
    let text = text.trim();
    let hex = if text.starts_with("npub1") {
        let (hrp, data) = bitcoin::bech32::decode(text).map_err(|_| EcashError::BadLockKey)?;
        if hrp.as_str() != "npub" || data.len() != 32 {
            return Err(EcashError::BadLockKey);
        }
        format!("02{}", hex::encode(data))
    } else if text.len() == 64 {
        format!("02{text}")
    } else {
        text.to_string()
    };
    cdk::nuts::PublicKey::from_hex(&hex).map_err(|_| EcashError::BadLockKey)
}

/// Whether every proof in `token` carries a DLEQ proof (NUT-12).
pub fn has_dleq(token: &Token) -> bool {
    match token {
        Token::TokenV3(t) => t
            .token
            .iter()
            .flat_map(|t| &t.proofs)
            .all(|p| p.dleq.is_some()),
        Token::TokenV4(t) => t
            .token
            .iter()
            .flat_map(|t| &t.proofs)
            .all(|p| p.dleq.is_some()),
    }
}

/// The kv namespace of Flash's own eCash records.
const KV_APP: &str = "flash";
/// Tokens received offline, not yet redeemed.
const KV_SAVED: &str = "saved-tokens";
/// Saved tokens that failed for good: "could not redeem", kept with their reason.
const KV_FAILED: &str = "failed-tokens";

fn receive_error(e: cdk::Error) -> EcashError {
    match e {
        cdk::Error::NUT11(_) | cdk::Error::NUT10(_) | cdk::Error::SignatureMissingOrInvalid => {
            EcashError::LockedToOther
        }
        other => EcashError::from(other),
    }
}

/// Whether a failed redeem is a final answer, decided by the error's kind and never by its
/// text: the mint said spent, refused the signatures, or the token is locked to a key we do
/// not hold. Anything else (a busy, odd or unreachable mint) keeps the token for the next try.
fn final_failure(e: &cdk::Error) -> bool {
    matches!(
        e,
        cdk::Error::TokenAlreadySpent
            | cdk::Error::DHKE(_)
            | cdk::Error::CouldNotVerifyDleq
            | cdk::Error::NUT11(_)
            | cdk::Error::NUT10(_)
            | cdk::Error::SignatureMissingOrInvalid
    )
}

/// The purse. Cheap to clone; clones share wallets and storage.
#[derive(Clone)]
pub struct Purse {
    db: EcashDb,
    seed: Arc<Zeroizing<[u8; 64]>>,
    wallets: Arc<Mutex<BTreeMap<String, Wallet>>>,
    /// The key tokens can be locked to (NUT-11): the wallet's NOSTR key, so "lock to my npub"
    /// works with any wallet that knows the npub.
    lock_key: Option<Arc<cdk::nuts::SecretKey>>,
    /// Keys the wallet used before (a replaced or dropped nsec, the key from the words while
    /// an nsec is in use): they still sign for tokens locked to them.
    old_lock_keys: Vec<Arc<cdk::nuts::SecretKey>>,
    /// Held by every operation that reserves or frees proofs, and by recovery as a whole: the
    /// check that frees proofs no open operation owns must never meet an operation that has
    /// reserved its proofs but not yet written its saga.
    moving: Arc<futures::lock::Mutex<()>>,
    /// [`Recovered::waiting_on`] of the last recovery (shown until the next one).
    waiting_on: Arc<Mutex<Vec<String>>>,
    /// When unclaimed sends were last checked with their mints ([`Purse::check_sent_now_and_then`]).
    sent_checked_at: Arc<Mutex<Option<u64>>>,
}

/// Unclaimed sent tokens are asked about (NUT-07, a request per send, under `moving`) at most
/// this often when Home lists them; a slow mint then cannot hold up payments on every refresh.
pub const SENT_CHECK_EVERY_SECS: u64 = 60;

impl std::fmt::Debug for Purse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Purse") // never print the seed
    }
}

fn amount(a: Amount) -> u64 {
    u64::from(a)
}

fn parse_url(url: &str) -> Result<MintUrl, EcashError> {
    let url = url.trim();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(EcashError::BadMintUrl);
    }
    MintUrl::from_str(url).map_err(|_| EcashError::BadMintUrl)
}

/// An invoice found paid and minted by [`Purse::try_mint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Minted {
    /// The sats it brought.
    pub sats: u64,
    /// Whether this check minted them (else an earlier one or a recovery did, and has said so).
    pub now: bool,
}

/// What [`Purse::look_invoice`] found.
#[derive(Debug, Clone)]
pub enum InvoiceLook {
    /// This wallet minted it already.
    Minted(Minted),
    /// Not yet: ask its mint ([`ask_invoice`]).
    Ask(AskMint),
}

/// Where and until when to ask about an invoice.
#[derive(Debug, Clone)]
pub struct AskMint {
    mint: MintUrl,
    expiry: u64,
}

impl AskMint {
    /// When the invoice expires (Unix seconds; 0: the mint gave no expiry).
    pub fn expiry(&self) -> u64 {
        self.expiry
    }
}

/// What a mint said about an invoice ([`ask_invoice`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// Not paid yet.
    Unpaid,
    /// Paid, to be minted ([`Purse::mint_invoice`]).
    Paid,
    /// Paid and minted (by this check, or before it).
    Minted(Minted),
    /// The mint stayed unreachable until well after the invoice expired: the watch ends,
    /// and the next unlock's recovery finds out whether it was paid.
    Unconfirmed,
}

/// How long past its expiry an invoice whose mint cannot be reached is still asked about: it
/// may have been paid just in time, and this device's clock may run ahead of the mint's.
pub const EXPIRY_GRACE_SECS: u64 = 600;

/// The detail of the error a watch ends with when its mint stayed unreachable.
pub const UNCONFIRMED: &str =
    "not before the invoice expired; if it was paid, the sats arrive at the next unlock";

/// Whether an invoice expiring at `expiry` (Unix seconds; 0: the mint gave none) is over
/// at `now`.
fn expired(expiry: u64, now: u64) -> bool {
    expiry != 0 && expiry < now
}

/// Asks `mint` whether the payment of melt quote `quote_id` is still in flight (NUT-05),
/// holding nothing of the wallet's: a payment can stay in flight for minutes, and checking it
/// must hold up neither a send nor a lock. `true` once the mint has an outcome (paid, or
/// failed and back to unpaid); settling it is [`Purse::payment_outcome`]'s.
pub async fn payment_finished(mint: &str, quote_id: &str) -> Result<bool, EcashError> {
    use cdk::wallet::MintConnector;
    let url = MintUrl::from_str(mint).map_err(|_| EcashError::UnknownMint)?;
    let client = cdk::wallet::BaseHttpClient::with_transport(
        url,
        super::transport::MintTransport::default(),
        None,
    );
    let answer = client
        .get_melt_quote_status(PaymentMethod::BOLT11, quote_id)
        .await?;
    if answer.quote() != quote_id {
        return Err(EcashError::Other(
            "the mint answered about another payment".into(),
        ));
    }
    Ok(!matches!(
        answer.state(),
        MeltQuoteState::Pending | MeltQuoteState::Unknown
    ))
}

/// Asks the mint about an invoice (NUT-04), holding nothing of the wallet's: an unpaid
/// invoice (nearly every check) or a mint that takes the full request timeout not to answer
/// must hold up neither a send nor a lock. Unpaid past its expiry is
/// [`EcashError::QuoteExpired`]; unreachable is [`EcashError::Unreachable`] (try again),
/// until [`EXPIRY_GRACE_SECS`] past the expiry ([`Asked::Unconfirmed`]).
pub async fn ask_invoice(ask: &AskMint, quote_id: &str, now: u64) -> Result<Asked, EcashError> {
    use cdk::wallet::MintConnector;
    let client = cdk::wallet::BaseHttpClient::with_transport(
        ask.mint.clone(),
        super::transport::MintTransport::default(),
        None,
    );
    match client
        .get_mint_quote_status(PaymentMethod::BOLT11, quote_id)
        .await
    {
        Ok(answer) if answer.quote() != quote_id => Err(EcashError::Other(
            "the mint answered about another invoice".into(),
        )),
        Ok(answer) => match answer.state() {
            Some(MintQuoteState::Unpaid) if expired(ask.expiry, now) => {
                Err(EcashError::QuoteExpired)
            }
            Some(MintQuoteState::Unpaid) => Ok(Asked::Unpaid),
            Some(MintQuoteState::Paid | MintQuoteState::Issued) => Ok(Asked::Paid),
            None => Err(EcashError::Other(
                "the mint's answer about the invoice does not add up".into(),
            )),
        },
        Err(e) => match EcashError::from(e) {
            EcashError::Unreachable(_)
                if expired(ask.expiry.saturating_add(EXPIRY_GRACE_SECS), now) =>
            {
                Ok(Asked::Unconfirmed)
            }
            other => Err(other),
        },
    }
}

/// A stored invoice this wallet has minted already, as [`Minted`].
fn issued(quote: &cdk::wallet::MintQuote) -> Option<Minted> {
    (quote.amount_issued > Amount::ZERO).then(|| Minted {
        sats: u64::from(quote.amount_issued),
        now: false,
    })
}

/// Parses a token in any encoding Cashu uses (V4 `cashuB`, V3 `cashuA`), also inside a
/// `cashu:` URI, and refuses anything else with a clear error.
pub fn parse_token(text: &str) -> Result<Token, EcashError> {
    let text = text.trim();
    let text = text.strip_prefix("cashu:").unwrap_or(text);
    Token::from_str(text).map_err(|_| EcashError::BadToken)
}

impl Purse {
    /// A purse over `db`, deriving every secret from `seed` (NUT-13).
    pub fn new(db: EcashDb, seed: Zeroizing<[u8; 64]>) -> Self {
        Self {
            db,
            seed: Arc::new(seed),
            wallets: Arc::new(Mutex::new(BTreeMap::new())),
            lock_key: None,
            old_lock_keys: Vec::new(),
            moving: Arc::new(futures::lock::Mutex::new(())),
            waiting_on: Arc::new(Mutex::new(Vec::new())),
            sent_checked_at: Arc::new(Mutex::new(None)),
        }
    }

    /// Mints the last recovery left work at (see [`Recovered::waiting_on`]).
    pub fn waiting_on(&self) -> Vec<String> {
        self.waiting_on
            .lock()
            .map(|w| w.clone())
            .unwrap_or_default()
    }

    /// Uses `secret` (32 bytes, the NOSTR key) to sign for tokens locked to us and as the
    /// refund key of tokens we lock to others.
    pub fn with_lock_key(mut self, secret: &[u8; 32]) -> Self {
        self.lock_key = cdk::nuts::SecretKey::from_slice(secret).ok().map(Arc::new);
        self
    }

    /// Also signs with `secrets` (keys the wallet owned before) for tokens locked to them.
    pub fn with_old_lock_keys<'a>(
        mut self,
        secrets: impl IntoIterator<Item = &'a [u8; 32]>,
    ) -> Self {
        self.old_lock_keys = secrets
            .into_iter()
            .filter_map(|s| cdk::nuts::SecretKey::from_slice(s).ok().map(Arc::new))
            .collect();
        self
    }

    /// The public key others can lock tokens to (hex, compressed).
    pub fn lock_pubkey(&self) -> Option<String> {
        self.lock_key.as_ref().map(|k| k.public_key().to_hex())
    }

    /// The database, for tests and diagnostics.
    pub fn db(&self) -> &EcashDb {
        &self.db
    }

    /// A client of the mint at `url` over Flash's transport, for requests cdk's wallet would
    /// otherwise answer with side effects on its records.
    fn client_for(
        &self,
        url: &MintUrl,
    ) -> cdk::wallet::BaseHttpClient<super::transport::MintTransport> {
        cdk::wallet::BaseHttpClient::with_transport(
            url.clone(),
            super::transport::MintTransport::default(),
            None,
        )
    }

    fn wallet_for(&self, url: &MintUrl) -> Result<Wallet, EcashError> {
        let key = url.to_string();
        if let Some(w) = self.wallets.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(w);
        }
        let wallet = WalletBuilder::new()
            .mint_url(url.clone())
            .unit(CurrencyUnit::Sat)
            .localstore(Arc::new(self.db.clone()))
            .seed(**self.seed)
            .target_proof_count(3)
            .client(self.client_for(url))
            .build()
            .map_err(EcashError::from)?;
        if let Ok(mut m) = self.wallets.lock() {
            m.insert(key, wallet.clone());
        }
        Ok(wallet)
    }

    async fn known_wallet(&self, url: &str) -> Result<Wallet, EcashError> {
        self.wallet_for(&self.known_url(url).await?)
    }

    /// `url` parsed, if it is one of this wallet's mints.
    async fn known_url(&self, url: &str) -> Result<MintUrl, EcashError> {
        let url = parse_url(url)?;
        if !self.db.get_mints().await?.contains_key(&url) {
            return Err(EcashError::UnknownMint);
        }
        Ok(url)
    }

    /// Mints this wallet uses.
    pub async fn mint_urls(&self) -> Result<Vec<String>, EcashError> {
        let mut urls: Vec<String> = self
            .db
            .get_mints()
            .await?
            .keys()
            .map(|u| u.to_string())
            .collect();
        urls.sort();
        Ok(urls)
    }

    /// Adds a mint: fetches its info and keysets and keeps them.
    pub async fn add_mint(&self, url: &str) -> Result<MintView, EcashError> {
        let _one_at_a_time = self.moving.lock().await;
        self.add_mint_now(url).await
    }

    /// [`Purse::add_mint`] for callers that already hold `moving`.
    async fn add_mint_now(&self, url: &str) -> Result<MintView, EcashError> {
        let url = parse_url(url)?;
        let wallet = self.wallet_for(&url)?;
        let info = wallet.fetch_mint_info().await?;
        if info.is_none() {
            return Err(EcashError::Unreachable("the mint sent no info".into()));
        }
        self.db.add_mint(url.clone(), info).await?;
        // Keysets now, so offline receive can verify signatures later.
        wallet
            .keysets(cdk_common::wallet::KeysetLoadPolicy::default())
            .await
            .map_err(EcashError::from)?;
        // These words may have been used with this mint before (another device, a restore):
        // find what they hold and move the counters past every used secret, so no later
        // operation collides ("outputs already signed") and no sat is left behind.
        let _ = self.restore_at(&wallet, &url).await;
        self.mint_view(&url).await
    }

    /// Forgets a mint. Refused while it holds a balance unless `force`.
    pub async fn remove_mint(&self, url: &str, force: bool) -> Result<(), EcashError> {
        let url = parse_url(url)?;
        let held = self
            .db
            .get_balance(
                Some(url.clone()),
                None,
                Some(vec![State::Unspent, State::Pending, State::Reserved]),
            )
            .await?;
        let held = held.saturating_add(self.locked_waiting(&url).await?);
        if held > 0 && !force {
            return Err(EcashError::MintHasBalance(held));
        }
        self.db.remove_mint(url.clone()).await?;
        if let Ok(mut m) = self.wallets.lock() {
            m.remove(&url.to_string());
        }
        Ok(())
    }

    /// Every mint with its info and balances.
    pub async fn mints(&self) -> Result<Vec<MintView>, EcashError> {
        let mut out = Vec::new();
        let mut urls: Vec<MintUrl> = self.db.get_mints().await?.into_keys().collect();
        urls.sort_by_key(|u| u.to_string());
        for url in urls {
            out.push(self.mint_view(&url).await?);
        }
        Ok(out)
    }

    async fn mint_view(&self, url: &MintUrl) -> Result<MintView, EcashError> {
        let info = self.db.get_mint(url.clone()).await?.unwrap_or_default();
        let balance = self
            .db
            .get_balance(Some(url.clone()), None, Some(vec![State::Unspent]))
            .await?;
        let pending = self
            .db
            .get_balance(
                Some(url.clone()),
                None,
                Some(vec![State::Pending, State::Reserved, State::PendingSpent]),
            )
            .await?;
        // The numbers of the NUTs the mint lists, read back from the stored form (the
        // writer and reader the records use; no second `Nuts` serializer in the module).
        let nuts = serde_json::to_vec(&info.nuts)
            .ok()
            .and_then(|bytes| {
                serde_json::from_slice::<BTreeMap<String, serde::de::IgnoredAny>>(&bytes).ok()
            })
            .map(|o| {
                let mut n: Vec<u8> = o.keys().filter_map(|k| k.parse().ok()).collect();
                n.sort_unstable();
                n
            })
            .unwrap_or_default();
        let input_fee_ppk = self
            .db
            .get_mint_keysets(url.clone())
            .await?
            .unwrap_or_default()
            .iter()
            .filter(|k| k.active && k.unit == CurrencyUnit::Sat)
            .map(|k| k.input_fee_ppk)
            .max()
            .unwrap_or(0);
        Ok(MintView {
            url: url.to_string(),
            name: info.name,
            description: info.description,
            motd: info.motd,
            contact: info
                .contact
                .unwrap_or_default()
                .into_iter()
                .map(|c| (c.method, c.info))
                .collect(),
            nuts,
            balance,
            pending,
            input_fee_ppk,
        })
    }

    /// Spendable sats over every mint.
    pub async fn balance(&self) -> Result<u64, EcashError> {
        Ok(self
            .db
            .get_balance(None, Some(CurrencyUnit::Sat), Some(vec![State::Unspent]))
            .await?)
    }

    /// Asks `mint` for an invoice of `sats` (NUT-04).
    pub async fn invoice(&self, mint: &str, sats: u64) -> Result<InvoiceView, EcashError> {
        if sats == 0 {
            return Err(EcashError::BadAmount);
        }
        let wallet = self.known_wallet(mint).await?;
        let q = wallet
            .mint_quote(PaymentMethod::BOLT11, Some(Amount::from(sats)), None, None)
            .await?;
        Ok(InvoiceView {
            mint: q.mint_url.to_string(),
            quote_id: q.id,
            request: q.request,
            amount: sats,
            expiry: q.expiry,
        })
    }

    /// Checks an invoice once: `Some` when paid and minted (now, or before), `None` while
    /// unpaid. [`Purse::look_invoice`], [`ask_invoice`] and [`Purse::mint_invoice`] in a row,
    /// as a watcher runs them (`engine::watch`).
    pub async fn try_mint(&self, quote_id: &str) -> Result<Option<Minted>, EcashError> {
        let ask = match self.look_invoice(quote_id).await? {
            InvoiceLook::Minted(done) => return Ok(Some(done)),
            InvoiceLook::Ask(ask) => ask,
        };
        match ask_invoice(&ask, quote_id, cdk::util::unix_time()).await? {
            Asked::Unpaid => Ok(None),
            Asked::Paid => self.mint_invoice(quote_id).await,
            Asked::Minted(done) => Ok(Some(done)),
            Asked::Unconfirmed => Err(EcashError::Unreachable(UNCONFIRMED.into())),
        }
    }

    /// What the wallet knows of an invoice before asking its mint: minted already, or the
    /// mint to ask. Reads only.
    pub async fn look_invoice(&self, quote_id: &str) -> Result<InvoiceLook, EcashError> {
        let stored = self
            .db
            .get_mint_quote(quote_id)
            .await?
            .ok_or(EcashError::Other("unknown invoice".into()))?;
        if let Some(done) = issued(&stored) {
            return Ok(InvoiceLook::Minted(done));
        }
        if !self.db.get_mints().await?.contains_key(&stored.mint_url) {
            return Err(EcashError::UnknownMint);
        }
        Ok(InvoiceLook::Ask(AskMint {
            mint: stored.mint_url,
            expiry: stored.expiry,
        }))
    }

    /// Payments in flight here (open melt operations), as (mint, quote id): followed again at
    /// every unlock.
    pub async fn open_payments(&self) -> Result<Vec<(String, String)>, EcashError> {
        Ok(self
            .db
            .get_incomplete_sagas()
            .await?
            .into_iter()
            .filter_map(|s| {
                let quote = s.quote_id.clone()?;
                matches!(s.kind, cdk_common::wallet::OperationKind::Melt)
                    .then(|| (s.mint_url.to_string(), quote))
            })
            .collect())
    }

    /// Invoices made here and not yet minted nor expired, as (mint, quote id).
    pub async fn open_invoices(&self) -> Result<Vec<(String, String)>, EcashError> {
        let now = cdk::util::unix_time();
        Ok(self
            .db
            .get_unissued_mint_quotes()
            .await?
            .into_iter()
            .filter(|q| !expired(q.expiry, now) && q.amount_issued == Amount::ZERO)
            .map(|q| (q.mint_url.to_string(), q.id))
            .collect())
    }

    /// Mints a paid invoice, under `moving`. A recovery (or another check) may have minted it
    /// while this one waited: then that is the answer, and nothing is minted twice.
    pub async fn mint_invoice(&self, quote_id: &str) -> Result<Option<Minted>, EcashError> {
        let _one_at_a_time = self.moving.lock().await;
        let url = match self.look_invoice(quote_id).await? {
            InvoiceLook::Minted(done) => return Ok(Some(done)),
            InvoiceLook::Ask(ask) => ask.mint,
        };
        let wallet = self.wallet_for(&url)?;
        let quote = wallet.check_mint_quote_status(quote_id).await?;
        if let Some(done) = issued(&quote) {
            return Ok(Some(done));
        }
        match quote.state {
            MintQuoteState::Paid => {
                let proofs = match wallet.mint(quote_id, SplitTarget::default(), None).await {
                    // Counters behind the mint's (words used elsewhere): catch up, retry.
                    Err(cdk::Error::BlindedMessageAlreadySigned) => {
                        self.restore_at(&wallet, &wallet.mint_url).await?;
                        wallet.mint(quote_id, SplitTarget::default(), None).await?
                    }
                    other => other?,
                };
                Ok(Some(Minted {
                    sats: proofs.iter().map(|p| u64::from(p.amount)).sum(),
                    now: true,
                }))
            }
            // Issued to another device of the same words: its proofs are not here (a restore
            // at this mint finds them), so none are reported received.
            MintQuoteState::Issued => Ok(Some(Minted {
                sats: 0,
                now: false,
            })),
            MintQuoteState::Unpaid => Ok(None),
        }
    }

    /// Reads a BOLT11 invoice and asks `mint` what paying it costs (NUT-05).
    pub async fn quote_payment(
        &self,
        mint: &str,
        invoice: &str,
    ) -> Result<MeltPreview, EcashError> {
        let invoice = read_invoice(invoice, cdk::util::unix_time())?;
        let wallet = self.known_wallet(mint).await?;
        let q = wallet
            .melt_quote(PaymentMethod::BOLT11, &invoice.text, None, None)
            .await?;
        Ok(MeltPreview {
            mint: wallet.mint_url.to_string(),
            quote_id: q.id,
            amount: amount(q.amount),
            fee_reserve: amount(q.fee_reserve),
            description: invoice.description,
            expiry: invoice.expiry,
        })
    }

    /// Pays a quoted invoice; change comes back (NUT-08). `Ok(None)`: the mint has taken the
    /// request but not settled yet; follow it with [`Purse::payment_outcome`]. The saga is
    /// durable either way, so a closed tab loses nothing.
    pub async fn pay(&self, mint: &str, quote_id: &str) -> Result<Option<Paid>, EcashError> {
        let _one_at_a_time = self.moving.lock().await;
        let wallet = self.known_wallet(mint).await?;
        // Never block inside cdk on a payment in flight (its wait loop needs tokio timers):
        // ask for the async answer and poll. No pre-melt swap: cdk runs that swap as a saga of
        // its own while the melt still holds the inputs, and a tab closed between the two left
        // spent proofs counted as unspent and change stranded (issue 8, finding 3). Inputs go
        // to the melt directly; NUT-08 change gives the rest back.
        let prepared = wallet.prepare_melt(quote_id, HashMap::new()).await?;
        let outcome = match prepared
            .confirm_prefer_async_with_options(cdk::wallet::MeltConfirmOptions::skip_swap())
            .await
        {
            Err(cdk::Error::InsufficientFunds) => {
                // The inputs cannot cover amount + reserve + input fees without a swap.
                let prepared = wallet.prepare_melt(quote_id, HashMap::new()).await?;
                prepared.confirm_prefer_async().await?
            }
            Err(e) => {
                // The mint may have taken it (a timeout, a dropped answer, an odd error after
                // the request went out): while the saga is open this is "pending", never
                // "failed" (which invites paying twice); the engine follows it.
                let e = EcashError::from(e);
                return Err(if self.melt_open(quote_id).await {
                    EcashError::PaymentPending
                } else {
                    e
                });
            }
            Ok(outcome) => outcome,
        };
        match outcome {
            cdk::wallet::MeltOutcome::Paid(done) => finalized(done).map(Some),
            cdk::wallet::MeltOutcome::Pending(_) => Ok(None),
        }
    }

    /// The ids of unfinished operations (sagas): their proofs are theirs to settle.
    async fn live_operations(&self) -> Result<std::collections::HashSet<uuid::Uuid>, EcashError> {
        Ok(self
            .db
            .get_incomplete_sagas()
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect())
    }

    /// The fee the settled payment of melt quote `quote_id` cost, from its history line.
    async fn fee_paid(&self, quote_id: &str) -> u64 {
        self.db
            .list_transactions(None, Some(TransactionDirection::Outgoing), None)
            .await
            .ok()
            .and_then(|txs| {
                txs.into_iter()
                    .find(|t| t.quote_id.as_deref() == Some(quote_id))
            })
            .map(|t| amount(t.fee))
            .unwrap_or(0)
    }

    /// Whether an unfinished saga holds the melt of `quote_id`.
    async fn melt_open(&self, quote_id: &str) -> bool {
        self.db
            .get_incomplete_sagas()
            .await
            .map(|sagas| {
                sagas
                    .iter()
                    .any(|s| s.quote_id.as_deref() == Some(quote_id))
            })
            .unwrap_or(true)
    }

    /// Checks a payment in flight once: `Some` when settled, `None` while pending; an error
    /// when it failed (funds returned) or the mint cannot be reached.
    pub async fn payment_outcome(
        &self,
        mint: &str,
        quote_id: &str,
    ) -> Result<Option<Paid>, EcashError> {
        let _one_at_a_time = self.moving.lock().await;
        let wallet = self.known_wallet(mint).await?;
        let done = wallet.finalize_pending_melts().await?;
        if let Some(ours) = done.into_iter().find(|d| d.quote_id() == quote_id) {
            return finalized(ours).map(Some);
        }
        let quote = self.db.get_melt_quote(quote_id).await?;
        let open = self
            .db
            .get_incomplete_sagas()
            .await?
            .into_iter()
            .any(|s| s.quote_id.as_deref() == Some(quote_id));
        match quote {
            // Settled by someone else (a recovery, another check, a finalize for another
            // payment of this mint): its history line has the fee it cost.
            Some(q) if q.state == MeltQuoteState::Paid && !open => Ok(Some(Paid {
                amount: amount(q.amount),
                fee: self.fee_paid(quote_id).await,
                preimage: q.payment_proof,
            })),
            _ if open => Ok(None),
            _ => Err(EcashError::PaymentFailed(
                "the mint could not route it".into(),
            )),
        }
    }

    /// Makes a token of `sats` from `mint` (V4, DLEQ proofs included). `offline` uses only
    /// proofs that add up exactly, without asking the mint.
    pub async fn send(
        &self,
        mint: &str,
        sats: u64,
        memo: Option<String>,
        offline: bool,
        lock: Option<Lock>,
    ) -> Result<SentToken, EcashError> {
        if sats == 0 {
            return Err(EcashError::BadAmount);
        }
        if offline && lock.is_some() {
            return Err(EcashError::LockNeedsMint);
        }
        let _one_at_a_time = self.moving.lock().await;
        let wallet = self.known_wallet(mint).await?;
        let conditions = match lock {
            None => None,
            Some(lock) => {
                let to = parse_lock_key(&lock.to)?;
                let refund = match (lock.refund_after_secs, self.lock_key.as_ref()) {
                    (Some(after), Some(ours)) => Some(cdk::nuts::Conditions {
                        locktime: Some(cdk::util::unix_time().saturating_add(after)),
                        refund_keys: Some(vec![ours.public_key()]),
                        ..Default::default()
                    }),
                    _ => None,
                };
                Some(cdk::nuts::SpendingConditions::new_p2pk(to, refund))
            }
        };
        if let (Some(conditions), false) = (conditions.clone(), offline) {
            match self
                .send_locked(&wallet, sats, memo.clone(), conditions.clone())
                .await
            {
                Err(EcashError::Other(why)) if why == locked::NO_RESTORE => {}
                done => return done,
            }
        }
        let opts = SendOptions {
            conditions,
            send_kind: if offline {
                cdk_common::wallet::SendKind::OfflineExact
            } else {
                cdk_common::wallet::SendKind::OnlineExact
            },
            include_fee: true,
            ..SendOptions::default()
        };
        let prepared = match wallet.prepare_send(Amount::from(sats), opts).await {
            Ok(p) => p,
            Err(cdk::Error::InsufficientFunds) if offline => {
                // Say what can be sent offline right now instead of just "no".
                let coins: Vec<u64> = wallet
                    .get_unspent_proofs()
                    .await?
                    .iter()
                    .map(|p| u64::from(p.amount))
                    .collect();
                return Err(EcashError::OfflineAmounts(exact_amounts(&coins, sats)));
            }
            Err(e) => return Err(e.into()),
        };
        let fee = amount(prepared.fee());
        let memo = memo.filter(|m| !m.trim().is_empty()).map(|m| SendMemo {
            memo: m,
            include_memo: true,
        });
        let token = prepared.confirm(memo).await?;
        Ok(SentToken {
            token: token.to_string(),
            amount: sats,
            fee,
        })
    }

    /// Decodes a token without redeeming it.
    pub async fn inspect(&self, text: &str) -> Result<TokenView, EcashError> {
        let token = parse_token(text)?;
        let mint = token.mint_url().map_err(|_| EcashError::BadToken)?;
        let value = token.value().map_err(|_| EcashError::BadToken)?;
        if token.unit().unwrap_or_default() != CurrencyUnit::Sat {
            return Err(EcashError::UnsupportedUnit);
        }
        let known = self.db.get_mints().await?.contains_key(&mint);
        Ok(TokenView {
            mint: mint.to_string(),
            amount: amount(value),
            memo: token.memo().clone(),
            mint_known: known,
            offline_proof: has_dleq(&token),
        })
    }

    /// Redeems a token at its mint (swap). A mint the wallet does not use yet is added only
    /// with `add_new_mint` (the user said yes); otherwise [`EcashError::NewMint`] asks first.
    /// DLEQ proofs, when present, are checked against the mint's keys first ("forged" only when
    /// one is present and wrong, or the mint refuses the signatures). When the mint cannot be
    /// reached and its keys are known, a token with DLEQ proofs is kept as "received, not yet
    /// redeemed" and redeemed later by [`Purse::redeem_saved`]; one without them needs the
    /// mint ([`EcashError::NeedsMint`]).
    pub async fn receive(&self, text: &str, add_new_mint: bool) -> Result<Received, EcashError> {
        let token = parse_token(text)?;
        let _one_at_a_time = self.moving.lock().await;
        let url = token.mint_url().map_err(|_| EcashError::BadToken)?;
        if token.unit().unwrap_or_default() != CurrencyUnit::Sat {
            return Err(EcashError::UnsupportedUnit);
        }
        if !self.db.get_mints().await?.contains_key(&url) {
            if !add_new_mint {
                return Err(EcashError::NewMint(url.to_string()));
            }
            self.add_mint_now(&url.to_string()).await?;
        }
        let wallet = self.wallet_for(&url)?;
        let offline_proof = has_dleq(&token);
        if offline_proof {
            if let Err(e) = wallet.verify_token_dleq(&token).await {
                return Err(match EcashError::from(e) {
                    unreachable @ EcashError::Unreachable(_) => unreachable,
                    _ => EcashError::BadSignature,
                });
            }
        }
        let value = amount(token.value().map_err(|_| EcashError::BadToken)?);
        let encoded = token.to_string();
        match wallet.receive(&encoded, self.receive_options()).await {
            Ok(got) => Ok(Received {
                amount: amount(got),
                redeemed: true,
                offline_proof,
            }),
            Err(e) => match receive_error(e) {
                EcashError::Unreachable(_) if offline_proof => {
                    self.save_token(&encoded).await?;
                    Ok(Received {
                        amount: value,
                        redeemed: false,
                        offline_proof,
                    })
                }
                EcashError::Unreachable(_) => Err(EcashError::NeedsMint),
                other => Err(other),
            },
        }
    }

    fn receive_options(&self) -> ReceiveOptions {
        // Every key the wallet has owned signs: a token locked to an nsec imported (or
        // dropped) earlier is still ours.
        ReceiveOptions {
            p2pk_signing_keys: self
                .lock_key
                .iter()
                .chain(self.old_lock_keys.iter())
                .map(|k| (**k).clone())
                .collect(),
            ..ReceiveOptions::default()
        }
    }

    async fn save_token(&self, encoded: &str) -> Result<(), EcashError> {
        use bitcoin::hashes::{sha256, Hash};
        let id = sha256::Hash::hash(encoded.as_bytes()).to_string();
        Ok(self
            .db
            .kv_write(KV_APP, KV_SAVED, &id, encoded.as_bytes())
            .await?)
    }

    /// Tokens received while their mint was unreachable: (id, mint, sats).
    pub async fn saved_tokens(&self) -> Result<Vec<(String, String, u64)>, EcashError> {
        let mut out = Vec::new();
        for id in self.db.kv_list(KV_APP, KV_SAVED).await? {
            if let Some(bytes) = self.db.kv_read(KV_APP, KV_SAVED, &id).await? {
                let text = String::from_utf8_lossy(&bytes).to_string();
                if let Ok(t) = parse_token(&text) {
                    let mint = t.mint_url().map(|u| u.to_string()).unwrap_or_default();
                    let sats = t.value().map(amount).unwrap_or(0);
                    out.push((id, mint, sats));
                }
            }
        }
        Ok(out)
    }

    /// Redeems saved tokens whose mint answers now. Returns (sats redeemed, tokens that failed
    /// for good). A token that failed for good (spent, refused signatures, locked to a key we
    /// do not hold) moves to the "could not redeem" list with its reason, never deleted; any
    /// other failure keeps it for the next try.
    pub async fn redeem_saved(&self) -> Result<(u64, usize), EcashError> {
        let _one_at_a_time = self.moving.lock().await;
        self.redeem_saved_now().await
    }

    async fn redeem_saved_now(&self) -> Result<(u64, usize), EcashError> {
        let (mut got, mut failed) = (0, 0);
        for id in self.db.kv_list(KV_APP, KV_SAVED).await? {
            let Some(bytes) = self.db.kv_read(KV_APP, KV_SAVED, &id).await? else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes).to_string();
            let Ok(token) = parse_token(&text) else {
                continue;
            };
            let Ok(url) = token.mint_url() else { continue };
            let wallet = self.wallet_for(&url)?;
            // Ask the mint first: every receive cdk starts is a durable saga (and a pending
            // history line), so trying one against a mint that is down would pile them up.
            if let Err(e) = wallet.fetch_mint_info().await {
                if matches!(EcashError::from(e), EcashError::Unreachable(_)) {
                    continue;
                }
            }
            match wallet.receive(&text, self.receive_options()).await {
                Ok(n) => {
                    got += amount(n);
                    self.db.kv_remove(KV_APP, KV_SAVED, &id).await?;
                }
                // Spent by us: an earlier try whose answer was lost completed at recovery.
                Err(cdk::Error::TokenAlreadySpent) if self.redeemed_by_us(&token).await => {
                    self.db.kv_remove(KV_APP, KV_SAVED, &id).await?;
                }
                Err(e) if final_failure(&e) => {
                    failed += 1;
                    let reason = receive_error(e);
                    let record = serde_json::json!({ "token": text, "reason": reason.code() });
                    self.db
                        .kv_write(KV_APP, KV_FAILED, &id, record.to_string().as_bytes())
                        .await?;
                    self.db.kv_remove(KV_APP, KV_SAVED, &id).await?;
                }
                Err(_) => {}
            }
        }
        Ok((got, failed))
    }

    /// Whether this wallet's own completed receive took in `token`'s proofs (their Ys are in
    /// an incoming, completed transaction).
    async fn redeemed_by_us(&self, token: &Token) -> bool {
        let Ok(url) = token.mint_url() else {
            return false;
        };
        let keysets = match self.db.get_mint_keysets(url.clone()).await {
            Ok(Some(k)) => k,
            _ => return false,
        };
        let Ok(proofs) = token.proofs(&keysets) else {
            return false;
        };
        let ys: Vec<_> = proofs.iter().filter_map(|p| p.y().ok()).collect();
        if ys.is_empty() {
            return false;
        }
        let Ok(txs) = self
            .db
            .list_transactions(Some(url), Some(TransactionDirection::Incoming), None)
            .await
        else {
            return false;
        };
        txs.iter().any(|t| {
            t.status == TransactionStatus::Completed && ys.iter().all(|y| t.ys.contains(y))
        })
    }

    /// Saved tokens that could not be redeemed for good, with the reason and the token.
    pub async fn failed_tokens(&self) -> Result<Vec<FailedToken>, EcashError> {
        let mut out = Vec::new();
        for id in self.db.kv_list(KV_APP, KV_FAILED).await? {
            let Some(bytes) = self.db.kv_read(KV_APP, KV_FAILED, &id).await? else {
                continue;
            };
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
                continue;
            };
            let token = v["token"].as_str().unwrap_or_default().to_string();
            let Ok(t) = parse_token(&token) else { continue };
            out.push(FailedToken {
                id,
                mint: t.mint_url().map(|u| u.to_string()).unwrap_or_default(),
                amount: t.value().map(amount).unwrap_or(0),
                reason: EcashError::from_code(v["reason"].as_str().unwrap_or_default()),
                token,
            });
        }
        Ok(out)
    }

    /// Forgets a token of the "could not redeem" list (the user copied it or gave up on it).
    pub async fn dismiss_failed(&self, id: &str) -> Result<(), EcashError> {
        Ok(self.db.kv_remove(KV_APP, KV_FAILED, id).await?)
    }

    /// Finishes or rolls back interrupted operations, then mints invoices paid meanwhile, then
    /// makes every proof no open operation owns agree with the mint ([`Purse::reconcile`]).
    /// A mint that cannot be reached is left for the next try.
    pub async fn recover(&self) -> Recovered {
        let _one_at_a_time = self.moving.lock().await;
        let mut out = Recovered::default();
        let urls: Vec<MintUrl> = match self.db.get_mints().await {
            Ok(m) => m.into_keys().collect(),
            Err(_) => return out,
        };
        for url in urls {
            let Ok(wallet) = self.wallet_for(&url) else {
                continue;
            };
            let deferred_before = out.deferred;
            // Locked sends before cdk's recovery (to adopt a plain token cdk made) and after.
            let _ = self.recover_locked(&wallet).await;
            match wallet.recover_incomplete_sagas().await {
                Ok(r) => {
                    out.resolved += r.recovered + r.compensated;
                    out.deferred += r.skipped + r.failed;
                }
                Err(_) => out.deferred += 1,
            }
            out.deferred += self.recover_locked(&wallet).await.unwrap_or(1);
            if let Ok(minted) = wallet.mint_unissued_quotes().await {
                out.minted += amount(minted);
            }
            if let Ok(done) = wallet.finalize_pending_melts().await {
                out.resolved += done.len();
            }
            if self.reconcile(&wallet, &url).await.is_err() {
                out.deferred += 1;
            }
            if out.deferred > deferred_before {
                out.waiting_on.push(url.to_string());
            }
        }
        if let Ok((sats, _)) = self.redeem_saved_now().await {
            out.minted += sats;
        }
        if let Ok(mut w) = self.waiting_on.lock() {
            w.clone_from(&out.waiting_on);
        }
        out
    }

    /// After recovery, a proof counts only if the mint says it is unspent or it never left
    /// the wallet. Every proof at `url` that no open operation owns is checked with the mint
    /// (NUT-07): spent ones leave the wallet (cdk deletes them), and ones the mint calls
    /// unspent but that an interrupted operation left reserved or pending come back to the
    /// balance. Proofs of open operations (an unclaimed sent token, a payment in flight) are
    /// left to those operations. Runs under `moving`, so no operation is half-way through.
    async fn reconcile(&self, wallet: &Wallet, url: &MintUrl) -> Result<(), EcashError> {
        let live = self.live_operations().await?;
        let free: Vec<cdk_common::wallet::ProofInfo> = self
            .db
            .get_proofs(
                Some(url.clone()),
                Some(CurrencyUnit::Sat),
                // Not PendingSpent: those are in a token that may be in someone's hands
                // (cdk writes a send's token proofs with no owning operation), so the mint's
                // "unspent" only means "not claimed yet". They stay out of the balance.
                Some(vec![State::Unspent, State::Reserved, State::Pending]),
                None,
            )
            .await?
            .into_iter()
            .filter(|p| p.used_by_operation.is_none_or(|op| !live.contains(&op)))
            .collect();
        for chunk in free.chunks(100) {
            let proofs: cdk::nuts::Proofs = chunk.iter().map(|p| p.proof.clone()).collect();
            let states = wallet.check_proofs_spent(proofs).await?;
            let unspent = |p: &&cdk_common::wallet::ProofInfo| {
                states
                    .iter()
                    .any(|st| st.y == p.y && st.state == State::Unspent)
            };
            // Proofs not from our words (a received token's inputs whose swap was cut off)
            // are not ours until swapped: a fresh restore would not find them, and the sender
            // can still take them back. They become a saved token (written first), leave the
            // proofs, and are redeemed like any token received offline.
            let foreign: cdk::nuts::Proofs = chunk
                .iter()
                .filter(|p| p.derivation_index.is_none())
                .filter(unspent)
                .map(|p| p.proof.clone())
                .collect();
            if !foreign.is_empty() {
                let ys: Vec<_> = chunk
                    .iter()
                    .filter(|p| p.derivation_index.is_none())
                    .filter(unspent)
                    .map(|p| p.y)
                    .collect();
                let token = Token::new(url.clone(), foreign, None, CurrencyUnit::Sat);
                self.save_token(&token.to_string()).await?;
                self.db.update_proofs(vec![], ys).await?;
            }
            let stranded: Vec<cdk_common::wallet::ProofInfo> = chunk
                .iter()
                .filter(|p| p.derivation_index.is_some())
                .filter(|p| p.state != State::Unspent)
                .filter(unspent)
                .map(|p| {
                    let mut p = p.clone();
                    p.state = State::Unspent;
                    p.used_by_operation = None;
                    p
                })
                .collect();
            if !stranded.is_empty() {
                self.db.update_proofs(stranded, vec![]).await?;
            }
        }
        Ok(())
    }

    /// Open operations: unfinished sagas and unclaimed sent tokens.
    pub async fn pending(&self) -> Result<Vec<PendingItem>, EcashError> {
        let (mut out, hidden, _) = self.locked_pending().await?;
        let tracked = self.tracked_send_ys().await?;
        for saga in self.db.get_incomplete_sagas().await? {
            if hidden.contains(&saga.id.to_string()) {
                continue;
            }
            out.push(PendingItem {
                id: saga.id.to_string(),
                kind: saga.kind.to_string(),
                amount: amount(saga.amount),
                mint: saga.mint_url.to_string(),
                since: saga.created_at,
                reclaimable: saga.kind.to_string() == "send",
                token: None,
            });
        }
        // Token proofs no open operation tracks (cdk closes a send's saga at recovery while
        // its token may still be unclaimed): shown, per mint, so no sat is out of sight.
        let live = self.live_operations().await?;
        let mut sent: BTreeMap<String, u64> = BTreeMap::new();
        for p in self
            .db
            .get_proofs(None, None, Some(vec![State::PendingSpent]), None)
            .await?
        {
            if p.used_by_operation.is_none_or(|op| !live.contains(&op)) && !tracked.contains(&p.y) {
                *sent.entry(p.mint_url.to_string()).or_default() += amount(p.proof.amount);
            }
        }
        for (mint, sats) in sent {
            out.push(PendingItem {
                id: format!("sent-{mint}"),
                kind: "sent".into(),
                amount: sats,
                mint,
                since: 0,
                reclaimable: true,
                token: None,
            });
        }
        out.sort_by_key(|p| std::cmp::Reverse(p.since));
        Ok(out)
    }

    /// Takes back an unclaimed sent token (swaps its proofs to new ones of ours).
    pub async fn reclaim(&self, mint: &str, id: &str) -> Result<u64, EcashError> {
        let _one_at_a_time = self.moving.lock().await;
        let wallet = self.known_wallet(mint).await?;
        if id.starts_with("sent-") {
            return self.reclaim_untracked(&wallet).await;
        }
        if self
            .db
            .kv_read(KV_APP, locked::KV_LOCKED, id)
            .await?
            .is_some()
        {
            return Err(EcashError::Other(
                "this is a locked token: only its receiver can claim it".into(),
            ));
        }
        let id =
            uuid::Uuid::from_str(id).map_err(|_| EcashError::Other("unknown operation".into()))?;
        Ok(amount(wallet.revoke_send(id).await?))
    }

    /// Takes back the token proofs at `wallet`'s mint that no open operation tracks (the
    /// "sent" row of [`Purse::pending`]): the ones the mint says are spent were claimed and
    /// leave; the unspent ones are swapped to new ones of ours. Runs under `moving`.
    async fn reclaim_untracked(&self, wallet: &Wallet) -> Result<u64, EcashError> {
        let live = self.live_operations().await?;
        let tracked = self.tracked_send_ys().await?;
        let untracked: Vec<cdk_common::wallet::ProofInfo> = self
            .db
            .get_proofs(
                Some(wallet.mint_url.clone()),
                Some(CurrencyUnit::Sat),
                Some(vec![State::PendingSpent]),
                None,
            )
            .await?
            .into_iter()
            .filter(|p| p.used_by_operation.is_none_or(|op| !live.contains(&op)))
            .filter(|p| !tracked.contains(&p.y))
            .collect();
        let ys: Vec<_> = untracked.iter().map(|p| p.y).collect();
        if ys.is_empty() {
            return Ok(0);
        }
        let states = self.states(&wallet.mint_url, ys.clone()).await?;
        let claimed: Vec<_> = ys
            .iter()
            .zip(&states)
            .filter(|(_, s)| **s == State::Spent)
            .map(|(y, _)| *y)
            .collect();
        if !claimed.is_empty() {
            self.db.update_proofs(vec![], claimed).await?;
        }
        let back: cdk::nuts::Proofs = untracked
            .iter()
            .zip(&states)
            .filter(|(_, s)| **s == State::Unspent)
            .map(|(p, _)| p.proof.clone())
            .collect();
        if back.is_empty() {
            return Ok(0);
        }
        let total = back
            .iter()
            .map(|p| u64::from(p.amount))
            .fold(0u64, u64::saturating_add);
        // cdk swaps only proofs it holds as unspent. Should the tab close before the swap,
        // these count as the wallet's again — what a restore from the words finds, too.
        let back_ys: Vec<_> = untracked
            .iter()
            .zip(&states)
            .filter(|(_, s)| **s == State::Unspent)
            .map(|(p, _)| p.y)
            .collect();
        let fee = amount(wallet.get_proofs_fee(&back).await?.total);
        self.db
            .update_proofs_state(back_ys.clone(), State::Unspent)
            .await?;
        if let Err(e) = wallet
            .swap(None, SplitTarget::default(), back, None, false, false)
            .await
        {
            // Not swapped (cdk reserves them first, and rolls that back): out of the balance
            // again, still under Pending to try later.
            let _ = self
                .db
                .update_proofs_state(back_ys, State::PendingSpent)
                .await;
            return Err(e.into());
        }
        Ok(total.saturating_sub(fee))
    }

    /// [`Purse::check_sent`], unless it ran less than [`SENT_CHECK_EVERY_SECS`] ago.
    pub async fn check_sent_now_and_then(&self) -> Result<usize, EcashError> {
        let now = cdk::util::unix_time();
        {
            let Ok(mut last) = self.sent_checked_at.lock() else {
                return Ok(0);
            };
            if last.is_some_and(|t| now.saturating_sub(t) < SENT_CHECK_EVERY_SECS) {
                return Ok(0);
            }
            *last = Some(now);
        }
        self.check_sent().await
    }

    /// Checks unclaimed sent tokens with the mint (NUT-07); claimed ones leave Pending.
    pub async fn check_sent(&self) -> Result<usize, EcashError> {
        let _one_at_a_time = self.moving.lock().await;
        let mut claimed = 0;
        // One mint down does not keep the others' claimed tokens in Pending.
        for url in self.db.get_mints().await?.into_keys() {
            let Ok(wallet) = self.wallet_for(&url) else {
                continue;
            };
            let Ok(sends) = wallet.get_pending_sends().await else {
                continue;
            };
            for id in sends {
                if let Ok(true) = wallet.check_send_status(id).await {
                    claimed += 1;
                }
            }
        }
        claimed += self.check_locked().await?;
        Ok(claimed)
    }

    /// Restores from the seed at every known mint (NUT-09/NUT-13): returns the sats found.
    pub async fn restore(&self) -> Result<u64, EcashError> {
        let _one_at_a_time = self.moving.lock().await;
        let mut found = 0;
        for url in self.db.get_mints().await?.into_keys() {
            let wallet = self.wallet_for(&url)?;
            found += self.restore_at(&wallet, &url).await?;
        }
        Ok(found)
    }

    /// cdk's NUT-09/13 restore at one mint, with two of its side effects undone. It rewrites
    /// every proof it finds as a fresh record with no owning operation, which would make an
    /// unclaimed sent token spendable again (sats invented, then double-spent) and cut a
    /// payment in flight off from its inputs: the proofs of open operations are put back as
    /// they were. And it *adds* the highest index found to each keyset counter instead of
    /// setting it, which on a used wallet jumps the counter past the gap a later restore from
    /// the words scans (so that restore would stop early and miss newer proofs): the counter
    /// is set to the larger of its old value and that index.
    async fn restore_at(&self, wallet: &Wallet, url: &MintUrl) -> Result<u64, EcashError> {
        let live = self.live_operations().await?;
        let held: Vec<cdk_common::wallet::ProofInfo> = self
            .db
            .get_proofs(Some(url.clone()), None, None, None)
            .await?
            .into_iter()
            .filter(|p| {
                p.state == State::PendingSpent
                    || p.used_by_operation.is_some_and(|op| live.contains(&op))
            })
            .collect();
        let ids: Vec<cdk::nuts::Id> = self
            .db
            .get_mint_keysets(url.clone())
            .await?
            .unwrap_or_default()
            .iter()
            .map(|k| k.id)
            .collect();
        let mut before = Vec::with_capacity(ids.len());
        for id in &ids {
            before.push(self.db.keyset_counter(id).await);
        }
        let restored = wallet.restore().await;
        for (id, old) in ids.iter().zip(before) {
            let now = self.db.keyset_counter(id).await;
            if now > old {
                self.db.set_keyset_counter(id, old.max(now - old)).await?;
            }
        }
        if !held.is_empty() {
            self.db.update_proofs(held, vec![]).await?;
        }
        Ok(amount(restored?.unspent))
    }

    /// Every operation, newest first.
    pub async fn history(&self) -> Result<Vec<HistoryItem>, EcashError> {
        let mut items: Vec<HistoryItem> = self
            .db
            .list_transactions(None, None, None)
            .await?
            .into_iter()
            .map(|t| HistoryItem {
                id: t.id().to_string(),
                incoming: t.direction == TransactionDirection::Incoming,
                amount: amount(t.amount),
                // A failed payment charged nothing: cdk keeps the fee reserve it had written
                // while the payment was pending.
                fee: if t.status == TransactionStatus::Failed {
                    0
                } else {
                    amount(t.fee)
                },
                mint: t.mint_url.to_string(),
                status: match t.status {
                    TransactionStatus::Pending => "pending".into(),
                    other => other.to_string().to_lowercase(),
                },
                time: t.timestamp,
                memo: t.memo.clone(),
                kind: if t.quote_id.is_some() {
                    "lightning".into()
                } else {
                    "ecash".into()
                },
            })
            .collect();
        items.sort_by_key(|i| std::cmp::Reverse(i.time));
        Ok(items)
    }
}

fn finalized(done: cdk_common::common::FinalizedMelt) -> Result<Paid, EcashError> {
    match done.state() {
        MeltQuoteState::Paid => Ok(Paid {
            amount: amount(done.amount()),
            fee: amount(done.fee_paid()),
            preimage: done.payment_proof().map(str::to_string),
        }),
        MeltQuoteState::Pending | MeltQuoteState::Unknown => Err(EcashError::PaymentPending),
        other => Err(EcashError::PaymentFailed(other.to_string())),
    }
}

/// Amounts that coins of `coins` sum to exactly, the ones nearest to `wanted` (at most 6, in
/// ascending order): what an offline send can pay without the mint.
pub fn exact_amounts(coins: &[u64], wanted: u64) -> Vec<u64> {
    let total: u64 = coins.iter().sum();
    let cap = usize::try_from(total.min(100_000)).unwrap_or(0);
    let mut reachable = vec![false; cap + 1];
    reachable[0] = true;
    for &c in coins {
        let c = usize::try_from(c).unwrap_or(usize::MAX);
        if c > cap {
            continue;
        }
        for s in (c..=cap).rev() {
            if reachable[s - c] {
                reachable[s] = true;
            }
        }
    }
    let mut sums: Vec<u64> = (1..=cap)
        .filter(|&s| reachable[s])
        .map(|s| s as u64)
        .collect();
    sums.sort_by_key(|&s| s.abs_diff(wanted));
    sums.truncate(6);
    sums.sort_unstable();
    sums
}

#[cfg(test)]
mod url_tests {
    use super::*;

    /// `idna_adapter` 1.0 (issue 9: no ICU tables in the wasm): ASCII and punycode hosts
    /// parse as before; a Unicode host is kept as written (the browser's fetch encodes it),
    /// where ICU would have turned it into punycode. Nothing panics.
    #[test]
    fn mint_hosts_are_ascii_or_punycode() {
        assert!(parse_url("https://mint.example.com").is_ok());
        assert!(parse_url("https://xn--mnt-xla.example").is_ok());
        assert_eq!(
            parse_url("https://mïnt.example").map(|u| u.to_string()),
            Ok("https://mïnt.example".to_string())
        );
    }
}
