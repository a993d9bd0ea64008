//! What the UI draws: [`View`], built from the session on demand.

use super::idle::whole_seconds_left;
use super::*;
use chrono::{DateTime, Utc};

use crate::category::{self, Category, DocumentKind, OptionState};
use crate::record::{self, CategoryDetails, Record};
use crate::Problem;

/// What the UI needs to draw the current state.
#[derive(Debug, Clone, PartialEq)]
pub struct View<'a> {
    pub step: Step,
    pub record: Option<&'a Record>,
    /// Whether the county platform already had this person.
    pub found_in_base: Option<bool>,
    /// The county's record of a returning person, to confirm or update.
    pub county_record: Option<&'a Record>,
    /// What the returning person chose, once they did.
    pub returning: Option<Returning>,
    /// A draft of an interrupted session was resumed.
    pub resumed_draft: bool,
    /// The person's last record here came back from the county: its
    /// reasons stay on screen until the new record, which supersedes it,
    /// is signed.
    pub returned: Option<&'a ReturnedRecord>,
    pub category_options: Vec<OptionState>,
    pub pending_category_hints: Vec<String>,
    /// The certificates to photograph, each with whether it is done.
    pub document_checklist: Vec<ChecklistItem>,
    /// Problems of the record as it stands (shown on review and inline),
    /// each with the page that fixes it.
    pub problems: Vec<PageProblem>,
    /// What does not block signing (warnings, advice, 待核实): shown to
    /// staff on review, carried in the signed record to the county.
    pub checks: Vec<PageProblem>,
    /// A message for the person (device trouble, a refused action).
    pub notice: Option<String>,
    /// Seconds left before wipe, while the idle warning shows.
    pub idle_countdown: Option<i64>,
    pub printing: PrintState,
    pub confirming_cancel: bool,
    /// The card photo taken on the manual identity page.
    pub card_photo_taken: bool,
    /// Reached the current page by a tap on a review problem.
    pub came_from_review: bool,
    pub text_size: TextSize,
    pub high_contrast: bool,
    /// The help panel of this page is open (closed again on any change of
    /// page and on a wipe).
    pub help_open: bool,
    /// Staff are filling the form in for the person.
    pub helping: bool,
    /// The "拍照" button is shown on the portrait page.
    pub manual_capture_offered: bool,
    /// The portrait's issues wait for staff to accept them.
    pub portrait_needs_staff: bool,
    pub staff: Option<StaffView<'a>>,
}

/// A problem of the record and the page a tap on it jumps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageProblem {
    pub problem: Problem,
    /// Where it is fixed; `None` when only staff can fix it (meta, signature).
    pub step: Option<Step>,
}

/// One line of the certificate checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistItem {
    /// The kinds that meet it (any one).
    pub any_of: Vec<DocumentKind>,
    pub name_zh: String,
    pub required: bool,
    pub done: bool,
    /// Pages photographed of each kind of `any_of`, in the same order.
    pub pages: Vec<u8>,
    /// Staff marked it as not shown (on any of its kinds).
    pub marked: Option<record::MissingDocument>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StaffView<'a> {
    pub panel: StaffPanel,
    /// Who opened staff mode, once the PIN told.
    pub staff_id: Option<&'a str>,
    /// The staff members to pick from on the PIN pad: (id, name).
    pub members: Vec<(&'a str, &'a str)>,
    /// The member whose PIN is being typed.
    pub chosen_member: Option<&'a str>,
    /// Seconds the PIN pad stays locked (for the chosen member).
    pub pin_locked_for: Option<i64>,
    pub pin_message: Option<&'a str>,
    pub queue: &'a [QueueLine],
    pub devices: &'a [DeviceLine],
    pub config_version: &'a str,
    pub config_hash: &'a str,
    pub sync_message: Option<&'a str>,
    /// Manual entry is offered while waiting for a card.
    pub can_enter_manually: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrintState {
    NotStarted,
    Printing,
    Failed(String),
    /// Printed; waiting for staff to confirm the signature.
    AwaitingSignature,
    Saving,
}

impl Session {
    /// The blocking problems and the other findings, each with its page.
    fn page_problems(&self, now: DateTime<Utc>) -> (Vec<PageProblem>, Vec<PageProblem>) {
        let findings = self
            .record
            .as_ref()
            .map(|r| record::findings(r, now.date_naive()))
            .unwrap_or_default();
        let (problems, checks): (Vec<Problem>, Vec<Problem>) =
            findings.into_iter().partition(Problem::blocks);
        let on_page = |list: &[Problem]| -> Vec<PageProblem> {
            list.iter()
                .map(|problem| PageProblem {
                    step: problem
                        .field
                        .as_ref()
                        .and_then(|field| self.step_for_field(field, &problems)),
                    problem: problem.clone(),
                })
                .collect()
        };
        (on_page(&problems), on_page(&checks))
    }

