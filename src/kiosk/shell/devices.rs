//! The card reader and receipt printer as a part of the kiosk's shell.
//!
//! Devices block (a card read, a print take seconds), so they live on one
//! worker thread; the UI thread only sends jobs and collects answers on
//! [`DeviceShell::poll`]. Every job gets its answer even when the worker
//! has died (a driver panicked): a print then fails, a device check says
//! so, an armed reader reports a failure, instead of the session waiting
//! forever.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::thread;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};

use crate::devices::card_reader::{CardEvent, CardReader};
use crate::devices::printer::ReceiptPrinter;
use crate::devices::wlt::CardPortrait;
use crate::devices::WltSetup;
use crate::receipt;
use kiosk_core::card::CardRead;
use kiosk_core::record::{PhotoRef, ValidRecord};
use kiosk_core::session::{CardFailure, DeviceLine, Event, PrintOutcome};

use super::status::{printer_line, reader_line, PRINTER_ZH, READER_ZH};
use super::{SessionPhotos, WakeHook, Waker};

/// How often an armed reader is asked for a card: the wait a person sees
/// between laying the card down and the reader starting to read it.
const READER_POLL: StdDuration = StdDuration::from_millis(100);
/// After a failed read, wait before trying again (a person lifts the card,
/// an unplugged reader does not flood the screen with messages).
const AFTER_FAILURE: StdDuration = StdDuration::from_secs(2);

/// Said and shown when the device worker has died.
pub const WORKER_GONE_CODE: &str = "device_worker_gone";
pub const WORKER_GONE_ZH: &str = "设备出现故障，请联系工作人员";

enum Job {
    ArmReader,
    DisarmReader,
    Print(Box<ValidRecord>, DateTime<Utc>),
    /// Ask both devices how they are (for the staff device page).
    CheckDevices,
}

/// What the worker still owes the session; answered with a failure when
/// the worker dies first.
#[derive(Debug, Default)]
struct Owed {
    reader_armed: bool,
    prints: usize,
    checks: usize,
}

pub struct DeviceShell {
    jobs: Sender<Job>,
    answers: Receiver<Event>,
    owed: Owed,
    worker_gone: bool,
    /// The reader's failure was told once since the worker died. The
    /// session arms the reader again after every failure; telling it again
    /// each time would repeat the message without end.
    reader_failure_told: bool,
    /// Answers made on the UI thread (the worker is gone).
    ready: Vec<Event>,
    waker: Waker,
}

/// Decoding the chip's portrait after each read, into the session's photos.
pub struct CardPortraits {
    pub wlt: WltSetup,
    pub photos: SessionPhotos,
}

impl CardPortraits {
    /// The event that follows a read of `card`.
    fn decode(&self, card: &CardRead) -> Event {
        match self.wlt.portrait(&card.photo_wlt) {
            CardPortrait::Jpeg(jpeg) => {
                let bytes = jpeg.len() as u64;
                let sha256 = match self.photos.lock() {
                    Ok(mut photos) => photos.insert(jpeg),
                    Err(poisoned) => poisoned.into_inner().insert(jpeg),
                };
                Event::CardPortraitDecoded {
                    photo: Some(PhotoRef { sha256, bytes }),
                    note_zh: String::new(),
                }
            }
            CardPortrait::NotDecoded { note_zh } => Event::CardPortraitDecoded {
                photo: None,
                note_zh,
            },
        }
    }
}

impl DeviceShell {
    /// Start the device worker. `today` gives the date a card's ID number
    /// is checked against (the shell may read the clock; the core may not).
    /// With `portraits`, the chip's portrait is decoded after each read (on
    /// the worker: the vendor library can be slow).
    pub fn start(
        mut reader: Box<dyn CardReader>,
        mut printer: Box<dyn ReceiptPrinter>,
        today: impl Fn() -> chrono::NaiveDate + Send + 'static,
        portraits: Option<CardPortraits>,
        paper: receipt::Paper,
    ) -> DeviceShell {
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (answer_tx, answers) = mpsc::channel::<Event>();
        let waker = Waker::default();
        let worker_waker = waker.clone();
        let spawned = thread::Builder::new()
            .name("device-shell".into())
            .spawn(move || {
                run_worker(
                    reader.as_mut(),
                    printer.as_mut(),
                    &today,
                    portraits.as_ref(),
                    paper,
                    &job_rx,
                    &Answers {
                        events: answer_tx,
                        waker: worker_waker,
                    },
                )
            });
        // A worker that never started is a worker that died: its answer
        // channel is closed, and every job is answered as failed.
        if let Err(err) = spawned {
            tracing::error!("cannot start the device worker thread: {err}");
        }
        DeviceShell {
            jobs,
            answers,
            owed: Owed::default(),
            worker_gone: false,
            reader_failure_told: false,
            ready: Vec::new(),
            waker,
        }
    }

