//! The live framing coach: turns a stream of per-frame measures into one
//! steady instruction at a time and decides when to take the picture.
//!
//! Pure: every frame comes with its own timestamp (time since any fixed
//! start, e.g. the camera's frame clock), so the coach runs the same on a
//! virtual clock in tests as on the camera.

use std::time::Duration;

use super::assess::{assess_frame, FrameSetup, Thresholds};
use super::geometry::Point;
use super::issue::{Issue, HOLD_STILL_ZH};
use super::measure::Measures;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoachConfig {
    pub thresholds: Thresholds,
    pub setup: FrameSetup,
    /// How long every check must pass, with the head still, before the
    /// shot is taken.
    pub steady_for: Duration,
    /// A new instruction must be wanted for this long before it is shown.
    pub settle: Duration,
    /// A shown instruction stays at least this long.
    pub min_show: Duration,
    /// While passing, limits are loosened by this share (hysteresis).
    pub slack: f32,
    /// During the steady moment the head may drift at most this share of
    /// the face box height from where it was when the moment started.
    pub max_drift: f32,
}

impl CoachConfig {
    pub fn new(setup: FrameSetup) -> Self {
        CoachConfig {
            thresholds: Thresholds::default(),
            setup,
            steady_for: Duration::from_millis(1000),
            settle: Duration::from_millis(300),
            min_show: Duration::from_millis(800),
            slack: 0.2,
            max_drift: 0.15,
        }
    }
}

/// What to show: an issue to fix, or "hold still" while all is well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advice {
    Fix(Issue),
    HoldStill,
}

impl Advice {
    pub fn text_zh(&self) -> &'static str {
        match self {
            Advice::Fix(issue) => issue.instruction_zh(),
            Advice::HoldStill => HOLD_STILL_ZH,
        }
    }
}

/// The coach's answer to one frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoachStep {
    /// The instruction to display (already debounced).
    pub advice: Advice,
    /// How far through the steady moment we are, 0–1 (for a progress ring).
    pub progress: f32,
    /// Take this frame (or trigger the full-resolution capture) now. True
    /// on exactly one frame; afterwards the coach waits for [`Coach::reset`].
    pub capture: bool,
}

#[derive(Debug, Clone, Copy)]
struct SteadySince {
    since: Duration,
    centre: Point,
    face_height: f32,
}

#[derive(Debug, Clone)]
pub struct Coach {
    config: CoachConfig,
    shown: Option<(Advice, Duration)>,
    pending: Option<(Advice, Duration)>,
    /// Since when all checks pass, and where the face was then.
    passing: Option<SteadySince>,
    captured: bool,
}

impl Coach {
    pub fn new(config: CoachConfig) -> Self {
        Coach {
            config,
            shown: None,
            pending: None,
            passing: None,
            captured: false,
        }
    }

    /// Start over, e.g. after the person rejected the captured photo.
    pub fn reset(&mut self) {
        *self = Coach::new(self.config);
    }

    pub fn observe(&mut self, measures: &Measures, now: Duration) -> CoachStep {
        let thresholds = if self.passing.is_some() {
            self.config.thresholds.relaxed(self.config.slack)
        } else {
            self.config.thresholds
        };
        let issues = assess_frame(measures, &thresholds, &self.config.setup);
        let wanted = issues
            .first()
            .map_or(Advice::HoldStill, |i| Advice::Fix(*i));
        self.track_steadiness(measures, issues.is_empty(), now);
        let advice = self.debounce(wanted, now);
        let progress = match self.passing {
            Some(steady) if !self.captured => {
                let held = now.saturating_sub(steady.since).as_secs_f32();
                (held / self.config.steady_for.as_secs_f32().max(f32::EPSILON)).min(1.0)
            }
            _ => 0.0,
        };
        let capture = !self.captured && progress >= 1.0;
        if capture {
            self.captured = true;
        }
        CoachStep {
            advice,
            progress,
            capture,
        }
    }

    fn track_steadiness(&mut self, measures: &Measures, all_pass: bool, now: Duration) {
        let Some(face) = measures.face.as_ref().filter(|_| all_pass) else {
            self.passing = None;
            return;
        };
        let centre = face.face_box.centre();
        let still = self.passing.is_some_and(|steady| {
            let drift = (centre.x - steady.centre.x).hypot(centre.y - steady.centre.y);
            drift / steady.face_height <= self.config.max_drift
        });
        if !still {
            // Newly passing, or moved too much: the steady moment restarts.
            self.passing = Some(SteadySince {
                since: now,
                centre,
                face_height: face.face_box.height.max(1.0),
            });
        }
    }

    fn debounce(&mut self, wanted: Advice, now: Duration) -> Advice {
        let Some((shown, shown_since)) = self.shown else {
            self.shown = Some((wanted, now));
            return wanted;
        };
        if wanted == shown {
            self.pending = None;
            return shown;
        }
        let pending_since = match self.pending {
            Some((advice, since)) if advice == wanted => since,
            _ => {
                self.pending = Some((wanted, now));
                now
            }
        };
        let settled = now.saturating_sub(pending_since) >= self.config.settle;
        let shown_long_enough = now.saturating_sub(shown_since) >= self.config.min_show;
        if settled && shown_long_enough {
            self.shown = Some((wanted, now));
            self.pending = None;
            wanted
        } else {
            shown
        }
    }
}
