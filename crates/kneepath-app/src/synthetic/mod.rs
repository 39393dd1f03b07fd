//! Synthetic patients for demonstrations and benchmarks (`kneepath seed`),
//! and the demo ([`demo`]). One generator makes every synthetic check-in
//! ([`Days`] and [`Course`], in `course.rs`, from one [`Rng`]): the
//! seeded patients' here, simulated in memory, and the demo patient's,
//! checked in through the application's own methods.
//!
//! Each patient gets one of several clinical pictures, an adherence level and
//! a pain trajectory; their days are simulated with the same pure rules a
//! real check-in goes through (`progress::after_checkin`: re-triage on a
//! warning sign, advance or step back, escalation), and the whole history is
//! written in one transaction per patient.

mod course;
pub mod demo;

pub use course::{Course, Days};

use kneepath_core::checkin::CheckIn;
use kneepath_core::engine::contributing_factors;
use kneepath_core::plan::{Plan, StartReason, home_plan};
use kneepath_core::progress::{self, PhaseState, after_checkin, already_said};
use kneepath_core::{Day, KnowledgeBase, TriageLevel, assess};
use kneepath_store::{
    AssessmentSource, History, HistoryAssessment, HistoryCheckin, HistoryEscalation,
    HistoryPhaseChange, UserId,
};

use crate::{App, AppError};

/// The clinical pictures, as facts in the case vocabulary.
pub const CASES: &[(&str, &str)] = &[
    (
        "runner, training jump",
        "age = 34\nsex = \"female\"\nonset = \"gradual\"\ndays_since_onset = 10\nmechanism = \"overuse\"\npain_now = 4\npain_activity = 5\npain_location = [\"back_of_knee\"]\npain_trend = \"same\"\nweight_bearing = \"normal\"\nknee_flex_90 = true\nrom_reduced = true\nsports = [\"running\"]\nload_increase_pct = 40\nwarm_up = \"sometimes\"\nhamstring_training = \"none\"\nquad_focused_training = true\nhamstrings_feel_tight = true",
    ),
    (
        "footballer, sprint strain without a pop",
        "age = 24\nsex = \"male\"\nonset = \"sudden\"\ndays_since_onset = 2\nmechanism = \"sprint\"\npain_now = 5\npain_location = [\"back_of_thigh\"]\nweight_bearing = \"limping\"\nsports = [\"football\"]\nwarm_up = \"never\"\nsprint_sessions_per_week = 3",
    ),
    (
        "office worker, tight hamstrings",
        "age = 45\nonset = \"gradual\"\ndays_since_onset = 30\nmechanism = \"none\"\npain_now = 3\npain_trend = \"same\"\nweight_bearing = \"normal\"\nhamstrings_feel_tight = true",
    ),
    (
        "older adult after a fall",
        "age = 62\nonset = \"sudden\"\ndays_since_onset = 10\nmechanism = \"fall\"\npain_now = 4\nweight_bearing = \"normal\"\nknee_flex_90 = true",
    ),
    (
        "dancer, measured flexibility deficit",
        "age = 28\nsex = \"female\"\nonset = \"gradual\"\ndays_since_onset = 20\npain_now = 2\npain_trend = \"improving\"\nweight_bearing = \"normal\"\nsports = [\"dance\"]\nwarm_up = \"always\"\nslr_deg = 62\nslr_other_deg = 80",
    ),
    (
        "sprinter, pop at injury (urgent, no plan)",
        "age = 31\nonset = \"sudden\"\ndays_since_onset = 1\nmechanism = \"sprint\"\npop_at_injury = true\nsports = [\"sprinting\"]",
    ),
];

/// A small deterministic generator (same seed, same data).
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[((self.unit() * xs.len() as f64) as usize).min(xs.len() - 1)]
    }
}

/// What was made, for the command's summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    pub patients: usize,
    pub home_plans: usize,
    pub checkins: usize,
    pub phase_changes: usize,
    pub escalations: usize,
    pub retriaged: usize,
}

