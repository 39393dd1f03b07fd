//! A person's current plan as the rules see it ([`PlanContext`]), the
//! exercises it holds, and how every read-decide-write of a plan is run:
//! under the person's plan lock, tried again from the read when another
//! instance changed the plan in between ([`App::deciding_on_plan`]; three
//! tries in all, then [`AppError::PlanChanged`] with nothing stored), and
//! to the end even when the request that started it goes away
//! ([`to_the_end`]), so a client that disconnects never releases the lock
//! while its write is still queued.
//!
//! A check-in's [`PlanContext`] holds only the check-ins the rules read
//! (`progress::rules_window`), and a phase counts only the check-ins logged
//! after it began (`PhaseState::since`, from `progress::starts_after`).

use kneepath_core::checkin::CheckIn;
use kneepath_core::facts::RawValue;
use kneepath_core::plan::StartReason;
use kneepath_core::progress::{self, PhaseState};
use kneepath_core::{Day, Facts, KnowledgeBase};
use kneepath_store::{AssessmentHead, PlanVersion, UserId};

use crate::{App, AppError};

/// Facts from a stored JSON map. Values the current knowledge base no
/// longer accepts are left out rather than guessed.
pub fn facts_from_map(
    kb: &KnowledgeBase,
    map: &serde_json::Map<String, serde_json::Value>,
) -> Facts {
    let mut f = Facts::empty(kb);
    for (k, v) in map {
        if let Some(id) = kb.fact_id(k)
            && let Ok(v) = kb.questions[id].accept(&RawValue::from(v))
        {
            f.set(id, Some(v));
        }
    }
    f
}

/// A person's current plan: the assessment governing it, its phase and
/// check-ins.
#[derive(Debug, Clone)]
pub struct PlanContext {
    pub assessment: AssessmentHead,
    pub facts: Facts,
    /// None when the governing assessment is urgent or above (no home
    /// plan) and no clinician has given one since.
    pub phase: Option<PhaseState>,
    /// First day of the plan.
    pub plan_start: Day,
    pub phase_history: Vec<kneepath_store::PhaseChangeRow>,
    /// The plan's check-ins, oldest first (for a check-in: only those the
    /// rules need, see [`App::plan_context_for_checkin`]).
    pub checkins: Vec<CheckIn>,
    /// The days of those check-ins the person has corrected since.
    pub corrected: Vec<Day>,
    /// The day and id of the check-in logged last (ids grow in the order
    /// rows are made), which may be for an earlier day than the newest.
    pub last_logged: Option<(Day, String)>,
    /// Clinicians' edits of this plan, oldest first.
    pub edits: Vec<kneepath_store::PlanEditRow>,
    /// The plan's version as read: a write decided from this context is
    /// stored only if the plan is still at it.
    pub version: PlanVersion,
}

impl PlanContext {
    /// The person is waiting to be seen: the newest result says to see a
    /// doctor within a day (urgent) and no clinician has given a plan
    /// since. Check-ins are still logged, with no exercises, so that
    /// getting worse is noticed ([`kneepath_core::progress::while_waiting`]);
    /// at emergency and ambulance the person is to act now instead.
    pub fn waiting(&self) -> bool {
        self.phase.is_none() && self.assessment.level == kneepath_core::TriageLevel::Urgent
    }

    /// The stored check-in of `day`, if it is among the context's.
    pub fn checkin_on(&self, day: Day) -> Option<&CheckIn> {
        self.checkins.iter().find(|c| c.day == day)
    }
}

impl App {
    /// The person's current plan, with all its check-ins; None before the
    /// first assessment.
    pub async fn plan_context(&self, user_id: &UserId) -> Result<Option<PlanContext>, AppError> {
        self.plan_context_with(user_id, None).await
    }

    /// The plan context with only the check-ins the progression rules need
    /// for a check-in made on `today`, the person's own today
    /// (`progress::rules_window`): what a check-in reads, the same for a
    /// plan of three weeks or of six months.
    pub async fn plan_context_for_checkin(
        &self,
        user_id: &UserId,
        today: Day,
    ) -> Result<Option<PlanContext>, AppError> {
        self.plan_context_with(user_id, Some(today)).await
    }

