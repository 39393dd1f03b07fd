//! A patient's caseload summary: what the clinician's dashboard needs to
//! judge them ([`crate::clinic::status_of`]), kept up to date as their data
//! changes (a check-in, a correction, an escalation, an assessment, a phase
//! move: a [`CaseEvent`]) instead of read from their check-ins for every
//! page.
//!
//! The status depends on the day it is judged on (a week's window, days
//! since the last check-in), so the summary keeps the signals, not the
//! status: the check-ins and escalations of the last [`KEPT_DAYS`] days
//! before the newest day it has seen, the newest check-in's day, the level
//! and the phase. Judged on any day from the newest day seen on, it gives
//! the status the patient's whole record gives (property-tested below).

use serde::{Deserialize, Serialize};

use crate::clinic::{DaySignal, Recent, Status, status_of};
use crate::progress::Escalation;
use crate::{Day, TriageLevel};

/// Days kept before the newest day seen. The status reads the 14 days up
/// to the day it is judged on; two more cover a clinician and a patient a
/// day apart in their time zones.
pub const KEPT_DAYS: i32 = 16;

/// What the dashboard keeps of one patient.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CaseSummary {
    /// The newest check-in's day (of all, not only the kept ones).
    pub last_checkin: Option<Day>,
    /// The kept check-ins, one per day, oldest first.
    pub days: Vec<DaySignal>,
    /// The kept escalations, oldest first.
    pub escalations: Vec<(Day, EscalationKind)>,
    /// The newest assessment's level.
    pub level: Option<TriageLevel>,
    /// The current phase's id (none: no home plan).
    pub phase: Option<String>,
}

/// An escalation kind as stored in a summary (by its id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscalationKind(pub Escalation);

impl Serialize for EscalationKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for EscalationKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Escalation::parse(&s)
            .map(EscalationKind)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown escalation {s}")))
    }
}

/// One change to a patient's record that the summary follows.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseEvent {
    /// A check-in stored, new or corrected (a correction replaces its
    /// day's).
    CheckedIn(DaySignal),
    /// An escalation raised for a day.
    Escalated(Day, Escalation),
    /// A new assessment, from any source, with its level.
    Assessed(TriageLevel),
    /// A phase began (by the rules, a clinician or a new plan).
    InPhase(String),
}

