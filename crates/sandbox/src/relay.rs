//! The embedded NOSTR relay: nostr-relay-builder's real relay, in memory, on loopback.

use std::net::{IpAddr, Ipv4Addr};

use nostr_relay_builder::{LocalRelay, RelayBuilder};

use crate::StackError;

/// Starts the relay on `port` and returns its handle (dropping every clone stops it).
pub async fn start(port: u16) -> Result<LocalRelay, StackError> {
    let builder = RelayBuilder::default()
        .addr(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .port(port);
    let relay = LocalRelay::new(builder);
    relay
        .run()
        .await
        .map_err(|e| StackError::Relay(e.to_string()))?;
    Ok(relay)
}
