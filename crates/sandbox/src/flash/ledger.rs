//! The Flash account server's books: accounts with a BTC wallet (sats) and a USD wallet
//! (cents), sessions and API keys, and transactions. Its Lightning is the node [`NODE`] of the
//! stack's network: money paid to a Flash invoice lands on that node and is credited to the
//! wallet that made the invoice; a payment debits the wallet first, then pays from the node.
//! A payment between two Flash accounts settles on the books (as Flash's intraledger does).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use bitcoin::hashes::Hash;
use thiserror::Error;

use crate::lightning::{InvoiceState, Network, PayError, Started};

/// The Flash server's node on the stack's network.
pub const NODE: &str = "flash";
/// The phone of the stack's ready-made account (printed at start-up).
pub const TEST_PHONE: &str = "+16505554321";
/// The one-time code every phone receives in the stack.
pub const TEST_CODE: &str = "000000";
/// The ready-made account's username (its Lightning address is `alice@<host>`).
pub const TEST_USERNAME: &str = "alice";
/// What the ready-made account holds at start: 100,000 sat and $25.00.
pub const TEST_BTC_SATS: i64 = 100_000;
/// See [`TEST_BTC_SATS`].
pub const TEST_USD_CENTS: i64 = 2_500;
/// Invoice expiry when the caller names none: 24 h for sats, 5 min for USD (as Flash).
const BTC_EXPIRY_MIN: u64 = 24 * 60;
const USD_EXPIRY_MIN: u64 = 5;

/// An application error, as Flash puts it in a payload's `errors` array.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct AppError {
    /// The machine-readable code.
    pub code: &'static str,
    /// What Flash says.
    pub message: String,
}

impl AppError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// Why a request was refused before it reached an operation (a top-level GraphQL error).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Denied {
    /// No session and no key, or an unknown one.
    #[error("Not authorized")]
    NotAuthorized,
    /// An API key without the scope the operation needs.
    #[error("API key is missing the required scope: {0}")]
    MissingScope(&'static str),
}

/// API key scopes (`ApiKeyScope`); write implies read, admin implies all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `read_user`
    ReadUser,
    /// `write_user`
    WriteUser,
    /// `read_wallet`
    ReadWallet,
    /// `write_wallet`
    WriteWallet,
    /// `read_transactions`
    ReadTransactions,
    /// `write_transactions`
    WriteTransactions,
    /// `admin`
    Admin,
}

impl Scope {
    /// The schema's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Scope::ReadUser => "read_user",
            Scope::WriteUser => "write_user",
            Scope::ReadWallet => "read_wallet",
            Scope::WriteWallet => "write_wallet",
            Scope::ReadTransactions => "read_transactions",
            Scope::WriteTransactions => "write_transactions",
            Scope::Admin => "admin",
        }
    }

    /// From the schema's name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Scope::ReadUser,
            Scope::WriteUser,
            Scope::ReadWallet,
            Scope::WriteWallet,
            Scope::ReadTransactions,
            Scope::WriteTransactions,
            Scope::Admin,
        ]
        .into_iter()
        .find(|x| x.name() == s)
    }

    fn implied_by(self, held: Scope) -> bool {
        held == self
            || held == Scope::Admin
            || matches!(
                (self, held),
                (Scope::ReadUser, Scope::WriteUser)
                    | (Scope::ReadWallet, Scope::WriteWallet)
                    | (Scope::ReadTransactions, Scope::WriteTransactions)
            )
    }
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No credentials (public queries only).
    Anonymous,
    /// A session token: everything the account may do.
    Session(usize),
    /// An API key: what its scopes allow.
    Key(usize, Vec<Scope>),
}

impl Caller {
    /// The account, if `need` is allowed.
    pub fn account(&self, need: Scope) -> Result<usize, Denied> {
        match self {
            Caller::Anonymous => Err(Denied::NotAuthorized),
            Caller::Session(a) => Ok(*a),
            Caller::Key(a, scopes) if scopes.iter().any(|s| need.implied_by(*s)) => Ok(*a),
            Caller::Key(..) => Err(Denied::MissingScope(need.name())),
        }
    }

    /// The account, for what only a session may do (key management).
    pub fn session(&self) -> Result<usize, Denied> {
        match self {
            Caller::Session(a) => Ok(*a),
            _ => Err(Denied::NotAuthorized),
        }
    }
}

