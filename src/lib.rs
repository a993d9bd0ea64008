//! veteran-kiosk: a self-registration kiosk for veterans and other
//! special-care recipients. See ARCHITECTURE.md for the map.

pub mod cli;
pub mod core;
pub mod kiosk;
pub mod ui;
