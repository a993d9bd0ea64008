//! A person whose last record at this kiosk the county returned: the
//! record in progress supersedes it, and its reasons stay on screen.

use super::*;

impl Session {
    /// The store found this person's returned record (by the keyed tag of
    /// the ID number read from the card, so it is the same person).
    pub(super) fn on_returned(&mut self, returned: ReturnedRecord) {
        let Some(record) = self.record.as_mut() else {
            return;
        };
        // The returned record is this person's latest: it, not an older
        // accepted one the look-up may have named, is what gets replaced.
        record.meta.supersedes = Some(returned.record_id);
        self.notice = Some(returned.notice_zh());
        self.returned = Some(returned);
    }
}

impl ReturnedRecord {
    /// "县里退回了您上次的登记（K7Q2-M9XD-3F8A），原因：…": what the
    /// person and staff read on the identity page and on the review.
    pub fn notice_zh(&self) -> String {
        let reasons = if self.reasons_zh.is_empty() {
            "未注明".to_string()
        } else {
            self.reasons_zh.join("；")
        };
        format!(
            "县里退回了您上次的登记（{}），原因：{}。这次登记签字后将替代退回的那份",
            self.record_number, reasons
        )
    }
}
