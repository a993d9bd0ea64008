//! The pure domain of the kiosk.
//!
//! Architecture invariant: nothing in here does IO. No slint, rusqlite,
//! reqwest, `std::fs`, `std::net`, and no clock reads: whoever needs "now"
//! receives it as an argument. This keeps every rule testable from a table.

pub mod card;
pub mod category;
pub mod classified;
pub mod forms;
pub mod id_number;
pub mod kiosk;
pub mod partial_date;
pub mod problem;
pub mod record;
pub mod region;
pub mod session;
pub mod staff;
pub mod time;

pub use partial_date::PartialDate;
pub use problem::{FieldPath, Problem, Severity};
