//! Devices: ID-card reader, camera, receipt printer.
//!
//! Each device is a trait with a status enum and `Result` values for device
//! trouble, so a card pulled mid-read or a printer out of paper is an
//! ordinary value the UI explains. Each has three implementations: the real
//! driver, a simulated one driven by files (demo mode; every fault on
//! demand) and an in-memory test handler. [`build`] picks them from the
//! [`DeviceConfig`]. Every device call has a timeout.

pub mod camera;
pub mod card_reader;
pub mod config;
pub(crate) mod deadline;
pub mod printer;

pub use config::DeviceConfig;
