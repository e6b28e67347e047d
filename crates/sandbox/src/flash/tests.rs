//! The Flash fake over HTTP, as a client sees it. Every answer goes through the schema's
//! result coercion, and [`gql`] fails the test on any error the test did not ask for, so each
//! test also checks that the fake's answers match the committed SDL.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use tower::ServiceExt;

use super::ledger::{TEST_BTC_SATS, TEST_CODE, TEST_PHONE, TEST_USD_CENTS};
use super::{router, Flash};
use crate::lightning::{Network, FAUCET, SHOP};
use cdk::lightning_invoice::Currency;

struct Fake {
    app: Router,
    net: Network,
}

fn fake() -> Fake {
    let net = Network::new(Currency::Bitcoin);
    let flash = Flash::new(&net);
    Fake {
        app: router(flash),
        net,
    }
}

/// POSTs a body with headers; the status and the JSON answer.
async fn post(f: &Fake, headers: &[(&str, &str)], body: String) -> (StatusCode, Value) {
    let mut request = Request::builder().method("POST").uri("/graphql");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let answer = f
        .app
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = answer.status();
    let bytes = axum::body::to_bytes(answer.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Runs a request and returns the whole answer (data and errors).
async fn raw(f: &Fake, auth: Auth<'_>, query: &str, variables: Value) -> Value {
    let bearer;
    let mut headers = vec![("content-type", "application/json")];
    match auth {
        Auth::None => {}
        Auth::Token(t) => {
            bearer = format!("Bearer {t}");
            headers.push(("authorization", bearer.as_str()));
        }
        Auth::Key(k) => headers.push(("x-api-key", k)),
    }
    let body = json!({"query": query, "variables": variables}).to_string();
    let (status, answer) = post(f, &headers, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

/// [`raw`], failing on any top-level error: the data.
async fn gql(f: &Fake, auth: Auth<'_>, query: &str, variables: Value) -> Value {
    let answer = raw(f, auth, query, variables).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"].clone()
}

#[derive(Clone, Copy)]
enum Auth<'a> {
    None,
    Token(&'a str),
    Key(&'a str),
}

async fn login(f: &Fake, phone: &str) -> String {
    let d = gql(
        f,
        Auth::None,
        "mutation { captchaCreateChallenge { errors { message } result { id challengeCode newCaptcha failbackMode } } }",
        json!({}),
    )
    .await;
    let challenge = d["captchaCreateChallenge"]["result"]["challengeCode"]
        .as_str()
        .unwrap()
        .to_string();
    let d = gql(
        f,
        Auth::None,
        "mutation($i: CaptchaRequestAuthCodeInput!) { captchaRequestAuthCode(input: $i) { success errors { message code } } }",
        json!({"i": {"phone": phone, "challengeCode": challenge, "validationCode": "x",
                     "secCode": "x", "channel": "SMS"}}),
    )
    .await;
    assert_eq!(d["captchaRequestAuthCode"]["success"], true, "{d}");
    let login = "mutation($i: UserLoginInput!) { userLogin(input: $i) { authToken totpRequired errors { message code } } }";
    let wrong = gql(
        f,
        Auth::None,
        login,
        json!({"i": {"phone": phone, "code": "123456"}}),
    )
    .await;
    assert_eq!(wrong["userLogin"]["authToken"], Value::Null);
    assert_eq!(
        wrong["userLogin"]["errors"][0]["code"], "PHONE_CODE_ERROR",
        "{wrong}"
    );
    let d = gql(
        f,
        Auth::None,
        login,
        json!({"i": {"phone": phone, "code": TEST_CODE}}),
    )
    .await;
    d["userLogin"]["authToken"].as_str().unwrap().to_string()
}

const ME: &str = "{ me { id phone username defaultAccount { id defaultWalletId level displayCurrency
    wallets { __typename id accountId walletCurrency balance pendingIncomingBalance isExternal }
    realtimePrice { btcSatPrice { base offset } usdCentPrice { base offset } denominatorCurrency timestamp } } } }";

/// (BTC wallet id, sats, USD wallet id, cents).
async fn wallets(f: &Fake, auth: Auth<'_>) -> (String, i64, String, i64) {
    let d = gql(f, auth, ME, json!({})).await;
    let w = &d["me"]["defaultAccount"]["wallets"];
    let by = |cur: &str| {
        w.as_array()
            .unwrap()
            .iter()
            .find(|x| x["walletCurrency"] == cur)
            .unwrap()
            .clone()
    };
    let (b, u) = (by("BTC"), by("USD"));
    (
        b["id"].as_str().unwrap().into(),
        b["balance"].as_f64().unwrap() as i64,
        u["id"].as_str().unwrap().into(),
        u["balance"].as_f64().unwrap() as i64,
    )
}

const PAY: &str = "mutation($i: LnInvoicePaymentInput!) { lnInvoicePaymentSend(input: $i) { status errors { message code } } }";
const TXS: &str = "{ me { defaultAccount { transactions(first: 10) { edges { cursor node { id direction status settlementAmount settlementFee settlementCurrency settlementDisplayAmount settlementDisplayCurrency settlementPrice { base offset } memo createdAt
    initiationVia { __typename ... on InitiationViaLn { paymentHash } ... on InitiationViaIntraLedger { counterPartyWalletId } }
    settlementVia { __typename ... on SettlementViaLn { preImage } ... on SettlementViaIntraLedger { counterPartyWalletId counterPartyUsername } } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } } }";

