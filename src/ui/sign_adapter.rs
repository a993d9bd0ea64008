//! Printing the receipt, printer trouble with retry, staff confirmation.

use kiosk_core::session::{Event, PrintState, View};

use super::{AppWindow, Dispatch, SignView};
use slint::ComponentHandle;

pub fn connect(ui: &AppWindow, dispatch: &Dispatch) {
    let g = ui.global::<SignView>();
    let d = dispatch.clone();
    g.on_retry(move || d.send(Event::PrintRequested));
    let d = dispatch.clone();
    g.on_witness(move || d.send(Event::WitnessRequested));
}

pub fn show(ui: &AppWindow, view: &View) {
    let g = ui.global::<SignView>();
    let (state, failure) = match &view.printing {
        PrintState::NotStarted | PrintState::Printing => ("printing", String::new()),
        PrintState::Failed(message) => ("failed", message.clone()),
        PrintState::AwaitingSignature => ("awaiting", String::new()),
        PrintState::Saving => ("saving", String::new()),
    };
    g.set_state(state.into());
    g.set_failure(failure.into());
}
