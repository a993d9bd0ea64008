//! The kiosk as it runs for real: the configured devices, the photo coach,
//! the outbox and sync, the platform look-up, spoken prompts and the audit
//! log, composed into one [`Shell`].
//!
//! ```text
//!                    ┌─▶ DeviceShell (card reader, printer: worker thread)
//! Effect ─▶ match ───┼─▶ CameraShell (camera + coach: worker thread)
//!                    ├─▶ RecordsShell (outbox, drafts, sync, look-up, audit)
//!                    └─▶ speech
//! ```
//!
//! Every effect is routed in one `match` without a catch-all, so a new
//! effect is a compile error here until some part carries it out. Nothing
//! here blocks the UI thread.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::config::Config;
use crate::devices::Devices;
use crate::photo::PortraitAnalyzer;
use crate::speech::{Speaker, SpeechConfig, SpeechStatus};
use crate::store::Blobs;
use kiosk_core::session::{DeviceLine, Effect, Event};

use super::boot::KioskPaths;
use super::shell::camera::CameraShell;
use super::shell::devices::{CardPortraits, DeviceShell};
use super::shell::records::{RecordsError, RecordsSettings, RecordsShell};
use super::shell::{CameraView, SessionPhotos, Shell, WakeHook};

/// The parts of the real shell.
pub struct ProductShell {
    devices: DeviceShell,
    camera: CameraShell,
    records: RecordsShell,
    speaker: Speaker,
    photos: SessionPhotos,
    /// What the clock is judged against, for the staff screen's clock line.
    clock: kiosk_core::time::ClockBounds,
}

fn speech_config(config: &Config) -> SpeechConfig {
    SpeechConfig {
        enabled: config.accessibility.spoken_prompts,
        ..SpeechConfig::default()
    }
}

impl Shell for ProductShell {
    fn execute(&mut self, effect: Effect, now: DateTime<Utc>) {
        // No `_ =>` arm: a new effect must be given to a part, here.
        match effect {
            Effect::WaitForCard => self.devices.wait_for_card(),
            Effect::StopCardReader => self.devices.stop_card_reader(),
            Effect::PrintReceipt(valid) => self.devices.print(valid, now),
            Effect::CheckDevices => self.devices.check_devices(),
            Effect::StartCamera => self.camera.start_live(),
            Effect::StopCamera => self.camera.stop_live(),
            Effect::CapturePhoto(purpose) => self.camera.capture(purpose),
            Effect::CapturePortraitNow => self.camera.capture_now(),
            Effect::LookUpPerson(id) => self.records.look_up(id),
            Effect::LoadDraft(id) => self.records.load_draft(id, now),
            Effect::SaveDraft(record) => self.records.save_draft(record, now),
            Effect::WipeDraft(record_id) => self.records.wipe_draft(record_id, now),
            Effect::Enqueue(valid) => self.records.enqueue(valid, now),
            Effect::LoadQueue => self.records.load_queue(),
            Effect::SyncNow => self.records.sync_now(),
            Effect::Audit(entry) => self.records.audit(entry),
            Effect::Speak(text) => {
                if let Err(err) = self.speaker.speak(&text) {
                    tracing::debug!("prompt not spoken: {err}");
                }
            }
            Effect::StopSpeaking => self.speaker.stop(),
        }
    }

    fn poll(&mut self, _now: DateTime<Utc>) -> Vec<Event> {
        let mut events = self.camera.poll();
        events.extend(self.records.poll());
        for event in self.devices.poll() {
            events.push(match event {
                // The reader and printer answered; add what the rest runs.
                Event::DevicesChecked(mut lines) => {
                    lines.extend(self.device_lines());
                    Event::DevicesChecked(lines)
                }
                other => other,
            });
        }
        events
    }

    fn camera(&self) -> Option<CameraView> {
        self.camera.view()
    }

    fn new_record_id(&mut self) -> Uuid {
        Uuid::new_v4()
    }

    fn session_ended(&mut self) {
        self.speaker.stop();
        match self.photos.lock() {
            Ok(mut photos) => *photos = Blobs::new(),
            Err(poisoned) => *poisoned.into_inner() = Blobs::new(),
        }
    }

    /// Everything but the card reader and printer (the device worker
    /// answers for those).
    fn device_lines(&self) -> Vec<DeviceLine> {
        let now = Utc::now();
        let mut lines = vec![
            self.camera.status_line(),
            super::clock::clock_line(&self.clock.judge(now), now),
        ];
        lines.extend(self.records.status_lines());
        let speech = self.speaker.status();
        lines.push(DeviceLine {
            name_zh: "语音提示".into(),
            ok: !matches!(speech, SpeechStatus::Unavailable { .. }),
            status_zh: speech.message_zh(),
        });
        lines
    }

    fn set_wake(&mut self, hook: WakeHook) {
        self.devices.set_wake(Arc::clone(&hook));
        self.camera.set_wake(hook);
    }

    fn set_preview_size(&mut self, size: Option<(u32, u32)>) {
        self.camera.set_preview_size(size);
    }

    fn reconfigure(&mut self, config: &Config) {
        self.records.set_draft_window(config.session.draft_window);
        let wanted = speech_config(config);
        let on = !matches!(self.speaker.status(), SpeechStatus::Disabled);
        if on != wanted.enabled {
            self.speaker.stop();
            self.speaker = Speaker::new(wanted);
        }
    }
}

/// Why the product shell could not be put together.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    #[error("outbox: {0}")]
    Records(#[from] RecordsError),
}

impl ShellError {
    pub fn message_zh(&self) -> String {
        match self {
            ShellError::Records(err) => err.message_zh().to_string(),
        }
    }
}

/// The product shell over `devices`, as `config` says.
pub fn build(
    config: &Config,
    devices: Devices,
    paths: &KioskPaths,
    today: impl Fn() -> NaiveDate + Send + 'static,
) -> Result<Box<dyn Shell>, ShellError> {
    let clock = super::clock::clock_bounds(config, &paths.outbox());
    let photos: SessionPhotos = Arc::default();
    let analyzer = match PortraitAnalyzer::load(None) {
        Ok(analyzer) => Some(Arc::new(analyzer)),
        Err(err) => {
            tracing::error!("face detection model not loaded, no automatic portrait: {err}");
            None
        }
    };
    let records = RecordsShell::start(
        RecordsSettings {
            db: paths.outbox(),
            local_key: paths.local_key(),
            recipient: config.county.platform_recipient.recipient().clone(),
            draft_window: config.session.draft_window,
            platform: Some(crate::config::http::client_settings(config)),
            audit_log: paths.audit_log(),
        },
        Arc::clone(&photos),
    )?;
    let camera = CameraShell::start(devices.camera, analyzer, Arc::clone(&photos));
    let portraits = CardPortraits {
        wlt: devices.wlt,
        photos: Arc::clone(&photos),
    };
    Ok(Box::new(ProductShell {
        devices: DeviceShell::start(
            devices.card_reader,
            devices.printer,
            today,
            Some(portraits),
            config.devices.receipt_paper,
        ),
        camera,
        records,
        speaker: Speaker::new(speech_config(config)),
        photos,
        clock,
    }))
}