/// A wallet's currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Currency {
    /// Balance in sats.
    Btc,
    /// Balance in cents.
    Usd,
}

impl Currency {
    /// `WalletCurrency`.
    pub fn name(self) -> &'static str {
        match self {
            Currency::Btc => "BTC",
            Currency::Usd => "USD",
        }
    }
}

/// One wallet of an account.
#[derive(Debug, Clone)]
pub struct Wallet {
    /// `WalletId`.
    pub id: String,
    /// Its currency.
    pub currency: Currency,
    /// Sats or cents.
    pub balance: i64,
}

/// How a transaction moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// Over Lightning (or a Flash invoice settled on the books).
    Ln {
        /// Hex payment hash.
        hash: String,
        /// Hex preimage, once known.
        preimage: Option<String>,
    },
    /// Between two Flash wallets by wallet id.
    IntraLedger {
        /// The other side.
        wallet_id: String,
        /// Its username, if any.
        username: Option<String>,
    },
}

/// `TxStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxStatus {
    /// In flight.
    Pending,
    /// Done.
    Success,
    /// Failed; the money went back.
    Failure,
}

impl TxStatus {
    /// The schema's name.
    pub fn name(self) -> &'static str {
        match self {
            TxStatus::Pending => "PENDING",
            TxStatus::Success => "SUCCESS",
            TxStatus::Failure => "FAILURE",
        }
    }
}

/// One transaction of one wallet.
#[derive(Debug, Clone)]
pub struct Tx {
    /// `ID`.
    pub id: String,
    /// The wallet it belongs to.
    pub wallet_id: String,
    /// That wallet's currency: the unit of the amounts.
    pub currency: Currency,
    /// Unix seconds.
    pub created_at: u64,
    /// Money left the wallet.
    pub send: bool,
    /// Where it stands.
    pub status: TxStatus,
    /// The memo.
    pub memo: Option<String>,
    /// Sats or cents, without the fee (positive).
    pub amount: i64,
    /// Sats or cents.
    pub fee: i64,
    /// How it moved.
    pub via: Via,
}

/// One account.
#[derive(Debug, Clone)]
pub struct Account {
    /// `ID` of the account (the user has its own).
    pub id: String,
    /// The user's id.
    pub user_id: String,
    /// The login phone.
    pub phone: String,
    /// The username, if set.
    pub username: Option<String>,
    /// BTC first, then USD (the BTC wallet is the default).
    pub wallets: Vec<Wallet>,
    /// Unix seconds.
    pub created_at: u64,
}

/// A Flash invoice waiting to be credited.
#[derive(Debug, Clone)]
struct Receivable {
    wallet_id: String,
    memo: Option<String>,
    /// For a USD invoice: the cents it credits (the rate is fixed when it is made).
    cents: Option<i64>,
    credited: bool,
}

/// An outgoing Lightning payment of a wallet: what it locked, to give back on failure.
#[derive(Debug, Clone)]
struct Sending {
    tx_id: String,
    wallet_id: String,
    locked: i64,
}

#[derive(Default)]
struct State {
    accounts: Vec<Account>,
    sessions: HashMap<String, usize>,
    /// Full key string → (account, scopes, key id, name, created_at).
    keys: HashMap<String, (usize, Vec<Scope>, String, String, u64)>,
    challenges: Vec<String>,
    /// Phones a code was sent to.
    codes_sent: Vec<String>,
    receivables: HashMap<[u8; 32], Receivable>,
    /// (wallet id, payment hash) → the payment.
    sending: HashMap<(String, [u8; 32]), Sending>,
    txs: Vec<Tx>,
    next_id: u64,
    /// USD cents for one BTC.
    cents_per_btc: u64,
    price_at: u64,
}

/// The books. Cheap to clone; clones share the books.
#[derive(Clone)]
pub struct Flash {
    net: Network,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for Flash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flash").finish_non_exhaustive()
    }
}

/// What a payment call answers (`PaymentSendResult` and its errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendResult {
    /// Paid.
    Success,
    /// In flight; the books say PENDING until the network answers.
    Pending,
    /// The invoice was paid already.
    AlreadyPaid,
    /// Not paid; nothing moved.
    Failure(AppError),
}

