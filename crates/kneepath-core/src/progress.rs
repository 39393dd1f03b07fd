//! Progress or step back, and escalate (SPEC steps 6 and 7): pure rules over
//! a person's check-ins, with the thresholds of `progression.toml`.
//!
//! - **Advance** one phase when, over the last `advance_checkins` check-ins in
//!   the phase, pain during the exercises stays at or below the limit,
//!   next-morning pain is not above the baseline, adherence is high enough,
//!   and every exit criterion of the phase holds on the latest facts.
//! - **Step back** one phase when pain during the exercises exceeds its limit
//!   on the latest check-in, or next-morning pain is at least
//!   `step_back_morning_rise` above the baseline on `step_back_days`
//!   consecutive check-ins. Stepping back wins over advancing.
//! - **Escalate** (see a professional) when, after `escalate_days_in_plan`
//!   days, the 7-day average pain has not fallen by a meaningful change from
//!   the first week, or when it has risen by one over the week before. A
//!   meaningful change is `meaningful_change` points or 30% of the starting
//!   value, whichever is smaller (policy v2;
//!   [`crate::outcomes::meaningful_pain_change`]).
//!
//! The baseline of next-morning pain is the median of up to seven check-ins
//! before the ones being judged.
//!
//! [`after_checkin`] is everything the rules conclude from one check-in: a
//! ticked warning sign, or answers that now reach a level without a home
//! plan, re-run triage on the updated facts (`checkin::facts_after`) and
//! the phase does not move; otherwise [`review`] decides advance, step back
//! or stay. Either way [`escalation`] decides whether to say "see a
//! professional". [`after_correction`] does the same for a corrected
//! check-in: when that check-in made the plan's latest move and is still
//! the one logged last, the rules run from the phase before the move, so a
//! move the wrong answers caused is undone unless the corrected ones call
//! for it too; a re-triage is never undone.
//!
//! Which check-ins count for a phase: only those logged after it began.
//! A move the rules make starts the day after the plan's newest check-in
//! ([`move_starts`]), so a check-in logged late for a missed day can
//! complete the window while the check-ins already made after its day stay
//! with the old phase; a phase begun after the day's check-in (a
//! re-assessment, a clinician's move) leaves that check-in to what came
//! before ([`starts_after`]).
//!
//! The rules read only [`rules_window`] (the plan's first week, the last
//! [`RULES_LOOKBACK_DAYS`] days and the newest [`RULES_LOOKBACK_CHECKINS`]),
//! so a check-in costs the same after six months as after three weeks; a
//! property test (`rules_give_the_same_result_on_the_window`) holds the
//! result to the one on the whole history, and the store reads the same
//! window in SQL. [`scheduled_on`] spreads an exercise's days per week over
//! the week, for the plan page, the check-in and the calendar feed.

use serde::Serialize;

use crate::checkin::CheckIn;
use crate::condition::Tri;
use crate::day::Day;
use crate::facts::Facts;
use crate::kb::{KnowledgeBase, PhaseId};

/// Where a person is in the programme. Check-ins on or after `since` count
/// for the phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhaseState {
    pub phase: PhaseId,
    pub since: Day,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Decision {
    Stay { waiting_for: Vec<String> },
    Advance { to: PhaseId, reasons: Vec<String> },
    StepBack { to: PhaseId, reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Escalation {
    /// No meaningful fall in average pain after three weeks in the plan.
    NoImprovement,
    /// Average pain has risen meaningfully over the week before.
    Worsening,
    /// The knowledge base changed (a new clinical policy) and the person's
    /// answers now give a more urgent level or other plan rules
    /// (`kneepath reassess`).
    PolicyChanged,
}

impl Escalation {
    /// Every kind.
    pub const ALL: [Escalation; 3] = [
        Escalation::NoImprovement,
        Escalation::Worsening,
        Escalation::PolicyChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Escalation::NoImprovement => "no_improvement",
            Escalation::Worsening => "worsening",
            Escalation::PolicyChanged => "policy_changed",
        }
    }

    pub fn parse(s: &str) -> Option<Escalation> {
        Escalation::ALL.into_iter().find(|e| e.as_str() == s)
    }

    pub fn message(self) -> &'static str {
        match self {
            Escalation::NoImprovement => {
                "Your pain has not improved meaningfully after three weeks of the plan. Please see a physiotherapist or doctor: something may need a different approach."
            }
            Escalation::Worsening => {
                "Your pain is getting worse. Please see a physiotherapist or doctor soon, and ease off the exercises until you have been seen."
            }
            Escalation::PolicyChanged => {
                "kneepath's clinical rules have been updated, and your answers now give a different result. Please read your new result and do what it says; if it sends you to a doctor, stop the exercises until you have been seen."
            }
        }
    }
}

