//! Optional spoken prompts in Mandarin, for people who cannot read the
//! screen, through the `espeak-ng` program (Debian `espeak-ng`).
//!
//! One prompt at a time: [`Speaker::speak`] returns at once, and a newer
//! prompt cuts off the one still playing (the screen has moved on, so the old
//! words are stale). espeak-ng runs as a child process that reads the text on
//! its standard input, so no text ever reaches a command line.
//!
//! Speech is an aid, never a requirement: when espeak-ng is missing or
//! disabled, [`Speaker::status`] says so in words staff understand and
//! [`Speaker::speak`] reports it without disturbing the flow.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use thiserror::Error;

/// How prompts are spoken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeechConfig {
    pub enabled: bool,
    /// The espeak-ng program (a name looked up in PATH, or a path).
    pub program: PathBuf,
    /// Voice; `cmn` is Mandarin.
    pub voice: String,
    /// Speed in words per minute; slower than espeak's 175 default for
    /// elderly listeners.
    pub words_per_minute: u32,
}

impl Default for SpeechConfig {
    fn default() -> Self {
        SpeechConfig {
            enabled: true,
            program: PathBuf::from("espeak-ng"),
            voice: "cmn".to_string(),
            words_per_minute: 140,
        }
    }
}

/// Whether prompts can be spoken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpeechStatus {
    /// espeak-ng answered; its version line.
    Ready { version: String },
    /// Switched off in the configuration.
    Disabled,
    /// espeak-ng could not be run.
    Unavailable { reason: String },
}

