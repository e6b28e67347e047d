//! The Cashu mint's Lightning: a node of the stack's [`Network`], behind cdk's mint
//! payment-backend trait. Mint quotes are real invoices of this node (paid by whoever pays
//! them: the Flash account, LND, the faucet); melts pay real invoices of other nodes (or of
//! this one: two wallets of the same mint paying each other).

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
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
use tokio::sync::Notify;

use crate::lightning::{InvoiceState, Network, Outgoing, PayError};

/// How long an invoice lives when the mint names no expiry.
const DEFAULT_EXPIRY_SECS: u64 = 3600;

/// The mint's node.
pub struct NetworkBackend {
    net: Network,
    node: String,
    fee_reserve: FeeReserve,
    streaming: Arc<AtomicBool>,
    cancel: Arc<Notify>,
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
            cancel: Arc::default(),
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

fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
        // Refuse at the quote what the payment would refuse (no route, wrong network,
        // expired, paid): the wallet learns before it commits any eCash.
        let (invoice, payee, msat) = self
            .net
            .decode(&o.bolt11.to_string(), wanted)
            .map_err(backend)?;
        let known = self.net.invoice(invoice.payment_hash().as_byte_array());
        match known.map(|i| (i.state, i.expired(cdk::util::unix_time()))) {
            Some((InvoiceState::Settled, _)) => return Err(cdk_payment::Error::InvoiceAlreadyPaid),
            Some((InvoiceState::Open, true)) => return Err(backend(PayError::Expired)),
            None => return Err(backend(PayError::NoRoute)),
            Some((InvoiceState::Open, false)) => {}
        }
        let sats = sats_up(msat);
        let route = sats_up(
            self.net
                .fee_msat(&self.node, &payee, msat)
                .map_err(backend)?,
        );
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
        match self
            .net
            .pay(&self.node, &o.bolt11.to_string(), wanted, max_fee_msat)
            .await
        {
            Ok(paid) => Ok(MakePaymentResponse {
                payment_lookup_id: PaymentIdentifier::PaymentHash(hash),
                payment_proof: Some(hex(&paid.preimage)),
                status: MeltQuoteState::Paid,
                total_spent: Amount::new(
                    sats_up(paid.amount_msat.saturating_add(paid.fee_msat)),
                    CurrencyUnit::Sat,
                ),
            }),
            // Every refusal of the network happens before anything moves: a terminal
            // "failed", so the mint gives the eCash back.
            Err(_) => Ok(MakePaymentResponse {
                payment_lookup_id: PaymentIdentifier::PaymentHash(hash),
                payment_proof: None,
                status: MeltQuoteState::Failed,
                total_spent: Amount::new(0, CurrencyUnit::Sat),
            }),
        }
    }

    async fn wait_payment_event(
        &self,
    ) -> Result<Pin<Box<dyn Stream<Item = Event> + Send>>, Self::Err> {
        let rx = self.net.subscribe();
        let node = self.node.clone();
        let cancel = self.cancel.clone();
        let streaming = self.streaming.clone();
        streaming.store(true, Ordering::SeqCst);
        let stream = futures::stream::unfold(rx, move |mut rx| {
            let node = node.clone();
            let cancel = cancel.clone();
            let streaming = streaming.clone();
            async move {
                loop {
                    let next = tokio::select! {
                        _ = cancel.notified() => None,
                        got = rx.recv() => Some(got),
                    };
                    match next {
                        None | Some(Err(tokio::sync::broadcast::error::RecvError::Closed)) => {
                            streaming.store(false, Ordering::SeqCst);
                            return None;
                        }
                        // Missed settlements are found by the mint's own status checks.
                        Some(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
                        Some(Ok(s)) if s.payee == node => {
                            let event = Event::PaymentReceived(WaitPaymentResponse {
                                payment_identifier: PaymentIdentifier::PaymentHash(s.hash),
                                payment_amount: Amount::new(
                                    s.amount_msat / 1000,
                                    CurrencyUnit::Sat,
                                ),
                                payment_id: hex(&s.hash),
                            });
                            return Some((event, rx));
                        }
                        Some(Ok(_)) => {}
                    }
                }
            }
        });
        Ok(Box::pin(stream))
    }

    fn is_payment_event_stream_active(&self) -> bool {
        self.streaming.load(Ordering::SeqCst)
    }

    fn cancel_payment_event_stream(&self) {
        self.cancel.notify_waiters();
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
                    payment_id: hex(hash),
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
                Some(hex(&p.preimage)),
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
