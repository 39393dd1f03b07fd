//! Chart data from check-ins: daily pain series with 7-day averages, weekly
//! adherence, training load with the acute:chronic workload ratio, and
//! single-session spikes. Pure arithmetic; rendering is the web layer's.
//!
//! - Load is session RPE: minutes x effort (0-10).
//! - ACWR on a day: the load of the last 7 days over the weekly average of
//!   the last 28 days (Gabbett 2016). Shown only with 28 days of history,
//!   and as a hint: its predictive value is disputed (Impellizzeri 2020).
//! - A spike: a session more than 10% longer than the longest of the
//!   previous 30 days (Frandsen 2025: the risk rose from +10%), counted
//!   once there was an earlier session.
//!
//! [`daily`] finds each day's windows by binary search in the day-sorted
//! check-ins; a property test (`daily_agrees_with_its_definition`) holds it
//! to the plain one-pass-per-window definition.

use serde::Serialize;

use crate::checkin::CheckIn;
use crate::day::Day;

/// A session counts as a spike above this multiple of the 30-day longest.
pub const SPIKE_FACTOR: f64 = 1.1;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayPoint {
    pub day: Day,
    pub pain_now: Option<f64>,
    pub exercise_pain: Option<f64>,
    pub morning_pain: Option<f64>,
    pub avg_pain_now: Option<f64>,
    pub avg_exercise_pain: Option<f64>,
    pub avg_morning_pain: Option<f64>,
    pub minutes: f64,
    pub load: f64,
    pub acwr: Option<f64>,
    pub spike: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeekAdherence {
    pub week_start: Day,
    /// Percent of planned exercises done; None when nothing was planned.
    pub percent: Option<f64>,
    pub checkins: usize,
}

fn mean(xs: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// One point per day from `from` to `to` (inclusive). `checkins` sorted by
/// day (as every caller reads them).
///
/// Each day's windows are found by binary search, so a plan of months costs
/// a few lookups per charted day rather than a pass over every check-in
/// for each of them.
pub fn daily(checkins: &[CheckIn], from: Day, to: Day) -> Vec<DayPoint> {
    debug_assert!(checkins.is_sorted_by_key(|c| c.day), "sorted by day");
    let first = checkins.first().map(|c| c.day);
    // The check-ins from day `a` to day `b`, both included.
    let between = |a: Day, b: Day| {
        let lo = checkins.partition_point(|c| c.day < a);
        let hi = checkins.partition_point(|c| c.day <= b).max(lo);
        &checkins[lo..hi]
    };
    let mut out = Vec::with_capacity(usize::try_from(to.days_since(from) + 1).unwrap_or(0));
    let mut d = from;
    while d <= to {
        let c = between(d, d).first();
        let week = between(d.plus(-6), d);
        let acute: f64 = week.iter().map(CheckIn::load).sum();
        let chronic: f64 = between(d.plus(-27), d)
            .iter()
            .map(CheckIn::load)
            .sum::<f64>()
            / 4.0;
        let history = first.is_some_and(|f| d.days_since(f) >= 27);
        let minutes = c.map_or(0.0, |c| f64::from(c.training_minutes));
        let longest_before = between(d.plus(-30), d.plus(-1))
            .iter()
            .filter(|x| x.training_minutes > 0)
            .map(|x| f64::from(x.training_minutes))
            .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
        out.push(DayPoint {
            day: d,
            pain_now: c.map(|c| f64::from(c.pain_now)),
            exercise_pain: c.and_then(|c| c.exercise_pain.map(f64::from)),
            morning_pain: c.and_then(|c| c.morning_pain.map(f64::from)),
            avg_pain_now: mean(week.iter().map(|c| f64::from(c.pain_now))),
            avg_exercise_pain: mean(week.iter().filter_map(|c| c.exercise_pain.map(f64::from))),
            avg_morning_pain: mean(week.iter().filter_map(|c| c.morning_pain.map(f64::from))),
            minutes,
            load: c.map_or(0.0, CheckIn::load),
            acwr: (history && chronic > 0.0).then(|| acute / chronic),
            spike: longest_before.is_some_and(|l| minutes > l * SPIKE_FACTOR),
        });
        d = d.plus(1);
    }
    out
}

/// Adherence per 7-day block starting at `plan_start`, up to `today`.
pub fn weekly_adherence(checkins: &[CheckIn], plan_start: Day, today: Day) -> Vec<WeekAdherence> {
    let mut out = Vec::new();
    let mut start = plan_start;
    while start <= today {
        let week: Vec<&CheckIn> = checkins
            .iter()
            .filter(|c| c.day >= start && c.day < start.plus(7))
            .collect();
        let planned: usize = week.iter().map(|c| c.planned.len()).sum();
        let done: usize = week
            .iter()
            .map(|c| c.planned.iter().filter(|p| c.done.contains(p)).count())
            .sum();
        out.push(WeekAdherence {
            week_start: start,
            percent: (planned > 0).then(|| done as f64 * 100.0 / planned as f64),
            checkins: week.len(),
        });
        start = start.plus(7);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkin::Swelling;

    fn c(day: i32, pain: u8, minutes: u16) -> CheckIn {
        CheckIn {
            day: Day(day),
            pain_now: pain,
            exercise_pain: Some(pain),
            morning_pain: Some(pain),
            stiffness: 0,
            swelling: Some(Swelling::None),
            walks_normally: Some(true),
            full_range: Some(true),
            planned: vec!["a".into(), "b".into()],
            done: vec!["a".into()],
            training_minutes: minutes,
            effort: 5,
            sleep_hours: Some(8.0),
            warning_signs: vec![],
        }
    }

    #[test]
    fn seven_day_average_and_spike() {
        let cs: Vec<_> = (0..10)
            .map(|d| c(d, d as u8, if d == 9 { 90 } else { 30 }))
            .collect();
        let pts = daily(&cs, Day(0), Day(9));
        assert_eq!(pts[6].avg_pain_now, Some(3.0)); // mean of 0..=6
        assert_eq!(pts[9].avg_pain_now, Some(6.0)); // mean of 3..=9
        assert!(pts[9].spike, "90 min after a longest of 30");
        assert!(!pts[5].spike, "30 min equals, not exceeds, the longest");
        let small: Vec<_> = (0..3)
            .map(|d| c(d, 1, if d == 2 { 33 } else { 30 }))
            .collect();
        assert!(
            !daily(&small, Day(2), Day(2))[0].spike,
            "+10% is not yet a spike"
        );
        let big: Vec<_> = (0..3)
            .map(|d| c(d, 1, if d == 2 { 34 } else { 30 }))
            .collect();
        assert!(daily(&big, Day(2), Day(2))[0].spike, "+13% is a spike");
        assert!(!pts[0].spike, "no earlier session");
        assert_eq!(pts[9].acwr, None, "no ACWR before 28 days of history");
    }

    #[test]
    fn acwr_with_steady_load_is_one() {
        let cs: Vec<_> = (0..28).map(|d| c(d, 2, 30)).collect();
        let pts = daily(&cs, Day(27), Day(27));
        assert_eq!(pts[0].acwr, Some(1.0));
    }

    /// `daily` as first written: every window a pass over all check-ins.
    /// The definition the faster one must agree with.
    fn daily_by_definition(checkins: &[CheckIn], from: Day, to: Day) -> Vec<DayPoint> {
        let first = checkins.first().map(|c| c.day);
        let on = |d: Day| checkins.iter().find(|c| c.day == d);
        let window = |d: Day, len: i32| {
            checkins
                .iter()
                .filter(move |c| c.day > d.plus(-len) && c.day <= d)
        };
        let mut out = Vec::new();
        let mut d = from;
        while d <= to {
            let c = on(d);
            let acute: f64 = window(d, 7).map(CheckIn::load).sum();
            let chronic: f64 = window(d, 28).map(CheckIn::load).sum::<f64>() / 4.0;
            let minutes = c.map_or(0.0, |c| f64::from(c.training_minutes));
            let longest_before = checkins
                .iter()
                .filter(|x| x.day >= d.plus(-30) && x.day < d && x.training_minutes > 0)
                .map(|x| f64::from(x.training_minutes))
                .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
            out.push(DayPoint {
                day: d,
                pain_now: c.map(|c| f64::from(c.pain_now)),
                exercise_pain: c.and_then(|c| c.exercise_pain.map(f64::from)),
                morning_pain: c.and_then(|c| c.morning_pain.map(f64::from)),
                avg_pain_now: mean(window(d, 7).map(|c| f64::from(c.pain_now))),
                avg_exercise_pain: mean(
                    window(d, 7).filter_map(|c| c.exercise_pain.map(f64::from)),
                ),
                avg_morning_pain: mean(window(d, 7).filter_map(|c| c.morning_pain.map(f64::from))),
                minutes,
                load: c.map_or(0.0, CheckIn::load),
                acwr: (first.is_some_and(|f| d.days_since(f) >= 27) && chronic > 0.0)
                    .then(|| acute / chronic),
                spike: longest_before.is_some_and(|l| minutes > l * SPIKE_FACTOR),
            });
            d = d.plus(1);
        }
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Gaps, missing ratings, days before and after the charted range,
        /// and ranges that start before the first check-in.
        #[test]
        fn daily_agrees_with_its_definition(
            days in proptest::collection::btree_set(0i32..120, 0..70),
            ratings in proptest::collection::vec(
                (0u8..=10, proptest::option::of(0u8..=10), proptest::option::of(0u8..=10), 0u16..=120, 0u8..=10),
                70,
            ),
            from in -10i32..110,
            len in 0i32..100,
        ) {
            let cs: Vec<CheckIn> = days
                .iter()
                .zip(&ratings)
                .map(|(&d, &(pain, ex, morning, minutes, effort))| CheckIn {
                    exercise_pain: ex,
                    morning_pain: morning,
                    effort,
                    ..c(d, pain, minutes)
                })
                .collect();
            let (a, b) = (Day(from), Day(from + len));
            proptest::prop_assert_eq!(daily(&cs, a, b), daily_by_definition(&cs, a, b));
        }
    }

    #[test]
    fn weekly_adherence_counts_planned_and_done() {
        let cs: Vec<_> = (0..9).map(|d| c(d, 2, 0)).collect();
        let w = weekly_adherence(&cs, Day(0), Day(9));
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].percent, Some(50.0));
        assert_eq!(w[0].checkins, 7);
        assert_eq!(w[1].checkins, 2);
    }
}