impl SpeechStatus {
    /// Plain Chinese for the staff device page.
    pub fn message_zh(&self) -> String {
        match self {
            SpeechStatus::Ready { .. } => "语音提示正常".to_string(),
            SpeechStatus::Disabled => "语音提示已关闭".to_string(),
            SpeechStatus::Unavailable { .. } => {
                "语音提示不可用：未找到 espeak-ng 程序，请安装 espeak-ng 软件包".to_string()
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SpeechError {
    #[error("speech is disabled")]
    Disabled,
    #[error("espeak-ng is unavailable: {reason}")]
    Unavailable { reason: String },
    #[error("could not run espeak-ng: {detail}")]
    Spawn { detail: String },
    #[error("espeak-ng failed: {detail}")]
    Failed { detail: String },
}

impl SpeechError {
    pub fn code(&self) -> &'static str {
        match self {
            SpeechError::Disabled => "speech_disabled",
            SpeechError::Unavailable { .. } => "speech_unavailable",
            SpeechError::Spawn { .. } => "speech_spawn",
            SpeechError::Failed { .. } => "speech_failed",
        }
    }

    pub fn message_zh(&self) -> String {
        match self {
            SpeechError::Disabled => "语音提示已关闭".to_string(),
            SpeechError::Unavailable { .. } => {
                "语音提示不可用：未找到 espeak-ng 程序，请安装 espeak-ng 软件包".to_string()
            }
            SpeechError::Spawn { .. } | SpeechError::Failed { .. } => {
                "语音提示出了问题，请看屏幕上的文字或请工作人员帮助".to_string()
            }
        }
    }
}

/// Longer prompts are cut: a screen's prompt is a sentence or two, and a
/// bounded text can be written to the child's pipe without blocking.
pub const MAX_PROMPT_CHARS: usize = 1000;

/// Speaks prompts one at a time.
#[derive(Debug)]
pub struct Speaker {
    config: SpeechConfig,
    status: SpeechStatus,
    current: Option<Child>,
}

impl Speaker {
    /// Checks once that espeak-ng runs (`--version`); the result is
    /// [`Speaker::status`].
    pub fn new(config: SpeechConfig) -> Speaker {
        let status = if config.enabled {
            probe(&config.program)
        } else {
            SpeechStatus::Disabled
        };
        Speaker {
            config,
            status,
            current: None,
        }
    }

    pub fn status(&self) -> &SpeechStatus {
        &self.status
    }

    /// Starts speaking `text`, cutting off the prompt still playing. Returns
    /// as soon as espeak-ng has started.
    pub fn speak(&mut self, text: &str) -> Result<(), SpeechError> {
        self.ready()?;
        self.stop();
        let text = prompt_text(text);
        if text.is_empty() {
            return Ok(());
        }
        let mut child = self
            .command()
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| SpeechError::Spawn {
                detail: e.to_string(),
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            // Bounded text fits in the pipe buffer, so this does not block;
            // dropping stdin closes it and espeak-ng starts speaking.
            if let Err(e) = stdin.write_all(text.as_bytes()) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(SpeechError::Spawn {
                    detail: format!("writing the prompt: {e}"),
                });
            }
        }
        self.current = Some(child);
        Ok(())
    }

    /// Whether a prompt is still playing.
    pub fn is_speaking(&mut self) -> bool {
        match self.current.as_mut().map(Child::try_wait) {
            Some(Ok(None)) => true,
            Some(Ok(Some(_)) | Err(_)) => {
                self.current = None;
                false
            }
            None => false,
        }
    }

    /// The process id of the prompt playing, if any (for tests and logs).
    pub fn current_pid(&mut self) -> Option<u32> {
        if self.is_speaking() {
            self.current.as_ref().map(Child::id)
        } else {
            None
        }
    }

    /// Cuts off the prompt playing, if any.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.current.take() {
            // Our own child, ended by its handle; an error means it had
            // already finished.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Speaks `text` into a WAV file instead of the loudspeaker and waits
    /// for it to finish (for tests and the staff "test speech" button).
    pub fn render_to_wav(&self, text: &str, wav: &Path) -> Result<(), SpeechError> {
        self.ready()?;
        let text = prompt_text(text);
        let mut child = self
            .command()
            .arg("-w")
            .arg(wav)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| SpeechError::Spawn {
                detail: e.to_string(),
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(text.as_bytes())
                .map_err(|e| SpeechError::Spawn {
                    detail: format!("writing the prompt: {e}"),
                })?;
        }
        let output = child.wait_with_output().map_err(|e| SpeechError::Failed {
            detail: e.to_string(),
        })?;
        if !output.status.success() {
            return Err(SpeechError::Failed {
                detail: format!(
                    "{}: {}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr).trim()
                ),
            });
        }
        Ok(())
    }

    fn ready(&self) -> Result<(), SpeechError> {
        match &self.status {
            SpeechStatus::Ready { .. } => Ok(()),
            SpeechStatus::Disabled => Err(SpeechError::Disabled),
            SpeechStatus::Unavailable { reason } => Err(SpeechError::Unavailable {
                reason: reason.clone(),
            }),
        }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.config.program);
        command
            .arg("-v")
            .arg(&self.config.voice)
            .arg("-s")
            .arg(self.config.words_per_minute.clamp(80, 450).to_string())
            // UTF-8 whatever the service's locale is.
            .arg("-b")
            .arg("1")
            .arg("--stdin");
        command
    }
}

impl Drop for Speaker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The prompt as spoken: control characters become spaces and the length is
/// bounded.
fn prompt_text(text: &str) -> String {
    text.chars()
        .take(MAX_PROMPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

fn probe(program: &Path) -> SpeechStatus {
    match Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
    {
        Ok(output) if output.status.success() => SpeechStatus::Ready {
            version: String::from_utf8_lossy(&output.stdout).trim().to_string(),
        },
        Ok(output) => SpeechStatus::Unavailable {
            reason: format!(
                "{} --version exited with {}",
                program.display(),
                output.status
            ),
        },
        Err(e) => SpeechStatus::Unavailable {
            reason: format!("cannot run {}: {e}", program.display()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_are_cleaned_and_bounded() {
        assert_eq!(prompt_text("  请刷卡\n谢谢\t"), "请刷卡 谢谢");
        assert_eq!(
            prompt_text(&"好".repeat(5000)).chars().count(),
            MAX_PROMPT_CHARS
        );
        assert_eq!(prompt_text("\n\n"), "");
    }

    #[test]
    fn missing_program_is_reported_not_fatal() {
        let mut speaker = Speaker::new(SpeechConfig {
            program: PathBuf::from("/nonexistent/espeak-ng"),
            ..SpeechConfig::default()
        });
        assert!(matches!(speaker.status(), SpeechStatus::Unavailable { .. }));
        let err = speaker.speak("请刷卡").unwrap_err();
        assert_eq!(err.code(), "speech_unavailable");
        assert!(err.message_zh().contains("espeak-ng"));
        assert!(!speaker.is_speaking());
    }

    #[test]
    fn disabled_speaker_says_so() {
        let mut speaker = Speaker::new(SpeechConfig {
            enabled: false,
            ..SpeechConfig::default()
        });
        assert_eq!(speaker.status(), &SpeechStatus::Disabled);
        assert_eq!(speaker.speak("请刷卡").unwrap_err(), SpeechError::Disabled);
    }
}
