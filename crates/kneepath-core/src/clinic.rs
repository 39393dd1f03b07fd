//! What a clinician needs from the numbers: who needs them first
//! ([`status`]), what a set of test results means as facts
//! ([`Measurements::facts`]), and when an outcome questionnaire is due
//! ([`outcome_due`]). Pure functions of values handed in.

use serde::{Deserialize, Serialize};

use crate::checkin::CheckIn;
use crate::progress::Escalation;
use crate::{Day, TriageLevel};

/// Why a patient is on the list, most pressing first. The order of the
/// variants is the dashboard's sort order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Need {
    /// The knowledge base changed and the person's answers now give a more
    /// urgent level or other plan rules: review first.
    PolicyChanged,
    /// A warning sign in the last check-in, or a triage that sent the
    /// person to a doctor.
    WarningSign,
    /// The rules found a worsening trend in the last two weeks.
    Worsening,
    /// No meaningful improvement after three weeks in the plan.
    NotImproving,
    /// No check-in for three days or more (or none yet).
    NoCheckin,
    /// Fewer of the planned exercises done in the last week than the
    /// progression rules ask for.
    LowAdherence,
    OnTrack,
}

impl Need {
    pub const ALL: [Need; 7] = [
        Need::PolicyChanged,
        Need::WarningSign,
        Need::Worsening,
        Need::NotImproving,
        Need::NoCheckin,
        Need::LowAdherence,
        Need::OnTrack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Need::PolicyChanged => "policy_changed",
            Need::WarningSign => "warning_sign",
            Need::Worsening => "worsening",
            Need::NotImproving => "not_improving",
            Need::NoCheckin => "no_checkin",
            Need::LowAdherence => "low_adherence",
            Need::OnTrack => "on_track",
        }
    }

    pub fn parse(s: &str) -> Option<Need> {
        Need::ALL.into_iter().find(|n| n.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Need::PolicyChanged => "Result changed by a new policy",
            Need::WarningSign => "Warning sign",
            Need::Worsening => "Worsening",
            Need::NotImproving => "Not improving",
            Need::NoCheckin => "No check-in for 3+ days",
            Need::LowAdherence => "Low adherence",
            Need::OnTrack => "On track",
        }
    }
}

/// Direction of the 7-day average pain against the week before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    Rising,
    Falling,
    Steady,
    Unknown,
}

/// Everything the dashboard knows about one patient.
#[derive(Debug, Clone, Default)]
pub struct Signals {
    /// Day of the newest check-in ever.
    pub last_checkin: Option<Day>,
    /// (day, pain now) of the check-ins of the last 14 days.
    pub pains: Vec<(Day, u8)>,
    /// The check-ins of the last 7 days, oldest first.
    pub week: Vec<CheckIn>,
    /// (day, kind) of the escalations of the last 14 days.
    pub escalations: Vec<(Day, Escalation)>,
    /// Level of the newest assessment.
    pub level: Option<TriageLevel>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    pub need: Need,
    /// Mean pain of the last 7 days (today included).
    pub pain_avg7: Option<f64>,
    pub trend: Trend,
    /// Share of planned exercises done in the last 7 days, 0-100.
    pub adherence_pct: Option<f64>,
    /// Days since the last check-in.
    pub days_since_checkin: Option<i32>,
}

/// A change in the 7-day average smaller than this is "steady".
const TREND_STEP: f64 = 0.5;

fn mean(v: impl Iterator<Item = f64>) -> Option<f64> {
    let (n, s) = v.fold((0u32, 0.0), |(n, s), x| (n + 1, s + x));
    (n > 0).then(|| s / f64::from(n))
}

/// The dashboard status of one patient on `today`. `min_adherence_pct` is
/// the progression rules' adherence threshold.
pub fn status(s: &Signals, today: Day, min_adherence_pct: u8) -> Status {
    let week: Vec<DaySignal> = s.week.iter().map(DaySignal::of).collect();
    status_of(
        &Recent {
            last_checkin: s.last_checkin,
            pains: &s.pains,
            days: &week,
            escalations: &s.escalations,
            level: s.level,
        },
        today,
        min_adherence_pct,
    )
}