    async fn plan_context_with(
        &self,
        user_id: &UserId,
        rules_on: Option<Day>,
    ) -> Result<Option<PlanContext>, AppError> {
        let Some(inputs) = self.store.plan_inputs(user_id, rules_on).await? else {
            return Ok(None);
        };
        let kb = &self.kb;
        let assessment = inputs.head;
        let facts = facts_from_map(kb, &assessment.facts);
        let history = inputs.history;
        let plan_start = inputs.plan_start;
        let edits = inputs.edits;
        // At urgent and above the triage gives no plan; a clinician may give
        // one after seeing the patient (a plan started by hand on this very
        // assessment), and then it is followed like any other.
        let given_by_clinician = history
            .first()
            .is_some_and(|p| p.how.is_start_by_clinician() && p.assessment_id == assessment.id);
        let phase = if assessment.level.allows_home_plan() || given_by_clinician {
            history.last().and_then(|p| {
                // Only check-ins logged after the phase began count in it.
                let logged_before = inputs
                    .checkins
                    .iter()
                    .filter(|r| r.id < p.id)
                    .map(|r| r.checkin.day)
                    .max();
                kb.phase_by_id(&p.to_phase).map(|phase| PhaseState {
                    phase,
                    since: progress::starts_after(logged_before, p.day),
                })
            })
        } else {
            None
        };
        let corrected = inputs
            .checkins
            .iter()
            .filter(|r| r.corrections.is_some_and(|n| n > 0))
            .map(|r| r.checkin.day)
            .collect();
        let last_logged = last_logged(&inputs.checkins);
        let checkins = inputs.checkins.into_iter().map(|r| r.checkin).collect();
        Ok(Some(PlanContext {
            version: inputs.version,
            assessment,
            facts,
            phase,
            plan_start,
            phase_history: history,
            checkins,
            corrected,
            last_logged,
            edits,
        }))
    }

    /// Run a read-decide-write of a person's plan holding their plan lock
    /// (which orders the writers of this process) from the first read to
    /// the last write, tried again from the read as `on_fresh_plan` says
    /// (which orders those of several instances). Every such write goes
    /// through here.
    pub async fn deciding_on_plan<T, E, F, Fut>(
        &self,
        person_id: &UserId,
        attempt: F,
    ) -> Result<T, E>
    where
        E: PlanChangedError,
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let _plan = self.plan_locks.lock(person_id).await;
        on_fresh_plan(attempt).await
    }
}

/// The day and id of the check-in logged last among `rows` (ids grow in
/// the order rows are made).
pub fn last_logged(rows: &[kneepath_store::CheckInRow]) -> Option<(Day, String)> {
    rows.iter()
        .max_by(|a, b| a.id.cmp(&b.id))
        .map(|r| (r.checkin.day, r.id.clone()))
}

/// How often a read-decide-write of a plan is tried when another writer
/// (another instance sharing the database) changed the plan in between.
const PLAN_TRIES: u32 = 3;

/// An error that says the plan changed under a write (see
/// [`App::deciding_on_plan`]): [`AppError::PlanChanged`], or a front end's
/// error holding it.
pub trait PlanChangedError {
    fn plan_changed(&self) -> bool;
}

impl PlanChangedError for AppError {
    fn plan_changed(&self) -> bool {
        matches!(self, AppError::PlanChanged)
    }
}

/// Run `attempt`, and run it again from the read when the store refused
/// its write because the plan changed in between
/// (`StoreError::PlanChanged`): the second time it reads, checks and
/// decides on the plan as the other writer left it. After [`PLAN_TRIES`]
/// refusals the error goes to the person, nothing stored.
async fn on_fresh_plan<T, E, F, Fut>(mut attempt: F) -> Result<T, E>
where
    E: PlanChangedError,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(e) if e.plan_changed() && tries < PLAN_TRIES => {
                tracing::info!(tries, "the plan changed while saving; reading it again");
                tries += 1;
            }
            done => return done,
        }
    }
}

/// Run `work` as a task of its own, so that it finishes even when the
/// request that started it is dropped (the client went away): a check-in
/// keeps its person's plan lock until its write is committed or refused,
/// never releasing it while the write is still queued.
pub async fn to_the_end<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> Result<T, AppError> {
    tokio::spawn(work)
        .await
        .map_err(|e| AppError::Internal(format!("the check-in stopped: {e}")))
}

/// The plan rules (P1 ... P8) that apply to the person's current facts
/// under the current knowledge base, with those a clinician lifted (a plan
/// edit of kind `clear` naming the rule, its reason recording who cleared
/// the person).
pub fn applied_plan_rules<'k>(
    kb: &'k KnowledgeBase,
    ctx: &PlanContext,
) -> Vec<kneepath_core::plan::AppliedPlanRule<'k>> {
    let mut rules = kneepath_core::engine::plan_rules_for(kb, &ctx.facts);
    let cleared: Vec<(&str, &str)> = ctx
        .edits
        .iter()
        .filter(|e| e.kind == kneepath_core::plan::EditKind::Clear)
        .map(|e| (e.exercise.as_str(), e.reason.as_str()))
        .collect();
    kneepath_core::plan::lift(&mut rules, &cleared);
    rules
}