    /// Wake the UI loop whenever the worker has answered.
    pub fn set_wake(&mut self, hook: WakeHook) {
        self.waker.set(hook);
    }

    /// `Effect::WaitForCard`: the reader answers with the next card.
    pub fn wait_for_card(&mut self) {
        self.owed.reader_armed = true;
        self.send(Job::ArmReader);
    }

    /// `Effect::StopCardReader`.
    pub fn stop_card_reader(&mut self) {
        self.owed.reader_armed = false;
        self.send(Job::DisarmReader);
    }

    /// `Effect::PrintReceipt`: answered by `Event::Printed`.
    pub fn print(&mut self, valid: Box<ValidRecord>, now: DateTime<Utc>) {
        self.owed.prints += 1;
        self.send(Job::Print(valid, now));
    }

    /// `Effect::CheckDevices`: answered by `Event::DevicesChecked` with the
    /// reader's and printer's lines (the caller adds the other parts').
    pub fn check_devices(&mut self) {
        self.owed.checks += 1;
        self.send(Job::CheckDevices);
    }

    /// What the devices answered since the last poll.
    pub fn poll(&mut self) -> Vec<Event> {
        let mut events = std::mem::take(&mut self.ready);
        loop {
            match self.answers.try_recv() {
                Ok(event) => {
                    self.settle(&event);
                    events.push(event);
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    self.gone();
                    events.append(&mut self.ready);
                    break;
                }
            }
        }
        events
    }

    fn settle(&mut self, event: &Event) {
        match event {
            Event::CardRead(_) | Event::CardFailed(_) => self.owed.reader_armed = false,
            Event::Printed(_) => self.owed.prints = self.owed.prints.saturating_sub(1),
            Event::DevicesChecked(_) => self.owed.checks = self.owed.checks.saturating_sub(1),
            _ => {}
        }
    }

    fn send(&mut self, job: Job) {
        if self.worker_gone || self.jobs.send(job).is_err() {
            self.gone();
        }
    }

    /// The worker has died: answer everything it still owed, now and for
    /// every later job.
    fn gone(&mut self) {
        if !self.worker_gone {
            tracing::error!("the device worker has stopped; device jobs are answered as failed");
            self.worker_gone = true;
        }
        let owed = std::mem::take(&mut self.owed);
        if owed.reader_armed && !self.reader_failure_told {
            self.reader_failure_told = true;
            self.ready.push(Event::CardFailed(CardFailure {
                code: WORKER_GONE_CODE.into(),
                message_zh: WORKER_GONE_ZH.into(),
            }));
        }
        for _ in 0..owed.prints {
            self.ready.push(Event::Printed(PrintOutcome::Failed {
                code: WORKER_GONE_CODE.into(),
                message_zh: WORKER_GONE_ZH.into(),
            }));
        }
        for _ in 0..owed.checks {
            self.ready.push(Event::DevicesChecked(worker_gone_lines()));
        }
    }
}

/// The staff page's lines for a reader and printer nobody can ask.
fn worker_gone_lines() -> Vec<DeviceLine> {
    [READER_ZH, PRINTER_ZH]
        .into_iter()
        .map(|name_zh| DeviceLine {
            name_zh: name_zh.into(),
            ok: false,
            status_zh: WORKER_GONE_ZH.into(),
        })
        .collect()
}

/// The worker's way back: the answer, then a wake-up for the UI loop.
struct Answers {
    events: Sender<Event>,
    waker: Waker,
}

impl Answers {
    /// False when the shell is gone.
    fn send(&self, event: Event) -> bool {
        let sent = self.events.send(event).is_ok();
        if sent {
            self.waker.wake();
        }
        sent
    }
}

