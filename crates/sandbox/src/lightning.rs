//! One simulated Lightning network for the whole stack. Every service (the Cashu mint, and
//! later the Flash account, LND and BTCPay) is a node with its own key; invoices are real
//! signed BOLT11 from that key, with a real payment hash and secret; a payment checks what a
//! real node checks (signature, network, expiry, amount, already paid, route, balance) and
//! moves the money in one step under one lock, so no test can see half a payment.
//!
//! What it leaves out of real Lightning: channels and multi-hop routing (a route is "the
//! payee is a node of this network", its fee set per payer or per route), on-chain, MPP, and
//! persistence (invoices live as long as the stack runs; a restart forgets them).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bitcoin::hashes::{sha256, Hash};
use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use cdk::lightning_invoice::{Bolt11Invoice, Currency, InvoiceBuilder, PaymentSecret};
use thiserror::Error;
use tokio::sync::{broadcast, oneshot};

/// Liquidity every node starts with (1 BTC): enough that no test runs out by accident. A
/// test that wants a node short of funds sets its balance.
pub const START_BALANCE_MSAT: u64 = 100_000_000 * 1000;

/// The node that pays invoices "from outside" (a user's other wallet, a faucet).
pub const FAUCET: &str = "faucet";
/// A node that only receives: a shop, a friend (the control API's invoices).
pub const SHOP: &str = "shop";

/// Why a payment did not happen. Nothing moved in any of these cases.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PayError {
    /// Not a BOLT11 invoice, or its signature does not check out.
    #[error("invalid invoice: {0}")]
    BadInvoice(String),
    /// An invoice for another network (`lnbcrt` on a mainnet stack, or the reverse).
    #[error("the invoice is for another network")]
    WrongNetwork,
    /// The payee is no node of this network, or it knows no such invoice.
    #[error("no route to the payee")]
    NoRoute,
    /// The invoice expired before it was paid.
    #[error("the invoice has expired")]
    Expired,
    /// The invoice was paid already (by anyone).
    #[error("the invoice is already paid")]
    AlreadyPaid,
    /// The invoice names no amount and the payer gave none, or gave a different one.
    #[error("amount: {0}")]
    Amount(String),
    /// The fee would be more than the payer allows.
    #[error("the route fee of {fee_msat} msat is more than the {max_fee_msat} msat allowed")]
    FeeTooHigh {
        /// What the route costs.
        fee_msat: u64,
        /// What the payer allowed.
        max_fee_msat: u64,
    },
    /// The payer cannot cover amount + fee.
    #[error("insufficient balance")]
    InsufficientBalance,
    /// The control API made this payment fail.
    #[error("the payment failed: {0}")]
    Failed(String),
    /// This payer already has a payment of this invoice in flight.
    #[error("a payment of this invoice is already in flight")]
    InFlight,
    /// Unknown node name (a stack wiring mistake).
    #[error("no node named {0:?}")]
    NoSuchNode(String),
}

/// An invoice's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceState {
    /// Waiting to be paid.
    Open,
    /// Paid; the preimage is out.
    Settled,
}

/// One invoice as its node knows it.
#[derive(Debug, Clone)]
pub struct Invoice {
    /// The node that issued it.
    pub payee: String,
    /// The payment hash.
    pub hash: [u8; 32],
    /// Revealed to the payer on settlement.
    pub preimage: [u8; 32],
    /// Unix seconds.
    pub created_at: u64,
    /// Seconds after `created_at`.
    pub expiry_secs: u64,
    /// The encoded invoice.
    pub bolt11: String,
    /// Where it stands.
    pub state: InvoiceState,
    /// What was paid (the amount, or the payer's choice for a no-amount invoice).
    pub paid_msat: u64,
    /// Unix seconds of settlement.
    pub settled_at: Option<u64>,
}

impl Invoice {
    /// Whether it can no longer be paid because of time.
    pub fn expired(&self, now: u64) -> bool {
        self.state == InvoiceState::Open && now >= self.created_at.saturating_add(self.expiry_secs)
    }
}

/// A payment that settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// Proof of payment.
    pub preimage: [u8; 32],
    /// The payment hash.
    pub hash: [u8; 32],
    /// Paid to the payee.
    pub amount_msat: u64,
    /// Paid to the route.
    pub fee_msat: u64,
}

/// An outgoing payment as its payer's node knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// Held by the control API: not settled, not failed.
    InFlight,
    /// Settled.
    Succeeded(Payment),
    /// Failed; nothing moved.
    Failed(PayError),
}

