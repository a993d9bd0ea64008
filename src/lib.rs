//! veteran-kiosk: a self-registration kiosk for veterans and other
//! special-care recipients. See ARCHITECTURE.md for the map.

pub mod backoff;
pub mod cli;
pub mod config;
pub mod devices;
pub mod input;
pub mod kiosk;
pub mod photo;
pub mod receipt;
pub mod speech;
pub mod store;
pub mod sync;
pub mod ui;
