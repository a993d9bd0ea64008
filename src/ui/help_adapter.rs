//! Help of the page on screen: the county's text from configuration
//! (`[texts.help]`) on a "帮助" button and in a panel that is read aloud.
//!
//! The texts are configuration, which the pure session must not know: the
//! kiosk hands them to [`super::show`], the button sends the page's text
//! with [`Event::HelpRequested`], and the session decides whether the panel
//! is open (closing it on a new page and on a wipe) and asks for the text
//! to be spoken (`Effect::Speak`).

use crate::config::HelpTexts;
use kiosk_core::session::{Event, Step, View};

use super::{AppWindow, Dispatch, HelpView};
use slint::ComponentHandle;

pub fn connect(ui: &AppWindow, dispatch: &Dispatch) {
    let help = ui.global::<HelpView>();
    let d = dispatch.clone();
    let weak = ui.as_weak();
    help.on_requested(move || {
        // The text on show is the one read aloud.
        let Some(ui) = weak.upgrade() else { return };
        let text = ui.global::<HelpView>().get_text().to_string();
        d.send(Event::HelpRequested { text })
    });
    let d = dispatch.clone();
    help.on_closed(move || d.send(Event::HelpClosed));
}

pub fn show(ui: &AppWindow, view: &View, texts: &HelpTexts) {
    let text = text_for(texts, view.step).unwrap_or_default();
    let g = ui.global::<HelpView>();
    if g.get_text() != text {
        g.set_text(text.into());
    }
    g.set_open(view.help_open && !text.is_empty());
}

/// The help text of `step`, if the county wrote one with something in it.
pub fn text_for(texts: &HelpTexts, step: Step) -> Option<&str> {
    texts
        .for_step(step)
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Texts;

    /// Every step finds the same text as the configuration's own look-up.
    #[test]
    fn each_step_finds_the_configured_text_of_its_page() {
        let steps = [
            Step::Attract,
            Step::InsertCard,
            Step::ManualIdentity,
            Step::Identity,
            Step::Portrait,
            Step::Categories,
            Step::CategoryDetails(0),
            Step::CategoryDetails(2),
            Step::Documents,
            Step::Living,
            Step::Needs,
            Step::Review,
            Step::Sign,
            Step::Done,
        ];
        let named = |n: usize| Some(format!("第{n}页的帮助"));
        let texts = Texts {
            campaign_title: String::new(),
            campaign_notice: String::new(),
            help: HelpTexts {
                attract: named(0),
                insert_card: named(1),
                manual_identity: named(2),
                identity: named(3),
                portrait: named(4),
                categories: named(5),
                category_details: named(6),
                documents: named(7),
                living: named(8),
                needs: named(9),
                review: named(10),
                sign: named(11),
                done: named(12),
            },
        };
        let mut seen = std::collections::BTreeSet::new();
        for step in steps {
            let text = text_for(&texts.help, step);
            assert_eq!(text, texts.help.for_step(step), "{step:?}");
            seen.insert(text);
        }
        assert_eq!(seen.len(), 13, "each page has its own text");
        let none = HelpTexts {
            needs: Some(" \n".into()),
            ..HelpTexts::default()
        };
        assert!(steps.iter().all(|s| text_for(&none, *s).is_none()));
    }
}