/// What the control API does to a node's next payment.
#[derive(Debug)]
enum Next {
    /// Fail it with this reason.
    Fail(String),
    /// Hold it in flight until released.
    Hold,
}

/// Told to every listener when an invoice settles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    /// The payee node.
    pub payee: String,
    /// The payment hash.
    pub hash: [u8; 32],
    /// What was paid.
    pub amount_msat: u64,
}

struct Node {
    key: SecretKey,
    balance_msat: u64,
    /// What this node pays to route a payment: base + parts per million of the amount.
    fee_base_msat: u64,
    fee_ppm: u64,
    next: Option<Next>,
    /// Its invoices are paid by the faucet this long after they are made.
    autopay: Option<Duration>,
}

/// A payment held in flight, and whom to tell its outcome.
type Held = (Flight, oneshot::Sender<Result<Payment, PayError>>);

#[derive(Default)]
struct State {
    nodes: HashMap<String, Node>,
    by_key: HashMap<PublicKey, String>,
    invoices: HashMap<[u8; 32], Invoice>,
    /// Per payer, per payment hash.
    outgoing: HashMap<(String, [u8; 32]), Outgoing>,
    /// Route fees that differ from the payer's own (payer, payee) → (base, ppm).
    routes: HashMap<(String, String), (u64, u64)>,
    /// Held payments per payer, released by the control API.
    held: HashMap<String, Vec<Held>>,
}