/// The exercises of the person's current home plan (phase exercises, then
/// those their contributing factors add), with the factor that added each,
/// the clinician's edits, and the plan rules (P1 ... P8) applied last, as
/// they stand on the person's facts under the current knowledge base, with
/// any rule a clinician lifted.
pub fn plan_items<'k>(
    kb: &'k KnowledgeBase,
    ctx: &PlanContext,
    phase: PhaseState,
) -> kneepath_core::plan::HomePlan<'k> {
    let contributors = kneepath_core::engine::contributing_factors(kb, &ctx.facts);
    let rules = applied_plan_rules(kb, ctx);
    let edits: Vec<kneepath_core::plan::PlanEdit<'_>> = ctx
        .edits
        .iter()
        .filter_map(|e| {
            Some(kneepath_core::plan::PlanEdit {
                kind: e.kind,
                exercise: kb.exercise_by_id(&e.exercise)?,
                replacement: e.replacement.as_deref().and_then(|r| kb.exercise_by_id(r)),
                dosage: e.dosage.as_deref(),
                reason: &e.reason,
            })
        })
        .collect();
    kneepath_core::plan::home_plan(
        kb,
        ctx.assessment.level,
        phase.phase,
        StartReason::Chosen,
        &contributors,
        &rules,
        &edits,
    )
}

/// Ids and names of the exercises a check-in of `day` ticks from: those its
/// stored check-in was planned with when there is one (a correction), else
/// the plan's for that day.
pub fn checkin_exercises(kb: &KnowledgeBase, ctx: &PlanContext, day: Day) -> Vec<(String, String)> {
    match ctx.checkin_on(day) {
        Some(c) => c
            .planned
            .iter()
            .map(|id| {
                let name = kb
                    .exercise_by_id(id)
                    .map_or_else(|| id.clone(), |i| kb.exercises[i].name.clone());
                (id.clone(), name)
            })
            .collect(),
        None => scheduled(kb, ctx, day),
    }
}

/// Ids and names of the plan's exercises scheduled on `day`.
pub fn scheduled(kb: &KnowledgeBase, ctx: &PlanContext, day: Day) -> Vec<(String, String)> {
    let Some(phase) = ctx.phase else {
        return Vec::new();
    };
    plan_items(kb, ctx, phase)
        .items
        .iter()
        .filter(|i| progress::scheduled_on(i.exercise.dosage.days_per_week, day.weekday()))
        .map(|i| (i.exercise.id.clone(), i.exercise.name.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::time::Duration;

    use crate::AppError;

    #[tokio::test]
    async fn a_write_refused_for_a_changed_plan_is_decided_again_up_to_three_times() {
        // Refused once, then stored: the caller sees the second attempt.
        let tries = Cell::new(0);
        let r = super::on_fresh_plan(|| async {
            tries.set(tries.get() + 1);
            if tries.get() == 1 {
                Err(AppError::PlanChanged)
            } else {
                Ok(tries.get())
            }
        })
        .await;
        assert!(matches!(r, Ok(2)), "{r:?}");
        // Refused every time: three attempts, then the person is told.
        tries.set(0);
        let r: Result<(), AppError> = super::on_fresh_plan(|| async {
            tries.set(tries.get() + 1);
            Err(AppError::PlanChanged)
        })
        .await;
        assert!(matches!(r, Err(AppError::PlanChanged)), "{r:?}");
        assert_eq!(tries.get(), super::PLAN_TRIES);
        // Any other outcome is final at once.
        tries.set(0);
        let r: Result<(), AppError> = super::on_fresh_plan(|| async {
            tries.set(tries.get() + 1);
            Err(AppError::invalid("day", "no"))
        })
        .await;
        assert!(matches!(r, Err(AppError::Invalid(_))), "{r:?}");
        assert_eq!(tries.get(), 1);
    }

    #[tokio::test]
    async fn work_run_to_the_end_survives_its_caller_going_away() {
        let (done, finished) = tokio::sync::oneshot::channel();
        let work = super::to_the_end(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = done.send(());
        });
        // The caller gives up (as a request does when its client leaves).
        assert!(
            tokio::time::timeout(Duration::from_millis(1), work)
                .await
                .is_err()
        );
        let finished = tokio::time::timeout(Duration::from_secs(5), finished).await;
        assert!(
            matches!(finished, Ok(Ok(()))),
            "the work was dropped with its caller"
        );
    }
}
