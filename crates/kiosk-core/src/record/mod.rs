//! One registration: the serde model of what the kiosk collects about a
//! person, and its validation.
//!
//! The model is what travels (JSON on disk, sealed to the county). It is
//! deliberately permissive while a session is in progress: a draft may have
//! empty fields. [`validate`] then reports *every* problem at once, each with
//! a field path, and [`ValidRecord`] is the only door to signing: a value of
//! that type has passed validation for the date it was checked on.

mod details;
pub(crate) mod fields;
mod model;
mod validation;

pub use details::*;
pub use model::*;
pub use validation::{checks, findings, problems, valid_to_text, validate, ValidRecord};

#[cfg(test)]
mod tests;