/// A new invoice (`LnInvoice`).
#[derive(Debug, Clone)]
pub struct NewInvoice {
    /// The BOLT11.
    pub payment_request: String,
    /// Hex.
    pub payment_hash: String,
    /// Hex.
    pub payment_secret: String,
    /// None for a no-amount invoice.
    pub sats: Option<u64>,
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    // getrandom fails only without an OS RNG; a zero token is then refused by no one, so
    // fall back to time-based bytes rather than a fixed value.
    if getrandom::fill(&mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        for (i, x) in b.iter_mut().enumerate() {
            *x = (t >> ((i % 16) * 8)) as u8;
        }
    }
    hex::encode(b)
}

fn pay_error(e: &PayError) -> AppError {
    match e {
        PayError::BadInvoice(_) => AppError::new("INVALID_INPUT", "Invalid payment request"),
        PayError::WrongNetwork => AppError::new(
            "INVALID_INPUT",
            "Invoice belongs to a different network than this instance",
        ),
        PayError::NoRoute => AppError::new("ROUTE_FINDING_ERROR", "Unable to find a route"),
        PayError::Expired => AppError::new("INVOICE_EXPIRED", "Invoice is expired"),
        PayError::AlreadyPaid => AppError::new("ALREADY_PAID", "Invoice is already paid"),
        PayError::Amount(m) => AppError::new("INVALID_INPUT", m.clone()),
        PayError::FeeTooHigh { .. } => {
            AppError::new("ROUTE_FINDING_ERROR", "The route fee is too high")
        }
        PayError::InsufficientBalance => AppError::new(
            "ROUTE_FINDING_ERROR",
            "Unable to find a route with enough liquidity",
        ),
        PayError::Failed(m) => AppError::new("PAYMENT_FAILED", format!("Payment failed: {m}")),
        PayError::InFlight => AppError::new("PAYMENT_IN_FLIGHT", "A payment is in flight"),
        PayError::NoSuchNode(_) => AppError::new("UNKNOWN_CLIENT_ERROR", "Unknown node"),
    }
}

fn insufficient(balance: i64, need: i64, unit: &str) -> AppError {
    AppError::new(
        "INSUFFICIENT_BALANCE",
        format!("Payment amount '{need}' {unit} exceeds balance '{balance}'"),
    )
}

