//! The kiosk as it runs for real: the configured devices, the photo coach,
//! the outbox and sync, the platform look-up, spoken prompts and the audit
//! log, composed into one [`Shell`].
//!
//! ```text
//! Effect ─▶ DeviceShell (card reader, printer: worker thread)
//!              └─▶ Parts: CameraShell (camera + coach: worker thread)
//!                           └─▶ RecordsShell (outbox, drafts, sync, look-up, audit)
//!                                  └─▶ speech
//! ```
//!
//! Each part takes the effects it is about and hands the rest on; nothing
//! here blocks the UI thread.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::config::Config;
use crate::devices::Devices;
use crate::photo::PortraitAnalyzer;
use crate::speech::{Speaker, SpeechConfig};
use crate::store::Blobs;
use crate::ui::camera_shell::CameraShell;
use crate::ui::device_shell::{CardPortraits, DeviceShell};
use crate::ui::records_shell::{RecordsSettings, RecordsShell};
use crate::ui::shell::{CameraView, SessionPhotos, Shell};
use kiosk_core::session::{DeviceLine, Effect, Event};

use super::boot::KioskPaths;

/// Everything but the card reader and printer.
pub struct Parts {
    camera: CameraShell,
    records: RecordsShell,
    speaker: Speaker,
    photos: SessionPhotos,
}

fn speech_config(config: &Config) -> SpeechConfig {
    SpeechConfig {
        enabled: config.accessibility.spoken_prompts,
        ..SpeechConfig::default()
    }
}

impl Shell for Parts {
    fn execute(&mut self, effect: Effect, now: DateTime<Utc>) {
        let Some(effect) = self.camera.execute(effect, now) else {
            return;
        };
        let Some(effect) = self.records.execute(effect, now) else {
            return;
        };
        match effect {
            Effect::Speak(text) => {
                if let Err(err) = self.speaker.speak(&text) {
                    tracing::debug!("prompt not spoken: {err}");
                }
            }
            Effect::StopSpeaking => self.speaker.stop(),
            other => tracing::warn!("no part of the kiosk carries out {other:?}"),
        }
    }

    fn poll(&mut self, _now: DateTime<Utc>) -> Vec<Event> {
        let mut events = self.camera.poll();
        events.extend(self.records.poll());
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

    fn device_lines(&self) -> Vec<DeviceLine> {
        let mut lines = vec![self.camera.status_line()];
        lines.extend(self.records.status_lines());
        let speech = self.speaker.status();
        lines.push(DeviceLine {
            name_zh: "语音提示".into(),
            ok: !matches!(speech, crate::speech::SpeechStatus::Unavailable { .. }),
            status_zh: speech.message_zh(),
        });
        lines
    }

    fn reconfigure(&mut self, config: &Config) {
        self.records.set_draft_window(config.session.draft_window);
        let wanted = speech_config(config);
        let on = !matches!(self.speaker.status(), crate::speech::SpeechStatus::Disabled);
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
    Store(#[from] crate::store::StoreError),
}

impl ShellError {
    pub fn message_zh(&self) -> String {
        match self {
            ShellError::Store(err) => err.message_zh().to_string(),
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
    let parts = Parts {
        camera,
        records,
        speaker: Speaker::new(speech_config(config)),
        photos,
    };
    Ok(Box::new(DeviceShell::start_with_portraits(
        devices.card_reader,
        devices.printer,
        today,
        Some(portraits),
        parts,
    )))
}