/// The network. Cheap to clone; all clones are the same network.
#[derive(Clone)]
pub struct Network {
    state: Arc<Mutex<State>>,
    currency: Currency,
    settled: broadcast::Sender<Settled>,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("currency", &self.currency)
            .finish_non_exhaustive()
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A node's key, derived from its name: the same stack gives the same node ids every run.
fn node_key(name: &str) -> SecretKey {
    let mut n = 0u32;
    loop {
        let digest = sha256::Hash::hash(format!("flash-sandbox-node/{name}/{n}").as_bytes());
        if let Ok(key) = SecretKey::from_slice(digest.as_byte_array()) {
            return key;
        }
        n += 1;
    }
}

impl Network {
    /// A network whose invoices are for `currency` (`Bitcoin` gives `lnbc`, `Regtest`
    /// `lnbcrt`), with the faucet and the shop as its first nodes.
    pub fn new(currency: Currency) -> Self {
        let (settled, _) = broadcast::channel(256);
        let net = Self {
            state: Arc::default(),
            currency,
            settled,
        };
        net.add_node(FAUCET);
        net.add_node(SHOP);
        net
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the maps consistent (every change is made
        // after all checks), so a poisoned lock is still safe to use.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a node (no-op if it exists) with [`START_BALANCE_MSAT`] and no routing fee.
    pub fn add_node(&self, name: &str) -> PublicKey {
        let key = node_key(name);
        let id = key.public_key(&Secp256k1::new());
        let mut s = self.lock();
        s.nodes.entry(name.to_string()).or_insert(Node {
            key,
            balance_msat: START_BALANCE_MSAT,
            fee_base_msat: 0,
            fee_ppm: 0,
            next: None,
            autopay: None,
        });
        s.by_key.insert(id, name.to_string());
        id
    }

    /// A node's public key.
    pub fn node_id(&self, name: &str) -> Result<PublicKey, PayError> {
        let s = self.lock();
        let node = s
            .nodes
            .get(name)
            .ok_or_else(|| PayError::NoSuchNode(name.into()))?;
        Ok(node.key.public_key(&Secp256k1::new()))
    }

    /// A node's balance.
    pub fn balance_msat(&self, name: &str) -> Result<u64, PayError> {
        let s = self.lock();
        s.nodes
            .get(name)
            .map(|n| n.balance_msat)
            .ok_or_else(|| PayError::NoSuchNode(name.into()))
    }

    /// Sets a node's balance (a test that wants it short of funds).
    pub fn set_balance_msat(&self, name: &str, msat: u64) -> Result<(), PayError> {
        let mut s = self.lock();
        let node = s
            .nodes
            .get_mut(name)
            .ok_or_else(|| PayError::NoSuchNode(name.into()))?;
        node.balance_msat = msat;
        Ok(())
    }

    /// What `payer` pays to route any payment: `base_msat` + `ppm` of the amount.
    pub fn set_fee(&self, payer: &str, base_msat: u64, ppm: u64) -> Result<(), PayError> {
        let mut s = self.lock();
        let node = s
            .nodes
            .get_mut(payer)
            .ok_or_else(|| PayError::NoSuchNode(payer.into()))?;
        node.fee_base_msat = base_msat;
        node.fee_ppm = ppm;
        Ok(())
    }

    /// The fee of one route, overriding the payer's own.
    pub fn set_route_fee(&self, payer: &str, payee: &str, base_msat: u64, ppm: u64) {
        self.lock()
            .routes
            .insert((payer.into(), payee.into()), (base_msat, ppm));
    }

    /// Has the faucet pay every invoice of `node` `delay` after it is made (a mint whose
    /// invoices "get paid" by themselves, as a user paying from another wallet would).
    pub fn autopay(&self, node: &str, delay: Duration) -> Result<(), PayError> {
        let mut s = self.lock();
        let n = s
            .nodes
            .get_mut(node)
            .ok_or_else(|| PayError::NoSuchNode(node.into()))?;
        n.autopay = Some(delay);
        Ok(())
    }

    /// The next payment `node` makes fails with `reason`.
    pub fn fail_next(&self, node: &str, reason: &str) -> Result<(), PayError> {
        self.set_next(node, Next::Fail(reason.into()))
    }

    /// The next payment `node` makes stays in flight until [`Network::release`].
    pub fn hold_next(&self, node: &str) -> Result<(), PayError> {
        self.set_next(node, Next::Hold)
    }

    fn set_next(&self, node: &str, next: Next) -> Result<(), PayError> {
        let mut s = self.lock();
        let n = s
            .nodes
            .get_mut(node)
            .ok_or_else(|| PayError::NoSuchNode(node.into()))?;
        n.next = Some(next);
        Ok(())
    }

    /// The chain its invoices are for.
    pub fn currency(&self) -> Currency {
        self.currency.clone()
    }

    /// Every settlement from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Settled> {
        self.settled.subscribe()
    }

    /// A real signed invoice from `node`. `amount_msat` `None` makes a no-amount invoice.
    pub fn create_invoice(
        &self,
        node: &str,
        amount_msat: Option<u64>,
        description: &str,
        expiry_secs: u64,
    ) -> Result<Invoice, PayError> {
        let mut preimage = [0u8; 32];
        let mut secret = [0u8; 32];
        getrandom::fill(&mut preimage).map_err(|e| PayError::Failed(e.to_string()))?;
        getrandom::fill(&mut secret).map_err(|e| PayError::Failed(e.to_string()))?;
        let hash = sha256::Hash::hash(&preimage);
        let created_at = now();
        let (key, autopay) = {
            let s = self.lock();
            let n = s
                .nodes
                .get(node)
                .ok_or_else(|| PayError::NoSuchNode(node.into()))?;
            (n.key, n.autopay)
        };
        let builder = InvoiceBuilder::new(self.currency.clone())
            .description(description.into())
            .payment_hash(hash)
            .payment_secret(PaymentSecret(secret))
            .duration_since_epoch(Duration::from_secs(created_at))
            .expiry_time(Duration::from_secs(expiry_secs))
            .min_final_cltv_expiry_delta(144);
        let signed = match amount_msat {
            Some(msat) => builder
                .amount_milli_satoshis(msat)
                .build_signed(|h| Secp256k1::new().sign_ecdsa_recoverable(h, &key)),
            None => builder.build_signed(|h| Secp256k1::new().sign_ecdsa_recoverable(h, &key)),
        }
        .map_err(|e| PayError::BadInvoice(e.to_string()))?;
        let invoice = Invoice {
            payee: node.into(),
            hash: *hash.as_byte_array(),
            preimage,
            created_at,
            expiry_secs,
            bolt11: signed.to_string(),
            state: InvoiceState::Open,
            paid_msat: 0,
            settled_at: None,
        };
        self.lock().invoices.insert(invoice.hash, invoice.clone());
        // A no-amount invoice has no amount to pay by itself; the control API's fail and
        // hold are for the test's own payments, so the faucet ignores them here.
        if let (Some(delay), Some(_)) = (autopay, amount_msat) {
            let net = self.clone();
            let bolt11 = invoice.bolt11.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let _ = net.start(FAUCET, &bolt11, None, None, false);
            });
        }
        Ok(invoice)
    }

    /// An invoice by payment hash, as its payee node sees it.
    pub fn invoice(&self, hash: &[u8; 32]) -> Option<Invoice> {
        self.lock().invoices.get(hash).cloned()
    }