impl Flash {
    /// The books, with the ready-made account, and the Flash node on `net`.
    pub fn new(net: &Network) -> Self {
        net.add_node(NODE);
        let flash = Self {
            net: net.clone(),
            state: Arc::new(Mutex::new(State {
                cents_per_btc: 10_000_000,
                price_at: now(),
                ..State::default()
            })),
        };
        {
            let mut s = flash.lock();
            let a = add_account(&mut s, TEST_PHONE);
            if let Some(acc) = s.accounts.get_mut(a) {
                acc.username = Some(TEST_USERNAME.into());
                for w in &mut acc.wallets {
                    w.balance = match w.currency {
                        Currency::Btc => TEST_BTC_SATS,
                        Currency::Usd => TEST_USD_CENTS,
                    };
                }
            }
        }
        flash
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change is made after its checks, so a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The network this server's node is on.
    pub fn network(&self) -> &Network {
        &self.net
    }

    /// Who a request's credentials name.
    pub fn caller(&self, bearer: Option<&str>, api_key: Option<&str>) -> Caller {
        let s = self.lock();
        if let Some(key) = api_key {
            return match s.keys.get(key) {
                Some((a, scopes, ..)) => Caller::Key(*a, scopes.clone()),
                None => Caller::Anonymous,
            };
        }
        match bearer.and_then(|t| s.sessions.get(t)) {
            Some(a) => Caller::Session(*a),
            None => Caller::Anonymous,
        }
    }

    /// `captchaCreateChallenge`: a challenge the client "solves" (the stack needs no captcha).
    pub fn create_challenge(&self) -> (String, String) {
        let id = random_hex(16);
        let code = random_hex(16);
        self.lock().challenges.push(code.clone());
        (id, code)
    }

    /// `captchaRequestAuthCode`: "sends" [`TEST_CODE`] to `phone`.
    pub fn request_code(&self, phone: &str, challenge: &str) -> Result<(), AppError> {
        let mut s = self.lock();
        let Some(i) = s.challenges.iter().position(|c| c == challenge) else {
            return Err(AppError::new("INVALID_INPUT", "Invalid captcha challenge"));
        };
        s.challenges.remove(i);
        if !valid_phone(phone) {
            return Err(AppError::new(
                "INVALID_PHONE_NUMBER",
                "Invalid phone number",
            ));
        }
        s.codes_sent.push(phone.to_string());
        Ok(())
    }

    /// `userLogin`: a session token for `phone` (a new account on its first login).
    pub fn login(&self, phone: &str, code: &str) -> Result<String, AppError> {
        let mut s = self.lock();
        if !s.codes_sent.iter().any(|p| p == phone) || code != TEST_CODE {
            return Err(AppError::new(
                "PHONE_CODE_ERROR",
                "Invalid or incorrect phone code entered.",
            ));
        }
        let a = match s.accounts.iter().position(|a| a.phone == phone) {
            Some(a) => a,
            None => add_account(&mut s, phone),
        };
        let token = random_hex(32);
        s.sessions.insert(token.clone(), a);
        Ok(token)
    }

    /// `userLogout`: the session ends.
    pub fn logout(&self, token: &str) {
        self.lock().sessions.remove(token);
    }

    /// `apiKeyCreate`: `fk_<8 hex>_<64 chars>` with `scopes`.
    pub fn create_key(&self, account: usize, name: &str, scopes: Vec<Scope>) -> (String, String) {
        let key_id = random_hex(4);
        let secret = random_hex(32);
        let key = format!("fk_{key_id}_{secret}");
        self.lock().keys.insert(
            key.clone(),
            (account, scopes, key_id.clone(), name.into(), now()),
        );
        (key, key_id)
    }

    /// An account, with its incoming invoices credited first.
    pub fn account(&self, account: usize) -> Option<Account> {
        self.credit_incoming();
        self.lock().accounts.get(account).cloned()
    }

    /// The index of the account with this id.
    pub fn account_index(&self, id: &str) -> Option<usize> {
        self.lock().accounts.iter().position(|a| a.id == id)
    }

    /// The account whose wallet `wallet_id` is, if `account` owns it.
    fn own_wallet(s: &State, account: usize, wallet_id: &str) -> Result<Wallet, AppError> {
        s.accounts
            .get(account)
            .and_then(|a| a.wallets.iter().find(|w| w.id == wallet_id))
            .cloned()
            .ok_or_else(|| AppError::new("INVALID_INPUT", "Invalid walletId for account."))
    }

    /// A public lookup: the default wallet of `username` in `currency` (BTC if none).
    pub fn default_wallet(&self, username: &str, currency: Option<Currency>) -> Option<Wallet> {
        let s = self.lock();
        let acc = s
            .accounts
            .iter()
            .find(|a| a.username.as_deref() == Some(username))?;
        let want = currency.unwrap_or(Currency::Btc);
        acc.wallets.iter().find(|w| w.currency == want).cloned()
    }

    /// USD cents for one BTC, and when it was set.
    pub fn price(&self) -> (u64, u64) {
        let s = self.lock();
        (s.cents_per_btc, s.price_at)
    }

    /// The control API's "set a price".
    pub fn set_price(&self, cents_per_btc: u64) {
        let mut s = self.lock();
        s.cents_per_btc = cents_per_btc.max(1);
        s.price_at = now();
    }

    /// The control API's "set a balance".
    pub fn set_balance(&self, wallet_id: &str, balance: i64) -> bool {
        let mut s = self.lock();
        for a in &mut s.accounts {
            if let Some(w) = a.wallets.iter_mut().find(|w| w.id == wallet_id) {
                w.balance = balance;
                return true;
            }
        }
        false
    }

    /// An invoice into `wallet_id`: sats for a BTC wallet, or `cents` for a USD wallet
    /// (turned into sats at the current price); neither for a no-amount invoice.
    pub fn create_invoice(
        &self,
        account: usize,
        wallet_id: &str,
        amount: InvoiceAmount,
        memo: Option<String>,
        expires_in_min: Option<u64>,
    ) -> Result<NewInvoice, AppError> {
        let (wallet, cents_per_btc) = {
            let s = self.lock();
            (Self::own_wallet(&s, account, wallet_id)?, s.cents_per_btc)
        };
        let (sats, cents) = match (amount, wallet.currency) {
            (InvoiceAmount::Sats(n), Currency::Btc) => (Some(n), None),
            (InvoiceAmount::Cents(c), Currency::Usd) => {
                let sats = cents_to_sats(c, cents_per_btc);
                if sats == 0 {
                    return Err(AppError::new("INVALID_INPUT", "Amount is too small"));
                }
                (Some(sats), i64::try_from(c).ok())
            }
            (InvoiceAmount::None, _) => (None, None),
            (InvoiceAmount::Sats(_), Currency::Usd) | (InvoiceAmount::Cents(_), Currency::Btc) => {
                return Err(AppError::new(
                    "INVALID_INPUT",
                    format!("Wallet is a {} wallet", wallet.currency.name()),
                ))
            }
        };
        if sats == Some(0) {
            return Err(AppError::new(
                "INVALID_INPUT",
                "A valid satoshi amount is required",
            ));
        }
        let default_expiry = match wallet.currency {
            Currency::Btc => BTC_EXPIRY_MIN,
            Currency::Usd => USD_EXPIRY_MIN,
        };
        let expiry_min = expires_in_min
            .unwrap_or(default_expiry)
            .clamp(1, 7 * 24 * 60);
        let msat = sats.map(|s| s.saturating_mul(1000));
        let invoice = self
            .net
            .create_invoice(NODE, msat, memo.as_deref().unwrap_or(""), expiry_min * 60)
            .map_err(|e| pay_error(&e))?;
        let parsed = self
            .net
            .parse(&invoice.bolt11, msat.or(Some(1000)))
            .map_err(|e| pay_error(&e))?
            .0;
        self.lock().receivables.insert(
            invoice.hash,
            Receivable {
                wallet_id: wallet.id,
                memo,
                cents,
                credited: false,
            },
        );
        Ok(NewInvoice {
            payment_request: invoice.bolt11,
            payment_hash: hex::encode(invoice.hash),
            payment_secret: hex::encode(parsed.payment_secret().0),
            sats,
        })
    }

    /// Credits every Flash invoice the network says is paid and the books do not have yet.
    /// Called before every read, so no listener can miss one.
    pub fn credit_incoming(&self) {
        let open: Vec<[u8; 32]> = self
            .lock()
            .receivables
            .iter()
            .filter(|(_, r)| !r.credited)
            .map(|(h, _)| *h)
            .collect();
        for hash in open {
            let Some(inv) = self.net.invoice(&hash) else {
                continue;
            };
            if inv.state != InvoiceState::Settled {
                continue;
            }
            let mut s = self.lock();
            let cents_per_btc = s.cents_per_btc;
            let Some(r) = s.receivables.get_mut(&hash) else {
                continue;
            };
            if r.credited {
                continue;
            }
            r.credited = true;
            let r = r.clone();
            let sats = i64::try_from(inv.paid_msat / 1000).unwrap_or(i64::MAX);
            let Some(wallet) = wallet_mut(&mut s, &r.wallet_id) else {
                continue;
            };
            let amount = match (wallet.currency, r.cents) {
                (Currency::Btc, _) => sats,
                (Currency::Usd, Some(c)) => c,
                (Currency::Usd, None) => sats_to_cents(inv.paid_msat / 1000, cents_per_btc),
            };
            wallet.balance = wallet.balance.saturating_add(amount);
            let wallet_currency = wallet.currency;
            let id = next_id(&mut s);
            s.txs.push(Tx {
                id,
                currency: wallet_currency,
                wallet_id: r.wallet_id,
                created_at: inv.settled_at.unwrap_or_else(now),
                send: false,
                status: TxStatus::Success,
                memo: r.memo,
                amount,
                fee: 0,
                via: Via::Ln {
                    hash: hex::encode(hash),
                    preimage: None,
                },
            });
        }
    }

    /// `lnInvoicePaymentStatus`: PAID, EXPIRED or PENDING, for any invoice of this server.
    pub fn invoice_status(&self, bolt11: &str) -> Result<&'static str, AppError> {
        let invoice: cdk::lightning_invoice::Bolt11Invoice = bolt11
            .trim()
            .parse()
            .map_err(|_| AppError::new("INVALID_INPUT", "Invalid payment request"))?;
        let hash = *invoice.payment_hash().as_byte_array();
        self.credit_incoming();
        if !self.lock().receivables.contains_key(&hash) {
            return Err(AppError::new("NOT_FOUND", "Invoice not found"));
        }
        match self.net.invoice(&hash) {
            Some(i) if i.state == InvoiceState::Settled => Ok("PAID"),
            Some(i) if i.expired(now()) => Ok("EXPIRED"),
            Some(_) => Ok("PENDING"),
            None => Err(AppError::new("NOT_FOUND", "Invoice not found")),
        }
    }

