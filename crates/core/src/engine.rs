//! The engine as a single-owner task (an actor). It alone holds wallet state; the UI holds a
//! cheap, cloneable [`WalletHandle`] that sends typed commands and receives typed results and a
//! stream of [`Event`]s. One owner means no two code paths can spend the same proofs.

use futures::channel::{mpsc, oneshot};
use futures::{Future, StreamExt};
use thiserror::Error;

use crate::amount::Sats;
use crate::ports::Clock;

/// Where the wallet is in its life: the UI routes on this (onboarding, unlock, home).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalletState {
    /// No wallet on this device yet: offer create or restore.
    NoWallet,
    /// A wallet exists and its keys are not in memory.
    Locked,
    /// Keys are in memory; money can move.
    Unlocked,
}

/// A snapshot the UI renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Life-cycle state.
    pub state: WalletState,
    /// Spendable balance over every mint and account.
    pub balance: Sats,
    /// When this engine started (from the clock port), so the UI can show uptime-based hints.
    pub started_at_ms: u64,
}

/// What the engine tells every subscriber, unasked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The status changed (state or balance).
    StatusChanged(Status),
}

/// Why a command got no answer.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EngineError {
    /// The engine task has ended (page unloading, or a bug): nothing was changed.
    #[error(
        "the wallet engine has stopped; reload the page to start it again (nothing was changed)"
    )]
    Stopped,
}

enum Command {
    Status(oneshot::Sender<Status>),
    Subscribe(mpsc::UnboundedSender<Event>),
}

/// The UI's only way into the engine. Cloning is cheap; all clones talk to the same engine.
#[derive(Debug, Clone)]
pub struct WalletHandle {
    tx: mpsc::UnboundedSender<Command>,
}

impl WalletHandle {
    /// The current status.
    pub async fn status(&self) -> Result<Status, EngineError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .unbounded_send(Command::Status(reply))
            .map_err(|_| EngineError::Stopped)?;
        answer.await.map_err(|_| EngineError::Stopped)
    }

    /// A stream of events from now on; it ends when the engine stops.
    pub fn events(&self) -> Result<mpsc::UnboundedReceiver<Event>, EngineError> {
        let (tx, rx) = mpsc::unbounded();
        self.tx
            .unbounded_send(Command::Subscribe(tx))
            .map_err(|_| EngineError::Stopped)?;
        Ok(rx)
    }
}

struct Engine {
    started_at_ms: u64,
    subscribers: Vec<mpsc::UnboundedSender<Event>>,
}

impl Engine {
    fn status(&self) -> Status {
        Status {
            state: WalletState::NoWallet,
            balance: Sats(0),
            started_at_ms: self.started_at_ms,
        }
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Status(reply) => {
                let _ = reply.send(self.status());
            }
            Command::Subscribe(tx) => {
                // Greet new subscribers with the current status so they never start blank.
                if tx
                    .unbounded_send(Event::StatusChanged(self.status()))
                    .is_ok()
                {
                    self.subscribers.push(tx);
                }
            }
        }
        self.subscribers.retain(|s| !s.is_closed());
    }
}

/// Creates the engine over its ports. Returns the handle and the engine's task, which the
/// caller runs on its executor (`spawn_local` in the browser, a local pool in tests). The task
/// ends when every handle is dropped.
pub fn spawn_engine<C: Clock + 'static>(clock: C) -> (WalletHandle, impl Future<Output = ()>) {
    let (tx, mut rx) = mpsc::unbounded::<Command>();
    let started_at_ms = clock.now_ms();
    let mut engine = Engine {
        started_at_ms,
        subscribers: Vec::new(),
    };
    let task = async move {
        while let Some(cmd) = rx.next().await {
            engine.handle(cmd);
        }
    };
    (WalletHandle { tx }, task)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::ManualClock;
    use futures::executor::LocalPool;
    use futures::task::LocalSpawnExt;

    #[test]
    fn handle_talks_to_the_engine_task() {
        let mut pool = LocalPool::new();
        let (handle, task) = spawn_engine(ManualClock::new(42));
        pool.spawner().spawn_local(task).unwrap();
        let other = handle.clone();
        let status = pool.run_until(async move { other.status().await }).unwrap();
        assert_eq!(status.state, WalletState::NoWallet);
        assert_eq!(status.balance, Sats(0));
        assert_eq!(status.started_at_ms, 42);
    }

    #[test]
    fn subscribers_get_the_current_status_first() {
        let mut pool = LocalPool::new();
        let (handle, task) = spawn_engine(ManualClock::new(7));
        pool.spawner().spawn_local(task).unwrap();
        let mut events = handle.events().unwrap();
        let first = pool.run_until(events.next()).unwrap();
        assert!(matches!(first, Event::StatusChanged(s) if s.state == WalletState::NoWallet));
    }

    #[test]
    fn a_stopped_engine_is_reported_not_hung() {
        let (handle, task) = spawn_engine(ManualClock::new(0));
        drop(task); // the engine never runs: its receiver is gone
        let err = futures::executor::block_on(handle.status()).unwrap_err();
        assert_eq!(err, EngineError::Stopped);
        assert!(err.to_string().contains("reload the page"));
    }
}
