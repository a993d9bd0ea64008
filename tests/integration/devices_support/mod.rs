//! Stand-ins for hardware that the device tests drive over real transports.
#![allow(dead_code)]

pub mod escpos_decode;
pub mod fake_printer;
pub mod sam;
pub mod serial_reader;
pub mod vpcd;