    /// Moves an open invoice's expiry to now (the control API's "expire").
    pub fn expire_invoice(&self, hash: &[u8; 32]) -> bool {
        let mut s = self.lock();
        match s.invoices.get_mut(hash) {
            Some(i) if i.state == InvoiceState::Open => {
                i.expiry_secs = now().saturating_sub(i.created_at);
                true
            }
            _ => false,
        }
    }

    /// Parses an invoice and the amount to pay as a payer's node would (signature, network,
    /// amount), without looking for a route.
    pub fn parse(
        &self,
        bolt11: &str,
        amount_msat: Option<u64>,
    ) -> Result<(Bolt11Invoice, u64), PayError> {
        let invoice: Bolt11Invoice = bolt11
            .trim()
            .parse()
            .map_err(|e| PayError::BadInvoice(format!("{e}")))?;
        if invoice.currency() != self.currency {
            return Err(PayError::WrongNetwork);
        }
        let amount = match (invoice.amount_milli_satoshis(), amount_msat) {
            (Some(0), _) => return Err(PayError::Amount("an invoice for 0 sat".into())),
            (Some(a), None) => a,
            (Some(a), Some(b)) if a == b => a,
            (Some(a), Some(b)) => {
                return Err(PayError::Amount(format!(
                    "the invoice asks {a} msat, not {b}"
                )))
            }
            (None, Some(b)) if b > 0 => b,
            (None, _) => {
                return Err(PayError::Amount(
                    "the invoice names no amount: say how much".into(),
                ))
            }
        };
        Ok((invoice, amount))
    }

    /// [`Network::parse`], then the payee's node: the invoice, its payee's name and the
    /// amount to pay.
    pub fn decode(
        &self,
        bolt11: &str,
        amount_msat: Option<u64>,
    ) -> Result<(Bolt11Invoice, String, u64), PayError> {
        let (invoice, amount) = self.parse(bolt11, amount_msat)?;
        let payee = self
            .lock()
            .by_key
            .get(&invoice.recover_payee_pub_key())
            .cloned()
            .ok_or(PayError::NoRoute)?;
        Ok((invoice, payee, amount))
    }

    /// The fee `payer` would pay to `bolt11`'s payee for `amount_msat`.
    pub fn fee_msat(&self, payer: &str, payee: &str, amount_msat: u64) -> Result<u64, PayError> {
        let s = self.lock();
        fee_in(&s, payer, payee, amount_msat)
    }

    /// Pays `bolt11` from `payer` and waits for the outcome (a held payment waits until
    /// [`Network::release`]). `amount_msat` for a no-amount invoice (or the same as the
    /// invoice's); `max_fee_msat` refuses a dearer route.
    pub async fn pay(
        &self,
        payer: &str,
        bolt11: &str,
        amount_msat: Option<u64>,
        max_fee_msat: Option<u64>,
    ) -> Result<Payment, PayError> {
        match self.start_payment(payer, bolt11, amount_msat, max_fee_msat)? {
            Started::Done(result) => result,
            Started::Held(outcome) => outcome
                .await
                .unwrap_or_else(|_| Err(PayError::Failed("the network stopped".into()))),
        }
    }

    /// Starts a payment as a node does on `sendpayment`: every check first, then the amount
    /// and fee are locked on the payer (an HTLC in flight) and the payment is recorded in
    /// flight, all under one lock. A payment not held finishes at once; a held one finishes
    /// when [`Network::release`]d, whether or not anyone still waits for it.
    pub fn start_payment(
        &self,
        payer: &str,
        bolt11: &str,
        amount_msat: Option<u64>,
        max_fee_msat: Option<u64>,
    ) -> Result<Started, PayError> {
        self.start(payer, bolt11, amount_msat, max_fee_msat, true)
    }

