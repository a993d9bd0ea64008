//! Staff type the identity from the card, with a photo of the card.

use kiosk_core::session::{Event, ManualIdentity, PhotoPurpose, Step, View};

use super::{AppWindow, Dispatch, ManualIdentityView};
use slint::ComponentHandle;

pub fn connect(ui: &AppWindow, dispatch: &Dispatch) {
    let g = ui.global::<ManualIdentityView>();
    let d = dispatch.clone();
    g.on_take_card_photo(move || d.send(Event::TakePhoto(PhotoPurpose::IdCard)));
    let d = dispatch.clone();
    let weak = ui.as_weak();
    g.on_submit(move || {
        let Some(ui) = weak.upgrade() else { return };
        let g = ui.global::<ManualIdentityView>();
        d.send(Event::ManualIdentityEntered(Box::new(ManualIdentity {
            name: g.get_name().to_string(),
            nation: g.get_nation().to_string(),
            address: g.get_address().to_string(),
            id_number: g.get_id_number().to_string(),
            authority: g.get_authority().to_string(),
            valid_from: g.get_valid_from().to_string(),
            valid_to: g.get_valid_to().to_string(),
        })));
    });
}

pub fn show(ui: &AppWindow, view: &View) {
    let g = ui.global::<ManualIdentityView>();
    g.set_card_photo_taken(view.card_photo_taken);
    // The typed text lives in the form only until the session has it; a
    // new person starts with an empty form.
    if view.step == Step::Attract {
        for set in [
            ManualIdentityView::set_name,
            ManualIdentityView::set_nation,
            ManualIdentityView::set_address,
            ManualIdentityView::set_id_number,
            ManualIdentityView::set_authority,
            ManualIdentityView::set_valid_from,
            ManualIdentityView::set_valid_to,
        ] {
            set(&g, "".into());
        }
    }
}
