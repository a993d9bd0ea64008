//! Devices: ID-card reader, camera, receipt printer.
//!
//! Each device is a trait with a status enum and `Result` values for device
//! trouble, so a card pulled mid-read or a printer out of paper is an
//! ordinary value the UI explains. Each has three implementations: the real
//! driver, a simulated one driven by files (demo mode; every fault on
//! demand) and an in-memory test handler. [`build`] picks them from the
//! [`DeviceConfig`]. Every device call has a timeout.
//!
//! Architecture invariant: nothing here decides what a card read or a print
//! *means* for the registration; devices report, `core::session` decides.

pub mod camera;
pub mod card_reader;
pub mod config;
pub(crate) mod deadline;
pub mod printer;
pub mod wlt;

use camera::nokhwa::NokhwaCamera;
use camera::simulated::{SimulatedCamera, SimulatedCameraControl};
use camera::test::TestCamera;
use camera::{Camera, CameraSelector};
use card_reader::ga467_serial::Ga467SerialReader;
use card_reader::pcsc::PcscReader;
use card_reader::simulated::{SimulatedReader, SimulatedReaderControl};
use card_reader::test::TestReader;
use card_reader::CardReader;
pub use config::DeviceConfig;
use config::{timeout, CameraConfig, CardReaderConfig, PrinterConfig};
use printer::simulated::SimulatedPrinter;
use printer::test::TestPrinter;
use printer::{EscPosPrinter, ReceiptPrinter, Transport};

use self::wlt::{CardPortrait, WltDecoder, WltError};

/// The kiosk's devices, as configured.
pub struct Devices {
    pub card_reader: Box<dyn CardReader>,
    pub camera: Box<dyn Camera>,
    pub printer: Box<dyn ReceiptPrinter>,
    pub wlt: WltSetup,
    /// Handles to the simulated and test devices, to drive them from a
    /// demo staff screen or a test. Empty for real devices.
    pub controls: Controls,
}

/// Whether card portraits can be decoded.
#[derive(Debug)]
pub enum WltSetup {
    NotConfigured,
    Loaded(WltDecoder),
    /// Configured, but the library could not be loaded: the kiosk runs and
    /// the records say why the portrait is not decoded.
    Failed(WltError),
}

impl WltSetup {
    /// The card portrait for a read's raw WLT bytes.
    pub fn portrait(&self, wlt_bytes: &[u8]) -> CardPortrait {
        match self {
            WltSetup::NotConfigured => wlt::card_portrait(wlt_bytes, None),
            WltSetup::Loaded(decoder) => wlt::card_portrait(wlt_bytes, Some(decoder)),
            WltSetup::Failed(err) => CardPortrait::NotDecoded {
                note_zh: err.message_zh(),
            },
        }
    }
}

#[derive(Default)]
pub struct Controls {
    pub simulated_reader: Option<SimulatedReaderControl>,
    pub simulated_camera: Option<SimulatedCameraControl>,
    pub simulated_printer: Option<SimulatedPrinter>,
    pub test_reader: Option<TestReader>,
    pub test_camera: Option<TestCamera>,
    pub test_printer: Option<TestPrinter>,
}

