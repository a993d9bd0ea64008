//! One thing wrong with an input, in the shape every checker reports it.

use serde::{Deserialize, Serialize};

/// A problem found in some input: a stable machine `code`, the `field` it
/// concerns (a dotted path such as `identity.id_number`) and a message in
/// plain Chinese for the person at the kiosk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            code: code.into(),
            field: None,
            message: message.into(),
        }
    }

    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}
