//! The embedded Cashu mint: cdk's real mint with its sqlite store, its Lightning a node of
//! the stack's simulated network ([`crate::mint_backend`]), served by cdk-axum. It keeps its seed and database in the data directory so a
//! restart of the sandbox brings back the same keysets and the same issued eCash.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use cdk::mint::{Mint, MintBuilder, MintMeltLimits};
use cdk::nuts::nut00::KnownMethod;
use cdk::nuts::nut17::SupportedMethods;
use cdk::nuts::{CurrencyUnit, PaymentMethod};
use cdk::types::{FeeReserve, QuoteTTL};
use cdk_sqlite::MintSqliteDatabase;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::lightning::Network;
use crate::mint_backend::NetworkBackend;
use crate::{serve, StackError};

/// The mint's node on the stack's Lightning network.
pub const NODE: &str = "mint";

/// The cdk version embedded, printed at start-up so bug reports name it.
pub const CDK_VERSION: &str = "0.18.3";

fn err(e: impl std::fmt::Display) -> StackError {
    StackError::Mint(e.to_string())
}

/// The mint seed lives in `mint-seed.txt` (BIP39 words) so restarts keep the same keys.
fn load_or_create_seed(data_dir: &Path) -> Result<bip39::Mnemonic, StackError> {
    let path = data_dir.join("mint-seed.txt");
    match std::fs::read_to_string(&path) {
        Ok(words) => bip39::Mnemonic::parse(words.trim()).map_err(err),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut entropy = [0u8; 16];
            getrandom::fill(&mut entropy).map_err(err)?;
            let words = bip39::Mnemonic::from_entropy(&entropy).map_err(err)?;
            std::fs::write(&path, words.to_string()).map_err(|source| StackError::DataDir {
                path: path.display().to_string(),
                source,
            })?;
            Ok(words)
        }
        Err(source) => Err(StackError::DataDir {
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Builds and starts the mint whose public URL is `mint_url`, its Lightning node [`NODE`] on
/// `net`. With `quote_delay_secs`, the network's faucet pays every invoice of the mint that
/// long after it is made (a user paying from another wallet); without, only a payment on the
/// network (the Flash account, LND, another mint) pays it.
pub async fn build(
    data_dir: &Path,
    mint_url: &str,
    net: &Network,
    quote_delay_secs: Option<u64>,
) -> Result<Arc<Mint>, StackError> {
    let seed = load_or_create_seed(data_dir)?;
    let db = Arc::new(
        MintSqliteDatabase::new(data_dir.join("mint.sqlite"))
            .await
            .map_err(err)?,
    );
    let mut builder = MintBuilder::new(db.clone());
    let backend = NetworkBackend::new(
        net.clone(),
        NODE,
        FeeReserve {
            min_fee_reserve: 1.into(),
            percent_fee_reserve: 0.01,
        },
    );
    if let Some(secs) = quote_delay_secs {
        net.autopay(NODE, std::time::Duration::from_secs(secs))
            .map_err(err)?;
    }
    builder
        .add_payment_processor(
            CurrencyUnit::Sat,
            PaymentMethod::Known(KnownMethod::Bolt11),
            MintMeltLimits::new(1, 1_000_000),
            Arc::new(backend),
        )
        .await
        .map_err(err)?;
    let builder = builder
        .with_name("Flash sandbox mint".to_string())
        .with_description(
            "A real cdk mint on loopback; its Lightning is the stack's simulated network".into(),
        )
        .with_motd("Sandbox: test sats only".to_string())
        .with_urls(vec![mint_url.to_string()])
        .with_supported_websockets(SupportedMethods::default_bolt11(CurrencyUnit::Sat));
    let mint = builder
        .build_with_seed(db, &seed.to_seed_normalized(""))
        .await
        .map_err(err)?;
    mint.set_quote_ttl(QuoteTTL::new(3600, 3600))
        .await
        .map_err(err)?;
    mint.start().await.map_err(err)?;
    Ok(Arc::new(mint))
}

/// The mint's HTTP server, which the control API can stop and start on the same address.
pub struct MintServer {
    router: Router,
    addr: SocketAddr,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl MintServer {
    /// Starts serving `mint` on `listener`.
    pub async fn start(
        mint: Arc<Mint>,
        listener: tokio::net::TcpListener,
        addr: SocketAddr,
    ) -> Result<Self, StackError> {
        let methods = vec!["bolt11".to_string()];
        let router = cdk_axum::create_mint_router(mint, methods)
            .await
            .map_err(err)?;
        let task = serve::spawn(listener, router.clone());
        Ok(Self {
            router,
            addr,
            task: Mutex::new(Some(task)),
        })
    }

    /// Whether the mint currently accepts connections.
    pub async fn is_running(&self) -> bool {
        self.task.lock().await.is_some()
    }

    /// Closes the listener and every open connection: clients now get "connection refused".
    pub async fn stop(&self) {
        if let Some(task) = self.task.lock().await.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Listens again on the same address (no-op when already running).
    pub async fn restart(&self) -> Result<(), StackError> {
        let mut task = self.task.lock().await;
        if task.is_none() {
            let listener = serve::bind(self.addr.port(), "--mint-port").await?;
            *task = Some(serve::spawn(listener, self.router.clone()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("flash-mint-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn keyset_ids(mint: &Mint) -> Vec<String> {
        mint.keysets()
            .keysets
            .iter()
            .map(|k| k.id.to_string())
            .collect()
    }

    fn net() -> Network {
        Network::new(cdk::lightning_invoice::Currency::Bitcoin)
    }

    #[tokio::test]
    async fn a_restart_on_the_same_data_dir_keeps_the_keys() {
        let dir = temp_dir("restart");
        let first = build(&dir, "http://127.0.0.1:1", &net(), None)
            .await
            .unwrap();
        let ids = keyset_ids(&first);
        assert!(!ids.is_empty());
        first.stop().await.unwrap();
        drop(first);
        let second = build(&dir, "http://127.0.0.1:1", &net(), None)
            .await
            .unwrap();
        assert_eq!(keyset_ids(&second), ids);
        second.stop().await.unwrap();
        let other = build(&temp_dir("other"), "http://127.0.0.1:1", &net(), None)
            .await
            .unwrap();
        assert_ne!(keyset_ids(&other), ids, "a new data dir is a new mint");
        other.stop().await.unwrap();
    }
}
