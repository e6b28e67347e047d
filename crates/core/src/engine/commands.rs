//! One command at a time: what the engine does with each `Command` the handle sends.

use super::session::identity_of;
use super::*;

impl<S: Store + Clone, R: Random, C: Clock, K: Kdf> Engine<S, R, C, K> {
    pub(super) async fn handle(&mut self, cmd: Command) {
        let before = self.status();
        match cmd {
            Command::Status(reply) => {
                let _ = reply.send(self.status());
            }
            Command::Ecash(job) => {
                // Locked or locking: the job is dropped, its caller hears "unlock first".
                if let (Phase::Unlocked { purse, .. }, true) =
                    (&self.phase, self.lock_waiters.is_empty())
                {
                    let purse = purse.clone();
                    self.outbox.push(Box::pin(async move {
                        job(purse.clone()).await;
                        JobDone::of(&purse).await
                    }));
                }
            }
            Command::Announce(event) => self.send(event),
            Command::Subscribe(tx) => {
                // Greet new subscribers with the current status so they never start blank.
                if tx
                    .unbounded_send(Event::StatusChanged(self.status()))
                    .is_ok()
                {
                    self.subscribers.push(tx);
                }
            }
            Command::NewPhrase(words, reply) => {
                // Only where a wallet can be made: fresh words beside an existing wallet
                // (a page that guessed wrong) would read as that wallet's words.
                let result = self
                    .empty_store()
                    .and_then(|_| keys::generate(words, &self.random).map_err(EngineError::from))
                    .map(|m| Zeroizing::new(m.to_string()));
                let _ = reply.send(result);
            }
            Command::Setup {
                phrase,
                passphrase,
                reply,
            } => {
                let _ = reply.send(self.setup(&phrase, &passphrase).await);
            }
            Command::Unlock { passphrase, reply } => {
                let _ = reply.send(self.unlock(&passphrase).await);
            }
            Command::LockNow(reply) => {
                self.lock();
                self.recheck().await;
                for waiter in self.lock_waiters.drain(..) {
                    let _ = waiter.send(());
                }
                let _ = reply.send(());
            }
            Command::Lock(reply) => {
                if matches!(self.phase, Phase::Unlocked { .. }) {
                    // The run loop locks once the running jobs are done (or the grace ends).
                    self.lock_waiters.push(reply);
                } else {
                    let _ = reply.send(());
                }
            }
            Command::ExportBackup(reply) => {
                let result = match &self.phase {
                    Phase::Unlocked { vault, .. } => vault
                        .export_backup(&self.clock)
                        .await
                        .map_err(EngineError::from),
                    _ => Err(EngineError::Locked),
                };
                let _ = reply.send(result);
            }
            Command::ImportBackup {
                file,
                passphrase,
                reply,
            } => {
                let _ = reply.send(self.import(&file, &passphrase).await);
            }
            Command::BackupSaved(reply) => {
                let result = match &self.phase {
                    Phase::Unlocked { vault, .. } => vault
                        .backup_saved(self.clock.now_ms())
                        .await
                        .map_err(EngineError::from),
                    _ => Err(EngineError::Locked),
                };
                let _ = reply.send(result);
            }
            Command::LastBackup(reply) => {
                let result = match &self.phase {
                    Phase::Unlocked { vault, .. } => {
                        vault.last_backup_ms().await.map_err(EngineError::from)
                    }
                    _ => Err(EngineError::Locked),
                };
                let _ = reply.send(result);
            }
            Command::SetNsec(nsec, reply) => {
                let _ = reply.send(self.set_nsec(nsec.as_deref().map(String::as_str)).await);
            }
            Command::ChangePassphrase {
                current,
                new,
                keep_passkey,
                reply,
            } => {
                let result = match (&self.phase, passphrase::assess(&new)) {
                    (_, (_, Some(w))) => Err(EngineError::WeakPassphrase(w)),
                    (Phase::Unlocked { vault, .. }, _) => {
                        let changed = vault
                            .change_passphrase(
                                &current,
                                &new,
                                KdfParams::DEFAULT,
                                &self.clock,
                                &self.random,
                                &self.kdf,
                            )
                            .await;
                        match changed {
                            Ok(()) if !keep_passkey => {
                                vault.remove_passkey().await.map_err(EngineError::from)
                            }
                            other => other.map_err(EngineError::from),
                        }
                    }
                    _ => Err(EngineError::Locked),
                };
                let _ = reply.send(result);
            }
            Command::Passkey(reply) => {
                let result = match &self.phase {
                    Phase::Locked(s) | Phase::NoWallet(s) => {
                        Vault::passkey_request(s).await.map_err(EngineError::from)
                    }
                    Phase::Unlocked { vault, .. } => Vault::passkey_request(vault.store())
                        .await
                        .map_err(EngineError::from),
                    _ => Ok(None),
                };
                let _ = reply.send(result.or_else(|e| match e {
                    EngineError::Vault(VaultError::NoVault) => Ok(None),
                    other => Err(other),
                }));
            }
            Command::AddPasskey {
                passphrase,
                credential_id,
                prf_salt,
                prf_output,
                reply,
            } => {
                let result = match &self.phase {
                    Phase::Unlocked { vault, .. } => {
                        match vault
                            .check_passphrase(&passphrase, &self.clock, &self.kdf)
                            .await
                        {
                            Ok(()) => vault
                                .add_passkey(credential_id, prf_salt, &prf_output, &self.random)
                                .await
                                .map_err(EngineError::from),
                            Err(e) => Err(e.into()),
                        }
                    }
                    _ => Err(EngineError::Locked),
                };
                let _ = reply.send(result);
            }
            Command::RemovePasskey(reply) => {
                let result = match &self.phase {
                    Phase::Unlocked { vault, .. } => {
                        vault.remove_passkey().await.map_err(EngineError::from)
                    }
                    _ => Err(EngineError::Locked),
                };
                let _ = reply.send(result);
            }
            Command::UnlockWithPasskey { prf_output, reply } => {
                let _ = reply.send(self.unlock_passkey(&prf_output).await);
            }
            Command::Identity(reply) => {
                let result = match &self.phase {
                    Phase::Unlocked { keys, nsec, .. } => identity_of(keys, nsec.as_ref()),
                    _ => Err(EngineError::Locked),
                };
                let _ = reply.send(result);
            }
        }
        if self.status() != before {
            self.broadcast();
        }
    }
}