/// The device worker's loop; returns when the shell is gone.
fn run_worker(
    reader: &mut dyn CardReader,
    printer: &mut dyn ReceiptPrinter,
    today: &dyn Fn() -> chrono::NaiveDate,
    portraits: Option<&CardPortraits>,
    paper: receipt::Paper,
    jobs: &Receiver<Job>,
    answers: &Answers,
) {
    let mut armed = false;
    loop {
        match jobs.recv_timeout(READER_POLL) {
            Ok(Job::ArmReader) => armed = true,
            Ok(Job::DisarmReader) => armed = false,
            Ok(Job::Print(valid, at)) => {
                let outcome = receipt::print(printer, &valid, at, paper);
                if !answers.send(Event::Printed(outcome)) {
                    return;
                }
            }
            Ok(Job::CheckDevices) => {
                let lines = vec![
                    reader_line(&reader.status(), &reader.describe_zh()),
                    printer_line(&printer.status(), &printer.describe_zh()),
                ];
                if !answers.send(Event::DevicesChecked(lines)) {
                    return;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        if !armed {
            continue;
        }
        let answer = match reader.poll(today()) {
            Ok(CardEvent::Read(card)) => Some(Event::CardRead(card)),
            Ok(CardEvent::NoCard | CardEvent::StillPresent) => None,
            Ok(CardEvent::ChipOnly { .. }) => Some(Event::CardFailed(CardFailure {
                code: "chip_only".into(),
                message_zh: "读卡器只能读到卡号，读不出身份信息，请找工作人员帮忙录入".into(),
            })),
            Err(err) => Some(Event::CardFailed(CardFailure {
                code: err.code().into(),
                message_zh: err.message_zh(),
            })),
        };
        if let Some(event) = answer {
            let failed = matches!(event, Event::CardFailed(_));
            // The identity goes to the screen first; the chip portrait
            // (the vendor's decoder can be slow) follows.
            let read_card = match (&event, portraits) {
                (Event::CardRead(card), Some(_)) => Some(card.clone()),
                _ => None,
            };
            // The session re-arms the reader when it wants another card.
            armed = false;
            if !answers.send(event) {
                return;
            }
            if let (Some(card), Some(portraits)) = (read_card, portraits) {
                if !answers.send(portraits.decode(&card)) {
                    return;
                }
            }
            if failed {
                thread::sleep(AFTER_FAILURE);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::card_reader::test::TestReader;
    use crate::devices::printer::test::TestPrinter;
    use crate::devices::printer::PrinterStatus;
    use crate::devices::printer::{PrintReport, PrinterError};
    use crate::kiosk::shell::test_support::{session_at_review, valid_record};
    use crate::kiosk::stand_in;

    fn wait_for(shell: &mut DeviceShell, what: impl Fn(&Event) -> bool) -> Event {
        for _ in 0..100 {
            if let Some(e) = shell.poll().into_iter().find(|e| what(e)) {
                return e;
            }
            thread::sleep(StdDuration::from_millis(50));
        }
        panic!("no answer from the device worker");
    }

    #[test]
    fn a_card_on_the_reader_becomes_a_card_read_and_a_print_an_answer() {
        let reader = TestReader::new();
        let printer = TestPrinter::new();
        let card = stand_in::sample_card().unwrap();
        reader.push(Ok(CardEvent::Read(Box::new(card.clone()))));
        let mut shell = DeviceShell::start(
            Box::new(reader.clone()),
            Box::new(printer.clone()),
            || Utc::now().date_naive(),
            None,
            receipt::Paper::default(),
        );
        shell.wait_for_card();
        let read = wait_for(&mut shell, |e| matches!(e, Event::CardRead(_)));
        assert_eq!(read, Event::CardRead(Box::new(card)));

        printer.state().status = PrinterStatus::PaperOut;
        let valid = valid_record();
        shell.print(Box::new(valid.clone()), Utc::now());
        let answer = wait_for(&mut shell, |e| matches!(e, Event::Printed(_)));
        assert!(
            matches!(answer, Event::Printed(PrintOutcome::Failed { .. })),
            "{answer:?}"
        );

        printer.state().status = PrinterStatus::Ready;
        shell.print(Box::new(valid), Utc::now());
        let answer = wait_for(&mut shell, |e| matches!(e, Event::Printed(_)));
        assert_eq!(answer, Event::Printed(PrintOutcome::Printed));
        assert_eq!(printer.state().printed.len(), 1);
    }

    #[test]
    fn after_a_read_the_chip_portrait_answer_follows() {
        let reader = TestReader::new();
        let card = stand_in::sample_card().unwrap();
        reader.push(Ok(CardEvent::Read(Box::new(card))));
        let photos = SessionPhotos::default();
        let mut shell = DeviceShell::start(
            Box::new(reader),
            Box::new(TestPrinter::new()),
            || Utc::now().date_naive(),
            Some(CardPortraits {
                wlt: WltSetup::NotConfigured,
                photos: photos.clone(),
            }),
            receipt::Paper::default(),
        );
        shell.wait_for_card();
        let answer = wait_for(&mut shell, |e| {
            matches!(e, Event::CardPortraitDecoded { .. })
        });
        let Event::CardPortraitDecoded { photo, note_zh } = answer else {
            unreachable!()
        };
        assert_eq!(photo, None);
        assert!(note_zh.contains("解码"), "{note_zh}");
        assert!(photos.lock().unwrap().is_empty());
    }

    /// A printer whose driver panics on a print: the worker thread dies.
    struct PanickingPrinter;

    impl ReceiptPrinter for PanickingPrinter {
        fn status(&mut self) -> Result<PrinterStatus, PrinterError> {
            Ok(PrinterStatus::Ready)
        }
        fn print(&mut self, _receipt: &[u8]) -> Result<PrintReport, PrinterError> {
            panic!("driver bug (on purpose, in a test)");
        }
        fn describe(&self) -> String {
            "panicking test printer".into()
        }
        fn describe_zh(&self) -> String {
            "会崩溃的测试打印机".into()
        }
    }

    #[test]
    fn a_session_printing_when_the_device_worker_dies_is_told_the_print_failed() {
        use kiosk_core::session::{Effect, PrintState};
        let now = Utc::now();
        let mut session = session_at_review(now);
        let mut shell = DeviceShell::start(
            Box::new(TestReader::new()),
            Box::new(PanickingPrinter),
            || Utc::now().date_naive(),
            None,
            receipt::Paper::default(),
        );
        for effect in session.handle(Event::PrintRequested, now) {
            if let Effect::PrintReceipt(valid) = effect {
                shell.print(valid, now);
            }
        }
        assert_eq!(session.view(now).printing, PrintState::Printing);
        let answer = wait_for(&mut shell, |e| matches!(e, Event::Printed(_)));
        session.handle(answer, now);
        assert_eq!(
            session.view(now).printing,
            PrintState::Failed(WORKER_GONE_ZH.into())
        );
    }

    #[test]
    fn a_dead_worker_still_answers_every_job() {
        let mut shell = DeviceShell::start(
            Box::new(TestReader::new()),
            Box::new(PanickingPrinter),
            || Utc::now().date_naive(),
            None,
            receipt::Paper::default(),
        );
        shell.wait_for_card();
        // The print kills the worker while it holds the job.
        shell.print(Box::new(valid_record()), Utc::now());
        let failed = |e: &Event| matches!(e, Event::Printed(PrintOutcome::Failed { code, .. }) if code == WORKER_GONE_CODE);
        let card = |e: &Event| matches!(e, Event::CardFailed(CardFailure { code, .. }) if code == WORKER_GONE_CODE);
        let mut events = Vec::new();
        for _ in 0..100 {
            events.extend(shell.poll());
            if events.iter().any(failed) {
                break;
            }
            thread::sleep(StdDuration::from_millis(50));
        }
        assert!(events.iter().any(failed), "{events:?}");
        // The armed reader was answered too.
        assert!(events.iter().any(card), "{events:?}");

        // Jobs sent after the death are answered at once; the reader's
        // failure is not told again (the session re-arms after each one).
        shell.wait_for_card();
        shell.print(Box::new(valid_record()), Utc::now());
        shell.check_devices();
        let events = shell.poll();
        assert!(events.iter().any(failed), "{events:?}");
        assert!(!events.iter().any(card), "{events:?}");
        let lines = events
            .iter()
            .find_map(|e| match e {
                Event::DevicesChecked(lines) => Some(lines.clone()),
                _ => None,
            })
            .expect("a device check answer");
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| !l.ok && l.status_zh == WORKER_GONE_ZH));
    }
}
