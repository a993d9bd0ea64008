//! The identity as read from the card (or typed by staff), found/new, and
//! the two things the person adds: phone and current address.

use chrono::Datelike;

use kiosk_core::card::Nation;
use kiosk_core::id_number::IdNumber;
use kiosk_core::record::IdentitySource;
use kiosk_core::session::{Event, View};

use super::{inline_problem, AppWindow, Dispatch, IdentityView};
use slint::ComponentHandle;

pub fn connect(ui: &AppWindow, dispatch: &Dispatch) {
    let g = ui.global::<IdentityView>();
    let d = dispatch.clone();
    g.on_phone_edited(move |text| d.send(Event::PhoneEntered(text.to_string())));
    let d = dispatch.clone();
    g.on_current_address_edited(move |text| d.send(Event::CurrentAddressEntered(text.to_string())));
}

pub fn show(ui: &AppWindow, view: &View) {
    let g = ui.global::<IdentityView>();
    let Some(record) = view.record else {
        g.set_phone("".into());
        g.set_current_address("".into());
        return;
    };
    let id = &record.identity;
    g.set_name(id.name.as_str().into());
    g.set_sex(id.sex.map(|s| s.as_zh()).unwrap_or("").into());
    g.set_nation(
        id.nation_code
            .and_then(Nation::from_code)
            .map(|n| n.name_zh())
            .unwrap_or("")
            .into(),
    );
    g.set_birth(
        id.birth_date
            .map(|d| format!("{}年{}月{}日", d.year(), d.month(), d.day()))
            .unwrap_or_default()
            .into(),
    );
    g.set_address(id.address.as_str().into());
    // Masked on screen: others may be standing nearby.
    let masked = IdNumber::parse_structure(&id.id_number)
        .map(|n| n.masked())
        .unwrap_or_else(|_| id.id_number.clone());
    g.set_id_number(masked.into());
    let from = id
        .valid_from
        .map(|d| d.format("%Y.%m.%d").to_string())
        .unwrap_or_default();
    g.set_validity(format!("{from} — {}", id.valid_to.replace('-', ".")).into());
    g.set_source(
        match id.source {
            IdentitySource::Card => "读取身份证",
            IdentitySource::Typed => "工作人员录入",
        }
        .into(),
    );
    g.set_found(
        match view.found_in_base {
            Some(true) => "found",
            Some(false) => "new",
            None => "",
        }
        .into(),
    );
    g.set_phone(id.phone.as_str().into());
    g.set_current_address(id.current_address.as_str().into());
    g.set_phone_problem(inline_problem(&view.problems, "identity.phone"));
    g.set_address_problem(inline_problem(&view.problems, "identity.current_address"));
}
