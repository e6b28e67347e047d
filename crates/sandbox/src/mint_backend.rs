//! The Cashu mint's Lightning: a node of the stack's [`Network`], behind cdk's mint
//! payment-backend trait. Mint quotes are real invoices of this node (paid by whoever pays
//! them: the Flash account, LND, the faucet); melts pay real invoices of other nodes (or of
//! this one: two wallets of the same mint paying each other).

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use bitcoin::hashes::Hash;
use cdk::amount::Amount;
use cdk::cdk_payment::{
    self, Bolt11Settings, CreateIncomingPaymentResponse, Event, IncomingPaymentOptions,
    MakePaymentResponse, MintPayment, OutgoingPaymentOptions, PaymentIdentifier,
    PaymentQuoteResponse, SettingsResponse, WaitPaymentResponse,
};
use cdk::nuts::{CurrencyUnit, MeltOptions, MeltQuoteState};
use cdk::types::FeeReserve;
use futures::Stream;
use tokio::sync::watch;

use crate::lightning::{InvoiceState, Network, Outgoing, PayError, Started};

/// How long an invoice lives when the mint names no expiry.
const DEFAULT_EXPIRY_SECS: u64 = 3600;

/// The mint's node.
pub struct NetworkBackend {
    net: Network,
    node: String,
    fee_reserve: FeeReserve,
    /// How many event streams are open (cdk drops a stream before it cancels it).
    streaming: Arc<AtomicUsize>,
    /// Bumped by a cancel.
    cancel: watch::Sender<u64>,
}

/// Counts an open stream for as long as it lives.
struct Live(Arc<AtomicUsize>);

impl Live {
    fn new(count: Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::SeqCst);
        Self(count)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl NetworkBackend {
    /// The backend of node `node` (added to `net` if new), quoting `fee_reserve` for melts.
    pub fn new(net: Network, node: &str, fee_reserve: FeeReserve) -> Self {
        net.add_node(node);
        Self {
            net,
            node: node.into(),
            fee_reserve,
            streaming: Arc::default(),
            cancel: watch::Sender::new(0),
        }
    }

    fn reserve_sats(&self, sats: u64) -> u64 {
        let percent = (sats as f64 * f64::from(self.fee_reserve.percent_fee_reserve)).ceil();
        let percent = if percent.is_finite() && percent >= 0.0 {
            percent as u64
        } else {
            0
        };
        percent.max(u64::from(self.fee_reserve.min_fee_reserve))
    }
}

fn backend(e: PayError) -> cdk_payment::Error {
    cdk_payment::Error::Custom(e.to_string())
}

fn sat_only(unit: &CurrencyUnit) -> Result<(), cdk_payment::Error> {
    if *unit == CurrencyUnit::Sat {
        Ok(())
    } else {
        Err(cdk_payment::Error::UnsupportedUnit)
    }
}

/// The amount a melt pays, in msat: the payer's choice for a no-amount invoice, else the
/// invoice's own.
fn melt_msat(
    invoice: &cdk::Bolt11Invoice,
    options: Option<&MeltOptions>,
) -> Result<Option<u64>, cdk_payment::Error> {
    Ok(match options {
        Some(MeltOptions::Amountless { amountless }) => Some(u64::from(amountless.amount_msat)),
        Some(MeltOptions::Mpp { .. }) => return Err(cdk_payment::Error::UnsupportedPaymentOption),
        None => invoice.amount_milli_satoshis(),
    })
}

/// Whole sats covering `msat` (what the mint charges in its unit).
fn sats_up(msat: u64) -> u64 {
    msat.div_ceil(1000)
}

#[async_trait]
impl MintPayment for NetworkBackend {
    type Err = cdk_payment::Error;

    async fn get_settings(&self) -> Result<SettingsResponse, Self::Err> {
        Ok(SettingsResponse {
            unit: CurrencyUnit::Sat.to_string(),
            bolt11: Some(Bolt11Settings {
                mpp: false,
                amountless: true,
                invoice_description: true,
            }),
            bolt12: None,
            onchain: None,
            custom: Default::default(),
        })
    }

