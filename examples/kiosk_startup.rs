//! Measures cold start to the attract screen and the memory in use.
//!
//! Run under a display (e.g. `xvfb-run -s "-screen 0 1920x1080x24"` with
//! `SLINT_BACKEND=winit-software`); see scripts/measure-ui.sh. Prints one
//! JSON line: milliseconds from `main` to the event loop showing the attract
//! screen, and resident memory then and after 3 s of idling.

use std::time::{Duration, Instant};

use slint::ComponentHandle;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> Result<(), slint::PlatformError> {
    let started = Instant::now();
    let (ui, _running) = veteran_kiosk::kiosk::launch()?;
    let first = std::rc::Rc::new(std::cell::Cell::new((0u128, 0u64)));
    let f = first.clone();
    // Runs once the event loop is up and the window has been shown.
    slint::Timer::single_shot(Duration::from_millis(0), move || {
        f.set((started.elapsed().as_millis(), rss_kib()));
    });
    let weak = ui.as_weak();
    slint::Timer::single_shot(Duration::from_secs(3), move || {
        let (ms, rss_start) = first.get();
        println!(
            "{{\"cold_start_to_attract_ms\":{ms},\"rss_at_attract_kib\":{rss_start},\"rss_after_3s_kib\":{}}}",
            rss_kib()
        );
        if let Some(ui) = weak.upgrade() {
            let _ = ui.hide();
        }
        let _ = slint::quit_event_loop();
    });
    ui.run()
}