/// Simulate one patient's history: an assessment `days` before `today`, then
/// daily check-ins (some missed) through the rules.
pub fn simulate(
    kb: &KnowledgeBase,
    user_id: &UserId,
    days: i32,
    today: Day,
    rng: &mut Rng,
) -> Result<History, AppError> {
    let (_, text) = CASES[(rng.unit() * CASES.len() as f64) as usize % CASES.len()];
    let facts = kb
        .facts_from_toml_str(text)
        .map_err(|e| AppError::Internal(format!("synthetic case: {e}")))?;
    let start = today.plus(-days);
    let a = assess(kb, &facts);
    let mut h = History::of(user_id.clone());
    h.assessments.push(HistoryAssessment {
        day: start,
        source: AssessmentSource::Wizard,
        facts: kb.facts_to_json(&facts),
        report: a.report(),
    });
    let Plan::Home(home) = &a.plan else {
        return Ok(h);
    };
    h.phase_changes.push(HistoryPhaseChange {
        assessment: 0,
        day: start,
        from: None,
        to: kb.phases[home.phase].id.clone(),
        reason: "Plan started from the assessment.".into(),
    });
    let mut state = PhaseState {
        phase: home.phase,
        since: start,
    };
    let mut level = a.level;
    let mut current = 0usize;
    let mut cur_facts = facts.clone();
    let p0 = kb
        .fact_id("pain_now")
        .and_then(|id| facts.get(id))
        .and_then(|v| v.as_f64())
        .unwrap_or(4.0);
    let course = Course::picture(rng, p0, days);
    let mut said: Vec<(progress::Escalation, Day)> = Vec::new();
    let mut all: Vec<CheckIn> = Vec::new();
    let mut days = Days::new(start, days);
    while let Some((i, day)) = days.next(rng) {
        let contributors = contributing_factors(kb, &cur_facts);
        let rules = kneepath_core::engine::plan_rules_for(kb, &cur_facts);
        let plan = home_plan(
            kb,
            level,
            state.phase,
            StartReason::Chosen,
            &contributors,
            &rules,
            &[],
        );
        let planned: Vec<String> = plan
            .items
            .iter()
            .filter(|it| progress::scheduled_on(it.exercise.dosage.days_per_week, day.weekday()))
            .map(|it| it.exercise.id.clone())
            .collect();
        let new = course.checkin(rng, i, day, planned);
        all.push(new.clone());
        let outcome = after_checkin(kb, &cur_facts, state, start, &all, &new);
        h.checkins.push(HistoryCheckin {
            assessment: current,
            checkin: new,
        });
        if let Some(r) = &outcome.retriage {
            h.assessments.push(HistoryAssessment {
                day,
                source: AssessmentSource::Checkin,
                facts: kb.facts_to_json(&outcome.facts_now),
                report: r.report(),
            });
            current = h.assessments.len() - 1;
            level = r.level;
            cur_facts = outcome.facts_now.clone();
            if !level.allows_home_plan() {
                break;
            }
        }
        if let Some((to, reason)) = outcome.phase_change {
            h.phase_changes.push(HistoryPhaseChange {
                assessment: current,
                day: day.plus(1),
                from: Some(kb.phases[state.phase].id.clone()),
                to: kb.phases[to].id.clone(),
                reason,
            });
            state = PhaseState {
                phase: to,
                since: day.plus(1),
            };
        }
        if let Some(e) = outcome.escalation
            && !already_said(e, day, said.iter().copied())
        {
            said.push((e, day));
            h.escalations.push(HistoryEscalation {
                assessment: current,
                day,
                kind: e,
            });
        }
    }
    Ok(h)
}

impl App {
    /// Seed histories for the given (already created) patients.
    pub async fn seed_patients(
        &self,
        ids: &[UserId],
        days: i32,
        today: Day,
        seed: u64,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Summary, AppError> {
        let mut rng = Rng(seed);
        let mut s = Summary::default();
        for (i, id) in ids.iter().enumerate() {
            let h = simulate(&self.kb, id, days, today, &mut rng)?;
            s.patients += 1;
            s.home_plans += usize::from(
                h.assessments
                    .first()
                    .is_some_and(|a| a.report.level >= TriageLevel::Routine),
            );
            s.checkins += h.checkins.len();
            s.phase_changes += h.phase_changes.len().saturating_sub(1);
            s.escalations += h.escalations.len();
            s.retriaged += h.assessments.len() - 1;
            self.store.insert_history(&h).await?;
            progress(i + 1);
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_are_valid_and_varied() {
        let kb = KnowledgeBase::bundled().expect("kb");
        let mut levels = Vec::new();
        for (name, text) in CASES {
            let f = kb
                .facts_from_toml_str(text)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            levels.push(assess(&kb, &f).level);
        }
        assert!(levels.contains(&TriageLevel::SelfCare));
        assert!(levels.contains(&TriageLevel::Routine));
        assert!(levels.contains(&TriageLevel::Urgent));
    }

    #[test]
    fn simulation_follows_the_rules() {
        let kb = KnowledgeBase::bundled().expect("kb");
        let today: Day = "2026-11-24".parse().expect("day");
        let mut rng = Rng(42);
        let (mut moved, mut urgent, mut escalated) = (0, 0, 0);
        for p in 0..60 {
            let h = simulate(&kb, &UserId::new(format!("p{p}")), 120, today, &mut rng)
                .expect("simulate");
            let first = &h.assessments[0].report;
            if !first.level.allows_home_plan() {
                urgent += 1;
                assert!(h.checkins.is_empty(), "no check-ins without a home plan");
                continue;
            }
            // Check-ins are in order, one per day, within the plan.
            assert!(
                h.checkins
                    .windows(2)
                    .all(|w| w[0].checkin.day < w[1].checkin.day)
            );
            assert!(h.checkins.iter().all(|c| c.checkin.day <= today));
            moved += usize::from(h.phase_changes.len() > 1);
            escalated += usize::from(!h.escalations.is_empty());
            // A re-triage to urgent ends the check-ins.
            if let Some(HistoryAssessment {
                day: d, report: r, ..
            }) = h.assessments.get(1)
                && !r.level.allows_home_plan()
            {
                assert_eq!(h.checkins.last().map(|c| c.checkin.day), Some(*d));
            }
        }
        assert!(
            urgent > 0 && moved > 0 && escalated > 0,
            "urgent {urgent}, moved {moved}, escalated {escalated}"
        );
    }
}