    async fn create_incoming_payment_request(
        &self,
        options: IncomingPaymentOptions,
    ) -> Result<CreateIncomingPaymentResponse, Self::Err> {
        let IncomingPaymentOptions::Bolt11(o) = options else {
            return Err(cdk_payment::Error::UnsupportedPaymentOption);
        };
        sat_only(o.amount.unit())?;
        let now = cdk::util::unix_time();
        let expiry = match o.unix_expiry {
            Some(at) if at > now => at - now,
            Some(_) => return Err(cdk_payment::Error::InvalidExpiry),
            None => DEFAULT_EXPIRY_SECS,
        };
        let msat = o.amount.value().saturating_mul(1000);
        let invoice = self
            .net
            .create_invoice(
                &self.node,
                Some(msat),
                o.description.as_deref().unwrap_or_default(),
                expiry,
            )
            .map_err(backend)?;
        Ok(CreateIncomingPaymentResponse {
            request_lookup_id: PaymentIdentifier::PaymentHash(invoice.hash),
            request: invoice.bolt11,
            expiry: Some(invoice.created_at.saturating_add(expiry)),
            extra_json: None,
        })
    }

    async fn get_payment_quote(
        &self,
        unit: &CurrencyUnit,
        options: OutgoingPaymentOptions,
    ) -> Result<PaymentQuoteResponse, Self::Err> {
        sat_only(unit)?;
        let OutgoingPaymentOptions::Bolt11(o) = options else {
            return Err(cdk_payment::Error::UnsupportedPaymentOption);
        };
        let wanted = melt_msat(&o.bolt11, o.melt_options.as_ref())?;
        // As a mint on a real node: the invoice and its network are checked, the route is
        // not (no probe). An invoice nobody can be paid is refused at the payment, and the
        // mint gives the eCash back then.
        let (invoice, msat) = self
            .net
            .parse(&o.bolt11.to_string(), wanted)
            .map_err(backend)?;
        let sats = sats_up(msat);
        let route = match self.net.decode(&o.bolt11.to_string(), wanted) {
            Ok((_, payee, _)) => sats_up(
                self.net
                    .fee_msat(&self.node, &payee, msat)
                    .map_err(backend)?,
            ),
            Err(_) => 0,
        };
        Ok(PaymentQuoteResponse {
            request_lookup_id: Some(PaymentIdentifier::PaymentHash(
                *invoice.payment_hash().as_byte_array(),
            )),
            amount: Amount::new(sats, CurrencyUnit::Sat),
            fee: Amount::new(self.reserve_sats(sats).max(route), CurrencyUnit::Sat),
            state: MeltQuoteState::Unpaid,
            extra_json: None,
            estimated_blocks: None,
            fee_options: None,
        })
    }

    async fn make_payment(
        &self,
        unit: &CurrencyUnit,
        options: OutgoingPaymentOptions,
    ) -> Result<MakePaymentResponse, Self::Err> {
        sat_only(unit)?;
        let OutgoingPaymentOptions::Bolt11(o) = options else {
            return Err(cdk_payment::Error::UnsupportedPaymentOption);
        };
        let hash = *o.bolt11.payment_hash().as_byte_array();
        let wanted = melt_msat(&o.bolt11, o.melt_options.as_ref())?;
        let max_fee_msat = o
            .max_fee_amount
            .as_ref()
            .map(|a| a.value().saturating_mul(1000));
        let failed = MakePaymentResponse {
            payment_lookup_id: PaymentIdentifier::PaymentHash(hash),
            payment_proof: None,
            status: MeltQuoteState::Failed,
            total_spent: Amount::new(0, CurrencyUnit::Sat),
        };
        let pending = MakePaymentResponse {
            status: MeltQuoteState::Pending,
            ..failed.clone()
        };
        match self
            .net
            .start_payment(&self.node, &o.bolt11.to_string(), wanted, max_fee_msat)
        {
            Ok(Started::Done(Ok(paid))) => Ok(MakePaymentResponse {
                payment_lookup_id: PaymentIdentifier::PaymentHash(hash),
                payment_proof: Some(hex::encode(paid.preimage)),
                status: MeltQuoteState::Paid,
                total_spent: Amount::new(
                    sats_up(paid.amount_msat.saturating_add(paid.fee_msat)),
                    CurrencyUnit::Sat,
                ),
            }),
            // Held: in flight, as a real node reports an HTLC not yet resolved; the network
            // finishes it, `check_outgoing_payment` tells the mint how.
            Ok(Started::Held(_))
            | Err(PayError::InFlight)
            | Ok(Started::Done(Err(PayError::InFlight))) => Ok(pending),
            // Every other refusal happens before anything moves, or gives the locked amount
            // back: a terminal "failed", so the mint gives the eCash back.
            Ok(Started::Done(Err(_))) | Err(_) => Ok(failed),
        }
    }

