//! Schema-first execution of Flash's public GraphQL API. The committed SDL is parsed and
//! validated once; every request is parsed and validated against it (unknown fields, wrong
//! argument types and missing variables are refused as the real server refuses them), and
//! every answer goes through the schema's result coercion: a value of the wrong type, a null
//! where the schema says non-null, an enum value it does not list, becomes a GraphQL error
//! instead of reaching the client. So the fake cannot drift from the contract unnoticed.

use std::sync::LazyLock;

use apollo_compiler::resolvers::{Execution, FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::response::{JsonMap, JsonValue};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};
use serde_json::{json, Value};

use super::ledger::{
    sats_to_cents, Account, AppError, Caller, Currency, Flash, InvoiceAmount, Scope, SendResult,
    Tx, Via,
};

/// Flash's public schema, as committed (see `contracts/SOURCE.md`).
pub const SDL: &str = include_str!("../../contracts/flash-public.schema.graphql");

/// The parsed schema, or why the committed SDL does not parse (a test fails on that).
pub static SCHEMA: LazyLock<Result<Valid<Schema>, String>> = LazyLock::new(|| {
    Schema::parse_and_validate(SDL, "flash-public.schema.graphql").map_err(|e| e.to_string())
});

/// A request as POSTed to `/graphql`.
#[derive(Debug, serde::Deserialize)]
pub struct Request {
    /// The document.
    pub query: String,
    /// Variable values.
    #[serde(default)]
    pub variables: Option<serde_json::Map<String, Value>>,
    /// Which operation of the document.
    #[serde(default, rename = "operationName")]
    pub operation_name: Option<String>,
}

/// Why a request got no execution at all (HTTP 400, as Apollo Server answers).
#[derive(Debug)]
pub struct Rejected(pub Value);

/// A code put in a [`FieldError`]'s message as `CODE|message`, moved to `extensions.code`.
const CODE_SEP: char = '|';

fn field_error(code: &str, message: impl std::fmt::Display) -> FieldError {
    FieldError {
        message: format!("{code}{CODE_SEP}{message}"),
    }
}

