//! The identity as read from the card (or typed by staff), found/new, and
//! the two things the person adds: phone and current address.

use chrono::Datelike;

use kiosk_core::card::Nation;
use kiosk_core::id_number::IdNumber;
use kiosk_core::record::{IdentitySource, Record};
use kiosk_core::session::{Event, Step, View};

use super::{inline_problem, AppWindow, Dispatch, IdentityView};
use slint::ComponentHandle;

pub fn connect(ui: &AppWindow, dispatch: &Dispatch) {
    let g = ui.global::<IdentityView>();
    let d = dispatch.clone();
    g.on_phone_edited(move |text| d.send(Event::PhoneEntered(text.to_string())));
    let d = dispatch.clone();
    g.on_current_address_edited(move |text| d.send(Event::CurrentAddressEntered(text.to_string())));
    let d = dispatch.clone();
    g.on_found_confirmed(move || d.send(Event::FoundRecordConfirmed));
    let d = dispatch.clone();
    g.on_found_to_update(move || d.send(Event::FoundRecordToUpdate));
}

/// What the county has of a returning person, one fact a line, in the
/// words of the pages that ask for it.
fn county_summary(record: &Record) -> String {
    let categories: Vec<&str> = record
        .categories
        .iter()
        .map(|c| c.category().name_zh())
        .collect();
    let mut lines = vec![format!(
        "人员类别：{}",
        if categories.is_empty() {
            "（无）".to_string()
        } else {
            categories.join("、")
        }
    )];
    if !record.identity.phone.is_empty() {
        lines.push(format!("联系电话：{}", record.identity.phone));
    }
    if !record.identity.current_address.is_empty() {
        lines.push(format!("现住址：{}", record.identity.current_address));
    }
    if let Some(signed) = &record.signature {
        let day = kiosk_core::time::china_date(signed.signed_at);
        lines.push(format!(
            "上次登记：{}年{}月{}日",
            day.year(),
            day.month(),
            day.day()
        ));
    }
    lines.join("\n")
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
            // Not new to this kiosk: an unfinished registration was resumed.
            Some(false) if view.resumed_draft => "resumed",
            // Not new either: the county returned their last record, whose
            // reasons the notice below the page shows.
            Some(false) if view.returned.is_some() => "returned",
            Some(false) => "new",
            None => "",
        }
        .into(),
    );
    // Once the person answered, the question goes away.
    let summary = match (view.county_record, view.returning) {
        (Some(county), None) if view.step == Step::Identity => county_summary(county),
        _ => String::new(),
    };
    g.set_county_summary(summary.into());
    g.set_phone(id.phone.as_str().into());
    g.set_current_address(id.current_address.as_str().into());
    g.set_phone_problem(inline_problem(&view.problems, "identity.phone"));
    g.set_address_problem(inline_problem(&view.problems, "identity.current_address"));
}
