//! The one generator of synthetic check-ins: which days a synthetic
//! patient checks in ([`Days`]) and what each check-in says ([`Course`]),
//! for the seeded patients (a clinical picture with a pain trajectory and
//! an adherence level) and for the demo's Maya alike. Deterministic: the
//! same [`Rng`] seed gives the same check-ins.

use kneepath_core::Day;
use kneepath_core::checkin::{CheckIn, Swelling};

use super::Rng;

/// The share of days (after the first) a synthetic patient misses.
const MISSED: f64 = 0.08;

/// The days a synthetic patient checks in, from the plan's first (day 0,
/// never missed) to its `last`, the missed ones left out as they come.
#[derive(Debug, Clone)]
pub struct Days {
    start: Day,
    next: i32,
    last: i32,
}

impl Days {
    pub fn new(start: Day, last: i32) -> Days {
        Days {
            start,
            next: 0,
            last,
        }
    }

    /// The next day checked in on, as (days since the start, day).
    pub fn next(&mut self, rng: &mut Rng) -> Option<(i32, Day)> {
        while self.next <= self.last {
            let i = self.next;
            self.next += 1;
            if i > 0 && rng.unit() < MISSED {
                continue;
            }
            return Some((i, self.start.plus(i)));
        }
        None
    }
}

/// How one synthetic patient's days go.
#[derive(Debug, Clone)]
pub enum Course {
    /// A seeded patient: pain from `p0` along `slope` per day, exercises
    /// done at `adherence`, runs on Mondays, Wednesdays and Fridays from
    /// the third week when `runs`, and a warning sign on `warning_day`.
    Picture {
        p0: f64,
        span: f64,
        slope: f64,
        adherence: f64,
        runs: bool,
        warning_day: Option<i32>,
    },
    /// The demo's Maya over `days` days: pain falling from about 4 to
    /// about 1, nine exercises in ten done, running from the third week,
    /// with one long run ten days before the end (a single-session spike).
    Maya { days: i32 },
}

impl Course {
    /// A seeded patient starting at pain `p0`, over `days` days.
    pub fn picture(rng: &mut Rng, p0: f64, days: i32) -> Course {
        let adherence = rng.pick(&[0.95, 0.85, 0.65, 0.35]);
        let span = f64::from(days.max(1));
        let slope = rng.pick(&[
            -(p0 - 0.5) / (span * 0.6),
            -(p0 - 1.0) / span,
            0.0,
            2.5 / span,
        ]);
        let warning_day = (rng.unit() < 0.05).then(|| (rng.unit() * span) as i32);
        let runs = rng.unit() < 0.5;
        Course::Picture {
            p0,
            span,
            slope,
            adherence,
            runs,
            warning_day,
        }
    }

    /// The check-in of day `i` (of [`Days`]), `planned` the exercises the
    /// plan has on that day.
    pub fn checkin(&self, rng: &mut Rng, i: i32, day: Day, planned: Vec<String>) -> CheckIn {
        match *self {
            Course::Picture {
                p0,
                span,
                slope,
                adherence,
                runs,
                warning_day,
            } => {
                let done = rng.done(&planned, adherence);
                let noise = rng.noise();
                let pain = (p0 + slope * f64::from(i) + noise).clamp(0.0, 10.0);
                let minutes: u16 = if runs && runs_on(i, day) {
                    (20.0 + 25.0 * f64::from(i) / span + rng.unit() * 10.0) as u16
                } else {
                    0
                };
                CheckIn {
                    day,
                    pain_now: pain.round() as u8,
                    exercise_pain: (!done.is_empty()).then(|| score(pain - 1.0 + noise * 0.3)),
                    morning_pain: Some(score(pain - 0.5 + noise * 0.3)),
                    stiffness: (pain * 0.6).round() as u8,
                    swelling: Some(Swelling::None),
                    walks_normally: Some(pain < 6.0),
                    full_range: Some(i > 7 && pain < 4.0),
                    planned,
                    done,
                    training_minutes: minutes,
                    effort: rng.effort(minutes),
                    sleep_hours: Some(6.0 + (rng.unit() * 6.0).round() / 2.0),
                    warning_signs: if warning_day == Some(i) {
                        vec!["calf_swelling_tenderness".into()]
                    } else {
                        Vec::new()
                    },
                }
            }
            Course::Maya { days } => {
                let progress = f64::from(i) / f64::from(days.max(1));
                let pain = score(4.2 - 3.4 * progress + rng.noise());
                let morning = score(3.6 - 3.0 * progress + rng.noise());
                let ex_pain = score(3.2 - 2.6 * progress + rng.noise() * 0.6);
                let done = rng.done(&planned, 0.9);
                let minutes: u16 = if !runs_on(i, day) {
                    0
                } else if i == days - 10 {
                    75 // one long run: a single-session spike
                } else {
                    (20.0 + 25.0 * progress + rng.unit() * 8.0) as u16
                };
                CheckIn {
                    day,
                    pain_now: pain,
                    exercise_pain: (!done.is_empty()).then_some(ex_pain),
                    morning_pain: Some(morning),
                    stiffness: (3.0 - 2.5 * progress).round().max(0.0) as u8,
                    swelling: Some(Swelling::None),
                    walks_normally: Some(true),
                    full_range: Some(i > 9),
                    planned,
                    done,
                    training_minutes: minutes,
                    effort: rng.effort(minutes),
                    sleep_hours: Some(6.5 + (rng.unit() * 2.0 * 2.0).round() / 2.0),
                    warning_signs: Vec::new(),
                }
            }
        }
    }
}

/// A running day: Mondays, Wednesdays and Fridays from the third week.
fn runs_on(i: i32, day: Day) -> bool {
    i >= 14 && matches!(day.weekday(), 1 | 3 | 5)
}

/// A 0-10 answer from a drawn value.
fn score(x: f64) -> u8 {
    x.round().clamp(0.0, 10.0) as u8
}

impl Rng {
    /// Day-to-day noise of a pain score, ±0.8.
    fn noise(&mut self) -> f64 {
        (self.unit() - 0.5) * 1.6
    }

    /// The planned exercises done, each at `rate`.
    fn done(&mut self, planned: &[String], rate: f64) -> Vec<String> {
        planned
            .iter()
            .filter(|_| self.unit() < rate)
            .cloned()
            .collect()
    }

    /// The effort of a training session (none without one).
    fn effort(&mut self, minutes: u16) -> u8 {
        if minutes > 0 {
            5 + (self.unit() * 3.0) as u8
        } else {
            0
        }
    }
}
