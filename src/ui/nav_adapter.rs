//! The frame around every page: progress, Back/Next, notice, idle warning,
//! end-of-session question, text size and contrast.

use kiosk_core::session::{Event, PrintState, Step, TextSize, View};

use super::{AppWindow, Dispatch, Nav, Screen, TextSize as UiTextSize, Theme};
use slint::ComponentHandle;

pub fn connect(ui: &AppWindow, dispatch: &Dispatch) {
    let nav = ui.global::<Nav>();
    let d = dispatch.clone();
    nav.on_next(move || d.send(Event::Next));
    let d = dispatch.clone();
    nav.on_back(move || d.send(Event::Back));
    let d = dispatch.clone();
    nav.on_back_to_review(move || d.send(Event::BackToReview));
    let d = dispatch.clone();
    nav.on_cancel_requested(move || d.send(Event::CancelRequested));
    let d = dispatch.clone();
    nav.on_cancel_confirmed(move || d.send(Event::Cancel));
    let d = dispatch.clone();
    nav.on_still_here(move || d.send(Event::StillHere));
    let d = dispatch.clone();
    nav.on_text_size_chosen(move |size| {
        d.send(Event::ChooseTextSize(match size {
            UiTextSize::Normal => TextSize::Normal,
            UiTextSize::Large => TextSize::Large,
            UiTextSize::ExtraLarge => TextSize::ExtraLarge,
        }))
    });
    let d = dispatch.clone();
    let weak = ui.as_weak();
    nav.on_contrast_toggled(move || {
        let on = weak
            .upgrade()
            .is_some_and(|ui| ui.global::<Theme>().get_high_contrast());
        d.send(Event::SetHighContrast(!on))
    });
    let d = dispatch.clone();
    nav.on_staff_gesture(move || d.send(Event::StaffGesture));
}

/// Screen, progress number and name of a step.
fn place(view: &View) -> (Screen, i32, String) {
    let chosen = view.record.map_or(0, |r| r.categories.len());
    match view.step {
        Step::Attract => (Screen::Attract, 0, String::new()),
        Step::InsertCard => (Screen::InsertCard, 1, "读取身份证".into()),
        Step::ManualIdentity => (Screen::ManualIdentity, 1, "录入身份信息".into()),
        Step::Identity => (Screen::Identity, 1, "核对身份".into()),
        Step::Portrait => (Screen::Portrait, 2, "拍照".into()),
        Step::Categories => (Screen::Categories, 3, "人员类别".into()),
        Step::CategoryDetails(i) => (
            Screen::Details,
            4,
            format!("类别详情（{}/{}）", i + 1, chosen.max(1)),
        ),
        Step::Documents => (Screen::Documents, 5, "证件拍照".into()),
        Step::Living => (Screen::Living, 6, "生活情况".into()),
        Step::Needs => (Screen::Needs, 7, "困难诉求".into()),
        Step::Review => (Screen::Review, 8, "核对".into()),
        Step::Sign => (Screen::Sign, 9, "签字".into()),
        Step::Done => (Screen::Done, 0, String::new()),
    }
}

pub fn show(ui: &AppWindow, view: &View) {
    let nav = ui.global::<Nav>();
    let (screen, number, name) = place(view);
    nav.set_screen(screen);
    nav.set_step_number(number);
    nav.set_step_name(name.into());
    // The signing page says printer trouble next to its retry button.
    let shown_on_page = view.step == Step::Sign && matches!(view.printing, PrintState::Failed(_));
    let notice = if shown_on_page {
        None
    } else {
        view.notice.clone()
    };
    nav.set_notice(notice.unwrap_or_default().into());
    let flow_page = matches!(
        view.step,
        Step::Identity
            | Step::Portrait
            | Step::Categories
            | Step::CategoryDetails(_)
            | Step::Documents
            | Step::Living
            | Step::Needs
            | Step::Review
    );
    let can_back = match view.step {
        Step::Identity => view
            .record
            .is_some_and(|r| r.identity.source == kiosk_core::record::IdentitySource::Typed),
        Step::Sign => matches!(
            view.printing,
            PrintState::NotStarted | PrintState::Failed(_)
        ),
        step => flow_page && step != Step::Identity,
    };
    nav.set_can_back(can_back && !view.came_from_review);
    nav.set_can_next(flow_page && !view.came_from_review);
    nav.set_next_label(
        if view.step == Step::Review {
            "打印回执"
        } else {
            "下一步"
        }
        .into(),
    );
    nav.set_show_back_to_review(view.came_from_review);
    nav.set_idle_countdown(
        view.idle_countdown
            .map_or(-1, |s| i32::try_from(s).unwrap_or(i32::MAX)),
    );
    nav.set_confirming_cancel(view.confirming_cancel);
    nav.set_helping(view.helping);
    nav.set_staff_open(view.staff.is_some());

    let theme = ui.global::<Theme>();
    theme.set_text_size(match view.text_size {
        TextSize::Normal => UiTextSize::Normal,
        TextSize::Large => UiTextSize::Large,
        TextSize::ExtraLarge => UiTextSize::ExtraLarge,
    });
    theme.set_high_contrast(view.high_contrast);
}