#[test]
fn the_committed_schema_parses_and_validates() {
    let schema = super::graphql::SCHEMA.as_ref().unwrap();
    for op in [
        "lnInvoiceCreate",
        "lnInvoicePaymentSend",
        "intraLedgerPaymentSend",
    ] {
        assert!(schema
            .get_object("Mutation")
            .unwrap()
            .fields
            .contains_key(op));
    }
}

#[tokio::test]
async fn a_user_logs_in_by_phone_and_code_and_sees_both_wallets() {
    let f = fake();
    // Without a session, `me` is refused as the real server refuses it.
    let answer = raw(&f, Auth::None, ME, json!({})).await;
    assert_eq!(answer["data"]["me"], Value::Null, "{answer}");
    assert_eq!(answer["errors"][0]["extensions"]["code"], "NOT_AUTHORIZED");
    let token = login(&f, TEST_PHONE).await;
    let (_, sats, _, cents) = wallets(&f, Auth::Token(&token)).await;
    assert_eq!((sats, cents), (TEST_BTC_SATS, TEST_USD_CENTS));
    let d = gql(&f, Auth::Token(&token), ME, json!({})).await;
    let price = &d["me"]["defaultAccount"]["realtimePrice"]["btcSatPrice"];
    // $100,000 a BTC: one sat is 0.1 cent.
    assert_eq!(
        (price["base"].as_u64(), price["offset"].as_u64()),
        (Some(100_000_000_000), Some(12))
    );
    // A new phone gets a new, empty account.
    let other = login(&f, "+15550001111").await;
    let (_, sats, _, cents) = wallets(&f, Auth::Token(&other)).await;
    assert_eq!((sats, cents), (0, 0));
    // Public queries need no session.
    let g = gql(
        &f,
        Auth::None,
        "{ globals { network nodesIds lightningAddressDomain } }",
        json!({}),
    )
    .await;
    assert_eq!(g["globals"]["network"], "mainnet");
}

