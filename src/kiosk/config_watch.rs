//! The running kiosk's side of pushed configuration: one thread that owns
//! the [`ConfigStore`], confirms (or rolls back) the configuration the kiosk
//! started on, then polls the platform for newer bundles.
//!
//! The UI thread never waits on it: it takes [`ConfigNews`] on its tick.
//! Hot changes (texts, time-outs, the staff PIN) are taken at once; changes
//! that need new devices, certificates or identity ask for an orderly
//! restart, which the kiosk makes when no one is using it.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::Duration as StdDuration;

use chrono::Utc;

use crate::config::apply::{ConfigStore, Installed};
use crate::config::poll::{check_start, ConfigTransport, PollOutcome, Poller, StartCheck};
use crate::config::Config;

/// What the watcher tells the kiosk.
#[derive(Debug)]
pub enum ConfigNews {
    /// The configuration the kiosk runs on is confirmed (it is the
    /// last-known-good now).
    Confirmed { installed: Installed },
    /// A new configuration that needs no restart: take it now.
    Hot {
        config: Box<Config>,
        installed: Installed,
    },
    /// Restart on the configuration now in the store, once the person at
    /// the kiosk is done (a new bundle needs it, or the one on trial was
    /// rolled back).
    RestartNeeded { reason: String },
    /// A bundle was refused or the platform is out of reach: for the logs
    /// and the staff screen. Nothing changed.
    Note { message: String },
}

/// How long to wait before asking again whether the platform takes the
/// configuration on trial, while it cannot be reached.
const START_CHECK_RETRY: StdDuration = StdDuration::from_secs(15);
/// How often the poller looks whether a round is due.
const WAKE_EVERY: StdDuration = StdDuration::from_secs(1);

pub struct ConfigWatch {
    news: Receiver<ConfigNews>,
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ConfigWatch {
    /// Start watching. `transport` is made on the watcher's thread (the
    /// HTTP client blocks, so it lives there).
    pub fn spawn<T, F>(store: ConfigStore, config: Config, make_transport: F) -> ConfigWatch
    where
        T: ConfigTransport + 'static,
        F: FnOnce(&Config) -> Result<T, String> + Send + 'static,
    {
        let (news_tx, news) = mpsc::channel();
        let (stop, stopped) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("config-watch".into())
            .spawn(move || {
                let mut transport = match make_transport(&config) {
                    Ok(t) => t,
                    Err(err) => {
                        tracing::error!("configuration polling cannot start: {err}");
                        let _ = news_tx.send(ConfigNews::Note {
                            message: format!("cannot reach the platform for configuration: {err}"),
                        });
                        return;
                    }
                };
                watch(store, config, &mut transport, &news_tx, &stopped);
            })
            .ok();
        if thread.is_none() {
            tracing::error!("cannot start the configuration thread");
        }
        ConfigWatch {
            news,
            stop: Some(stop),
            thread,
        }
    }

    /// What happened since the last call (never blocks).
    pub fn take_news(&self) -> Vec<ConfigNews> {
        self.news.try_iter().collect()
    }
}

impl Drop for ConfigWatch {
    fn drop(&mut self) {
        // Dropping the sender wakes the thread, which then ends.
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Sleep `for_`, or less if told to stop; true when told to stop.
fn pause(stopped: &Receiver<()>, for_: StdDuration) -> bool {
    !matches!(stopped.recv_timeout(for_), Err(RecvTimeoutError::Timeout))
}

fn watch(
    mut store: ConfigStore,
    mut current: Config,
    transport: &mut dyn ConfigTransport,
    news: &Sender<ConfigNews>,
    stopped: &Receiver<()>,
) {
    // First: does the platform take the configuration we started on?
    loop {
        match check_start(&mut store, transport, &current) {
            StartCheck::Confirmed => {
                let installed = store.in_force().clone();
                tracing::info!(
                    "configuration version {} confirmed by the platform",
                    installed.version
                );
                let _ = news.send(ConfigNews::Confirmed { installed });
                break;
            }
            StartCheck::RolledBack { reason } => {
                tracing::warn!("configuration on trial rolled back: {reason}");
                let _ = news.send(ConfigNews::RestartNeeded { reason });
                return;
            }
            StartCheck::NotYet(err) => {
                tracing::info!("platform not reachable for the start report yet: {err:?}");
                if !store.on_trial() {
                    // Nothing to confirm: the report goes with the next poll.
                    break;
                }
                if pause(stopped, START_CHECK_RETRY) {
                    return;
                }
            }
            StartCheck::Store(err) => {
                tracing::error!("configuration store: {err}");
                let _ = news.send(ConfigNews::Note {
                    message: format!("configuration store: {err}"),
                });
                return;
            }
        }
    }
    // Each kiosk its own jitter, so a fleet does not poll in lockstep.
    let seed = uuid::Uuid::new_v4().as_u64_pair().0;
    let mut poller = Poller::new(Utc::now(), seed);
    loop {
        if pause(stopped, WAKE_EVERY) {
            return;
        }
        let Some(outcome) = poller.tick(Utc::now(), &mut store, transport, &current) else {
            continue;
        };
        match outcome {
            PollOutcome::NothingNew => {}
            PollOutcome::Applied {
                installed,
                config,
                restart_needed,
            } => {
                tracing::info!(
                    "configuration version {} applied (restart needed: {restart_needed})",
                    installed.version
                );
                if restart_needed {
                    let _ = news.send(ConfigNews::RestartNeeded {
                        reason: format!(
                            "configuration version {} changes devices, certificates or identity",
                            installed.version
                        ),
                    });
                    // The store holds it on trial; the next start confirms it.
                    return;
                }
                current = (*config).clone();
                let _ = news.send(ConfigNews::Hot { config, installed });
            }
            PollOutcome::Refused(refusal) => {
                tracing::warn!("configuration bundle refused: {refusal}");
                let _ = news.send(ConfigNews::Note {
                    message: format!("bundle refused: {refusal}"),
                });
            }
            PollOutcome::Unreachable(err) => {
                tracing::debug!("configuration poll: platform unreachable: {err:?}");
            }
            PollOutcome::Store(err) => {
                tracing::error!("configuration store: {err}");
                let _ = news.send(ConfigNews::Note {
                    message: format!("configuration store: {err}"),
                });
            }
        }
    }
}
