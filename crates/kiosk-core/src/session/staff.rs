//! Staff mode inside the session: the PIN pad, the staff menu and the
//! audit entries every staff action leaves.

use super::*;
use chrono::{DateTime, Utc};

use crate::staff::{AuditAction, AuditEntry, PinOutcome, StaffAccount};

/// What the staff overlay shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffPanel {
    /// The PIN pad, opened for a purpose.
    Pin(PinPurpose),
    Menu,
    Queue,
    Devices,
    About,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinPurpose {
    OpenStaffMode,
    /// A staff member confirms the person signed the printed receipt.
    WitnessSignature,
    /// A staff member accepts a portrait that still has issues.
    AcceptPortrait,
    /// A staff member marks a certificate as not shown (the mark waits in
    /// the session until the PIN names who made it).
    MarkDocumentMissing,
}

/// A button of the staff menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffCommand {
    /// Type the identity from the card (card unreadable, no reader).
    ManualEntry,
    /// Staff fill in the form for the person (home visits, poor sight).
    ToggleHelpOnBehalf,
    ShowQueue,
    ShowDevices,
    ShowAbout,
    SyncNow,
    /// Back to the staff menu from a sub-page.
    Menu,
    Close,
    /// End the person's session (wipes it).
    CancelSession,
    /// "重新登记" on a record the county returned: the next registration
    /// is expected to be that person's, and supersedes it.
    Reopen(Uuid),
}

/// Staff accounts and what staff mode shows about configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaffSettings {
    pub accounts: Vec<StaffAccount>,
    pub config_version: String,
    pub config_hash: String,
}

/// Staff mode while it is open.
#[derive(Debug, Clone)]
pub(super) struct StaffState {
    pub(super) panel: StaffPanel,
    /// The staff member about to type their PIN (picked by name on the
    /// pad; the only one when there is one).
    pub(super) member: Option<String>,
    pub(super) staff_id: Option<String>,
    pub(super) pin_message: Option<String>,
    pub(super) sync_message: Option<String>,
}

impl Session {
    pub(super) fn audit(&self, action: AuditAction, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        let staff_id = self
            .staff
            .as_ref()
            .and_then(|s| s.staff_id.clone())
            .or_else(|| self.helping.clone());
        fx.push(Effect::Audit(AuditEntry {
            at: now,
            kiosk_id: self.settings.kiosk_id.clone(),
            staff_id,
            action,
        }));
    }

    /// An audit entry for what a staff member did before they are
    /// identified (a wrong PIN under their name).
    fn audit_for(
        &self,
        staff_id: &str,
        action: AuditAction,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) {
        fx.push(Effect::Audit(AuditEntry {
            at: now,
            kiosk_id: self.settings.kiosk_id.clone(),
            staff_id: Some(staff_id.to_string()),
            action,
        }));
    }

    /// A staff member picked their name on the PIN pad.
    pub(super) fn choose_member(&mut self, staff_id: &str) {
        let known = self
            .staff_settings
            .accounts
            .iter()
            .any(|a| a.staff_id == staff_id);
        if let Some(staff) = self.staff.as_mut() {
            if matches!(staff.panel, StaffPanel::Pin(_)) && known {
                staff.member = Some(staff_id.to_string());
                staff.pin_message = None;
            }
        }
    }

    pub(super) fn open_pin(&mut self, purpose: PinPurpose) {
        // A second gesture while staff mode is open does nothing.
        if self
            .staff
            .as_ref()
            .is_some_and(|s| !matches!(s.panel, StaffPanel::Pin(_)))
            && purpose == PinPurpose::OpenStaffMode
        {
            return;
        }
        let only_member = match self.staff_settings.accounts.as_slice() {
            [only] => Some(only.staff_id.clone()),
            _ => None,
        };
        self.staff = Some(StaffState {
            panel: StaffPanel::Pin(purpose),
            member: only_member,
            staff_id: None,
            pin_message: None,
            sync_message: None,
        });
    }