#[tokio::test]
async fn an_invoice_paid_over_the_network_is_credited_once_and_reported_paid() {
    let f = fake();
    let token = login(&f, TEST_PHONE).await;
    let (btc, sats, usd, cents) = wallets(&f, Auth::Token(&token)).await;
    let d = gql(
        &f,
        Auth::Token(&token),
        "mutation($i: LnInvoiceCreateInput!) { lnInvoiceCreate(input: $i) { invoice { paymentRequest paymentHash paymentSecret satoshis } errors { message } } }",
        json!({"i": {"walletId": btc, "amount": 1000, "memo": "coffee"}}),
    )
    .await;
    let bolt11 = d["lnInvoiceCreate"]["invoice"]["paymentRequest"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(d["lnInvoiceCreate"]["invoice"]["satoshis"], 1000);
    let status = "query($i: LnInvoicePaymentStatusInput!) { lnInvoicePaymentStatus(input: $i) { status errors { message } } }";
    let s = gql(
        &f,
        Auth::None,
        status,
        json!({"i": {"paymentRequest": bolt11}}),
    )
    .await;
    assert_eq!(s["lnInvoicePaymentStatus"]["status"], "PENDING");
    f.net.pay(FAUCET, &bolt11, None, None).await.unwrap();
    let s = gql(
        &f,
        Auth::None,
        status,
        json!({"i": {"paymentRequest": bolt11}}),
    )
    .await;
    assert_eq!(s["lnInvoicePaymentStatus"]["status"], "PAID");
    // Read twice: credited once.
    wallets(&f, Auth::Token(&token)).await;
    let (_, after, _, _) = wallets(&f, Auth::Token(&token)).await;
    assert_eq!(after, sats + 1000);
    // A USD invoice: 100 cents at $100,000 is 1,000 sat, and credits exactly 100 cents.
    let d = gql(
        &f,
        Auth::Token(&token),
        "mutation($i: LnUsdInvoiceCreateInput!) { lnUsdInvoiceCreate(input: $i) { invoice { paymentRequest satoshis } errors { message } } }",
        json!({"i": {"walletId": usd, "amount": 100}}),
    )
    .await;
    assert_eq!(d["lnUsdInvoiceCreate"]["invoice"]["satoshis"], 1000);
    let usd_invoice = d["lnUsdInvoiceCreate"]["invoice"]["paymentRequest"]
        .as_str()
        .unwrap();
    f.net.pay(FAUCET, usd_invoice, None, None).await.unwrap();
    let (_, _, _, usd_after) = wallets(&f, Auth::Token(&token)).await;
    assert_eq!(usd_after, cents + 100);
    let t = gql(&f, Auth::Token(&token), TXS, json!({})).await;
    let edges = t["me"]["defaultAccount"]["transactions"]["edges"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(edges.len(), 2, "{t}");
    assert_eq!(edges[1]["node"]["direction"], "RECEIVE");
    assert_eq!(edges[1]["node"]["settlementAmount"], 1000);
    assert_eq!(edges[1]["node"]["memo"], "coffee");
    assert_eq!(edges[0]["node"]["settlementCurrency"], "USD");
}

#[tokio::test]
async fn a_payment_is_debited_with_its_fee_and_never_paid_twice() {
    let f = fake();
    let token = login(&f, TEST_PHONE).await;
    let (btc, sats, _, _) = wallets(&f, Auth::Token(&token)).await;
    f.net.set_fee(super::ledger::NODE, 1000, 0).unwrap();
    let shop = f
        .net
        .create_invoice(SHOP, Some(500_000), "tea", 600)
        .unwrap();
    let probe = gql(
        &f,
        Auth::Token(&token),
        "mutation($i: LnInvoiceFeeProbeInput!) { lnInvoiceFeeProbe(input: $i) { amount errors { message } } }",
        json!({"i": {"walletId": btc, "paymentRequest": shop.bolt11}}),
    )
    .await;
    assert_eq!(probe["lnInvoiceFeeProbe"]["amount"], 1);
    let pay = json!({"i": {"walletId": btc, "paymentRequest": shop.bolt11}});
    let d = gql(&f, Auth::Token(&token), PAY, pay.clone()).await;
    assert_eq!(d["lnInvoicePaymentSend"]["status"], "SUCCESS", "{d}");
    let (_, after, _, _) = wallets(&f, Auth::Token(&token)).await;
    assert_eq!(after, sats - 501);
    let again = gql(&f, Auth::Token(&token), PAY, pay).await;
    assert_eq!(again["lnInvoicePaymentSend"]["status"], "ALREADY_PAID");
    let (_, twice, _, _) = wallets(&f, Auth::Token(&token)).await;
    assert_eq!(twice, after);
    let t = gql(&f, Auth::Token(&token), TXS, json!({})).await;
    let node = &t["me"]["defaultAccount"]["transactions"]["edges"][0]["node"];
    assert_eq!(node["direction"], "SEND");
    assert_eq!(node["settlementAmount"], -501);
    assert_eq!(node["settlementFee"], 1);
    assert_eq!(
        node["settlementVia"]["preImage"],
        hex::encode(shop.preimage)
    );
}

#[tokio::test]
async fn a_held_payment_is_pending_and_a_failure_gives_the_money_back() {
    let f = fake();
    let token = login(&f, TEST_PHONE).await;
    let (btc, sats, _, _) = wallets(&f, Auth::Token(&token)).await;
    f.net.hold_next(super::ledger::NODE).unwrap();
    let shop = f
        .net
        .create_invoice(SHOP, Some(2_000_000), "", 600)
        .unwrap();
    let pay = json!({"i": {"walletId": btc, "paymentRequest": shop.bolt11}});
    let d = gql(&f, Auth::Token(&token), PAY, pay.clone()).await;
    assert_eq!(d["lnInvoicePaymentSend"]["status"], "PENDING");
    let (_, held, _, _) = wallets(&f, Auth::Token(&token)).await;
    assert_eq!(held, sats - 2000, "the amount is locked while in flight");
    // Asked again while in flight: still pending, not a second payment.
    let d = gql(&f, Auth::Token(&token), PAY, pay).await;
    assert_eq!(d["lnInvoicePaymentSend"]["status"], "PENDING");
    assert_eq!(f.net.release(super::ledger::NODE, false), 1);
    // The books hear the outcome from the task that waits for it.
    let mut back = held;
    for _ in 0..200 {
        tokio::task::yield_now().await;
        back = wallets(&f, Auth::Token(&token)).await.1;
        if back != held {
            break;
        }
    }
    assert_eq!(back, sats);
    let t = gql(&f, Auth::Token(&token), TXS, json!({})).await;
    assert_eq!(
        t["me"]["defaultAccount"]["transactions"]["edges"][0]["node"]["status"],
        "FAILURE"
    );
}

#[tokio::test]
async fn paying_another_flash_account_settles_on_the_books_without_a_fee() {
    let f = fake();
    let alice = login(&f, TEST_PHONE).await;
    let bob = login(&f, "+15550002222").await;
    let (a_btc, a_sats, _, _) = wallets(&f, Auth::Token(&alice)).await;
    let (b_btc, _, _, _) = wallets(&f, Auth::Token(&bob)).await;
    f.net.set_fee(super::ledger::NODE, 5000, 0).unwrap();
    let d = gql(
        &f,
        Auth::Token(&bob),
        "mutation($i: LnNoAmountInvoiceCreateInput!) { lnNoAmountInvoiceCreate(input: $i) { invoice { paymentRequest paymentHash } errors { message } } }",
        json!({"i": {"walletId": b_btc}}),
    )
    .await;
    let bolt11 = d["lnNoAmountInvoiceCreate"]["invoice"]["paymentRequest"]
        .as_str()
        .unwrap();
    let d = gql(
        &f,
        Auth::Token(&alice),
        "mutation($i: LnNoAmountInvoicePaymentInput!) { lnNoAmountInvoicePaymentSend(input: $i) { status errors { message } } }",
        json!({"i": {"walletId": a_btc, "paymentRequest": bolt11, "amount": 321}}),
    )
    .await;
    assert_eq!(
        d["lnNoAmountInvoicePaymentSend"]["status"], "SUCCESS",
        "{d}"
    );
    assert_eq!(wallets(&f, Auth::Token(&alice)).await.1, a_sats - 321);
    assert_eq!(wallets(&f, Auth::Token(&bob)).await.1, 321);
    // By wallet id, too.
    let d = gql(
        &f,
        Auth::Token(&bob),
        "mutation($i: IntraLedgerPaymentSendInput!) { intraLedgerPaymentSend(input: $i) { status errors { message code } } }",
        json!({"i": {"walletId": b_btc, "recipientWalletId": a_btc, "amount": 21}}),
    )
    .await;
    assert_eq!(d["intraLedgerPaymentSend"]["status"], "SUCCESS", "{d}");
    assert_eq!(wallets(&f, Auth::Token(&bob)).await.1, 300);
}

#[tokio::test]
async fn an_api_key_does_what_its_scopes_allow_and_nothing_else() {
    let f = fake();
    let token = login(&f, TEST_PHONE).await;
    let d = gql(
        &f,
        Auth::Token(&token),
        "mutation($i: ApiKeyCreateInput!) { apiKeyCreate(input: $i) { apiKey { apiKey keyId scopes warning } errors { message } } }",
        json!({"i": {"name": "pos", "scopes": ["read_user", "write_wallet"]}}),
    )
    .await;
    let key = d["apiKeyCreate"]["apiKey"]["apiKey"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        key.starts_with("fk_") && key.len() == 3 + 8 + 1 + 64,
        "{key}"
    );
    let (btc, sats, _, _) = wallets(&f, Auth::Key(&key)).await;
    assert_eq!(sats, TEST_BTC_SATS);
    let shop = f
        .net
        .create_invoice(SHOP, Some(1_000_000), "", 600)
        .unwrap();
    let answer = raw(
        &f,
        Auth::Key(&key),
        PAY,
        json!({"i": {"walletId": btc, "paymentRequest": shop.bolt11}}),
    )
    .await;
    assert_eq!(answer["data"], Value::Null, "{answer}");
    assert_eq!(
        answer["errors"][0]["extensions"]["code"],
        "INSUFFICIENT_SCOPE"
    );
    assert!(answer["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("write_transactions"));
    assert_eq!(wallets(&f, Auth::Key(&key)).await.1, sats, "nothing moved");
    // A key cannot make keys; an unknown key is nobody.
    let answer = raw(
        &f,
        Auth::Key(&key),
        "mutation { apiKeyCreate(input: {name: \"x\"}) { errors { message } } }",
        json!({}),
    )
    .await;
    assert_eq!(answer["errors"][0]["extensions"]["code"], "NOT_AUTHORIZED");
    let answer = raw(&f, Auth::Key("fk_00000000_nope"), ME, json!({})).await;
    assert_eq!(answer["errors"][0]["extensions"]["code"], "NOT_AUTHORIZED");
}

#[tokio::test]
async fn bad_requests_get_clear_errors_and_move_nothing() {
    let f = fake();
    let token = login(&f, TEST_PHONE).await;
    let (btc, sats, _, _) = wallets(&f, Auth::Token(&token)).await;
    // Not JSON, not a request, a field the schema lacks, a body too big.
    let json_ct = [("content-type", "application/json")];
    let (status, a) = post(&f, &json_ct, "{nope".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{a}");
    let (status, _) = post(&f, &[("content-type", "text/plain")], "{}".into()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let body = json!({"query": "{ me { balance } }"}).to_string();
    let (status, a) = post(&f, &json_ct, body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        a["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{a}"
    );
    let huge = json!({"query": format!("{{ globals {{ network }} }} #{}", "x".repeat(200_000))});
    let (status, _) = post(&f, &json_ct, huge.to_string()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // A missing variable, or one of the wrong type, is refused before anything runs.
    let body = json!({"query": PAY, "variables": {}});
    let (status, _) = post(&f, &json_ct, body.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let body = json!({"query": "query($n: Int) { me { defaultAccount { transactions(first: $n) { edges { cursor } } } } }",
                      "variables": {"n": "ten"}});
    let (status, _) = post(&f, &json_ct, body.to_string()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Garbage and other-network invoices, a negative amount: payload errors.
    let regtest = Network::new(Currency::Regtest);
    let foreign = regtest.create_invoice(SHOP, Some(1000), "", 600).unwrap();
    for (request, code) in [
        ("lnbc1garbage", "INVALID_INPUT"),
        (foreign.bolt11.as_str(), "INVALID_INPUT"),
    ] {
        let d = gql(
            &f,
            Auth::Token(&token),
            PAY,
            json!({"i": {"walletId": btc, "paymentRequest": request}}),
        )
        .await;
        assert_eq!(d["lnInvoicePaymentSend"]["status"], "FAILURE");
        assert_eq!(d["lnInvoicePaymentSend"]["errors"][0]["code"], code, "{d}");
    }
    let d = gql(
        &f,
        Auth::Token(&token),
        "mutation($i: LnInvoiceCreateInput!) { lnInvoiceCreate(input: $i) { invoice { paymentRequest } errors { message code } } }",
        json!({"i": {"walletId": btc, "amount": -5}}),
    )
    .await;
    assert_eq!(d["lnInvoiceCreate"]["errors"][0]["code"], "INVALID_INPUT");
    // Someone else's wallet.
    let other = login(&f, "+15550003333").await;
    let shop = f.net.create_invoice(SHOP, Some(1000), "", 600).unwrap();
    let d = gql(
        &f,
        Auth::Token(&other),
        PAY,
        json!({"i": {"walletId": btc, "paymentRequest": shop.bolt11}}),
    )
    .await;
    assert_eq!(d["lnInvoicePaymentSend"]["status"], "FAILURE");
    assert_eq!(wallets(&f, Auth::Token(&token)).await.1, sats);
}