/// The median of `xs` (None when empty).
fn median(mut xs: Vec<f64>) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    Some(if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    })
}

/// Whether `phase` is the programme's last: there is no phase to move on
/// to, only its maintenance routine and its criteria for a full return.
pub fn is_last_phase(kb: &KnowledgeBase, phase: PhaseId) -> bool {
    phase + 1 >= kb.phases.len()
}

/// Median next-morning pain of up to seven check-ins before index `i`.
fn baseline(checkins: &[CheckIn], i: usize) -> Option<f64> {
    let start = i.saturating_sub(7);
    median(
        checkins[start..i]
            .iter()
            .filter_map(|c| c.morning_pain.map(f64::from))
            .collect(),
    )
}

/// Decide on the phase after the latest check-in. `checkins` are all of the
/// person's check-ins in the plan, oldest first; `facts` are the facts as
/// they stand now (see [`crate::checkin::facts_after`]).
pub fn review(
    kb: &KnowledgeBase,
    state: PhaseState,
    checkins: &[CheckIn],
    facts: &Facts,
) -> Decision {
    let p = &kb.progression;
    let first_in_phase = checkins.partition_point(|c| c.day < state.since);
    let in_phase = &checkins[first_in_phase..];
    let Some(latest) = in_phase.last() else {
        return Decision::Stay {
            waiting_for: vec!["your first check-in in this phase".into()],
        };
    };

    // Step back.
    if state.phase > 0 {
        let to = state.phase - 1;
        if let Some(ep) = latest.exercise_pain
            && ep > p.step_back_max_exercise_pain
        {
            return Decision::StepBack {
                to,
                reason: format!(
                    "Pain during the exercises was {ep}/10, above {}/10.",
                    p.step_back_max_exercise_pain
                ),
            };
        }
        let n = p.step_back_days;
        if in_phase.len() >= n {
            let first = checkins.len() - n;
            if let Some(base) = baseline(checkins, first) {
                let rise = f64::from(p.step_back_morning_rise);
                let all_high = checkins[first..]
                    .iter()
                    .all(|c| c.morning_pain.is_some_and(|m| f64::from(m) >= base + rise));
                if all_high {
                    return Decision::StepBack {
                        to,
                        reason: format!(
                            "Next-morning pain was at least {} points above your usual ({base:.1}/10) on {n} days in a row.",
                            p.step_back_morning_rise
                        ),
                    };
                }
            }
        }
    }

    // Advance.
    let mut waiting = Vec::new();
    let n = p.advance_checkins;
    if in_phase.len() < n {
        waiting.push(format!(
            "{} more check-in{} in this phase",
            n - in_phase.len(),
            if n - in_phase.len() == 1 { "" } else { "s" }
        ));
    } else {
        let window_start = checkins.len() - n;
        let window = &checkins[window_start..];
        if !window.iter().all(|c| {
            c.exercise_pain
                .is_some_and(|e| e <= p.advance_max_exercise_pain)
        }) {
            waiting.push(format!(
                "pain during the exercises at {}/10 or less on {n} check-ins in a row",
                p.advance_max_exercise_pain
            ));
        }
        let base =
            baseline(checkins, window_start).or_else(|| window[0].morning_pain.map(f64::from));
        let morning_ok = match base {
            Some(b) => window
                .iter()
                .all(|c| c.morning_pain.is_some_and(|m| f64::from(m) <= b)),
            None => false,
        };
        if !morning_ok {
            waiting.push("next-morning pain no higher than usual".into());
        }
        let planned: usize = window.iter().map(|c| c.planned.len()).sum();
        let done: usize = window
            .iter()
            .map(|c| c.planned.iter().filter(|x| c.done.contains(x)).count())
            .sum();
        let adherence = if planned == 0 {
            1.0
        } else {
            done as f64 / planned as f64
        };
        if adherence * 100.0 < f64::from(p.advance_min_adherence_pct) {
            waiting.push(format!(
                "at least {}% of the exercises done (now {:.0}%)",
                p.advance_min_adherence_pct,
                adherence * 100.0
            ));
        }
    }
    let phase = &kb.phases[state.phase];
    let last = is_last_phase(kb, state.phase);
    if last {
        // No next phase: what is left to wait for is the phase's own exit
        // criteria, the ones for a full return to activity.
        waiting.clear();
    }
    let mut met = Vec::new();
    for c in &phase.exit {
        match c.when.eval(facts) {
            Tri::True => met.push(c.text.clone()),
            Tri::Unknown if c.unless_unknown => {}
            _ => waiting.push(c.text.to_lowercase()),
        }
    }
    if last {
        return Decision::Stay {
            waiting_for: waiting,
        };
    }
    // A plan rule (P1: after surgery or a cast) may keep the plan where it
    // is, whatever the check-ins say.
    let rules = crate::engine::plan_rules_for(kb, facts);
    if let Some(cap) = crate::plan::phase_cap(&rules)
        && state.phase + 1 > cap
    {
        let by = rules
            .iter()
            .find(|r| r.lifted.is_none() && r.rule.max_phase == Some(cap))
            .map_or_else(String::new, |r| {
                format!(" ({}: {})", r.rule.id, r.rule.because)
            });
        return Decision::Stay {
            waiting_for: vec![format!(
                "a clinician's review: the plan stays at {} for now{by}",
                kb.phases[cap].title
            )],
        };
    }
    if waiting.is_empty() {
        let mut reasons = vec![format!(
            "{n} check-ins in a row with exercise pain at {}/10 or less, next-morning pain no higher than usual and at least {}% of the exercises done.",
            p.advance_max_exercise_pain, p.advance_min_adherence_pct
        )];
        if !met.is_empty() {
            reasons.push(format!("Also met: {}.", met.join("; ").to_lowercase()));
        }
        Decision::Advance {
            to: state.phase + 1,
            reasons,
        }
    } else {
        Decision::Stay {
            waiting_for: waiting,
        }
    }
}