    async fn wait_payment_event(
        &self,
    ) -> Result<Pin<Box<dyn Stream<Item = Event> + Send>>, Self::Err> {
        // A cancel ends the streams open at that moment, never a later one: each stream
        // remembers the generation it was made in, and a cancel moves to the next.
        let born = *self.cancel.borrow();
        let cancelled = self.cancel.subscribe();
        let live = Live::new(self.streaming.clone());
        let rx = self.net.subscribe();
        let node = self.node.clone();
        let stream = futures::stream::unfold((rx, live), move |(mut rx, live)| {
            let node = node.clone();
            let mut cancelled = cancelled.clone();
            async move {
                loop {
                    if *cancelled.borrow_and_update() != born {
                        return None;
                    }
                    let got = tokio::select! {
                        _ = cancelled.changed() => continue,
                        got = rx.recv() => got,
                    };
                    match got {
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                        // Missed settlements are found by the mint's own status checks.
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Ok(s) if s.payee == node => {
                            let event = Event::PaymentReceived(WaitPaymentResponse {
                                payment_identifier: PaymentIdentifier::PaymentHash(s.hash),
                                payment_amount: Amount::new(
                                    s.amount_msat / 1000,
                                    CurrencyUnit::Sat,
                                ),
                                payment_id: hex::encode(s.hash),
                            });
                            return Some((event, (rx, live)));
                        }
                        Ok(_) => {}
                    }
                }
            }
        });
        Ok(Box::pin(stream))
    }

    fn is_payment_event_stream_active(&self) -> bool {
        self.streaming.load(Ordering::SeqCst) > 0
    }

    fn cancel_payment_event_stream(&self) {
        self.cancel
            .send_modify(|generation| *generation = generation.wrapping_add(1));
    }

    async fn check_incoming_payment_status(
        &self,
        id: &PaymentIdentifier,
    ) -> Result<Vec<WaitPaymentResponse>, Self::Err> {
        let PaymentIdentifier::PaymentHash(hash) = id else {
            return Ok(Vec::new());
        };
        Ok(match self.net.invoice(hash) {
            Some(i) if i.payee == self.node && i.state == InvoiceState::Settled => {
                vec![WaitPaymentResponse {
                    payment_identifier: id.clone(),
                    payment_amount: Amount::new(i.paid_msat / 1000, CurrencyUnit::Sat),
                    payment_id: hex::encode(hash),
                }]
            }
            _ => Vec::new(),
        })
    }

    async fn check_outgoing_payment(
        &self,
        id: &PaymentIdentifier,
    ) -> Result<MakePaymentResponse, Self::Err> {
        let PaymentIdentifier::PaymentHash(hash) = id else {
            return Err(cdk_payment::Error::UnknownPaymentState);
        };
        let (status, proof, spent) = match self.net.outgoing(&self.node, hash) {
            Some(Outgoing::Succeeded(p)) => (
                MeltQuoteState::Paid,
                Some(hex::encode(p.preimage)),
                sats_up(p.amount_msat.saturating_add(p.fee_msat)),
            ),
            Some(Outgoing::InFlight) => (MeltQuoteState::Pending, None, 0),
            Some(Outgoing::Failed(_)) => (MeltQuoteState::Failed, None, 0),
            // Never tried: nothing can settle later.
            None => (MeltQuoteState::Unpaid, None, 0),
        };
        Ok(MakePaymentResponse {
            payment_lookup_id: id.clone(),
            payment_proof: proof,
            status,
            total_spent: Amount::new(spent, CurrencyUnit::Sat),
        })
    }
}
