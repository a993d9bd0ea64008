//! Measures cold start to the attract screen and the memory in use.
//!
//! Run under a display (e.g. `xvfb-run -s "-screen 0 1920x1080x24"` with
//! `SLINT_BACKEND=winit-software`); see scripts/measure-ui.sh. Prints one
//! JSON line: milliseconds from `main` to the event loop showing the attract
//! screen, and resident memory then and after 3 s of idling.

// A measuring program may unwrap: a panic there is a failed measurement, not a kiosk crash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

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

/// Milliseconds since the process was started by the kernel (10 ms steps),
/// so that loading the binary and its libraries is counted too.
fn process_age_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses.
    let after = stat.rsplit(')').next()?;
    let start_ticks: u64 = after.split_whitespace().nth(19)?.parse().ok()?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    // Linux reports start time in USER_HZ, which is 100 on every platform it supports.
    let started_s = start_ticks as f64 / 100.0;
    Some(((uptime - started_s) * 1000.0).max(0.0) as u64)
}

fn main() -> Result<(), slint::PlatformError> {
    let started = Instant::now();
    // The configured kiosk (configuration store, devices, outbox, sync), as
    // `veteran-kiosk` starts it from the repository directory.
    let (ui, _running) =
        veteran_kiosk::kiosk::launch(&veteran_kiosk::kiosk::boot::KioskPaths::default())?;
    let first = std::rc::Rc::new(std::cell::Cell::new((0u128, 0u64, 0u64)));
    let f = first.clone();
    let w = ui.as_weak();
    // Runs once the event loop is up and the window has been shown; the
    // software renderer cannot report its first frame, so one full frame of
    // the attract screen is rendered here and counted in.
    slint::Timer::single_shot(Duration::from_millis(0), move || {
        if let Some(ui) = w.upgrade() {
            let _ = ui.window().take_snapshot();
        }
        f.set((
            started.elapsed().as_millis(),
            process_age_ms().unwrap_or(0),
            rss_kib(),
        ));
    });
    let weak = ui.as_weak();
    slint::Timer::single_shot(Duration::from_secs(3), move || {
        let (ms, process_ms, rss_start) = first.get();
        println!(
            "{{\"main_to_attract_frame_ms\":{ms},\"process_start_to_attract_frame_ms\":{process_ms},\"rss_at_attract_kib\":{rss_start},\"rss_after_3s_kib\":{}}}",
            rss_kib()
        );
        if let Some(ui) = weak.upgrade() {
            let _ = ui.hide();
        }
        let _ = slint::quit_event_loop();
    });
    ui.run()
}
