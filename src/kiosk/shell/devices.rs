//! A shell over the real card reader and receipt printer.
//!
//! Devices block (a card read, a print take seconds), so they live on one
//! worker thread; the UI thread only sends jobs and collects answers on
//! [`Shell::poll`]. Effects that are not about these two devices (store,
//! platform, camera, speech, audit) go to the next shell in line
//! (`kiosk::product` puts the camera, records and speech there).

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::devices::card_reader::{CardEvent, CardReader};
use crate::devices::printer::ReceiptPrinter;
use crate::devices::WltSetup;
use crate::kiosk::device_status::{printer_line, reader_line};
use crate::receipt;
use crate::wlt::CardPortrait;
use kiosk_core::card::CardRead;
use kiosk_core::record::{PhotoRef, ValidRecord};
use kiosk_core::session::{CardFailure, DeviceLine, Effect, Event};

use super::shell::{CameraView, SessionPhotos, Shell};

/// How often an armed reader is asked for a card.
const READER_POLL: StdDuration = StdDuration::from_millis(300);
/// After a failed read, wait before trying again (a person lifts the card,
/// an unplugged reader does not flood the screen with messages).
const AFTER_FAILURE: StdDuration = StdDuration::from_secs(2);

enum Job {
    ArmReader,
    DisarmReader,
    Print(Box<ValidRecord>, DateTime<Utc>),
    /// Ask both devices how they are (for the staff device page).
    CheckDevices,
}

pub struct DeviceShell<F: Shell> {
    fallback: F,
    jobs: Sender<Job>,
    answers: Receiver<Event>,
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

impl<F: Shell> DeviceShell<F> {
    /// Start the device worker. `today` gives the date a card's ID number
    /// is checked against (the shell may read the clock; the core may not).
    pub fn start(
        reader: Box<dyn CardReader>,
        printer: Box<dyn ReceiptPrinter>,
        today: impl Fn() -> chrono::NaiveDate + Send + 'static,
        fallback: F,
    ) -> DeviceShell<F> {
        Self::start_with_portraits(reader, printer, today, None, fallback)
    }

    /// As [`DeviceShell::start`], and after each read the chip's portrait
    /// is decoded (on the worker: the vendor library can be slow).
    pub fn start_with_portraits(
        mut reader: Box<dyn CardReader>,
        mut printer: Box<dyn ReceiptPrinter>,
        today: impl Fn() -> chrono::NaiveDate + Send + 'static,
        portraits: Option<CardPortraits>,
        fallback: F,
    ) -> DeviceShell<F> {
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (answer_tx, answers) = mpsc::channel::<Event>();
        thread::spawn(move || {
            let mut armed = false;
            loop {
                match job_rx.recv_timeout(READER_POLL) {
                    Ok(Job::ArmReader) => armed = true,
                    Ok(Job::DisarmReader) => armed = false,
                    Ok(Job::Print(valid, at)) => {
                        let outcome = receipt::print(printer.as_mut(), &valid, at);
                        if answer_tx.send(Event::Printed(outcome)).is_err() {
                            return;
                        }
                    }
                    Ok(Job::CheckDevices) => {
                        let lines = vec![
                            reader_line(&reader.status(), &reader.describe()),
                            printer_line(&printer.status(), &printer.describe()),
                        ];
                        if answer_tx.send(Event::DevicesChecked(lines)).is_err() {
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
                        message_zh: "读卡器只能读到卡号，读不出身份信息，请找工作人员帮忙录入"
                            .into(),
                    })),
                    Err(err) => Some(Event::CardFailed(CardFailure {
                        code: err.code().into(),
                        message_zh: err.message_zh(),
                    })),
                };
                if let Some(event) = answer {
                    let failed = matches!(event, Event::CardFailed(_));
                    let portrait = match (&event, &portraits) {
                        (Event::CardRead(card), Some(portraits)) => Some(portraits.decode(card)),
                        _ => None,
                    };
                    // The session re-arms the reader when it wants another card.
                    armed = false;
                    if answer_tx.send(event).is_err() {
                        return;
                    }
                    if let Some(portrait) = portrait {
                        if answer_tx.send(portrait).is_err() {
                            return;
                        }
                    }
                    if failed {
                        thread::sleep(AFTER_FAILURE);
                    }
                }
            }
        });
        DeviceShell {
            fallback,
            jobs,
            answers,
        }
    }
}

impl<F: Shell> Shell for DeviceShell<F> {
    fn execute(&mut self, effect: Effect, now: DateTime<Utc>) {
        let job = match effect {
            Effect::WaitForCard => Job::ArmReader,
            Effect::StopCardReader => Job::DisarmReader,
            Effect::PrintReceipt(valid) => Job::Print(valid, now),
            Effect::CheckDevices => Job::CheckDevices,
            other => return self.fallback.execute(other, now),
        };
        if self.jobs.send(job).is_err() {
            // The worker is gone (it panicked in a driver): say so plainly.
            self.fallback
                .execute(Effect::Speak("设备出现故障，请联系工作人员".into()), now);
        }
    }