    fn start(
        &self,
        payer: &str,
        bolt11: &str,
        amount_msat: Option<u64>,
        max_fee_msat: Option<u64>,
        obey_next: bool,
    ) -> Result<Started, PayError> {
        let (invoice, payee, amount) = self.decode(bolt11, amount_msat)?;
        if payee == payer {
            // As LND by default: a node does not pay itself.
            return Err(PayError::NoRoute);
        }
        let hash = *invoice.payment_hash().as_byte_array();
        let key = (payer.to_string(), hash);
        let mut s = self.lock();
        match s.outgoing.get(&key) {
            Some(Outgoing::InFlight) => return Err(PayError::InFlight),
            Some(Outgoing::Succeeded(_)) => return Err(PayError::AlreadyPaid),
            _ => {}
        }
        let fee = fee_in(&s, payer, &payee, amount)?;
        if let Some(max) = max_fee_msat {
            if fee > max {
                return Err(PayError::FeeTooHigh {
                    fee_msat: fee,
                    max_fee_msat: max,
                });
            }
        }
        check_payable(&s, &hash, amount, payer, fee)?;
        let next = if obey_next {
            s.nodes.get_mut(payer).and_then(|n| n.next.take())
        } else {
            None
        };
        if let Some(Next::Fail(reason)) = next {
            let e = PayError::Failed(reason);
            s.outgoing.insert(key, Outgoing::Failed(e.clone()));
            return Err(e);
        }
        // The HTLC: amount + fee leave the payer now (checked by `check_payable`).
        if let Some(n) = s.nodes.get_mut(payer) {
            n.balance_msat = n.balance_msat.saturating_sub(amount.saturating_add(fee));
        }
        s.outgoing.insert(key, Outgoing::InFlight);
        let flight = Flight {
            payer: payer.into(),
            payee,
            hash,
            amount,
            fee,
        };
        if matches!(next, Some(Next::Hold)) {
            let (tell, outcome) = oneshot::channel();
            s.held
                .entry(payer.to_string())
                .or_default()
                .push((flight, tell));
            return Ok(Started::Held(outcome));
        }
        let result = finish(&mut s, &flight, true);
        drop(s);
        self.announce(&flight, &result);
        Ok(Started::Done(result))
    }

    /// Lets `node`'s held payments finish: settled (`settle`) or failed (the locked amount
    /// goes back). Each is final when this returns. Returns how many were held.
    pub fn release(&self, node: &str, settle: bool) -> usize {
        let mut done = Vec::new();
        {
            let mut s = self.lock();
            let held = s.held.remove(node).unwrap_or_default();
            for (flight, tell) in held {
                let result = finish(&mut s, &flight, settle);
                done.push((flight, result, tell));
            }
        }
        let n = done.len();
        for (flight, result, tell) in done {
            self.announce(&flight, &result);
            let _ = tell.send(result);
        }
        n
    }

    fn announce(&self, flight: &Flight, result: &Result<Payment, PayError>) {
        if result.is_ok() {
            let _ = self.settled.send(Settled {
                payee: flight.payee.clone(),
                hash: flight.hash,
                amount_msat: flight.amount,
            });
        }
    }

    /// Settles one of `node`'s own invoices without a payment over the network: a service
    /// whose payer and payee are both its own customers settles on its own books (Flash's
    /// intraledger payments of a Flash invoice), and the network only learns the invoice is
    /// paid. Refused as a payment would be if the invoice is not `node`'s or not payable.
    pub fn settle_internal(
        &self,
        node: &str,
        hash: &[u8; 32],
        amount_msat: u64,
    ) -> Result<[u8; 32], PayError> {
        let preimage = {
            let mut s = self.lock();
            let invoice = s.invoices.get_mut(hash).ok_or(PayError::NoRoute)?;
            if invoice.payee != node {
                return Err(PayError::NoRoute);
            }
            match invoice.state {
                InvoiceState::Settled => return Err(PayError::AlreadyPaid),
                InvoiceState::Open if invoice.expired(now()) => return Err(PayError::Expired),
                InvoiceState::Open => {}
            }
            invoice.state = InvoiceState::Settled;
            invoice.paid_msat = amount_msat;
            invoice.settled_at = Some(now());
            invoice.preimage
        };
        let _ = self.settled.send(Settled {
            payee: node.into(),
            hash: *hash,
            amount_msat,
        });
        Ok(preimage)
    }

    /// An outgoing payment of `payer`, by payment hash.
    pub fn outgoing(&self, payer: &str, hash: &[u8; 32]) -> Option<Outgoing> {
        self.lock()
            .outgoing
            .get(&(payer.to_string(), *hash))
            .cloned()
    }
}

/// A payment between its start and its end: the payer's amount + fee are locked.
#[derive(Debug)]
pub struct Flight {
    payer: String,
    payee: String,
    hash: [u8; 32],
    amount: u64,
    fee: u64,
}

/// How a started payment goes on.
#[derive(Debug)]
pub enum Started {
    /// It finished at once.
    Done(Result<Payment, PayError>),
    /// Held by the control API: the outcome comes when it is released.
    Held(oneshot::Receiver<Result<Payment, PayError>>),
}

