//! Staff mode: PIN pad, menu, queue, devices, configuration.

use kiosk_core::record::RecordState;
use kiosk_core::session::{Event, PinPurpose, StaffCommand, StaffPanel, View};
use uuid::Uuid;

use super::{local_time, AppWindow, DeviceRow, Dispatch, QueueRow, StaffMemberRow, StaffView};
use slint::{ComponentHandle, ModelRc, VecModel};

fn command(name: &str) -> Option<StaffCommand> {
    Some(match name {
        "manual" => StaffCommand::ManualEntry,
        "help" => StaffCommand::ToggleHelpOnBehalf,
        "queue" => StaffCommand::ShowQueue,
        "devices" => StaffCommand::ShowDevices,
        "about" => StaffCommand::ShowAbout,
        "sync" => StaffCommand::SyncNow,
        "menu" => StaffCommand::Menu,
        "close" => StaffCommand::Close,
        "cancel-session" => StaffCommand::CancelSession,
        _ => return None,
    })
}

pub fn connect(ui: &AppWindow, dispatch: &Dispatch) {
    let g = ui.global::<StaffView>();
    let d = dispatch.clone();
    g.on_pin_entered(move |pin| d.send(Event::PinEntered(pin.to_string())));
    let d = dispatch.clone();
    g.on_member_chosen(move |id| d.send(Event::StaffMemberChosen(id.to_string())));
    let d = dispatch.clone();
    g.on_pin_cancelled(move || d.send(Event::PinCancelled));
    let d = dispatch.clone();
    g.on_command(move |name| {
        if let Some(c) = command(&name) {
            d.send(Event::Staff(c));
        }
    });
    let d = dispatch.clone();
    g.on_reopen(move |id| {
        if let Ok(record_id) = Uuid::parse_str(&id) {
            d.send(Event::Staff(StaffCommand::Reopen(record_id)));
        }
    });
}

pub fn show(ui: &AppWindow, view: &View) {
    let g = ui.global::<StaffView>();
    let Some(staff) = &view.staff else {
        g.set_panel("".into());
        return;
    };
    let (panel, purpose) = match staff.panel {
        StaffPanel::Pin(PinPurpose::OpenStaffMode) => ("pin", "open"),
        StaffPanel::Pin(PinPurpose::WitnessSignature) => ("pin", "witness"),
        StaffPanel::Pin(PinPurpose::AcceptPortrait) => ("pin", "portrait"),
        StaffPanel::Pin(PinPurpose::MarkDocumentMissing) => ("pin", "document"),
        StaffPanel::Menu => ("menu", ""),
        StaffPanel::Queue => ("queue", ""),
        StaffPanel::Devices => ("devices", ""),
        StaffPanel::About => ("about", ""),
    };
    g.set_panel(panel.into());
    g.set_pin_purpose(purpose.into());
    g.set_pin_message(staff.pin_message.unwrap_or("").into());
    g.set_locked_seconds(
        staff
            .pin_locked_for
            .map_or(0, |s| i32::try_from(s).unwrap_or(i32::MAX)),
    );
    let staff_id = staff.staff_id.unwrap_or("");
    g.set_staff_id(staff_id.into());
    let name = staff
        .members
        .iter()
        .find(|(id, _)| *id == staff_id)
        .map(|(_, name)| *name);
    let label = match name {
        // The name alone: with the number the title crowds its buttons at 大.
        Some(name) if !name.is_empty() => name.to_string(),
        _ => staff_id.to_string(),
    };
    g.set_staff_label(label.into());
    // With one member there is nobody to pick: the PIN is theirs.
    let rows: Vec<ModelRc<StaffMemberRow>> = if staff.members.len() > 1 {
        staff
            .members
            .chunks(2)
            .map(|pair| {
                let row: Vec<StaffMemberRow> = pair
                    .iter()
                    .map(|(id, name)| StaffMemberRow {
                        id: (*id).into(),
                        name: (*name).into(),
                    })
                    .collect();
                ModelRc::new(VecModel::from(row))
            })
            .collect()
    } else {
        Vec::new()
    };
    g.set_member_rows(ModelRc::new(VecModel::from(rows)));
    g.set_chosen_member(staff.chosen_member.unwrap_or("").into());
    g.set_helping(view.helping);
    g.set_can_enter_manually(staff.can_enter_manually);
    g.set_config_version(staff.config_version.into());
    g.set_config_hash(staff.config_hash.into());
    g.set_sync_message(staff.sync_message.unwrap_or("").into());
    let queue: Vec<QueueRow> = staff
        .queue
        .iter()
        .map(|line| QueueRow {
            id: line.record_id.to_string().into(),
            returned: line.state == RecordState::Rejected,
            label: line.label.as_str().into(),
            state: line.state.as_zh().into(),
            at: local_time(line.queued_at, "%m-%d %H:%M").into(),
            reason: line.reason_zh.clone().unwrap_or_default().into(),
        })
        .collect();
    g.set_queue(ModelRc::new(VecModel::from(queue)));
    let devices: Vec<DeviceRow> = staff
        .devices
        .iter()
        .map(|d| DeviceRow {
            name: d.name_zh.as_str().into(),
            ok: d.ok,
            status: d.status_zh.as_str().into(),
        })
        .collect();
    g.set_devices(ModelRc::new(VecModel::from(devices)));
}