/// Build every device from the configuration. Never fails: a device that
/// is missing shows up as a status (unplugged, no camera, unreachable) when
/// it is used, so the kiosk starts and staff see what is wrong.
pub fn build(config: &DeviceConfig) -> Devices {
    let mut controls = Controls::default();
    let card_reader: Box<dyn CardReader> = match &config.card_reader {
        CardReaderConfig::Ga467Serial {
            port,
            baud,
            timeout_ms,
        } => Box::new(Ga467SerialReader::new(port, *baud, timeout(*timeout_ms))),
        CardReaderConfig::Pcsc {
            reader,
            mode,
            timeout_ms,
        } => Box::new(PcscReader::new(reader.clone(), *mode, timeout(*timeout_ms))),
        CardReaderConfig::Simulated {
            dir,
            auto_present_ms,
        } => {
            let reader = SimulatedReader::new(dir, auto_present_ms.map(timeout));
            controls.simulated_reader = Some(reader.control());
            Box::new(reader)
        }
        CardReaderConfig::Test => {
            let reader = TestReader::new();
            controls.test_reader = Some(reader.clone());
            Box::new(reader)
        }
    };
    let camera: Box<dyn Camera> = match &config.camera {
        CameraConfig::V4l2 {
            device,
            min_width,
            min_height,
            timeout_ms,
        } => Box::new(NokhwaCamera::new(
            CameraSelector::parse(device.as_deref()),
            *min_width,
            *min_height,
            timeout(*timeout_ms),
        )),
        CameraConfig::Simulated {
            dir,
            frame_interval_ms,
        } => {
            let camera = SimulatedCamera::new(dir, timeout(*frame_interval_ms));
            controls.simulated_camera = Some(camera.control());
            Box::new(camera)
        }
        CameraConfig::Test => {
            let camera = TestCamera::new();
            controls.test_camera = Some(camera.clone());
            Box::new(camera)
        }
    };
    let printer: Box<dyn ReceiptPrinter> = match &config.printer {
        PrinterConfig::Network {
            address,
            timeout_ms,
        } => Box::new(EscPosPrinter::new(
            Transport::Network {
                address: address.clone(),
            },
            timeout(*timeout_ms),
        )),
        PrinterConfig::Usb { device, timeout_ms } => Box::new(EscPosPrinter::new(
            Transport::Usb {
                device: device.clone(),
            },
            timeout(*timeout_ms),
        )),
        PrinterConfig::Serial {
            port,
            baud,
            timeout_ms,
        } => Box::new(EscPosPrinter::new(
            Transport::Serial {
                port: port.clone(),
                baud: *baud,
            },
            timeout(*timeout_ms),
        )),
        PrinterConfig::File { path } => Box::new(EscPosPrinter::new(
            Transport::File { path: path.clone() },
            timeout(5_000),
        )),
        PrinterConfig::Simulated { dir } => {
            let printer = SimulatedPrinter::new(dir);
            controls.simulated_printer = Some(printer.clone());
            Box::new(printer)
        }
        PrinterConfig::Test => {
            let printer = TestPrinter::new();
            controls.test_printer = Some(printer.clone());
            Box::new(printer)
        }
    };
    let wlt = match &config.wlt_decoder {
        None => WltSetup::NotConfigured,
        Some(decoder) => match WltDecoder::load(decoder) {
            Ok(decoder) => WltSetup::Loaded(decoder),
            Err(err) => WltSetup::Failed(err),
        },
    };
    Devices {
        card_reader,
        camera,
        printer,
        wlt,
        controls,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::card_reader::CardEvent;
    use crate::devices::printer::PrinterStatus;
    use chrono::NaiveDate;

    #[test]
    fn the_factory_picks_each_kind() {
        let dir = tempfile::tempdir().unwrap();
        let config: DeviceConfig = serde_json::from_value(serde_json::json!({
            "card_reader": {"kind": "ga467_serial", "port": "/dev/ttyUSB9"},
            "camera": {"kind": "v4l2", "device": "USB"},
            "printer": {"kind": "file", "path": dir.path().join("out.bin")},
            "wlt_decoder": {"library": "/nonexistent/libwlt.so"}
        }))
        .unwrap();
        let devices = build(&config);
        assert_eq!(
            devices.card_reader.describe(),
            "GA 467 serial reader on /dev/ttyUSB9 @ 115200 8N1"
        );
        assert_eq!(
            devices.camera.describe(),
            "V4L2 camera (camera named \"USB\", at least 1280x720)"
        );
        assert!(devices.printer.describe().starts_with("file "));
        assert!(matches!(devices.wlt, WltSetup::Failed(_)));
        assert!(devices.controls.simulated_reader.is_none());
        assert_eq!(
            devices.wlt.portrait(&[0; 1024]),
            CardPortrait::NotDecoded {
                note_zh: "身份证照片解码库无法加载，芯片照片未解码".into()
            }
        );
    }

    #[test]
    fn simulated_and_test_devices_come_with_handles() {
        let dir = tempfile::tempdir().unwrap();
        let mut devices = build(&DeviceConfig::simulated(dir.path()));
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let reader = devices.controls.simulated_reader.clone().unwrap();
        assert_eq!(devices.card_reader.poll(today), Ok(CardEvent::NoCard));
        reader.present(None);
        assert!(matches!(
            devices.card_reader.poll(today),
            Ok(CardEvent::Read(_))
        ));
        assert!(devices.camera.frame().is_ok());
        assert_eq!(devices.printer.status(), Ok(PrinterStatus::Ready));
        assert!(matches!(devices.wlt, WltSetup::NotConfigured));

        let mut devices = build(&DeviceConfig::test());
        devices
            .controls
            .test_printer
            .clone()
            .unwrap()
            .state()
            .status = PrinterStatus::PaperOut;
        assert_eq!(devices.printer.status(), Ok(PrinterStatus::PaperOut));
        assert!(devices.controls.test_reader.is_some() && devices.controls.test_camera.is_some());
    }
}