    /// `lnInvoiceFeeProbe`: the fee in sats (0 to another Flash wallet).
    pub fn fee_probe(
        &self,
        account: usize,
        wallet_id: &str,
        bolt11: &str,
        amount_sats: Option<u64>,
    ) -> Result<u64, AppError> {
        {
            let s = self.lock();
            Self::own_wallet(&s, account, wallet_id)?;
        }
        let (_, payee, msat) = self
            .net
            .decode(bolt11, amount_sats.map(|s| s.saturating_mul(1000)))
            .map_err(|e| pay_error(&e))?;
        if payee == NODE {
            return Ok(0);
        }
        let fee = self
            .net
            .fee_msat(NODE, &payee, msat)
            .map_err(|e| pay_error(&e))?;
        Ok(fee.div_ceil(1000))
    }

    /// `lnInvoicePaymentSend` / `lnNoAmountInvoicePaymentSend`. The wallet is debited the
    /// amount and fee, and the transaction recorded PENDING, before the network is asked; a
    /// failure gives it back. Asking again for the same invoice answers from the books: never paid twice.
    pub fn pay_invoice(
        &self,
        account: usize,
        wallet_id: &str,
        bolt11: &str,
        amount_sats: Option<u64>,
        memo: Option<String>,
    ) -> SendResult {
        match self.pay_inner(account, wallet_id, bolt11, amount_sats, memo) {
            Ok(r) => r,
            Err(e) => SendResult::Failure(e),
        }
    }

