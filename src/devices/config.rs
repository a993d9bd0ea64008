//! Which devices a kiosk has and how to reach them.
//!
//! This is the `[devices]` part of the kiosk configuration (loaded from TOML
//! by the config module). Every device has a `kind`: a real driver, a
//! `simulated` one backed by files (demo mode, every fault on demand) or the
//! in-memory `test` handler. A kiosk with no `[devices]` section at all runs
//! fully simulated from `assets/demo/`, so it starts without hardware.
//!
//! ```toml
//! [devices.card_reader]
//! kind = "ga467_serial"
//! port = "/dev/ttyUSB0"
//!
//! [devices.camera]
//! kind = "v4l2"
//! device = "USB Camera"      # a name fragment, or an index such as 0
//!
//! [devices.printer]
//! kind = "network"
//! address = "192.168.1.50:9100"
//!
//! [devices.wlt_decoder]
//! library = "/opt/vendor/libwltrs.so"
//!
//! [devices]
//! receipt_paper = "80mm"     # or "58mm", the default
//! ```

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Where demo-mode devices find their files when nothing else is said.
pub const DEFAULT_DEMO_DIR: &str = "assets/demo";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceConfig {
    #[serde(default)]
    pub card_reader: CardReaderConfig,
    #[serde(default)]
    pub camera: CameraConfig,
    #[serde(default)]
    pub printer: PrinterConfig,
    /// The vendor's WLT photo decoder. Without one the card portrait stays
    /// undecoded and the record says so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wlt_decoder: Option<WltDecoderConfig>,
    /// The receipt roll's width: `"58mm"` (the default, and what fits
    /// either roll) or `"80mm"`; receipts are laid out and wrapped to it.
    #[serde(default)]
    pub receipt_paper: crate::devices::printer::Paper,
}

impl DeviceConfig {
    /// Every device simulated from files under `dir`.
    pub fn simulated(dir: impl Into<PathBuf>) -> DeviceConfig {
        let dir = dir.into();
        DeviceConfig {
            card_reader: CardReaderConfig::Simulated {
                dir: dir.join("cards"),
                auto_present_ms: None,
            },
            camera: CameraConfig::Simulated {
                dir: dir.join("camera"),
                frame_interval_ms: default_frame_interval_ms(),
            },
            printer: PrinterConfig::Simulated {
                dir: dir.join("printed"),
            },
            wlt_decoder: None,
            receipt_paper: Default::default(),
        }
    }

    /// Every device an in-memory test handler.
    pub fn test() -> DeviceConfig {
        DeviceConfig {
            card_reader: CardReaderConfig::Test,
            camera: CameraConfig::Test,
            printer: PrinterConfig::Test,
            wlt_decoder: None,
            receipt_paper: Default::default(),
        }
    }
}

/// Timeouts are in milliseconds in the file; these are the defaults.
fn default_reader_timeout_ms() -> u64 {
    3_000
}
fn default_baud() -> u32 {
    115_200
}
fn default_camera_timeout_ms() -> u64 {
    5_000
}
fn default_printer_timeout_ms() -> u64 {
    5_000
}
fn default_frame_interval_ms() -> u64 {
    100
}
fn default_min_width() -> u32 {
    1280
}
fn default_min_height() -> u32 {
    720
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CardReaderConfig {
    /// A certified GA 467 SAM reader on a serial line (8N1).
    Ga467Serial {
        /// `/dev/ttyUSB0`, `/dev/ttyS0`, …
        port: String,
        #[serde(default = "default_baud")]
        baud: u32,
        /// How long one command may take before the reader counts as hung.
        #[serde(default = "default_reader_timeout_ms")]
        timeout_ms: u64,
    },
    /// A reader reached through pcscd.
    Pcsc {
        /// A fragment of the PC/SC reader name; the first reader if absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reader: Option<String>,
        #[serde(default)]
        mode: PcscMode,
        #[serde(default = "default_reader_timeout_ms")]
        timeout_ms: u64,
    },
    /// Cards from files in `dir` (see `card_reader::simulated`).
    Simulated {
        dir: PathBuf,
        /// Present the next card by itself this long after the last one
        /// left (unattended demos). Without it, cards appear on request.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        auto_present_ms: Option<u64>,
    },
    /// The in-memory test handler.
    Test,
}

impl Default for CardReaderConfig {
    fn default() -> Self {
        CardReaderConfig::Simulated {
            dir: PathBuf::from(DEFAULT_DEMO_DIR).join("cards"),
            auto_present_ms: None,
        }
    }
}

/// What a PC/SC reader can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PcscMode {
    /// Ask the reader: if it answers the SAM wrapping, read identities,
    /// otherwise only the chip serial.
    #[default]
    Auto,
    /// The reader's SAM is reachable with this wrapping of GA 467 frames.
    Sam(ApduWrappingKind),
    /// A plain contactless reader: card presence and chip serial only; it
    /// cannot read identities (that needs a SAM).
    ChipSerialOnly,
}