/// Ends a payment in flight under the lock: settles the invoice if it is still payable (a
/// hold may have outlasted it) and `settle` says so, else gives the locked amount back. The
/// fee is the one fixed at the start, within the payer's limit.
fn finish(s: &mut State, f: &Flight, settle: bool) -> Result<Payment, PayError> {
    let key = (f.payer.clone(), f.hash);
    let payable = match s.invoices.get(&f.hash) {
        None => Err(PayError::NoRoute),
        Some(i) if i.state == InvoiceState::Settled => Err(PayError::AlreadyPaid),
        Some(i) if i.expired(now()) => Err(PayError::Expired),
        Some(_) if !settle => Err(PayError::Failed(
            "the payment was released as failed".into(),
        )),
        Some(_) => Ok(()),
    };
    let result = payable.and_then(|()| {
        let invoice = s.invoices.get_mut(&f.hash).ok_or(PayError::NoRoute)?;
        invoice.state = InvoiceState::Settled;
        invoice.paid_msat = f.amount;
        invoice.settled_at = Some(now());
        let preimage = invoice.preimage;
        if let Some(n) = s.nodes.get_mut(&f.payee) {
            n.balance_msat = n.balance_msat.saturating_add(f.amount);
        }
        Ok(Payment {
            preimage,
            hash: f.hash,
            amount_msat: f.amount,
            fee_msat: f.fee,
        })
    });
    match &result {
        Ok(p) => {
            s.outgoing.insert(key, Outgoing::Succeeded(p.clone()));
        }
        Err(e) => {
            if let Some(n) = s.nodes.get_mut(&f.payer) {
                n.balance_msat = n
                    .balance_msat
                    .saturating_add(f.amount.saturating_add(f.fee));
            }
            s.outgoing.insert(key, Outgoing::Failed(e.clone()));
        }
    }
    result
}

fn fee_in(s: &State, payer: &str, payee: &str, amount: u64) -> Result<u64, PayError> {
    let node = s
        .nodes
        .get(payer)
        .ok_or_else(|| PayError::NoSuchNode(payer.into()))?;
    let (base, ppm) = s
        .routes
        .get(&(payer.to_string(), payee.to_string()))
        .copied()
        .unwrap_or((node.fee_base_msat, node.fee_ppm));
    let proportional = (u128::from(amount) * u128::from(ppm)).div_ceil(1_000_000);
    Ok(base.saturating_add(u64::try_from(proportional).unwrap_or(u64::MAX)))
}

