//! A person whose last record at this kiosk the county returned: the
//! record in progress supersedes it, and its reasons stay on screen.

use super::*;
use chrono::{DateTime, Utc};

use crate::record::RecordState;
use crate::staff::AuditAction;

/// Said when staff chose "重新登记" for a returned record.
pub(super) const REOPEN_START_ZH: &str = "请本人点“开始登记”，再把身份证放在读卡区";
/// Said when the card read is not the person of the record staff reopened.
pub(super) const REOPEN_OTHER_PERSON_ZH: &str =
    "这张身份证不是要重新登记的那份退回记录的本人，请工作人员核对";

impl Session {
    /// Staff chose "重新登记" on a returned record in the queue: only
    /// between sessions, and only for a record the queue shows returned.
    pub(super) fn reopen(&mut self, record_id: Uuid, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        let returned = self
            .queue
            .iter()
            .any(|line| line.record_id == record_id && line.state == RecordState::Rejected);
        if self.step != Step::Attract || !returned {
            return;
        }
        self.audit(AuditAction::ReturnedRecordReopened { record_id }, now, fx);
        self.staff = None;
        self.reopening = Some(record_id);
        self.notice = Some(REOPEN_START_ZH.into());
    }

    /// Staff reopened a returned record, but the card read is not of the
    /// person it was for (the store found no such returned record for it).
    pub(super) fn reopen_mismatch_zh(&self) -> Option<&'static str> {
        let wanted = self.reopening?;
        let found = self.returned.as_ref().map(|r| r.record_id);
        (found != Some(wanted)).then_some(REOPEN_OTHER_PERSON_ZH)
    }

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