impl CaseSummary {
    /// The summary of a record given as its changes, in the order they
    /// were made.
    pub fn of<'a>(events: impl IntoIterator<Item = &'a CaseEvent>) -> CaseSummary {
        let mut s = CaseSummary::default();
        for e in events {
            s.apply(e);
        }
        s
    }

    /// Follow one change.
    pub fn apply(&mut self, e: &CaseEvent) {
        match e {
            CaseEvent::CheckedIn(signal) => {
                match self.days.binary_search_by_key(&signal.day, |d| d.day) {
                    Ok(i) => self.days[i] = *signal,
                    Err(i) => self.days.insert(i, *signal),
                }
                self.last_checkin = self.last_checkin.max(Some(signal.day));
                self.prune();
            }
            CaseEvent::Escalated(day, kind) => {
                let e = (*day, EscalationKind(*kind));
                if !self.escalations.contains(&e) {
                    let i = self.escalations.partition_point(|(d, _)| d <= day);
                    self.escalations.insert(i, e);
                }
                self.prune();
            }
            CaseEvent::Assessed(level) => self.level = Some(*level),
            CaseEvent::InPhase(phase) => self.phase = Some(phase.clone()),
        }
    }

    /// The newest day the summary has seen.
    pub fn newest_day(&self) -> Option<Day> {
        self.last_checkin
            .into_iter()
            .chain(self.days.last().map(|d| d.day))
            .chain(self.escalations.last().map(|(d, _)| *d))
            .max()
    }

    fn prune(&mut self) {
        if let Some(newest) = self.newest_day() {
            let from = newest.plus(-KEPT_DAYS);
            self.days.retain(|d| d.day >= from);
            self.escalations.retain(|(d, _)| *d >= from);
        }
    }

    /// The dashboard status on `today` (the patient's), as [`status_of`]
    /// judges it.
    pub fn status(&self, today: Day, min_adherence_pct: u8) -> Status {
        let pains: Vec<(Day, u8)> = self.days.iter().map(|d| (d.day, d.pain)).collect();
        let escalations: Vec<(Day, Escalation)> =
            self.escalations.iter().map(|(d, k)| (*d, k.0)).collect();
        status_of(
            &Recent {
                last_checkin: self.last_checkin,
                pains: &pains,
                days: &self.days,
                escalations: &escalations,
                level: self.level,
            },
            today,
            min_adherence_pct,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkin::{CheckIn, Swelling};
    use crate::clinic::{Signals, status};
    use proptest::prelude::*;

    fn checkin(day: i32, pain: u8, planned: usize, done: usize, warn: bool) -> CheckIn {
        let planned: Vec<String> = (0..planned).map(|i| format!("ex{i}")).collect();
        CheckIn {
            day: Day(day),
            pain_now: pain,
            exercise_pain: None,
            morning_pain: None,
            stiffness: 1,
            swelling: Some(Swelling::None),
            walks_normally: Some(true),
            full_range: Some(true),
            done: planned.iter().take(done).cloned().collect(),
            planned,
            training_minutes: 0,
            effort: 0,
            sleep_hours: None,
            warning_signs: if warn { vec!["locking".into()] } else { vec![] },
        }
    }

    /// One change to a patient's record.
    #[derive(Debug, Clone)]
    enum Event {
        CheckIn(i32, u8, usize, usize, bool),
        Escalation(i32, u8),
        Assessed(u8),
        Phase(u8),
    }

    fn event() -> impl Strategy<Value = Event> {
        prop_oneof![
            6 => (0..60i32, 0..=10u8, 0..6usize, 0..6usize, proptest::bool::weighted(0.15))
                .prop_map(|(d, p, pl, dn, w)| Event::CheckIn(d, p, pl, dn.min(pl), w)),
            1 => (0..60i32, 0..3u8).prop_map(|(d, k)| Event::Escalation(d, k)),
            1 => (0..5u8).prop_map(Event::Assessed),
            1 => (0..4u8).prop_map(Event::Phase),
        ]
    }

    const KINDS: [Escalation; 3] = Escalation::ALL;
    const LEVELS: [TriageLevel; 5] = [
        TriageLevel::Ambulance,
        TriageLevel::Emergency,
        TriageLevel::Urgent,
        TriageLevel::Routine,
        TriageLevel::SelfCare,
    ];

    proptest! {
        /// Folding a record's changes one by one into a summary, in any
        /// order (late check-ins and corrections included), gives on any
        /// day from the newest seen on the status the whole record gives.
        #[test]
        fn the_summary_always_equals_a_full_recomputation(
            events in proptest::collection::vec(event(), 0..60),
            later in 0..25i32,
            min_adherence in 0..=100u8,
        ) {
            let mut summary = CaseSummary::default();
            // The whole record: one check-in per day (the newest answers
            // of a day win, as a correction replaces them).
            let mut checkins: std::collections::BTreeMap<i32, CheckIn> = Default::default();
            let mut escalations: Vec<(Day, Escalation)> = Vec::new();
            let mut level = None;
            for e in &events {
                match *e {
                    Event::CheckIn(d, p, pl, dn, w) => {
                        let c = checkin(d, p, pl, dn, w);
                        summary.apply(&CaseEvent::CheckedIn(DaySignal::of(&c)));
                        checkins.insert(d, c);
                    }
                    Event::Escalation(d, k) => {
                        let kind = KINDS[usize::from(k)];
                        summary.apply(&CaseEvent::Escalated(Day(d), kind));
                        if !escalations.contains(&(Day(d), kind)) {
                            escalations.push((Day(d), kind));
                        }
                    }
                    Event::Assessed(l) => {
                        summary.apply(&CaseEvent::Assessed(LEVELS[usize::from(l)]));
                        level = Some(LEVELS[usize::from(l)]);
                    }
                    Event::Phase(p) => summary.apply(&CaseEvent::InPhase(format!("phase{p}"))),
                }
            }
            let newest = checkins
                .keys()
                .map(|d| Day(*d))
                .chain(escalations.iter().map(|(d, _)| *d))
                .max()
                .unwrap_or(Day(0));
            let today = newest.plus(later);
            let full = Signals {
                last_checkin: checkins.keys().map(|d| Day(*d)).max(),
                pains: checkins.values().map(|c| (c.day, c.pain_now)).collect(),
                week: checkins.values().cloned().collect(),
                escalations: escalations.clone(),
                level,
            };
            prop_assert_eq!(
                summary.status(today, min_adherence),
                status(&full, today, min_adherence)
            );
            // Stored as JSON and read back, it is the same summary.
            let text = serde_json::to_string(&summary).expect("json");
            let back: CaseSummary = serde_json::from_str(&text).expect("read back");
            prop_assert_eq!(back, summary);
        }
    }

    #[test]
    fn old_days_are_let_go_and_a_correction_replaces_its_day() {
        let day = |c: CheckIn| CaseEvent::CheckedIn(DaySignal::of(&c));
        let mut s = CaseSummary::of(&[
            day(checkin(10, 3, 2, 2, false)),
            day(checkin(30, 4, 2, 1, false)),
        ]);
        assert_eq!(s.days.len(), 1, "day 10 is more than 16 days before day 30");
        assert_eq!(s.last_checkin, Some(Day(30)));
        s.apply(&day(checkin(30, 7, 2, 2, true)));
        assert_eq!(s.days.len(), 1);
        assert_eq!((s.days[0].pain, s.days[0].warning), (7, true));
    }
}