    fn pay_inner(
        &self,
        account: usize,
        wallet_id: &str,
        bolt11: &str,
        amount_sats: Option<u64>,
        memo: Option<String>,
    ) -> Result<SendResult, AppError> {
        let wallet = {
            let s = self.lock();
            Self::own_wallet(&s, account, wallet_id)?
        };
        let (invoice, payee, msat) = self
            .net
            .decode(bolt11, amount_sats.map(|s| s.saturating_mul(1000)))
            .map_err(|e| pay_error(&e))?;
        let hash = *invoice.payment_hash().as_byte_array();
        let internal = payee == NODE;
        let fee_msat = if internal {
            0
        } else {
            self.net
                .fee_msat(NODE, &payee, msat)
                .map_err(|e| pay_error(&e))?
        };
        let sats = i64::try_from(msat.div_ceil(1000)).unwrap_or(i64::MAX);
        let fee_sats = i64::try_from(fee_msat.div_ceil(1000)).unwrap_or(i64::MAX);
        let key = (wallet.id.clone(), hash);
        // Debit and record under one lock, after every check.
        {
            let mut s = self.lock();
            if let Some(prev) = s.sending.get(&key) {
                let status = s.txs.iter().find(|t| t.id == prev.tx_id).map(|t| t.status);
                match status {
                    Some(TxStatus::Success) => return Ok(SendResult::AlreadyPaid),
                    Some(TxStatus::Pending) => return Ok(SendResult::Pending),
                    _ => {}
                }
            }
            let cents_per_btc = s.cents_per_btc;
            let (amount, fee) = match wallet.currency {
                Currency::Btc => (sats, fee_sats),
                Currency::Usd => (
                    sats_to_cents_up(sats, cents_per_btc),
                    sats_to_cents_up(fee_sats, cents_per_btc),
                ),
            };
            let locked = amount.saturating_add(fee);
            let w = wallet_mut(&mut s, &wallet.id)
                .ok_or_else(|| AppError::new("INVALID_INPUT", "Invalid walletId for account."))?;
            if w.balance < locked {
                let unit = match wallet.currency {
                    Currency::Btc => "sats",
                    Currency::Usd => "cents",
                };
                return Err(insufficient(w.balance, locked, unit));
            }
            w.balance -= locked;
            let id = next_id(&mut s);
            s.txs.push(Tx {
                id: id.clone(),
                wallet_id: wallet.id.clone(),
                currency: wallet.currency,
                created_at: now(),
                send: true,
                status: TxStatus::Pending,
                memo,
                amount,
                fee,
                via: Via::Ln {
                    hash: hex::encode(hash),
                    preimage: None,
                },
            });
            s.sending.insert(
                key.clone(),
                Sending {
                    tx_id: id.clone(),
                    wallet_id: wallet.id.clone(),
                    locked,
                },
            );
        }
        if internal {
            let result = self.net.settle_internal(NODE, &hash, msat);
            return Ok(self.finish(&key, result.map(hex::encode)));
        }
        let max_fee = u64::try_from(fee_sats).unwrap_or(0).saturating_mul(1000);
        let no_amount = invoice.amount_milli_satoshis().is_none();
        match self
            .net
            .start_payment(NODE, bolt11, no_amount.then_some(msat), Some(max_fee))
        {
            Ok(Started::Done(r)) => Ok(self.finish(&key, r.map(|p| hex::encode(p.preimage)))),
            Err(e) => Ok(self.finish(&key, Err(e))),
            Ok(Started::Held(outcome)) => {
                let flash = self.clone();
                tokio::spawn(async move {
                    let r = outcome
                        .await
                        .unwrap_or_else(|_| Err(PayError::Failed("the network stopped".into())));
                    flash.finish(&key, r.map(|p| hex::encode(p.preimage)));
                });
                Ok(SendResult::Pending)
            }
        }
    }