    pub(super) fn on_pin(&mut self, pin: &str, now: DateTime<Utc>, fx: &mut Vec<Effect>) {
        let Some(StaffPanel::Pin(purpose)) = self.staff.as_ref().map(|s| s.panel) else {
            return;
        };
        let Some(member) = self.staff.as_ref().and_then(|s| s.member.clone()) else {
            if let Some(staff) = self.staff.as_mut() {
                staff.pin_message = Some("请先点您的名字，再输入密码".into());
            }
            return;
        };
        let Some(account) = self
            .staff_settings
            .accounts
            .iter()
            .find(|a| a.staff_id == member)
        else {
            return;
        };
        // Each member has their own lock: one member's wrong tries do not
        // lock out the others.
        let outcome = self
            .pin_locks
            .entry(member.clone())
            .or_default()
            .attempt(now, || {
                account.pin.matches(pin).then(|| account.staff_id.clone())
            });
        let message = match outcome {
            PinOutcome::Accepted(staff_id) => {
                match purpose {
                    PinPurpose::OpenStaffMode => {
                        self.staff = Some(StaffState {
                            panel: StaffPanel::Menu,
                            member: None,
                            staff_id: Some(staff_id),
                            pin_message: None,
                            sync_message: None,
                        });
                        self.audit(AuditAction::StaffModeOpened, now, fx);
                    }
                    PinPurpose::WitnessSignature => {
                        self.staff = None;
                        fx.push(Effect::Audit(AuditEntry {
                            at: now,
                            kiosk_id: self.settings.kiosk_id.clone(),
                            staff_id: Some(staff_id.clone()),
                            action: AuditAction::SignatureWitnessed,
                        }));
                        self.sign(staff_id, now, fx);
                    }
                    PinPurpose::AcceptPortrait => {
                        self.staff = None;
                        fx.push(Effect::Audit(AuditEntry {
                            at: now,
                            kiosk_id: self.settings.kiosk_id.clone(),
                            staff_id: Some(staff_id.clone()),
                            action: AuditAction::PortraitAccepted,
                        }));
                        self.notice = None;
                        self.accept_portrait(staff_id, now, fx);
                    }
                    PinPurpose::MarkDocumentMissing => {
                        self.staff = None;
                        fx.push(Effect::Audit(AuditEntry {
                            at: now,
                            kiosk_id: self.settings.kiosk_id.clone(),
                            staff_id: Some(staff_id.clone()),
                            action: AuditAction::DocumentMarkedMissing,
                        }));
                        self.mark_document_missing(staff_id, now, fx);
                    }
                }
                return;
            }
            PinOutcome::Wrong { tries_left } => {
                self.audit_for(&member, AuditAction::PinRejected, now, fx);
                format!("密码不对，还可以再试 {tries_left} 次")
            }
            PinOutcome::LockedOut { until } => {
                let seconds = (until - now).num_seconds();
                self.audit_for(&member, AuditAction::PinLockedOut { seconds }, now, fx);
                format!("密码错误次数过多，请 {seconds} 秒后再试")
            }
            PinOutcome::StillLocked { until } => {
                format!(
                    "密码错误次数过多，请 {} 秒后再试",
                    (until - now).num_seconds().max(1)
                )
            }
        };
        if let Some(staff) = self.staff.as_mut() {
            staff.pin_message = Some(message);
        }
    }

    pub(super) fn on_staff(
        &mut self,
        command: StaffCommand,
        now: DateTime<Utc>,
        fx: &mut Vec<Effect>,
    ) {
        // Only an identified staff member can use the menu.
        let Some(staff_id) = self.staff.as_ref().and_then(|s| s.staff_id.clone()) else {
            return;
        };
        let panel = |p: StaffPanel, session: &mut Session| {
            if let Some(s) = session.staff.as_mut() {
                s.panel = p;
            }
        };
        match command {
            StaffCommand::ManualEntry => {
                // Only while waiting for a card: the registration has its id.
                if self.step != Step::InsertCard {
                    return;
                }
                fx.push(Effect::StopCardReader);
                self.audit(AuditAction::ManualEntryStarted, now, fx);
                self.step = Step::ManualIdentity;
                self.pending_card_photo = None;
                self.staff = None;
            }
            StaffCommand::ToggleHelpOnBehalf => {
                if self.helping.is_some() {
                    self.audit(AuditAction::HelpOnBehalfEnded, now, fx);
                    self.helping = None;
                } else {
                    self.helping = Some(staff_id);
                    self.audit(AuditAction::HelpOnBehalfStarted, now, fx);
                }
                self.staff = None;
            }
            StaffCommand::ShowQueue => {
                self.audit(AuditAction::QueueViewed, now, fx);
                fx.push(Effect::LoadQueue);
                panel(StaffPanel::Queue, self);
            }
            StaffCommand::ShowDevices => {
                self.audit(AuditAction::DeviceStatusViewed, now, fx);
                fx.push(Effect::CheckDevices);
                panel(StaffPanel::Devices, self);
            }
            StaffCommand::ShowAbout => {
                self.audit(AuditAction::ConfigViewed, now, fx);
                panel(StaffPanel::About, self);
            }
            StaffCommand::SyncNow => {
                self.audit(AuditAction::SyncRequested, now, fx);
                fx.push(Effect::SyncNow);
                if let Some(s) = self.staff.as_mut() {
                    s.sync_message = Some("正在上传…".into());
                }
            }
            StaffCommand::Menu => panel(StaffPanel::Menu, self),
            StaffCommand::Close => {
                self.audit(AuditAction::StaffModeClosed, now, fx);
                self.staff = None;
            }
            StaffCommand::CancelSession => {
                self.audit(AuditAction::SessionCancelled, now, fx);
                self.staff = None;
                self.wipe(now, fx);
            }
            StaffCommand::Reopen(record_id) => self.reopen(record_id, now, fx),
        }
    }
}