fn mean_pain(checkins: &[CheckIn], from: Day, to: Day) -> Option<(f64, usize)> {
    let xs: Vec<f64> = checkins
        .iter()
        .filter(|c| c.day >= from && c.day <= to)
        .map(|c| f64::from(c.pain_now))
        .collect();
    (!xs.is_empty()).then(|| (xs.iter().sum::<f64>() / xs.len() as f64, xs.len()))
}

/// Whether the person should be told to see a professional. Each 7-day
/// average needs at least three check-ins to count.
pub fn escalation(
    kb: &KnowledgeBase,
    plan_start: Day,
    today: Day,
    checkins: &[CheckIn],
) -> Option<Escalation> {
    let p = &kb.progression;
    let meaningful = |start: f64| {
        crate::outcomes::meaningful_pain_change(
            start,
            p.escalate_meaningful_change,
            crate::outcomes::PAIN_MEANINGFUL_SHARE,
        )
    };
    let enough = |m: Option<(f64, usize)>| m.filter(|(_, n)| *n >= 3).map(|(v, _)| v);
    let last = enough(mean_pain(checkins, today.plus(-6), today));
    let previous = enough(mean_pain(checkins, today.plus(-13), today.plus(-7)));
    if let (Some(l), Some(prev)) = (last, previous)
        && l > prev
        && l - prev >= meaningful(prev)
    {
        return Some(Escalation::Worsening);
    }
    if today.days_since(plan_start) >= p.escalate_days_in_plan as i32 {
        let first = enough(mean_pain(checkins, plan_start, plan_start.plus(6)));
        // No pain to speak of in the first week leaves nothing to improve.
        if let (Some(f), Some(l)) = (first, last)
            && f > 0.0
            && f - l < meaningful(f)
        {
            return Some(Escalation::NoImprovement);
        }
    }
    None
}