    /// Ends a payment on the books: success records the preimage; failure gives the
    /// locked amount back.
    fn finish(&self, key: &(String, [u8; 32]), result: Result<String, PayError>) -> SendResult {
        let mut s = self.lock();
        let Some(sending) = s.sending.get(key).cloned() else {
            return SendResult::Failure(AppError::new("UNKNOWN_CLIENT_ERROR", "Unknown payment"));
        };
        let ok = result.is_ok();
        if let Some(tx) = s.txs.iter_mut().find(|t| t.id == sending.tx_id) {
            if tx.status != TxStatus::Pending {
                return SendResult::Failure(AppError::new("UNKNOWN_CLIENT_ERROR", "Finished"));
            }
            tx.status = if ok {
                TxStatus::Success
            } else {
                TxStatus::Failure
            };
            if let (Via::Ln { preimage, .. }, Ok(p)) = (&mut tx.via, &result) {
                *preimage = Some(p.clone());
            }
        }
        if !ok {
            if let Some(w) = wallet_mut(&mut s, &sending.wallet_id) {
                w.balance = w.balance.saturating_add(sending.locked);
            }
        }
        match result {
            Ok(_) => SendResult::Success,
            Err(PayError::AlreadyPaid) => SendResult::AlreadyPaid,
            Err(e) => SendResult::Failure(pay_error(&e)),
        }
    }

    /// `intraLedgerPaymentSend`: sats from a BTC wallet of `account` to any Flash wallet.
    pub fn pay_wallet(
        &self,
        account: usize,
        wallet_id: &str,
        recipient_wallet_id: &str,
        sats: u64,
        memo: Option<String>,
    ) -> SendResult {
        let mut s = self.lock();
        let from = match Self::own_wallet(&s, account, wallet_id) {
            Ok(w) => w,
            Err(e) => return SendResult::Failure(e),
        };
        if from.currency != Currency::Btc {
            return SendResult::Failure(AppError::new(
                "INVALID_INPUT",
                "intraLedgerPaymentSend pays from a BTC wallet",
            ));
        }
        if recipient_wallet_id == wallet_id {
            return SendResult::Failure(AppError::new(
                "SELF_PAYMENT_ERROR",
                "User tried to pay themselves",
            ));
        }
        let cents_per_btc = s.cents_per_btc;
        let Some(to) = s
            .accounts
            .iter()
            .flat_map(|a| a.wallets.iter())
            .find(|w| w.id == recipient_wallet_id)
            .cloned()
        else {
            return SendResult::Failure(AppError::new("INVALID_INPUT", "Invalid recipient wallet"));
        };
        let amount = match i64::try_from(sats) {
            Ok(a) if a > 0 => a,
            _ => return SendResult::Failure(AppError::new("INVALID_INPUT", "Invalid amount")),
        };
        if from.balance < amount {
            return SendResult::Failure(insufficient(from.balance, amount, "sats"));
        }
        let credit = match to.currency {
            Currency::Btc => amount,
            Currency::Usd => sats_to_cents(sats, cents_per_btc),
        };
        let from_user = username_of(&s, wallet_id);
        let to_user = username_of(&s, recipient_wallet_id);
        if let Some(w) = wallet_mut(&mut s, wallet_id) {
            w.balance -= amount;
        }
        if let Some(w) = wallet_mut(&mut s, recipient_wallet_id) {
            w.balance = w.balance.saturating_add(credit);
        }
        let at = now();
        let out_id = next_id(&mut s);
        let in_id = next_id(&mut s);
        s.txs.push(Tx {
            id: out_id,
            wallet_id: wallet_id.into(),
            currency: Currency::Btc,
            created_at: at,
            send: true,
            status: TxStatus::Success,
            memo: memo.clone(),
            amount,
            fee: 0,
            via: Via::IntraLedger {
                wallet_id: recipient_wallet_id.into(),
                username: to_user,
            },
        });
        s.txs.push(Tx {
            id: in_id,
            wallet_id: recipient_wallet_id.into(),
            currency: to.currency,
            created_at: at,
            send: false,
            status: TxStatus::Success,
            memo,
            amount: credit,
            fee: 0,
            via: Via::IntraLedger {
                wallet_id: wallet_id.into(),
                username: from_user,
            },
        });
        SendResult::Success
    }

