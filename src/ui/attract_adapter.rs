//! The attract screen: campaign notice from configuration, and "start".

use kiosk_core::session::View;

use super::{AppWindow, AttractView, Dispatch};
use slint::ComponentHandle;

/// The campaign text shown while nobody is registering (from configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub title_zh: String,
    pub notice_zh: String,
    pub place_zh: String,
}

pub fn connect(_ui: &AppWindow, _dispatch: &Dispatch) {
    // `start` needs a fresh record id from the shell: the kiosk connects it.
}

pub fn show_campaign(ui: &AppWindow, campaign: &Campaign) {
    let g = ui.global::<AttractView>();
    g.set_title(campaign.title_zh.as_str().into());
    g.set_notice(campaign.notice_zh.as_str().into());
    g.set_place(campaign.place_zh.as_str().into());
}

pub fn show(_ui: &AppWindow, _view: &View) {}
