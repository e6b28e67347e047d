//! Listening and serving on loopback, with servers that can be stopped for real: aborting a
//! server also drops its open keep-alive connections, so a "mint down" test sees what a user
//! would see (connections refused), not a half-alive server.

use std::net::{Ipv4Addr, SocketAddr};

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::StackError;

/// Binds 127.0.0.1:`port`, naming the flag to change when the port is taken.
pub async fn bind(port: u16, flag: &'static str) -> Result<TcpListener, StackError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::AddrInUse {
                StackError::PortInUse { port, flag }
            } else {
                StackError::Bind { port, flag, source }
            }
        })
}

/// The address a listener really got (port 0 picks one).
pub fn local_addr(listener: &TcpListener, flag: &'static str) -> Result<SocketAddr, StackError> {
    listener.local_addr().map_err(|source| StackError::Bind {
        port: 0,
        flag,
        source,
    })
}

/// Checks that `port` is free (or picks a free one for 0) for a server that binds by itself.
pub async fn free_port(port: u16, flag: &'static str) -> Result<u16, StackError> {
    let listener = bind(port, flag).await?;
    Ok(local_addr(&listener, flag)?.port())
}

/// Serves `router` on `listener` until the returned task is aborted; aborting it closes the
/// listener and every connection it accepted.
pub fn spawn(listener: TcpListener, router: Router) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _peer)) = accepted else { continue };
                    let service = TowerToHyperService::new(router.clone());
                    connections.spawn(async move {
                        let _ = Builder::new(TokioExecutor::new())
                            .serve_connection_with_upgrades(TokioIo::new(stream), service)
                            .await;
                    });
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_taken_port_names_the_port_and_the_flag() {
        let first = bind(0, "--port").await.unwrap();
        let port = local_addr(&first, "--port").unwrap().port();
        let err = bind(port, "--mint-port").await.unwrap_err();
        assert!(matches!(err, StackError::PortInUse { port: p, flag: "--mint-port" } if p == port));
        let msg = err.to_string();
        assert!(
            msg.contains(&port.to_string()) && msg.contains("--mint-port N"),
            "{msg}"
        );
    }

    #[tokio::test]
    async fn aborting_a_server_closes_its_port() {
        let listener = bind(0, "--port").await.unwrap();
        let addr = local_addr(&listener, "--port").unwrap();
        let task = spawn(listener, Router::new());
        assert!(tokio::net::TcpStream::connect(addr).await.is_ok());
        task.abort();
        let _ = task.await;
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "refused after stop"
        );
    }
}