    pub fn view(&self, now: DateTime<Utc>) -> View<'_> {
        let chosen = self.chosen_categories();
        let (problems, checks) = self.page_problems(now);
        View {
            step: self.step,
            record: self.record.as_ref(),
            found_in_base: self.found_in_base,
            county_record: self.county_record.as_deref(),
            returning: self.returning,
            resumed_draft: self.resumed_draft,
            returned: self.returned.as_ref(),
            category_options: category::option_states(&chosen),
            pending_category_hints: category::pending_requirements(&chosen),
            document_checklist: self.checklist(&chosen),
            problems,
            checks,
            // The county's reasons for a returned record stay below the
            // identity page while the person works there (every event
            // clears a passing notice: the first tap, even on a text size,
            // took the reasons away); a newer notice takes the place while
            // it lasts.
            notice: self.notice.clone().or_else(|| {
                self.returned
                    .as_ref()
                    .filter(|_| self.step == Step::Identity)
                    .map(ReturnedRecord::notice_zh)
            }),
            idle_countdown: self
                .warning_since
                .map(|since| whole_seconds_left(self.settings.warning_seconds() - (now - since))),
            printing: self.print.clone(),
            confirming_cancel: self.confirming_cancel,
            card_photo_taken: self.pending_card_photo.is_some(),
            came_from_review: self.came_from_review,
            text_size: self.text_size,
            high_contrast: self.high_contrast,
            help_open: self.help_open,
            helping: self.helping.is_some(),
            manual_capture_offered: self.manual_capture_offered,
            portrait_needs_staff: self.record.as_ref().is_some_and(|r| {
                !r.photos.portrait_issues.is_empty() && r.photos.portrait_acceptance.is_none()
            }),
            staff: self.staff.as_ref().map(|s| StaffView {
                panel: s.panel,
                staff_id: s.staff_id.as_deref(),
                members: self
                    .staff_settings
                    .accounts
                    .iter()
                    .map(|a| (a.staff_id.as_str(), a.name.as_str()))
                    .collect(),
                chosen_member: s.member.as_deref(),
                pin_locked_for: s
                    .member
                    .as_ref()
                    .and_then(|m| self.pin_locks.get(m))
                    .and_then(|lock| lock.locked_until(now))
                    .map(|until| whole_seconds_left(until - now).max(1)),
                pin_message: s.pin_message.as_deref(),
                queue: &self.queue,
                devices: &self.devices,
                config_version: &self.staff_settings.config_version,
                config_hash: &self.staff_settings.config_hash,
                sync_message: s.sync_message.as_deref(),
                can_enter_manually: self.step == Step::InsertCard,
            }),
        }
    }

    pub(super) fn chosen_categories(&self) -> Vec<Category> {
        self.record
            .as_ref()
            .map(|r| r.categories.iter().map(CategoryDetails::category).collect())
            .unwrap_or_default()
    }

    /// The certificates to photograph. The ID card itself is covered by the
    /// chip read (or the card photo on manual entry), so it is not listed.
    pub(super) fn checklist(&self, chosen: &[Category]) -> Vec<ChecklistItem> {
        let empty = Vec::new();
        let (documents, marks) = self.record.as_ref().map_or((&empty, &[][..]), |r| {
            (&r.documents, &r.missing_documents[..])
        });
        let shown: Vec<DocumentKind> = documents.iter().map(|d| d.kind).collect();
        let item = |any_of: &[DocumentKind], name_zh: String, required: bool| {
            let pages = any_of
                .iter()
                .map(|kind| {
                    let count = shown.iter().filter(|k| *k == kind).count();
                    u8::try_from(count).unwrap_or(u8::MAX)
                })
                .collect();
            ChecklistItem {
                any_of: any_of.to_vec(),
                name_zh,
                required,
                done: any_of.iter().any(|k| shown.contains(k)),
                pages,
                marked: marks.iter().find(|m| any_of.contains(&m.kind)).cloned(),
            }
        };
        let mut items: Vec<ChecklistItem> = category::documents_for(chosen)
            .into_iter()
            .filter(|req| req.any_of != [DocumentKind::IdCard])
            .map(|req| item(req.any_of, req.name_zh(), true))
            .collect();
        items.extend(
            category::OPTIONAL_DOCUMENTS
                .iter()
                .map(|kind| item(&[*kind], format!("{}（有的话）", kind.name_zh()), false)),
        );
        items
    }
}