    /// The transactions of `wallet_ids` (all of the account's if empty), newest first.
    pub fn transactions(&self, account: usize, wallet_ids: &[String]) -> Vec<Tx> {
        self.credit_incoming();
        let s = self.lock();
        let Some(acc) = s.accounts.get(account) else {
            return Vec::new();
        };
        let mine: Vec<&str> = acc
            .wallets
            .iter()
            .map(|w| w.id.as_str())
            .filter(|id| wallet_ids.is_empty() || wallet_ids.iter().any(|x| x == id))
            .collect();
        let mut txs: Vec<Tx> = s
            .txs
            .iter()
            .filter(|t| mine.contains(&t.wallet_id.as_str()))
            .cloned()
            .collect();
        txs.reverse();
        txs
    }
}

/// A requested invoice amount.
#[derive(Debug, Clone, Copy)]
pub enum InvoiceAmount {
    /// For a BTC wallet.
    Sats(u64),
    /// For a USD wallet.
    Cents(u64),
    /// A no-amount invoice.
    None,
}

fn valid_phone(p: &str) -> bool {
    let digits = p.strip_prefix('+').unwrap_or("");
    (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

fn add_account(s: &mut State, phone: &str) -> usize {
    let n = s.accounts.len();
    let id = format!("acct-{n:04}-{}", random_hex(4));
    let wallets = vec![
        Wallet {
            id: format!("btc-{}", random_hex(8)),
            currency: Currency::Btc,
            balance: 0,
        },
        Wallet {
            id: format!("usd-{}", random_hex(8)),
            currency: Currency::Usd,
            balance: 0,
        },
    ];
    s.accounts.push(Account {
        user_id: format!("user-{n:04}-{}", random_hex(4)),
        id,
        phone: phone.into(),
        username: None,
        wallets,
        created_at: now(),
    });
    n
}

fn next_id(s: &mut State) -> String {
    s.next_id += 1;
    format!("tx{:08}", s.next_id)
}

fn wallet_mut<'a>(s: &'a mut State, wallet_id: &str) -> Option<&'a mut Wallet> {
    s.accounts
        .iter_mut()
        .flat_map(|a| a.wallets.iter_mut())
        .find(|w| w.id == wallet_id)
}

fn username_of(s: &State, wallet_id: &str) -> Option<String> {
    s.accounts
        .iter()
        .find(|a| a.wallets.iter().any(|w| w.id == wallet_id))
        .and_then(|a| a.username.clone())
}

/// Sats worth `cents` at `cents_per_btc`, rounded down (the payer never pays more than asked).
fn cents_to_sats(cents: u64, cents_per_btc: u64) -> u64 {
    let sats = u128::from(cents) * 100_000_000 / u128::from(cents_per_btc.max(1));
    u64::try_from(sats).unwrap_or(u64::MAX)
}

/// Cents worth `sats`, rounded down (a credit).
pub(crate) fn sats_to_cents(sats: u64, cents_per_btc: u64) -> i64 {
    let c = u128::from(sats) * u128::from(cents_per_btc) / 100_000_000;
    i64::try_from(c).unwrap_or(i64::MAX)
}

/// Cents worth `sats`, rounded up (a debit: the books never lose a fraction).
fn sats_to_cents_up(sats: i64, cents_per_btc: u64) -> i64 {
    let sats = u128::try_from(sats.max(0)).unwrap_or(0);
    let c = (sats * u128::from(cents_per_btc)).div_ceil(100_000_000);
    i64::try_from(c).unwrap_or(i64::MAX)
}
