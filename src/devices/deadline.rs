//! Run blocking device calls with a deadline.
//!
//! Some device libraries block without a timeout of their own (a PC/SC
//! transmit to a card that never answers, a V4L2 frame grab from a stalled
//! camera). [`Guarded`] keeps the device in a worker thread and waits for
//! each call at most its timeout. A call that overruns leaves its worker
//! behind (it ends when the library call finally returns) and the next call
//! starts a fresh worker with a fresh device state from the factory, so a
//! hung device never hangs the kiosk.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

type Job<D> = Box<dyn FnOnce(&mut D) + Send>;

/// The call did not finish in time (or its worker died).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overrun {
    TimedOut,
    WorkerGone,
}

pub struct Guarded<D> {
    factory: Arc<dyn Fn() -> D + Send + Sync>,
    worker: Option<Sender<Job<D>>>,
    name: String,
}

impl<D: 'static> Guarded<D> {
    /// `factory` makes the device state a worker starts with; it runs in the
    /// worker thread, so `D` need not be `Send` (PC/SC handles are not
    /// always).
    pub fn new(name: &str, factory: impl Fn() -> D + Send + Sync + 'static) -> Guarded<D> {
        Guarded {
            factory: Arc::new(factory),
            worker: None,
            name: name.to_string(),
        }
    }

    fn worker(&mut self) -> Result<Sender<Job<D>>, Overrun> {
        if let Some(worker) = &self.worker {
            return Ok(worker.clone());
        }
        let (tx, rx) = mpsc::channel::<Job<D>>();
        let factory = Arc::clone(&self.factory);
        thread::Builder::new()
            .name(format!("device-{}", self.name))
            .spawn(move || {
                let mut device = factory();
                while let Ok(job) = rx.recv() {
                    job(&mut device);
                }
            })
            .map_err(|_| Overrun::WorkerGone)?;
        self.worker = Some(tx.clone());
        Ok(tx)
    }

    /// Run `call` on the device, waiting at most `timeout`.
    pub fn call<R: Send + 'static>(
        &mut self,
        timeout: Duration,
        call: impl FnOnce(&mut D) -> R + Send + 'static,
    ) -> Result<R, Overrun> {
        let worker = self.worker()?;
        let (reply_tx, reply_rx) = mpsc::channel::<R>();
        let job: Job<D> = Box::new(move |device| {
            let _ = reply_tx.send(call(device));
        });
        if worker.send(job).is_err() {
            self.worker = None;
            return Err(Overrun::WorkerGone);
        }
        match reply_rx.recv_timeout(timeout) {
            Ok(reply) => Ok(reply),
            Err(RecvTimeoutError::Timeout) => {
                // Abandon the stuck worker; its device state goes with it.
                self.worker = None;
                Err(Overrun::TimedOut)
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.worker = None;
                Err(Overrun::WorkerGone)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn calls_share_the_device_state() {
        let mut guarded = Guarded::new("counter", || 0u32);
        for expected in 1..=3 {
            let got = guarded
                .call(Duration::from_secs(5), |count| {
                    *count += 1;
                    *count
                })
                .unwrap();
            assert_eq!(got, expected);
        }
    }

    #[test]
    fn a_hung_call_times_out_and_the_next_call_gets_a_fresh_device() {
        let made = Arc::new(AtomicUsize::new(0));
        let counter = made.clone();
        let mut guarded = Guarded::new("hang", move || counter.fetch_add(1, Ordering::SeqCst));
        let hung = guarded.call(Duration::from_millis(50), |_| {
            thread::sleep(Duration::from_millis(500));
        });
        assert_eq!(hung, Err(Overrun::TimedOut));
        let generation = guarded.call(Duration::from_secs(5), |generation| *generation);
        assert_eq!(generation, Ok(1));
        assert_eq!(made.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_panicking_call_is_reported_not_propagated() {
        let mut guarded = Guarded::new("panic", || ());
        let result: Result<(), Overrun> = guarded.call(Duration::from_secs(5), |_| {
            panic!("driver bug");
        });
        assert_eq!(result, Err(Overrun::WorkerGone));
        assert_eq!(guarded.call(Duration::from_secs(5), |_| 7), Ok(7));
    }
}
