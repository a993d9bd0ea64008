//! Spoken prompts: real espeak-ng speaking into WAV files, and the
//! one-prompt-at-a-time process handling against a stand-in program that
//! plays for a long time (a test machine has no loudspeaker).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use veteran_kiosk::speech::{Speaker, SpeechConfig, SpeechStatus};

/// The facts of a PCM WAV file that tell whether it holds speech.
#[derive(Debug)]
struct Wav {
    sample_rate: u32,
    channels: u16,
    samples: Vec<i16>,
}

impl Wav {
    /// Reads a 16-bit PCM RIFF/WAVE file; any other shape is an error.
    fn parse(bytes: &[u8]) -> Result<Wav, String> {
        let u16_at = |i: usize| -> Result<u16, String> {
            bytes
                .get(i..i + 2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .ok_or_else(|| format!("truncated at {i}"))
        };
        let u32_at = |i: usize| -> Result<u32, String> {
            bytes
                .get(i..i + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or_else(|| format!("truncated at {i}"))
        };
        if bytes.get(0..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
            return Err("not RIFF/WAVE".into());
        }
        let mut at = 12;
        let mut format = None;
        while at + 8 <= bytes.len() {
            let id = &bytes[at..at + 4];
            let size = u32_at(at + 4)? as usize;
            let body = at + 8;
            match id {
                b"fmt " => {
                    format = Some((
                        u16_at(body)?,
                        u16_at(body + 2)?,
                        u32_at(body + 4)?,
                        u16_at(body + 14)?,
                    ));
                }
                b"data" => {
                    let (tag, channels, sample_rate, bits) = format.ok_or("data before fmt")?;
                    if tag != 1 || bits != 16 {
                        return Err(format!("format {tag}, {bits} bits: not 16-bit PCM"));
                    }
                    // espeak-ng may leave a streaming size in the header;
                    // the file's end is the real end.
                    let end = body.saturating_add(size).min(bytes.len());
                    let samples = bytes[body..end]
                        .chunks_exact(2)
                        .map(|b| i16::from_le_bytes([b[0], b[1]]))
                        .collect();
                    return Ok(Wav {
                        sample_rate,
                        channels,
                        samples,
                    });
                }
                _ => {}
            }
            at = body + size + (size & 1);
        }
        Err("no data chunk".into())
    }

    fn seconds(&self) -> f64 {
        self.samples.len() as f64 / f64::from(self.sample_rate) / f64::from(self.channels)
    }

    /// Share of 20 ms windows loud enough to be voice rather than silence.
    fn voiced_share(&self) -> f64 {
        let window = (self.sample_rate / 50) as usize;
        let windows: Vec<f64> = self
            .samples
            .chunks(window)
            .map(|w| (w.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / w.len() as f64).sqrt())
            .collect();
        windows.iter().filter(|&&rms| rms > 500.0).count() as f64 / windows.len().max(1) as f64
    }
}

fn speak_to_wav(speaker: &Speaker, text: &str, name: &str) -> Wav {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    speaker.render_to_wav(text, &path).unwrap();
    Wav::parse(&std::fs::read(&path).unwrap()).unwrap()
}

#[test]
fn mandarin_prompts_become_speech_of_plausible_length() {
    let speaker = Speaker::new(SpeechConfig::default());
    let SpeechStatus::Ready { version } = speaker.status() else {
        panic!(
            "espeak-ng not usable: {:?} (run scripts/setup.sh)",
            speaker.status()
        );
    };
    assert!(version.contains("eSpeak NG"), "{version}");

    let short = speak_to_wav(&speaker, "请刷身份证", "prompt-short.wav");
    let long = speak_to_wav(
        &speaker,
        "请将身份证放在读卡区。读卡成功后，请看屏幕，核对您的姓名和身份证号码。",
        "prompt-long.wav",
    );
    for (wav, min, max) in [(&short, 0.8, 4.0), (&long, 4.0, 20.0)] {
        assert_eq!((wav.channels, wav.sample_rate), (1, 22050));
        let seconds = wav.seconds();
        // At 140 words a minute Mandarin runs at roughly 3–5 syllables a
        // second; 5 and 33 syllables give these bounds with room to spare.
        assert!(
            (min..max).contains(&seconds),
            "{seconds:.2} s not in {min}..{max}"
        );
        let voiced = wav.voiced_share();
        assert!(voiced > 0.4, "only {:.0}% voiced", voiced * 100.0);
    }
    assert!(long.seconds() > 2.5 * short.seconds());
}

#[test]
fn slower_speech_takes_longer() {
    let text = "请将身份证放在读卡区";
    let seconds = |wpm| {
        let speaker = Speaker::new(SpeechConfig {
            words_per_minute: wpm,
            ..SpeechConfig::default()
        });
        speak_to_wav(&speaker, text, &format!("prompt-{wpm}.wav")).seconds()
    };
    let (slow, fast) = (seconds(100), seconds(250));
    assert!(slow > 1.5 * fast, "slow {slow:.2} s, fast {fast:.2} s");
}

/// A stand-in for espeak-ng: answers `--version`, saves the prompt it reads
/// and then "plays" for a long time.
fn stand_in(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).unwrap();
    let program = dir.join("espeak-ng");
    std::fs::write(
        &program,
        format!(
            "#!/bin/sh\ncase \"$1\" in --version) echo 'eSpeak NG stand-in'; exit 0;; esac\n\
             echo \"$@\" > {dir}/args\ncat > {dir}/prompt.$$\nexec sleep 30\n",
            dir = dir.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    program
}

fn alive(pid: u32) -> bool {
    // A reaped child's /proc entry is gone.
    Path::new(&format!("/proc/{pid}")).exists()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_newer_prompt_cuts_off_the_older_and_speaking_never_blocks() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("speech-stand-in-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut speaker = Speaker::new(SpeechConfig {
        program: stand_in(&dir),
        ..SpeechConfig::default()
    });
    assert!(matches!(speaker.status(), SpeechStatus::Ready { .. }));

    let started = Instant::now();
    speaker.speak("请刷身份证").unwrap();
    assert!(started.elapsed() < Duration::from_secs(1), "speak blocked");
    let first = speaker.current_pid().expect("first prompt playing");
    wait_for("first prompt text", || {
        dir.join(format!("prompt.{first}")).exists()
    });

    speaker.speak("请看镜头").unwrap();
    let second = speaker.current_pid().expect("second prompt playing");
    assert_ne!(first, second);
    assert!(!alive(first), "the older prompt was not cut off");
    assert!(alive(second));
    wait_for("second prompt text", || {
        std::fs::read_to_string(dir.join(format!("prompt.{second}"))).is_ok_and(|t| t == "请看镜头")
    });
    let args = std::fs::read_to_string(dir.join("args")).unwrap();
    assert_eq!(args.trim(), "-v cmn -s 140 -b 1 --stdin");

    speaker.stop();
    assert!(!speaker.is_speaking());
    assert!(!alive(second));

    speaker.speak("谢谢").unwrap();
    let third = speaker.current_pid().unwrap();
    drop(speaker);
    assert!(
        !alive(third),
        "dropping the speaker leaves no prompt playing"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