    fn poll(&mut self, now: DateTime<Utc>) -> Vec<Event> {
        let mut events = self.fallback.poll(now);
        for event in self.answers.try_iter() {
            events.push(match event {
                // The reader and printer answered; add what the rest runs.
                Event::DevicesChecked(mut lines) => {
                    lines.extend(self.fallback.device_lines());
                    Event::DevicesChecked(lines)
                }
                other => other,
            });
        }
        events
    }

    fn camera(&self) -> Option<CameraView> {
        self.fallback.camera()
    }

    fn new_record_id(&mut self) -> Uuid {
        Uuid::new_v4()
    }

    fn session_ended(&mut self) {
        self.fallback.session_ended();
    }

    fn device_lines(&self) -> Vec<DeviceLine> {
        self.fallback.device_lines()
    }

    fn reconfigure(&mut self, config: &crate::config::Config) {
        self.fallback.reconfigure(config);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::card_reader::test::TestReader;
    use crate::devices::printer::test::TestPrinter;
    use crate::devices::printer::PrinterStatus;
    use crate::kiosk::stand_in;
    use crate::ui::shell::SimulatedShell;
    use kiosk_core::session::PrintOutcome;

    fn wait_for(shell: &mut impl Shell, what: impl Fn(&Event) -> bool) -> Event {
        for _ in 0..100 {
            if let Some(e) = shell.poll(Utc::now()).into_iter().find(|e| what(e)) {
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
            SimulatedShell::new(),
        );
        shell.execute(Effect::WaitForCard, Utc::now());
        let read = wait_for(&mut shell, |e| matches!(e, Event::CardRead(_)));
        assert_eq!(read, Event::CardRead(Box::new(card)));

        printer.state().status = PrinterStatus::PaperOut;
        let valid = valid_record();
        shell.execute(Effect::PrintReceipt(Box::new(valid.clone())), Utc::now());
        let answer = wait_for(&mut shell, |e| matches!(e, Event::Printed(_)));
        assert!(
            matches!(answer, Event::Printed(PrintOutcome::Failed { .. })),
            "{answer:?}"
        );

        printer.state().status = PrinterStatus::Ready;
        shell.execute(Effect::PrintReceipt(Box::new(valid)), Utc::now());
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
        let mut shell = DeviceShell::start_with_portraits(
            Box::new(reader),
            Box::new(TestPrinter::new()),
            || Utc::now().date_naive(),
            Some(CardPortraits {
                wlt: WltSetup::NotConfigured,
                photos: photos.clone(),
            }),
            SimulatedShell::new(),
        );
        shell.execute(Effect::WaitForCard, Utc::now());
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

    /// A complete record, made by running the session to its review.
    fn valid_record() -> ValidRecord {
        use kiosk_core::forms::FieldEdit;
        use kiosk_core::session::{Event as E, Session};
        let now = Utc::now();
        let mut s = Session::new(stand_in::session_settings(), now);
        let photo = |n: u8| kiosk_core::record::PhotoRef {
            sha256: format!("{n:02x}").repeat(32),
            bytes: 1000,
        };
        let field = |key: &str, edit: FieldEdit| E::FieldEdited {
            key: key.into(),
            edit,
        };
        let events = vec![
            E::Start {
                record_id: Uuid::from_u128(7),
            },
            E::CardRead(Box::new(stand_in::sample_card().unwrap())),
            E::Next,
            E::PortraitTaken(photo(1)),
            E::Next,
            E::ToggleCategory(kiosk_core::category::Category::MartyrFamily),
            E::Next,
            field("relation", FieldEdit::Choose(0)),
            field("deceased_name", FieldEdit::Text("王大山".into())),
            field("receives_pension", FieldEdit::Choose(0)),
            E::Next,
            E::DocumentTaken(kiosk_core::record::DocumentPhoto {
                kind: kiosk_core::category::DocumentKind::HouseholdRegister,
                photo: photo(2),
            }),
            E::DocumentTaken(kiosk_core::record::DocumentPhoto {
                kind: kiosk_core::category::DocumentKind::MartyrCertificate,
                photo: photo(3),
            }),
            E::Next,
            field("work", FieldEdit::Choose(4)),
            field("monthly_income_yuan", FieldEdit::Text("2000".into())),
            field("pension_insurance", FieldEdit::Choose(2)),
            field("medical_insurance", FieldEdit::Choose(1)),
            field("housing", FieldEdit::Choose(0)),
            field("social_assistance", FieldEdit::Toggle(4)),
            field("state_benefits", FieldEdit::Toggle(0)),
            field("disability_subsidies", FieldEdit::Toggle(2)),
        ];
        for e in events {
            s.handle(e, now);
        }
        let record = s.record().unwrap().clone();
        kiosk_core::record::validate(&record, now.date_naive()).unwrap()
    }
}