/// Which weekdays (Monday = 0) an exercise done `days_per_week` times falls
/// on: spread through the week, the same every week.
pub fn scheduled_on(days_per_week: u32, weekday: u32) -> bool {
    let days: &[u32] = match days_per_week {
        7.. => &[0, 1, 2, 3, 4, 5, 6],
        6 => &[0, 1, 2, 3, 4, 5],
        5 => &[0, 1, 2, 3, 4],
        4 => &[0, 1, 3, 4],
        3 => &[0, 2, 4],
        2 => &[1, 4],
        1 => &[2],
        0 => &[],
    };
    days.contains(&weekday)
}

/// Everything the rules conclude from one new check-in.
#[derive(Debug, Clone)]
pub struct CheckinOutcome<'k> {
    /// The person's facts as they stand after the check-in.
    pub facts_now: crate::facts::Facts,
    /// A warning sign was ticked, or the answers now reach urgent or above:
    /// triage re-run on the updated facts. Its level replaces the plan's
    /// when it is urgent or above.
    pub retriage: Option<crate::engine::Assessment<'k>>,
    /// A phase change (to, reason); never together with a re-triage.
    pub phase_change: Option<(PhaseId, String)>,
    /// What advancing still waits for, when staying.
    pub waiting_for: Vec<String>,
    /// A see-a-professional signal (before suppressing repeats).
    pub escalation: Option<Escalation>,
}

/// Apply the check-in rules: re-triage on a warning sign, otherwise review
/// the phase; and check for escalation. `all` holds every check-in of the
/// plan including `new`, oldest first.
pub fn after_checkin<'k>(
    kb: &'k KnowledgeBase,
    facts: &Facts,
    state: PhaseState,
    plan_start: Day,
    all: &[CheckIn],
    new: &CheckIn,
) -> CheckinOutcome<'k> {
    let facts_now = crate::checkin::facts_after(kb, facts, new);
    let escalation = escalation(kb, plan_start, new.day, all);
    let mut out = CheckinOutcome {
        retriage: None,
        phase_change: None,
        waiting_for: Vec::new(),
        escalation,
        facts_now,
    };
    // A warning sign ticked, or answers that now reach a level with no
    // home plan (a limp in a child with a gradual onset is U16, pain of 8
    // is U5): triage again at once.
    let sends_to_doctor = || {
        crate::engine::fired_rules(kb, &out.facts_now)
            .iter()
            .any(|f| !f.level.allows_home_plan())
    };
    if !new.warning_signs.is_empty() || sends_to_doctor() {
        out.retriage = Some(crate::engine::assess(kb, &out.facts_now));
        return out;
    }
    match review(kb, state, all, &out.facts_now) {
        Decision::Advance { to, reasons } => out.phase_change = Some((to, reasons.join(" "))),
        Decision::StepBack { to, reason } => out.phase_change = Some((to, reason)),
        Decision::Stay { waiting_for } => out.waiting_for = waiting_for,
    }
    out
}

/// The check-in rules for a person waiting to be seen: their newest
/// assessment sends them to a doctor within a day (`level`, urgent) and no
/// clinician has given a plan since. There is no phase to review and no
/// exercise to count, and the see-a-professional messages would only repeat
/// what they were told; what matters is getting worse while waiting. Triage
/// runs again on the updated facts when a warning sign is ticked (as on any
/// check-in) or when the answers alone now reach a more urgent level.
pub fn while_waiting<'k>(
    kb: &'k KnowledgeBase,
    facts: &Facts,
    level: crate::TriageLevel,
    new: &CheckIn,
) -> CheckinOutcome<'k> {
    let facts_now = crate::checkin::facts_after(kb, facts, new);
    let now = crate::engine::assess(kb, &facts_now);
    let retriage = (!new.warning_signs.is_empty() || now.level < level).then_some(now);
    CheckinOutcome {
        facts_now,
        retriage,
        phase_change: None,
        waiting_for: Vec::new(),
        escalation: None,
    }
}

/// The first day whose check-ins count for a phase the rules move the plan
/// to on the check-in `on`: the day after the plan's newest check-in. A
/// check-in logged late (for a day before the newest) can complete the
/// rules' window; the check-ins after its day were made in the old phase,
/// so they must not count in the new one. `others` are the plan's other
/// check-ins, oldest first.
pub fn move_starts(others: &[CheckIn], on: &CheckIn) -> Day {
    starts_from(others, on.day.plus(1))
}