/// What the status reads of one check-in. Stored in a caseload summary as
/// a list, `[day number, pain, planned, done, warning]`: 200 summaries are
/// read for every dashboard page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaySignal {
    pub day: Day,
    pub pain: u8,
    /// Exercises planned for the day, and how many of them were done.
    pub planned: u16,
    pub done: u16,
    /// A warning sign was ticked.
    pub warning: bool,
}

impl Serialize for DaySignal {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // The day as its number (days since 1970-01-01): read without
        // allocating, 200 summaries a page.
        (self.day.0, self.pain, self.planned, self.done, self.warning).serialize(s)
    }
}

impl<'de> Deserialize<'de> for DaySignal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (day, pain, planned, done, warning) = <(i32, u8, u16, u16, bool)>::deserialize(d)?;
        Ok(DaySignal {
            day: Day(day),
            pain,
            planned,
            done,
            warning,
        })
    }
}

impl DaySignal {
    pub fn of(c: &CheckIn) -> DaySignal {
        let count = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
        DaySignal {
            day: c.day,
            pain: c.pain_now,
            planned: count(c.planned.len()),
            done: count(c.planned.iter().filter(|p| c.done.contains(p)).count()),
            warning: !c.warning_signs.is_empty(),
        }
    }
}

/// The signals a status is judged on, borrowed: from a patient's rows
/// ([`Signals`]) or from their summary ([`crate::caseload::CaseSummary`]).
#[derive(Debug, Clone, Copy)]
pub struct Recent<'a> {
    pub last_checkin: Option<Day>,
    pub pains: &'a [(Day, u8)],
    /// Check-ins, oldest first; those outside the week are passed over.
    pub days: &'a [DaySignal],
    pub escalations: &'a [(Day, Escalation)],
    pub level: Option<TriageLevel>,
}

/// [`status`] on borrowed signals.
pub fn status_of(s: &Recent<'_>, today: Day, min_adherence_pct: u8) -> Status {
    let week_start = today.plus(-6);
    let avg7 = mean(
        s.pains
            .iter()
            .filter(|(d, _)| *d >= week_start && *d <= today)
            .map(|(_, p)| f64::from(*p)),
    );
    let prev7 = mean(
        s.pains
            .iter()
            .filter(|(d, _)| *d >= week_start.plus(-7) && *d < week_start)
            .map(|(_, p)| f64::from(*p)),
    );
    let trend = match (avg7, prev7) {
        (Some(a), Some(b)) if a - b >= TREND_STEP => Trend::Rising,
        (Some(a), Some(b)) if b - a >= TREND_STEP => Trend::Falling,
        (Some(_), Some(_)) => Trend::Steady,
        _ => Trend::Unknown,
    };
    let in_week = |d: &Day| *d >= week_start && *d <= today;
    let (planned, done) = s
        .days
        .iter()
        .filter(|c| in_week(&c.day))
        .fold((0usize, 0usize), |(p, d), c| {
            (p + usize::from(c.planned), d + usize::from(c.done))
        });
    let adherence = (planned > 0).then(|| done as f64 * 100.0 / planned as f64);
    let days_since = s.last_checkin.map(|d| today.0 - d.0);
    let recent_escalation = |kind: Escalation| {
        s.escalations
            .iter()
            .any(|(d, k)| *k == kind && *d > today.plus(-14) && *d <= today)
    };
    // The newest check-in of the week, when it is the newest of all.
    let last_has_warning = s
        .days
        .iter()
        .rfind(|c| in_week(&c.day))
        .is_some_and(|c| Some(c.day) == s.last_checkin && c.warning);
    let sent_to_doctor = s.level.is_some_and(|l| !l.allows_home_plan());
    let need = if recent_escalation(Escalation::PolicyChanged) {
        Need::PolicyChanged
    } else if last_has_warning || sent_to_doctor {
        Need::WarningSign
    } else if recent_escalation(Escalation::Worsening) {
        Need::Worsening
    } else if recent_escalation(Escalation::NoImprovement) {
        Need::NotImproving
    } else if days_since.is_none_or(|d| d >= 3) {
        Need::NoCheckin
    } else if adherence.is_some_and(|a| a < f64::from(min_adherence_pct)) {
        Need::LowAdherence
    } else {
        Need::OnTrack
    };
    Status {
        need,
        pain_avg7: avg7,
        trend,
        adherence_pct: adherence,
        days_since_checkin: days_since,
    }
}