/// Whether the invoice under `hash` can be paid `amount` by `payer` with `fee`.
fn check_payable(
    s: &State,
    hash: &[u8; 32],
    amount: u64,
    payer: &str,
    fee: u64,
) -> Result<(), PayError> {
    let invoice = s.invoices.get(hash).ok_or(PayError::NoRoute)?;
    match invoice.state {
        InvoiceState::Settled => return Err(PayError::AlreadyPaid),
        InvoiceState::Open if invoice.expired(now()) => return Err(PayError::Expired),
        InvoiceState::Open => {}
    }
    let node = s
        .nodes
        .get(payer)
        .ok_or_else(|| PayError::NoSuchNode(payer.into()))?;
    if node.balance_msat < amount.saturating_add(fee) {
        return Err(PayError::InsufficientBalance);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn net() -> Network {
        let n = Network::new(Currency::Bitcoin);
        n.add_node("mint");
        n
    }

    #[tokio::test]
    async fn a_payment_settles_the_invoice_and_moves_the_money_once() {
        let n = net();
        n.set_fee(FAUCET, 1000, 10_000).unwrap();
        let inv = n
            .create_invoice("mint", Some(21_000), "coffee", 600)
            .unwrap();
        assert!(inv.bolt11.starts_with("lnbc210n1"), "{}", inv.bolt11);
        let parsed: Bolt11Invoice = inv.bolt11.parse().unwrap();
        assert_eq!(parsed.recover_payee_pub_key(), n.node_id("mint").unwrap());
        let mut settled = n.subscribe();
        let before = (
            n.balance_msat(FAUCET).unwrap(),
            n.balance_msat("mint").unwrap(),
        );
        let paid = n.pay(FAUCET, &inv.bolt11, None, None).await.unwrap();
        assert_eq!(
            sha256::Hash::hash(&paid.preimage).as_byte_array(),
            &inv.hash
        );
        assert_eq!(paid.fee_msat, 1000 + 210);
        assert_eq!(n.balance_msat(FAUCET).unwrap(), before.0 - 21_000 - 1210);
        assert_eq!(n.balance_msat("mint").unwrap(), before.1 + 21_000);
        assert_eq!(n.invoice(&inv.hash).unwrap().state, InvoiceState::Settled);
        assert_eq!(settled.recv().await.unwrap().amount_msat, 21_000);
        // Twice is refused, and nothing moves.
        assert_eq!(
            n.pay(FAUCET, &inv.bolt11, None, None).await,
            Err(PayError::AlreadyPaid)
        );
        assert_eq!(n.balance_msat("mint").unwrap(), before.1 + 21_000);
    }

    #[tokio::test]
    async fn what_a_real_node_refuses_is_refused_and_nothing_moves() {
        let n = net();
        let before = n.balance_msat(FAUCET).unwrap();
        // A payee that is no node here.
        let other = Network::new(Currency::Bitcoin);
        other.add_node("elsewhere");
        let foreign = other
            .create_invoice("elsewhere", Some(1000), "x", 600)
            .unwrap();
        assert_eq!(
            n.pay(FAUCET, &foreign.bolt11, None, None).await,
            Err(PayError::NoRoute)
        );
        // Another network.
        let regtest = Network::new(Currency::Regtest);
        regtest.add_node("mint");
        let rt = regtest
            .create_invoice("mint", Some(1000), "x", 600)
            .unwrap();
        assert!(rt.bolt11.starts_with("lnbcrt"));
        assert_eq!(
            n.pay(FAUCET, &rt.bolt11, None, None).await,
            Err(PayError::WrongNetwork)
        );
        // Expired.
        let old = n.create_invoice("mint", Some(1000), "x", 600).unwrap();
        assert!(n.expire_invoice(&old.hash));
        assert_eq!(
            n.pay(FAUCET, &old.bolt11, None, None).await,
            Err(PayError::Expired)
        );
        // No amount and none given; a different amount than the invoice's.
        let open = n.create_invoice("mint", None, "tip", 600).unwrap();
        assert!(matches!(
            n.pay(FAUCET, &open.bolt11, None, None).await,
            Err(PayError::Amount(_))
        ));
        let fixed = n.create_invoice("mint", Some(1000), "x", 600).unwrap();
        assert!(matches!(
            n.pay(FAUCET, &fixed.bolt11, Some(999), None).await,
            Err(PayError::Amount(_))
        ));
        // Garbage.
        assert!(matches!(
            n.pay(FAUCET, "lnbc1garbage", None, None).await,
            Err(PayError::BadInvoice(_))
        ));
        // Too poor, too dear.
        n.set_balance_msat("shop", 500).unwrap();
        assert_eq!(
            n.pay("shop", &fixed.bolt11, None, None).await,
            Err(PayError::InsufficientBalance)
        );
        n.set_fee(FAUCET, 10, 0).unwrap();
        assert!(matches!(
            n.pay(FAUCET, &fixed.bolt11, None, Some(5)).await,
            Err(PayError::FeeTooHigh { .. })
        ));
        assert_eq!(n.balance_msat(FAUCET).unwrap(), before);
        assert_eq!(n.invoice(&fixed.hash).unwrap().state, InvoiceState::Open);
        // A no-amount invoice paid with the payer's amount.
        let paid = n.pay(FAUCET, &open.bolt11, Some(5000), None).await.unwrap();
        assert_eq!(paid.amount_msat, 5000);
        assert_eq!(n.invoice(&open.hash).unwrap().paid_msat, 5000);
    }

    #[tokio::test]
    async fn a_held_payment_locks_its_amount_until_released_and_a_failed_one_moves_nothing() {
        let n = net();
        n.set_fee(FAUCET, 2000, 0).unwrap();
        let start = n.balance_msat(FAUCET).unwrap();
        let inv = n.create_invoice("mint", Some(1000), "x", 600).unwrap();
        n.hold_next(FAUCET).unwrap();
        let Started::Held(outcome) = n
            .start_payment(FAUCET, &inv.bolt11, None, Some(2000))
            .unwrap()
        else {
            panic!("the payment was not held");
        };
        // In flight: amount + fee are locked on the payer, the invoice is still open, and a
        // second try is refused as in flight.
        assert_eq!(n.outgoing(FAUCET, &inv.hash), Some(Outgoing::InFlight));
        assert_eq!(n.balance_msat(FAUCET).unwrap(), start - 3000);
        assert_eq!(n.invoice(&inv.hash).unwrap().state, InvoiceState::Open);
        assert_eq!(
            n.pay(FAUCET, &inv.bolt11, None, None).await,
            Err(PayError::InFlight)
        );
        // A dearer route set meanwhile does not change the fee fixed at the start.
        n.set_fee(FAUCET, 9000, 0).unwrap();
        // Released: final when `release` returns, whether or not anyone still waits.
        drop(outcome);
        assert_eq!(n.release(FAUCET, true), 1);
        let Some(Outgoing::Succeeded(paid)) = n.outgoing(FAUCET, &inv.hash) else {
            panic!("not settled");
        };
        assert_eq!(paid.fee_msat, 2000);
        assert_eq!(n.balance_msat(FAUCET).unwrap(), start - 3000);
        assert_eq!(n.invoice(&inv.hash).unwrap().state, InvoiceState::Settled);
        // Paying it again is refused.
        assert_eq!(
            n.pay(FAUCET, &inv.bolt11, None, None).await,
            Err(PayError::AlreadyPaid)
        );

        // Held, then released as failed: the locked amount comes back.
        n.set_fee(FAUCET, 0, 0).unwrap();
        let before = n.balance_msat(FAUCET).unwrap();
        let held = n.create_invoice("mint", Some(1000), "x", 600).unwrap();
        n.hold_next(FAUCET).unwrap();
        let Started::Held(outcome) = n.start_payment(FAUCET, &held.bolt11, None, None).unwrap()
        else {
            panic!("the payment was not held");
        };
        assert_eq!(n.release(FAUCET, false), 1);
        assert!(matches!(outcome.await.unwrap(), Err(PayError::Failed(_))));
        assert_eq!(n.balance_msat(FAUCET).unwrap(), before);
        assert_eq!(n.invoice(&held.hash).unwrap().state, InvoiceState::Open);

        // Failed by the control API: nothing moves, and only that one payment fails.
        let second = n.create_invoice("mint", Some(1000), "x", 600).unwrap();
        n.fail_next(FAUCET, "no liquidity").unwrap();
        assert!(matches!(
            n.pay(FAUCET, &second.bolt11, None, None).await,
            Err(PayError::Failed(_))
        ));
        assert_eq!(n.balance_msat(FAUCET).unwrap(), before);
        assert_eq!(n.invoice(&second.hash).unwrap().state, InvoiceState::Open);
        n.pay(FAUCET, &second.bolt11, None, None).await.unwrap();
    }

    #[tokio::test]
    async fn an_invoice_is_paid_once_however_many_pay_it_at_once() {
        let n = net();
        n.add_node("lnd");
        let inv = n.create_invoice("mint", Some(5000), "x", 600).unwrap();
        let before = (
            n.balance_msat(FAUCET).unwrap(),
            n.balance_msat("lnd").unwrap(),
        );
        let (a, b, c) = tokio::join!(
            n.pay(FAUCET, &inv.bolt11, None, None),
            n.pay("lnd", &inv.bolt11, None, None),
            n.pay(FAUCET, &inv.bolt11, None, None),
        );
        let oks = [&a, &b, &c].iter().filter(|r| r.is_ok()).count();
        assert_eq!(oks, 1, "{a:?} {b:?} {c:?}");
        let after = (
            n.balance_msat(FAUCET).unwrap(),
            n.balance_msat("lnd").unwrap(),
        );
        assert_eq!(before.0 + before.1 - 5000, after.0 + after.1);
        assert_eq!(n.invoice(&inv.hash).unwrap().paid_msat, 5000);
        // The winner's record stays "succeeded" whatever the losers met.
        let winner = if b.is_ok() { "lnd" } else { FAUCET };
        assert!(matches!(
            n.outgoing(winner, &inv.hash),
            Some(Outgoing::Succeeded(_))
        ));
    }

    #[tokio::test]
    async fn a_node_does_not_pay_itself_nor_an_invoice_for_nothing() {
        let n = net();
        let own = n.create_invoice("mint", Some(1000), "x", 600).unwrap();
        assert_eq!(
            n.pay("mint", &own.bolt11, None, None).await,
            Err(PayError::NoRoute)
        );
        let zero = n.create_invoice("mint", Some(0), "x", 600).unwrap();
        assert!(matches!(
            n.pay(FAUCET, &zero.bolt11, None, None).await,
            Err(PayError::Amount(_))
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn an_autopaid_node_is_paid_by_the_faucet_after_its_delay() {
        let n = net();
        n.autopay("mint", Duration::from_secs(3)).unwrap();
        let mut settled = n.subscribe();
        n.hold_next(FAUCET).unwrap(); // meant for the test's own payment, not the faucet's
        let inv = n.create_invoice("mint", Some(2000), "x", 600).unwrap();
        let got = tokio::time::timeout(Duration::from_secs(60), settled.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((got.hash, got.payee.as_str()), (inv.hash, "mint"));
    }
}