/// The first day whose check-ins count for a phase entered now: `earliest`,
/// or the day after the newest of `others` (oldest first) when that is
/// later. A clinician's move starts today, or tomorrow after a check-in
/// made today.
pub fn starts_from(others: &[CheckIn], earliest: Day) -> Day {
    starts_after(others.last().map(|c| c.day), earliest)
}

/// The first day whose check-ins count for a phase that began on `began`
/// after a check-in for `newest_before` was logged: the day after that
/// check-in when it is later than `began`. A check-in logged before a phase
/// began was done on the exercises of what came before, so it never counts
/// in it: this is how a plan started again by a re-assessment made after
/// the day's check-in leaves that check-in to the old plan.
pub fn starts_after(newest_before: Option<Day>, began: Day) -> Day {
    newest_before.map_or(began, |d| d.plus(1).max(began))
}

/// Apply the check-in rules to a corrected check-in. `all` holds the plan's
/// check-ins with `corrected` in place of the values it replaces.
///
/// When the check-in being corrected is what moved the plan to its current
/// phase (`moved_from`: the phase state before that move), the rules run from
/// that earlier state, as if the wrong values had never been given: the
/// move stands if the corrected values call for it too, and is undone
/// otherwise. A re-triage is never undone: a warning sign in the corrected
/// check-in re-runs triage like any other.
pub fn after_correction<'k>(
    kb: &'k KnowledgeBase,
    facts: &Facts,
    current: PhaseState,
    moved_from: Option<PhaseState>,
    plan_start: Day,
    all: &[CheckIn],
    corrected: &CheckIn,
) -> CheckinOutcome<'k> {
    let Some(before) = moved_from else {
        return after_checkin(kb, facts, current, plan_start, all, corrected);
    };
    let mut out = after_checkin(kb, facts, before, plan_start, all, corrected);
    if out.retriage.is_some() {
        return out;
    }
    out.phase_change = match out.phase_change.take() {
        // The move was right after all, or the plan is already back.
        Some((to, _)) if to == current.phase => None,
        None if before.phase == current.phase => None,
        Some(change) => Some(change),
        None => Some((
            before.phase,
            format!(
                "Back to {}: the check-in of {} that moved the plan to {} was corrected, and the corrected answers do not call for that move.",
                kb.phases[before.phase].title, corrected.day, kb.phases[current.phase].title
            ),
        )),
    };
    out
}

/// How many of the newest check-ins the rules may look back over (the
/// advance and step-back windows plus the seven-check-in baseline before
/// them, with room to spare).
pub const RULES_LOOKBACK_CHECKINS: usize = 30;
/// How many days before today the rules may look at: a check-in may be
/// logged 14 days late, and the worsening test compares two weeks before it.
pub const RULES_LOOKBACK_DAYS: i32 = 28;

/// The check-ins [`after_checkin`] needs for a check-in made on `today`
/// (for any day it may be dated): the plan's first week, the last
/// [`RULES_LOOKBACK_DAYS`] days and the newest [`RULES_LOOKBACK_CHECKINS`].
/// The rules give the same result on this subset as on the whole history
/// (property-tested), so a long plan costs no more per check-in than a
/// short one. `all` is sorted by day.
pub fn rules_window(all: &[CheckIn], plan_start: Day, today: Day) -> Vec<CheckIn> {
    let nth_newest = all
        .len()
        .checked_sub(RULES_LOOKBACK_CHECKINS)
        .map_or(plan_start, |i| all[i].day);
    let recent = nth_newest.min(today.plus(-RULES_LOOKBACK_DAYS));
    all.iter()
        .filter(|c| c.day >= plan_start && (c.day <= plan_start.plus(6) || c.day >= recent))
        .cloned()
        .collect()
}

/// An escalation is said once a week at most: true when the same kind was
/// already raised in the 7 days up to `day`.
pub fn already_said(
    e: Escalation,
    day: Day,
    said: impl IntoIterator<Item = (Escalation, Day)>,
) -> bool {
    said.into_iter()
        .any(|(k, d)| k == e && d <= day && day.days_since(d) < 7)
}