/// Which leg hurts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Left,
    Right,
}

/// A clinician's test results. Torques in newton-metres, angles in
/// degrees; any may be missing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Measurements {
    pub painful_side: Option<Side>,
    pub hamstring_left_nm: Option<f64>,
    pub hamstring_right_nm: Option<f64>,
    pub quadriceps_left_nm: Option<f64>,
    pub quadriceps_right_nm: Option<f64>,
    pub slr_left_deg: Option<f64>,
    pub slr_right_deg: Option<f64>,
    /// Active knee extension: degrees short of straight, painful side.
    pub ake_deg: Option<f64>,
}

/// What the measurements give, computed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Derived {
    /// Hamstring:quadriceps ratio on the painful side.
    pub hq_ratio: Option<f64>,
    /// Hamstring:quadriceps ratio on the other side.
    pub hq_ratio_other: Option<f64>,
    /// Painful-side hamstring torque as a percentage of the other side.
    pub hamstring_lsi_pct: Option<f64>,
    /// Painful-side quadriceps torque as a percentage of the other side.
    pub quadriceps_lsi_pct: Option<f64>,
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

impl Measurements {
    /// (painful, other) values of a left/right pair.
    fn sides(&self, left: Option<f64>, right: Option<f64>) -> (Option<f64>, Option<f64>) {
        match self.painful_side {
            Some(Side::Left) => (left, right),
            Some(Side::Right) => (right, left),
            None => (None, None),
        }
    }

    pub fn derived(&self) -> Derived {
        let (h, h_other) = self.sides(self.hamstring_left_nm, self.hamstring_right_nm);
        let (q, q_other) = self.sides(self.quadriceps_left_nm, self.quadriceps_right_nm);
        Derived {
            hq_ratio: ratio(h, q).map(|r| round(r, 2)),
            hq_ratio_other: ratio(h_other, q_other).map(|r| round(r, 2)),
            hamstring_lsi_pct: ratio(h, h_other).map(|r| round(r * 100.0, 1)),
            quadriceps_lsi_pct: ratio(q, q_other).map(|r| round(r * 100.0, 1)),
        }
    }

    /// The facts (case vocabulary) these results set: `hq_ratio`,
    /// `strength_lsi_pct`, `slr_deg`, `slr_other_deg`, `ake_deg`.
    pub fn facts(&self) -> Vec<(&'static str, serde_json::Value)> {
        let d = self.derived();
        let (slr, slr_other) = self.sides(self.slr_left_deg, self.slr_right_deg);
        let mut out = Vec::new();
        let mut put = |name, v: Option<f64>, integer: bool| {
            if let Some(v) = v {
                out.push((
                    name,
                    if integer {
                        serde_json::Value::from(v.round() as i64)
                    } else {
                        serde_json::Value::from(v)
                    },
                ));
            }
        };
        put("hq_ratio", d.hq_ratio, false);
        put("strength_lsi_pct", d.hamstring_lsi_pct, false);
        put("slr_deg", slr, true);
        put("slr_other_deg", slr_other, true);
        put("ake_deg", self.ake_deg, true);
        out
    }

    pub fn is_empty(&self) -> bool {
        self.facts().is_empty()
    }
}

/// Why an outcome questionnaire is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Due {
    /// None filled in since the plan started.
    Baseline,
    /// Four weeks or more since the last one.
    FourWeeks,
    /// The plan reached its last phase and none was filled in there.
    Discharge,
}

impl Due {
    pub fn label(self) -> &'static str {
        match self {
            Due::Baseline => "none filled in since your plan started",
            Due::FourWeeks => "four weeks or more since the last one",
            Due::Discharge => "you have reached the last phase of your plan",
        }
    }
}

/// Days between repeat questionnaires.
pub const OUTCOME_INTERVAL_DAYS: i32 = 28;