/// The known ways of carrying GA 467 frames in APDUs (see
/// `card_reader::pcsc_wrapping`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApduWrappingKind {
    /// `FF 96 00 00 Lc <frame>`, answers chained with `61 xx` / `FF C0`.
    #[default]
    Ff96,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CameraConfig {
    /// A V4L2 camera through nokhwa.
    V4l2 {
        /// An index (`"0"`) or a fragment of the camera's name; the first
        /// camera if absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device: Option<String>,
        /// The smallest resolution worth having; a larger one is taken only
        /// when nothing this size is offered.
        #[serde(default = "default_min_width")]
        min_width: u32,
        #[serde(default = "default_min_height")]
        min_height: u32,
        #[serde(default = "default_camera_timeout_ms")]
        timeout_ms: u64,
    },
    /// Still images or an image sequence (JPG/PNG) from `dir`, in name order.
    Simulated {
        dir: PathBuf,
        #[serde(default = "default_frame_interval_ms")]
        frame_interval_ms: u64,
    },
    Test,
}

impl Default for CameraConfig {
    fn default() -> Self {
        CameraConfig::Simulated {
            dir: PathBuf::from(DEFAULT_DEMO_DIR).join("camera"),
            frame_interval_ms: default_frame_interval_ms(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PrinterConfig {
    /// An ESC/POS printer on the network (raw TCP, normally port 9100).
    Network {
        /// `host:port`; the port defaults to 9100.
        address: String,
        #[serde(default = "default_printer_timeout_ms")]
        timeout_ms: u64,
    },
    /// A USB printer through the kernel's printer class driver
    /// (`/dev/usb/lp0`), which reads back status too.
    Usb {
        #[serde(default = "default_usb_device")]
        device: PathBuf,
        #[serde(default = "default_printer_timeout_ms")]
        timeout_ms: u64,
    },
    /// A serial ESC/POS printer.
    Serial {
        port: String,
        #[serde(default = "default_printer_baud")]
        baud: u32,
        #[serde(default = "default_printer_timeout_ms")]
        timeout_ms: u64,
    },
    /// Append the ESC/POS bytes to a file (no status can be read).
    File {
        path: PathBuf,
    },
    /// Write each receipt as a file into `dir`; faults on demand.
    Simulated {
        dir: PathBuf,
    },
    Test,
}

fn default_usb_device() -> PathBuf {
    PathBuf::from("/dev/usb/lp0")
}
fn default_printer_baud() -> u32 {
    9_600
}

impl Default for PrinterConfig {
    fn default() -> Self {
        PrinterConfig::Simulated {
            dir: PathBuf::from(DEFAULT_DEMO_DIR).join("printed"),
        }
    }
}

/// A vendor's WLT decoder library, loaded at run time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WltDecoderConfig {
    pub library: PathBuf,
    /// The exported function, `int f(const unsigned char *wlt,
    /// unsigned char *out, int flag)`; most vendors call it `unpack`.
    #[serde(default = "default_wlt_symbol")]
    pub symbol: String,
    /// What the function writes into `out`.
    #[serde(default)]
    pub output: WltOutput,
    /// The return value that means success (1 for most vendors).
    #[serde(default = "default_wlt_success")]
    pub success_code: i32,
}

fn default_wlt_success() -> i32 {
    1
}

fn default_wlt_symbol() -> String {
    "unpack".to_string()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WltOutput {
    /// 102×126 pixels, 3 bytes each in B G R order, rows top to bottom.
    #[default]
    Bgr,
    /// A complete BMP file (the 102×126 24-bit bitmap most SDKs save).
    Bmp,
}

/// Milliseconds from the configuration as a [`Duration`], never zero (a zero
/// timeout would mean "wait forever" to several OS calls).
pub fn timeout(ms: u64) -> Duration {
    Duration::from_millis(ms.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn parse(json: serde_json::Value) -> Result<DeviceConfig, String> {
        serde_json::from_value(json).map_err(|err| err.to_string())
    }

    #[test]
    fn the_receipt_roll_is_58_mm_unless_80_mm_is_said() {
        use crate::devices::printer::Paper;
        let paper = |json| parse(json).map(|c| c.receipt_paper);
        assert_eq!(paper(serde_json::json!({})), Ok(Paper::Mm58));
        assert_eq!(
            paper(serde_json::json!({"receipt_paper": "80mm"})),
            Ok(Paper::Mm80)
        );
        let refused = paper(serde_json::json!({"receipt_paper": "76mm"})).unwrap_err();
        assert!(
            refused.contains("58mm") && refused.contains("80mm"),
            "{refused}"
        );
    }

    #[test]
    fn empty_configuration_runs_simulated() {
        let config = parse(serde_json::json!({})).unwrap();
        expect![[r#"
            DeviceConfig {
                card_reader: Simulated {
                    dir: "assets/demo/cards",
                    auto_present_ms: None,
                },
                camera: Simulated {
                    dir: "assets/demo/camera",
                    frame_interval_ms: 100,
                },
                printer: Simulated {
                    dir: "assets/demo/printed",
                },
                wlt_decoder: None,
                receipt_paper: Mm58,
            }
        "#]]
        .assert_debug_eq(&config);
    }

    #[test]
    fn each_kind_parses_with_defaults() {
        let config = parse(serde_json::json!({
            "card_reader": {"kind": "pcsc", "mode": {"sam": "ff96"}},
            "camera": {"kind": "v4l2", "device": "0"},
            "printer": {"kind": "network", "address": "127.0.0.1:9100"},
            "wlt_decoder": {"library": "/opt/libwlt.so"}
        }))
        .unwrap();
        expect![[r#"
            DeviceConfig {
                card_reader: Pcsc {
                    reader: None,
                    mode: Sam(
                        Ff96,
                    ),
                    timeout_ms: 3000,
                },
                camera: V4l2 {
                    device: Some(
                        "0",
                    ),
                    min_width: 1280,
                    min_height: 720,
                    timeout_ms: 5000,
                },
                printer: Network {
                    address: "127.0.0.1:9100",
                    timeout_ms: 5000,
                },
                wlt_decoder: Some(
                    WltDecoderConfig {
                        library: "/opt/libwlt.so",
                        symbol: "unpack",
                        output: Bgr,
                        success_code: 1,
                    },
                ),
                receipt_paper: Mm58,
            }
        "#]]
        .assert_debug_eq(&config);
    }

    #[test]
    fn mistakes_are_refused_with_a_reason() {
        let cases = [
            (
                serde_json::json!({"card_reader": {"kind": "ga467_serial"}}),
                expect!["missing field `port`"],
            ),
            (
                serde_json::json!({"printer": {"kind": "network", "adress": "x"}}),
                expect!["unknown field `adress`, expected `address` or `timeout_ms`"],
            ),
            (
                serde_json::json!({"camera": {"kind": "webcam"}}),
                expect!["unknown variant `webcam`, expected one of `v4l2`, `simulated`, `test`"],
            ),
        ];
        for (json, expected) in cases {
            expected.assert_eq(&parse(json).unwrap_err());
        }
    }

    #[test]
    fn a_zero_timeout_is_not_infinite() {
        assert_eq!(timeout(0), Duration::from_millis(1));
        assert_eq!(timeout(250), Duration::from_millis(250));
    }
}