/// Runs one request for `caller`. `Err` is a request refused before execution.
pub fn execute(
    flash: &Flash,
    caller: &Caller,
    bearer: Option<&str>,
    request: &Request,
) -> Result<Value, Rejected> {
    let schema = SCHEMA.as_ref().map_err(|e| {
        Rejected(json!({"errors": [{"message": format!("schema: {e}"),
            "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}))
    })?;
    let document =
        ExecutableDocument::parse_and_validate(schema, &request.query, "request.graphql").map_err(
            |e| {
                let errors: Vec<Value> = e
                    .errors
                    .iter()
                    .map(|d| {
                        let mut v = serde_json::to_value(d.to_json()).unwrap_or(Value::Null);
                        if let Some(o) = v.as_object_mut() {
                            o.insert(
                                "extensions".into(),
                                json!({"code": "GRAPHQL_VALIDATION_FAILED"}),
                            );
                        }
                        v
                    })
                    .collect();
                Rejected(json!({ "errors": errors }))
            },
        )?;
    let variables: JsonMap = match &request.variables {
        Some(v) => serde_json::from_value(Value::Object(v.clone())).unwrap_or_default(),
        None => JsonMap::new(),
    };
    let execution = Execution::new(schema, &document)
        .operation_name(request.operation_name.as_deref())
        .map_err(|e| {
            Rejected(json!({"errors": [{"message": e.message().to_string(),
            "extensions": {"code": "BAD_USER_INPUT"}}]}))
        })?
        .raw_variable_values(&variables);
    let operation = document
        .operations
        .get(request.operation_name.as_deref())
        .map_err(|e| Rejected(json!({"errors": [{"message": e.message().to_string()}]})))?;
    let root = Root {
        flash,
        caller,
        bearer,
        type_name: operation.object_type().as_str(),
    };
    let response = execution.execute_sync(&root).map_err(|e| {
        Rejected(json!({"errors": [{"message": e.message().to_string(),
            "extensions": {"code": "BAD_USER_INPUT"}}]}))
    })?;
    let mut out = serde_json::to_value(&response).unwrap_or(Value::Null);
    if let Some(errors) = out.get_mut("errors").and_then(Value::as_array_mut) {
        for e in errors {
            let Some(msg) = e.get("message").and_then(Value::as_str).map(str::to_owned) else {
                continue;
            };
            let msg = msg
                .strip_prefix("resolver error: ")
                .map(str::to_owned)
                .unwrap_or(msg);
            let (code, text) = match msg.split_once(CODE_SEP) {
                Some((c, t)) => (c.to_string(), t.to_string()),
                // Result coercion: the fake answered something the schema does not allow.
                None => ("INTERNAL_SERVER_ERROR".to_string(), msg),
            };
            if let Some(o) = e.as_object_mut() {
                o.insert("message".into(), Value::String(text));
                o.insert("extensions".into(), json!({ "code": code }));
            }
        }
    }
    Ok(out)
}

/// The root object of an operation: dispatches each root field to the books.
struct Root<'a> {
    flash: &'a Flash,
    caller: &'a Caller,
    bearer: Option<&'a str>,
    type_name: &'a str,
}

impl ObjectValue for Root<'_> {
    fn type_name(&self) -> &str {
        self.type_name
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        let value = self.root_field(info.field_name(), &args(info))?;
        Ok(resolved(json_bytes(value), info))
    }
}

fn args(info: &ResolveInfo<'_>) -> Value {
    serde_json::to_value(info.arguments()).unwrap_or(Value::Null)
}

fn json_bytes(v: Value) -> JsonValue {
    JsonValue::from(v)
}

fn deny(e: super::ledger::Denied) -> FieldError {
    match e {
        super::ledger::Denied::NotAuthorized => field_error("NOT_AUTHORIZED", e),
        super::ledger::Denied::MissingScope(_) => field_error("INSUFFICIENT_SCOPE", e),
    }
}

fn app_errors(e: &AppError) -> Value {
    json!([{ "__typename": "GraphQLApplicationError", "message": e.message,
             "code": e.code, "path": null }])
}

fn input(args: &Value) -> &Value {
    args.get("input").unwrap_or(&Value::Null)
}

fn text<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

/// A positive whole amount, or an application error (custom scalars reach us unchecked).
fn amount(v: &Value, key: &str) -> Result<u64, AppError> {
    match v.get(key) {
        Some(Value::Number(n)) => n.as_u64().filter(|a| *a > 0),
        _ => None,
    }
    .ok_or_else(|| AppError {
        code: "INVALID_INPUT",
        message: format!("{key} must be a positive whole number"),
    })
}

fn send_payload(r: SendResult) -> Value {
    match r {
        SendResult::Success => json!({"status": "SUCCESS", "errors": []}),
        SendResult::Pending => json!({"status": "PENDING", "errors": []}),
        SendResult::AlreadyPaid => json!({"status": "ALREADY_PAID", "errors": []}),
        SendResult::Failure(e) => json!({"status": "FAILURE", "errors": app_errors(&e)}),
    }
}

impl Root<'_> {
    fn root_field(&self, field: &str, args: &Value) -> Result<Value, FieldError> {
        let f = self.flash;
        let c = self.caller;
        let inp = input(args);
        Ok(match field {
            // Public.
            "globals" => globals(f),
            "realtimePrice" => {
                let cur = args
                    .get("currency")
                    .and_then(Value::as_str)
                    .unwrap_or("USD");
                if cur != "USD" {
                    return Err(field_error(
                        "INVALID_INPUT",
                        format!("the sandbox prices in USD only, not {cur}"),
                    ));
                }
                price(f)
            }
            "lnInvoicePaymentStatus" => {
                match f.invoice_status(text(inp, "paymentRequest").unwrap_or("")) {
                    Ok(s) => json!({"status": s, "errors": []}),
                    Err(e) => json!({"status": null, "errors": app_errors(&e)}),
                }
            }
            "accountDefaultWallet" => {
                let user = text(args, "username").unwrap_or("");
                let cur = match text(args, "walletCurrency") {
                    Some("USD") => Some(Currency::Usd),
                    Some("BTC") | None => Some(Currency::Btc),
                    Some(other) => {
                        return Err(field_error(
                            "INVALID_INPUT",
                            format!("no {other} wallets in the sandbox"),
                        ))
                    }
                };
                match f.default_wallet(user, cur) {
                    Some(w) => json!({"id": w.id, "walletCurrency": w.currency.name(),
                                      "lnurlp": null}),
                    None => {
                        return Err(field_error(
                            "NOT_FOUND",
                            format!("Account does not exist for username {user}"),
                        ))
                    }
                }
            }
            "captchaCreateChallenge" => {
                let (id, code) = f.create_challenge();
                json!({"errors": [], "result": {"id": id, "challengeCode": code,
                       "newCaptcha": true, "failbackMode": false}})
            }
            "captchaRequestAuthCode" => {
                let phone = text(inp, "phone").unwrap_or("");
                match f.request_code(phone, text(inp, "challengeCode").unwrap_or("")) {
                    Ok(()) => json!({"success": true, "errors": []}),
                    Err(e) => json!({"success": false, "errors": app_errors(&e)}),
                }
            }
            "userLogin" => {
                let phone = text(inp, "phone").unwrap_or("");
                match f.login(phone, text(inp, "code").unwrap_or("")) {
                    Ok(token) => {
                        json!({"authToken": token, "totpRequired": false, "errors": []})
                    }
                    Err(e) => json!({"authToken": null, "totpRequired": null,
                                     "errors": app_errors(&e)}),
                }
            }
            // Needs a caller.
            "userLogout" => {
                c.session().map_err(deny)?;
                if let Some(t) = self.bearer {
                    f.logout(t);
                }
                json!({"success": true, "errors": []})
            }
            "me" => {
                let a = c.account(Scope::ReadUser).map_err(deny)?;
                match f.account(a) {
                    Some(acc) => user(f, &acc),
                    None => Value::Null,
                }
            }
            "apiKeyCreate" => {
                let a = c.session().map_err(deny)?;
                let name = text(inp, "name").unwrap_or("key");
                let scopes: Vec<Scope> = match inp.get("scopes") {
                    Some(Value::Array(list)) => list
                        .iter()
                        .filter_map(|s| s.as_str().and_then(Scope::parse))
                        .collect(),
                    _ => vec![Scope::ReadUser],
                };
                let names: Vec<&str> = scopes.iter().map(|s| s.name()).collect();
                let (key, key_id) = f.create_key(a, name, scopes);
                json!({"errors": [], "apiKey": {"apiKey": key, "id": key_id, "keyId": key_id,
                       "name": name, "scopes": names, "expiresAt": null,
                       "rateLimitPerMinute": null,
                       "warning": "Store this key now: it is shown only once."}})
            }
            "lnInvoiceCreate" | "lnUsdInvoiceCreate" | "lnNoAmountInvoiceCreate" => {
                let a = c.account(Scope::WriteWallet).map_err(deny)?;
                let wallet = text(inp, "walletId").unwrap_or("");
                let memo = text(inp, "memo").map(str::to_owned);
                let expires = inp.get("expiresIn").and_then(Value::as_u64);
                let amt = match field {
                    "lnInvoiceCreate" => amount(inp, "amount").map(InvoiceAmount::Sats),
                    "lnUsdInvoiceCreate" => amount(inp, "amount").map(InvoiceAmount::Cents),
                    _ => Ok(InvoiceAmount::None),
                };
                match amt.and_then(|amt| f.create_invoice(a, wallet, amt, memo, expires)) {
                    Ok(i) => {
                        let mut inv = json!({"paymentRequest": i.payment_request,
                            "paymentHash": i.payment_hash, "paymentSecret": i.payment_secret});
                        if field != "lnNoAmountInvoiceCreate" {
                            inv["satoshis"] = json!(i.sats);
                        }
                        json!({"invoice": inv, "errors": []})
                    }
                    Err(e) => json!({"invoice": null, "errors": app_errors(&e)}),
                }
            }
            "lnInvoiceFeeProbe" | "lnNoAmountInvoiceFeeProbe" => {
                let a = c.account(Scope::ReadWallet).map_err(deny)?;
                let sats = match field {
                    "lnInvoiceFeeProbe" => Ok(None),
                    _ => amount(inp, "amount").map(Some),
                };
                let r = sats.and_then(|sats| {
                    f.fee_probe(
                        a,
                        text(inp, "walletId").unwrap_or(""),
                        text(inp, "paymentRequest").unwrap_or(""),
                        sats,
                    )
                });
                match r {
                    Ok(fee) => json!({"amount": fee, "errors": []}),
                    Err(e) => json!({"amount": null, "errors": app_errors(&e)}),
                }
            }
            "lnInvoicePaymentSend" | "lnNoAmountInvoicePaymentSend" => {
                let a = c.account(Scope::WriteTransactions).map_err(deny)?;
                let sats = match field {
                    "lnInvoicePaymentSend" => Ok(None),
                    _ => amount(inp, "amount").map(Some),
                };
                let r = match sats {
                    Ok(sats) => f.pay_invoice(
                        a,
                        text(inp, "walletId").unwrap_or(""),
                        text(inp, "paymentRequest").unwrap_or(""),
                        sats,
                        text(inp, "memo").map(str::to_owned),
                    ),
                    Err(e) => SendResult::Failure(e),
                };
                send_payload(r)
            }
            "intraLedgerPaymentSend" => {
                let a = c.account(Scope::WriteTransactions).map_err(deny)?;
                let r = match amount(inp, "amount") {
                    Ok(sats) => f.pay_wallet(
                        a,
                        text(inp, "walletId").unwrap_or(""),
                        text(inp, "recipientWalletId").unwrap_or(""),
                        sats,
                        text(inp, "memo").map(str::to_owned),
                    ),
                    Err(e) => SendResult::Failure(e),
                };
                send_payload(r)
            }
            other => {
                return Err(field_error(
                    "NOT_IMPLEMENTED",
                    format!("{other} is not part of the sandbox's Flash API"),
                ))
            }
        })
    }
}

fn globals(f: &Flash) -> Value {
    let network = match f.network().currency() {
        cdk::lightning_invoice::Currency::Bitcoin => "mainnet",
        cdk::lightning_invoice::Currency::Regtest => "regtest",
        cdk::lightning_invoice::Currency::Signet => "signet",
        _ => "testnet",
    };
    let node = f
        .network()
        .node_id(super::ledger::NODE)
        .map(|k| k.to_string())
        .unwrap_or_default();
    json!({
        "network": network,
        "nodesIds": [node],
        "lightningAddressDomain": "localhost",
        "lightningAddressDomainAliases": [],
        "feesInformation": {"deposit": {"minBankFee": "0", "minBankFeeThreshold": "0",
                                        "ratio": "0"}},
        "supportedCountries": [],
        "buildInformation": {"commitHash": null, "helmRevision": null},
        "bridgeEnabled": false,
        "cashoutEnabled": false,
        "referralRewardEnabled": false,
        "topupEnabled": false,
        "fygaroTopup": null,
    })
}

/// `RealtimePrice` in USD: one sat and one cent in cents, as `base / 10^offset`.
fn price(f: &Flash) -> Value {
    let (cents_per_btc, at) = f.price();
    json!({
        "id": format!("price-{at}"),
        "timestamp": at,
        "denominatorCurrency": "USD",
        "btcSatPrice": {"base": cents_per_btc.saturating_mul(10_000), "offset": 12,
                        "currencyUnit": "USDCENT"},
        "usdCentPrice": {"base": 1_000_000_000_000u64, "offset": 12, "currencyUnit": "USDCENT"},
    })
}

fn user(f: &Flash, acc: &Account) -> Value {
    json!({
        "id": acc.user_id,
        "phone": acc.phone,
        "username": acc.username,
        "email": null,
        "language": "",
        "npub": null,
        "totpEnabled": false,
        "createdAt": acc.created_at,
        "contacts": [],
        "bankAccounts": [],
        "quizQuestions": [],
        "defaultAccount": account(f, acc),
    })
}

fn account(f: &Flash, acc: &Account) -> Value {
    let (cents_per_btc, _) = f.price();
    let idx = f.account_index(&acc.id);
    let all = idx.map(|i| f.transactions(i, &[])).unwrap_or_default();
    let wallets: Vec<Value> = acc
        .wallets
        .iter()
        .map(|w| {
            let txs: Vec<&Tx> = all.iter().filter(|t| t.wallet_id == w.id).collect();
            json!({
                "__typename": match w.currency { Currency::Btc => "BTCWallet",
                                                 Currency::Usd => "UsdWallet" },
                "id": w.id,
                "accountId": acc.id,
                "walletCurrency": w.currency.name(),
                "balance": w.balance,
                "pendingIncomingBalance": 0,
                "isExternal": false,
                "lnurlp": null,
                TXS: txs.iter().map(|t| tx(t, cents_per_btc)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "__typename": "ConsumerAccount",
        "id": acc.id,
        "defaultWalletId": acc.wallets.first().map(|w| w.id.clone()),
        "displayCurrency": "USD",
        "level": "ONE",
        "wallets": wallets,
        "realtimePrice": price(f),
        "limits": {"convert": [], "internalSend": [], "withdrawal": []},
        "callbackEndpoints": [],
        "quiz": [],
        "capabilities": {"bankPayout": false, "business": false, "usdAccount": false,
                         "verified": false},
        TXS: all.iter().map(|t| tx(t, cents_per_btc)).collect::<Vec<_>>(),
    })
}

/// Where an account or wallet keeps its transactions for the `transactions` field, which
/// pages them by its arguments. The schema has no field of this name.
const TXS: &str = "__transactions";

fn tx(t: &Tx, cents_per_btc: u64) -> Value {
    let total = t.amount.saturating_add(t.fee);
    let signed = if t.send { -total } else { t.amount };
    let (currency, display, display_fee, price_base) = match t.currency {
        Currency::Btc => (
            "BTC",
            cents_major(
                if t.send { -1 } else { 1 } * sats_to_cents(total.unsigned_abs(), cents_per_btc),
            ),
            cents_major(sats_to_cents(t.fee.unsigned_abs(), cents_per_btc)),
            cents_per_btc.saturating_mul(10_000),
        ),
        Currency::Usd => (
            "USD",
            cents_major(signed),
            cents_major(t.fee),
            1_000_000_000_000,
        ),
    };
    let initiation = match &t.via {
        Via::Ln { hash, .. } => json!({"__typename": "InitiationViaLn", "paymentHash": hash}),
        Via::IntraLedger {
            wallet_id,
            username,
        } => json!({
            "__typename": "InitiationViaIntraLedger",
            "counterPartyWalletId": wallet_id, "counterPartyUsername": username}),
    };
    let settlement = match &t.via {
        Via::Ln { preimage, .. } => json!({"__typename": "SettlementViaLn",
                                           "preImage": preimage, "paymentSecret": null}),
        Via::IntraLedger {
            wallet_id,
            username,
        } => json!({
            "__typename": "SettlementViaIntraLedger",
            "counterPartyWalletId": wallet_id, "counterPartyUsername": username}),
    };
    json!({
        "id": t.id,
        "createdAt": t.created_at,
        "direction": if t.send { "SEND" } else { "RECEIVE" },
        "status": t.status.name(),
        "memo": t.memo,
        "settlementAmount": signed,
        "settlementFee": t.fee,
        "settlementCurrency": currency,
        "settlementDisplayAmount": display,
        "settlementDisplayFee": display_fee,
        "settlementDisplayCurrency": "USD",
        "settlementPrice": {"base": price_base, "offset": 12, "currencyUnit": "USDCENT",
                            "formattedAmount": format!("{}", price_base as f64 / 1e12)},
        "initiationVia": initiation,
        "settlementVia": settlement,
    })
}

/// Cents as a major-unit string ("-1.05").
fn cents_major(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

/// A value from the books, as the executor wants it for the field's schema type.
fn resolved<'a>(value: JsonValue, info: &'a ResolveInfo<'a>) -> ResolvedValue<'a> {
    to_resolved(value, &info.field_definition().ty, info)
}

fn to_resolved<'a>(
    value: JsonValue,
    ty: &'a apollo_compiler::ast::Type,
    info: &'a ResolveInfo<'a>,
) -> ResolvedValue<'a> {
    match value {
        JsonValue::Null => ResolvedValue::null(),
        JsonValue::Array(items) if ty.is_list() => {
            let item_ty = ty.item_type();
            ResolvedValue::List(Box::new(
                items
                    .into_iter()
                    .map(move |i| Ok(to_resolved(i, item_ty, info))),
            ))
        }
        JsonValue::Object(map) if is_composite(info, ty) => {
            let type_name = map
                .get("__typename")
                .and_then(JsonValue::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| ty.inner_named_type().to_string());
            ResolvedValue::object(Obj { type_name, map })
        }
        leaf => ResolvedValue::leaf(leaf),
    }
}

fn is_composite(info: &ResolveInfo<'_>, ty: &apollo_compiler::ast::Type) -> bool {
    matches!(
        info.schema().types.get(ty.inner_named_type()),
        Some(ExtendedType::Object(_) | ExtendedType::Interface(_) | ExtendedType::Union(_))
    )
}

/// An object from the books: its fields are its map's keys.
struct Obj {
    type_name: String,
    map: JsonMap,
}

impl ObjectValue for Obj {
    fn type_name(&self) -> &str {
        &self.type_name
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        let name = info.field_name();
        if name == "transactions" {
            if let Some(JsonValue::Array(all)) = self.map.get(TXS) {
                let page = page(all, &args(info))?;
                return Ok(resolved(page, info));
            }
        }
        let value = self.map.get(name).cloned().unwrap_or(JsonValue::Null);
        Ok(resolved(value, info))
    }
}

/// A `TransactionConnection` page: `first` after the cursor `after` (newest first).
fn page(all: &[JsonValue], args: &Value) -> Result<JsonValue, FieldError> {
    if args.get("last").is_some_and(|v| !v.is_null())
        || args.get("before").is_some_and(|v| !v.is_null())
    {
        return Err(field_error(
            "NOT_IMPLEMENTED",
            "the sandbox pages transactions forward only (first/after)",
        ));
    }
    let start = match args.get("after").and_then(Value::as_str) {
        Some(cursor) => all
            .iter()
            .position(|t| t.get("id").and_then(JsonValue::as_str) == Some(cursor))
            .map(|i| i + 1)
            .ok_or_else(|| field_error("INVALID_INPUT", "unknown cursor"))?,
        None => 0,
    };
    let first = args
        .get("first")
        .and_then(Value::as_u64)
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        .unwrap_or(usize::MAX);
    let slice: Vec<&JsonValue> = all.iter().skip(start).take(first).collect();
    let edges: Vec<Value> = slice
        .iter()
        .map(|t| {
            let node = serde_json::to_value(t).unwrap_or(Value::Null);
            json!({"cursor": node.get("id").cloned().unwrap_or(Value::Null), "node": node})
        })
        .collect();
    let end = start + slice.len();
    let cursor = |t: Option<&&JsonValue>| {
        t.and_then(|t| t.get("id"))
            .and_then(JsonValue::as_str)
            .map(str::to_owned)
    };
    Ok(json_bytes(json!({
        "edges": edges,
        "pageInfo": {"hasNextPage": end < all.len(), "hasPreviousPage": start > 0,
                     "startCursor": cursor(slice.first()), "endCursor": cursor(slice.last())},
    })))
}