/// Is a questionnaire due on `today`? `last` is the day of the newest
/// response since the plan started; `final_phase_since` the day the plan
/// entered its last phase, if it has.
pub fn outcome_due(
    plan_start: Day,
    last: Option<Day>,
    final_phase_since: Option<Day>,
    today: Day,
) -> Option<Due> {
    let last = last.filter(|d| *d >= plan_start);
    match (last, final_phase_since) {
        (None, _) => Some(Due::Baseline),
        (Some(l), Some(f)) if l < f => Some(Due::Discharge),
        (Some(l), _) if today.0 - l.0 >= OUTCOME_INTERVAL_DAYS => Some(Due::FourWeeks),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkin::Swelling;

    fn checkin(day: i32, pain: u8, planned: usize, done: usize, warn: bool) -> CheckIn {
        let ids: Vec<String> = (0..planned).map(|i| format!("e{i}")).collect();
        CheckIn {
            day: Day(day),
            pain_now: pain,
            exercise_pain: Some(pain),
            morning_pain: Some(pain),
            stiffness: 2,
            swelling: Some(Swelling::None),
            walks_normally: Some(true),
            full_range: Some(true),
            done: ids[..done].to_vec(),
            planned: ids,
            training_minutes: 0,
            effort: 0,
            sleep_hours: Some(8.0),
            warning_signs: if warn { vec!["locking".into()] } else { vec![] },
        }
    }

    fn signals(days: &[(i32, u8, usize, usize, bool)], today: i32) -> Signals {
        let week: Vec<CheckIn> = days
            .iter()
            .filter(|d| d.0 > today - 7)
            .map(|&(d, p, pl, dn, w)| checkin(d, p, pl, dn, w))
            .collect();
        Signals {
            last_checkin: days.iter().map(|d| Day(d.0)).max(),
            pains: days.iter().map(|d| (Day(d.0), d.1)).collect(),
            week,
            escalations: vec![],
            level: Some(TriageLevel::SelfCare),
        }
    }

    #[test]
    fn on_track_when_checking_in_and_doing_the_plan() {
        let days: Vec<_> = (90..100).map(|d| (d, 3, 4, 4, false)).collect();
        let s = status(&signals(&days, 99), Day(99), 80);
        assert_eq!(s.need, Need::OnTrack);
        assert_eq!(s.adherence_pct, Some(100.0));
        assert_eq!(s.trend, Trend::Steady);
    }

    #[test]
    fn warning_sign_in_the_last_checkin_comes_first() {
        let mut days: Vec<_> = (90..100).map(|d| (d, 3, 4, 0, false)).collect();
        if let Some(d) = days.last_mut() {
            d.4 = true;
        }
        let mut sig = signals(&days, 99);
        sig.escalations.push((Day(98), Escalation::Worsening));
        assert_eq!(status(&sig, Day(99), 80).need, Need::WarningSign);
        // An older warning sign no longer counts once a later check-in is clean.
        let mut days: Vec<_> = (90..100).map(|d| (d, 3, 4, 4, false)).collect();
        days[7].4 = true;
        assert_eq!(status(&signals(&days, 99), Day(99), 80).need, Need::OnTrack);
    }

    #[test]
    fn a_triage_to_a_doctor_is_a_warning_sign() {
        let days: Vec<_> = (90..100).map(|d| (d, 3, 0, 0, false)).collect();
        let mut sig = signals(&days, 99);
        sig.level = Some(TriageLevel::Urgent);
        assert_eq!(status(&sig, Day(99), 80).need, Need::WarningSign);
    }

    #[test]
    fn escalations_count_for_fourteen_days() {
        let days: Vec<_> = (90..100).map(|d| (d, 3, 4, 4, false)).collect();
        let mut sig = signals(&days, 99);
        sig.escalations.push((Day(86), Escalation::Worsening));
        assert_eq!(status(&sig, Day(99), 80).need, Need::Worsening);
        assert_eq!(status(&sig, Day(100), 80).need, Need::OnTrack);
        sig.escalations = vec![(Day(95), Escalation::NoImprovement)];
        assert_eq!(status(&sig, Day(99), 80).need, Need::NotImproving);
    }

    #[test]
    fn three_days_without_a_checkin() {
        let days: Vec<_> = (90..97).map(|d| (d, 3, 4, 4, false)).collect();
        let sig = signals(&days, 98);
        assert_eq!(status(&sig, Day(98), 80).need, Need::OnTrack);
        assert_eq!(status(&sig, Day(99), 80).need, Need::NoCheckin);
        assert_eq!(status(&sig, Day(99), 80).days_since_checkin, Some(3));
        assert_eq!(
            status(&Signals::default(), Day(99), 80).need,
            Need::NoCheckin
        );
    }

    #[test]
    fn adherence_below_the_threshold() {
        // 3 of 4 done every day: 75% < 80%.
        let days: Vec<_> = (90..100).map(|d| (d, 3, 4, 3, false)).collect();
        let s = status(&signals(&days, 99), Day(99), 80);
        assert_eq!(s.need, Need::LowAdherence);
        assert_eq!(s.adherence_pct, Some(75.0));
        assert_eq!(status(&signals(&days, 99), Day(99), 75).need, Need::OnTrack);
    }

    #[test]
    fn trend_compares_with_the_week_before() {
        let days: Vec<_> = (86..100)
            .map(|d| (d, if d < 93 { 3 } else { 5 }, 4, 4, false))
            .collect();
        let s = status(&signals(&days, 99), Day(99), 80);
        assert_eq!(s.pain_avg7, Some(5.0));
        assert_eq!(s.trend, Trend::Rising);
        let days: Vec<_> = (86..100)
            .map(|d| (d, if d < 93 { 5 } else { 4 }, 4, 4, false))
            .collect();
        assert_eq!(
            status(&signals(&days, 99), Day(99), 80).trend,
            Trend::Falling
        );
    }

    #[test]
    fn need_sorts_most_pressing_first() {
        let mut v = Need::ALL.to_vec();
        v.reverse();
        v.sort();
        assert_eq!(v, Need::ALL.to_vec());
        for n in Need::ALL {
            assert_eq!(Need::parse(n.as_str()), Some(n));
        }
    }

    #[test]
    fn measurements_give_ratio_symmetry_and_sides() {
        let m = Measurements {
            painful_side: Some(Side::Right),
            hamstring_left_nm: Some(120.0),
            hamstring_right_nm: Some(96.0),
            quadriceps_left_nm: Some(200.0),
            quadriceps_right_nm: Some(192.0),
            slr_left_deg: Some(80.0),
            slr_right_deg: Some(65.0),
            ake_deg: Some(25.0),
        };
        let d = m.derived();
        assert_eq!(d.hq_ratio, Some(0.5));
        assert_eq!(d.hq_ratio_other, Some(0.6));
        assert_eq!(d.hamstring_lsi_pct, Some(80.0));
        assert_eq!(d.quadriceps_lsi_pct, Some(96.0));
        let f = m.facts();
        assert!(f.contains(&("hq_ratio", serde_json::json!(0.5))));
        assert!(f.contains(&("strength_lsi_pct", serde_json::json!(80.0))));
        assert!(f.contains(&("slr_deg", serde_json::json!(65))));
        assert!(f.contains(&("slr_other_deg", serde_json::json!(80))));
        assert!(f.contains(&("ake_deg", serde_json::json!(25))));
    }

    #[test]
    fn measurements_without_a_side_or_a_divisor_set_nothing_they_cannot() {
        let m = Measurements {
            hamstring_left_nm: Some(100.0),
            quadriceps_left_nm: Some(0.0),
            ake_deg: Some(10.0),
            ..Measurements::default()
        };
        assert_eq!(m.derived(), Derived::default());
        assert_eq!(m.facts(), vec![("ake_deg", serde_json::json!(10))]);
        let m = Measurements {
            painful_side: Some(Side::Left),
            hamstring_left_nm: Some(100.0),
            quadriceps_left_nm: Some(0.0),
            ..Measurements::default()
        };
        assert_eq!(m.derived().hq_ratio, None);
        assert!(m.is_empty());
    }

    #[test]
    fn outcome_due_dates() {
        let start = Day(100);
        assert_eq!(
            outcome_due(start, None, None, Day(100)),
            Some(Due::Baseline)
        );
        // A response from before this plan does not count.
        assert_eq!(
            outcome_due(start, Some(Day(90)), None, Day(101)),
            Some(Due::Baseline)
        );
        assert_eq!(outcome_due(start, Some(Day(100)), None, Day(127)), None);
        assert_eq!(
            outcome_due(start, Some(Day(100)), None, Day(128)),
            Some(Due::FourWeeks)
        );
        assert_eq!(
            outcome_due(start, Some(Day(100)), Some(Day(110)), Day(111)),
            Some(Due::Discharge)
        );
        assert_eq!(
            outcome_due(start, Some(Day(112)), Some(Day(110)), Day(113)),
            None
        );
    }
}
