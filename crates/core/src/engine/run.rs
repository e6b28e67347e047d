//! The run loop: commands, the eCash journal, running jobs and the lock's grace period, all
//! driven from one task so no two code paths touch wallet state at once.

use super::*;

impl<S: Store + Clone, R: Random, C: Clock, K: Kdf> Engine<S, R, C, K> {
    /// Seals a batch of eCash changes and writes it in one transaction.
    pub(super) async fn persist(&mut self, (changes, reply): JournalRequest) {
        let result = match &self.phase {
            Phase::Unlocked { vault, .. } => {
                crate::ecash::journal::write_through(vault, &changes, &self.random).await
            }
            _ => Err(crate::ecash::JournalError::Closed),
        };
        if result.is_ok() {
            for (key, _) in &changes {
                self.touched.add(key);
            }
        }
        let _ = reply.send(result);
    }

    /// Finishes a lock that was waiting for running jobs.
    pub(super) fn finish_lock(&mut self) {
        self.lock();
        for waiter in self.lock_waiters.drain(..) {
            let _ = waiter.send(());
        }
        self.broadcast();
    }

    pub(super) fn job_done(&mut self, done: JobDone) {
        if !matches!(self.phase, Phase::Unlocked { .. }) {
            return;
        }
        let mut changed = done.waiting_on != self.waiting_on;
        self.waiting_on = done.waiting_on;
        if let Some(b) = done.balance {
            if b != self.balance {
                self.balance = b;
                changed = true;
            }
        }
        if changed {
            self.broadcast();
        }
        let touched = std::mem::take(&mut self.touched);
        for (yes, event) in [
            (touched.history, Event::HistoryChanged),
            (touched.pending, Event::PendingChanged),
            (touched.mints, Event::MintsChanged),
        ] {
            if yes {
                self.send(event);
            }
        }
    }
}

impl JobDone {
    pub(super) async fn of(purse: &Purse) -> Self {
        Self {
            balance: purse.balance().await.ok(),
            waiting_on: purse.waiting_on(),
        }
    }
}

/// Creates the engine over its ports. `open_store` resolves to the wallet's storage (or why
/// there is none); commands sent meanwhile wait. `sleep` is the timer (the lock's grace
/// period). Returns the handle and the engine's task, which the caller runs on its executor
/// (`spawn_local` in the browser, a local pool in tests). The task ends when every handle is
/// dropped.
pub fn spawn_engine<S, R, C, K>(
    open_store: impl Future<Output = Result<S, StoreError>> + 'static,
    random: R,
    clock: C,
    kdf: K,
    sleep: Sleep,
) -> (WalletHandle, impl Future<Output = ()>)
where
    S: Store + Clone + 'static,
    R: Random + 'static,
    C: Clock + 'static,
    K: Kdf + 'static,
{
    let (tx, mut rx) = mpsc::unbounded::<Command>();
    let started_at_ms = clock.now_ms();
    let mut engine = Engine {
        phase: Phase::Starting,
        random,
        clock,
        kdf,
        started_at_ms,
        subscribers: Vec::new(),
        balance: 0,
        touched: Default::default(),
        outbox: Vec::new(),
        new_journal: None,
        lock_waiters: Vec::new(),
        waiting_on: Vec::new(),
    };
    let task = async move {
        engine.opened(open_store.await).await;
        // One loop drives commands, the eCash journal and running eCash jobs, so jobs can
        // wait on the network (and on their own durable writes) while commands go on.
        let mut running: FuturesUnordered<LocalBoxFuture<'static, JobDone>> =
            FuturesUnordered::new();
        let mut journal: Option<mpsc::UnboundedReceiver<JournalRequest>> = None;
        let mut grace: Option<LocalBoxFuture<'static, ()>> = None;
        loop {
            let wake = {
                let command = rx.next();
                let grace_over = async {
                    match grace.as_mut() {
                        Some(g) => g.await,
                        None => std::future::pending().await,
                    }
                };
                let written = async {
                    match journal.as_mut() {
                        Some(j) => j.next().await,
                        None => std::future::pending().await,
                    }
                };
                let done = async {
                    match running.next().await {
                        Some(balance) => balance,
                        None => std::future::pending().await,
                    }
                };
                futures::pin_mut!(command, written, done, grace_over);
                // Journal writes first: a job waiting on its own durable write is never held up.
                match select(written, select(done, select(command, grace_over))).await {
                    Either::Left((j, _)) => Wake::Journal(j),
                    Either::Right((Either::Left((b, _)), _)) => Wake::JobDone(b),
                    Either::Right((Either::Right((Either::Left((c, _)), _)), _)) => {
                        Wake::Command(c)
                    }
                    Either::Right((Either::Right((Either::Right(_), _)), _)) => Wake::GraceOver,
                }
            };
            match wake {
                Wake::Command(None) => break,
                Wake::Command(Some(cmd)) => engine.handle(cmd).await,
                Wake::Journal(Some(request)) => engine.persist(request).await,
                Wake::Journal(None) => journal = None,
                Wake::JobDone(balance) => engine.job_done(balance),
                Wake::GraceOver => engine.finish_lock(),
            }
            // A lock waits while money is moving: the running jobs finish their round-trip
            // with the mint and their writes land, then the keys go.
            if !engine.lock_waiters.is_empty() {
                if running.is_empty() && engine.outbox.is_empty() {
                    engine.finish_lock();
                } else if grace.is_none() {
                    grace = Some(sleep(LOCK_GRACE_MS));
                }
            }
            if engine.lock_waiters.is_empty() {
                grace = None;
            }
            if !matches!(engine.phase, Phase::Unlocked { .. }) {
                // Locked: running jobs stop where they are (their sagas are durable and are
                // resumed at the next unlock) and nothing more is written.
                running = FuturesUnordered::new();
                journal = None;
                engine.outbox.clear();
            }
            if let Some(j) = engine.new_journal.take() {
                journal = Some(j);
            }
            running.extend(engine.outbox.drain(..));
        }
    };
    (WalletHandle { tx }, task)
}
