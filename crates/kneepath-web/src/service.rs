//! What happens when a person finishes an assessment or checks in. Shared by
//! the handlers and the demo seeder, so demo data goes through the same
//! rules as real use.

use kneepath_core::checkin::CheckIn;
use kneepath_core::facts::RawValue;
use kneepath_core::plan::{Plan, StartReason};
use kneepath_core::progress::{self, PhaseState};
use kneepath_core::{Day, Facts, KnowledgeBase, assess};
use kneepath_store::{AssessmentHead, CheckinWrite, NewAssessment, PlanVersion};

use crate::error::WebError;
use crate::state::AppState;

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
    /// rules need, see `plan_context_for_checkin`).
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
    /// The stored check-in of `day`, if it is among the context's.
    pub fn checkin_on(&self, day: Day) -> Option<&CheckIn> {
        self.checkins.iter().find(|c| c.day == day)
    }
}

pub async fn plan_context(
    state: &AppState,
    user_id: &str,
) -> Result<Option<PlanContext>, WebError> {
    plan_context_with(state, user_id, None).await
}

/// The plan context with only the check-ins the progression rules need for
/// a check-in made on `today`, the person's own today
/// (`progress::rules_window`): what a check-in reads, the same for a plan of
/// three weeks or of six months.
pub async fn plan_context_for_checkin(
    state: &AppState,
    user_id: &str,
    today: Day,
) -> Result<Option<PlanContext>, WebError> {
    plan_context_with(state, user_id, Some(today)).await
}

async fn plan_context_with(
    state: &AppState,
    user_id: &str,
    rules_on: Option<Day>,
) -> Result<Option<PlanContext>, WebError> {
    let Some(inputs) = state.store.plan_inputs(user_id, rules_on).await? else {
        return Ok(None);
    };
    let kb = &state.kb;
    let assessment = inputs.head;
    let facts = facts_from_map(kb, &assessment.facts);
    let history = inputs.history;
    let plan_start = inputs.plan_start;
    let edits = inputs.edits;
    // At urgent and above the triage gives no plan; a clinician may give
    // one after seeing the patient (a plan started by hand on this very
    // assessment), and then it is followed like any other.
    let given_by_clinician = history.first().is_some_and(|p| {
        p.from_phase.is_none() && p.author_id.is_some() && p.assessment_id == assessment.id
    });
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

/// The day and id of the check-in logged last among `rows` (ids grow in
/// the order rows are made).
pub fn last_logged(rows: &[kneepath_store::CheckInRow]) -> Option<(Day, String)> {
    rows.iter()
        .max_by(|a, b| a.id.cmp(&b.id))
        .map(|r| (r.checkin.day, r.id.clone()))
}

/// Assess facts and store the result (with the start of its home plan).
pub async fn record_assessment(
    state: &AppState,
    user_id: &str,
    facts: &Facts,
    source: &str,
    day: Day,
    ip: Option<&str>,
) -> Result<String, WebError> {
    // A check-in in progress finishes on the plan it read first.
    let _plan = state.plan_locks.lock(user_id).await;
    record_assessment_locked(state, user_id, facts, source, day, ip).await
}

/// [`record_assessment`] for a caller that holds the person's plan lock
/// already (a check-in's read-decide-write).
pub async fn record_assessment_locked(
    state: &AppState,
    user_id: &str,
    facts: &Facts,
    source: &str,
    day: Day,
    ip: Option<&str>,
) -> Result<String, WebError> {
    let kb = &state.kb;
    let a = assess(kb, facts);
    let report = a.report();
    let reason = start_reason(kb, &a.plan);
    let start = match &a.plan {
        Plan::Home(h) => Some(kb.phases[h.phase].id.as_str()),
        Plan::SeekCare { .. } => None,
    };
    let facts_json = kb.facts_to_json(facts);
    let id = state
        .store
        .insert_assessment(
            &NewAssessment {
                user_id,
                day,
                source,
                facts: &facts_json,
                report: &report,
                start_phase: start.map(|s| (s, reason.as_str())),
            },
            ip,
        )
        .await?;
    Ok(id)
}

fn start_reason(kb: &KnowledgeBase, plan: &Plan<'_>) -> String {
    match plan {
        Plan::Home(h) => match &h.start {
            StartReason::Matched(ev) => format!(
                "Plan started in this phase because of your answers: {}.",
                ev.iter()
                    .map(|e| format!(
                        "{} {}",
                        e.question.label.to_lowercase(),
                        e.question.display_value(&e.value)
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            StartReason::Limited(rule) => format!(
                "Plan started in the {} phase: {} (rule {}).",
                kb.phases[h.phase].title.to_lowercase(),
                rule.because,
                rule.id
            ),
            StartReason::Default | StartReason::Chosen => format!(
                "Plan started in the {} phase: no reason to protect or only mobilise the knee was found.",
                kb.phases[h.phase].title.to_lowercase()
            ),
        },
        Plan::SeekCare { .. } => String::new(),
    }
}

/// How often a read-decide-write of a plan is tried when another writer
/// (another instance sharing the database) changed the plan in between.
const PLAN_TRIES: u32 = 3;

/// An error that says the plan changed under a write (see [`on_fresh_plan`]).
pub trait PlanChangedError {
    fn plan_changed(&self) -> bool;
}

impl PlanChangedError for WebError {
    fn plan_changed(&self) -> bool {
        matches!(self, WebError::PlanChanged)
    }
}

/// Run a read-decide-write of a person's plan holding their plan lock
/// (which orders the writers of this process) from the first read to the
/// last write, tried again from the read as [`on_fresh_plan`] says (which
/// orders those of several instances). Every such write goes through here.
pub async fn deciding_on_plan<T, E, F, Fut>(
    state: &AppState,
    person_id: &str,
    attempt: F,
) -> Result<T, E>
where
    E: PlanChangedError,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let _plan = state.plan_locks.lock(person_id).await;
    on_fresh_plan(attempt).await
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
) -> Result<T, WebError> {
    tokio::spawn(work)
        .await
        .map_err(|e| WebError::Internal(format!("the check-in stopped: {e}")))
}

/// What a check-in led to.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckinResult {
    /// A warning sign re-ran triage; this is the new level.
    Retriaged(kneepath_core::TriageLevel),
    PhaseChanged {
        to: String,
        reason: String,
    },
    Stayed {
        waiting_for: Vec<String>,
        /// The plan is in its last phase: nothing to move on to.
        last_phase: bool,
    },
}

/// What a check-in that moved nothing tells the person about moving on:
/// what advancing still waits for, or in the last phase its criteria for a
/// full return to activity.
pub fn waiting_text(waiting_for: &[String], last_phase: bool) -> Option<String> {
    let list = waiting_for.join("; ");
    match (last_phase, waiting_for.is_empty()) {
        (true, true) => Some("This is the last phase: keep up the maintenance routine.".into()),
        (true, false) => Some(format!(
            "This is the last phase: keep up the maintenance routine. Still to reach for a full return to activity: {list}."
        )),
        (false, true) => None,
        (false, false) => Some(format!(
            "To move to the next phase kneepath is waiting for: {list}."
        )),
    }
}

/// Apply the rules to a new check-in and store it with its consequences.
/// `ctx` is handed back as it came (the check-in is placed among its
/// check-ins while the rules run, rather than copying them all). The caller
/// holds the person's plan lock from reading `ctx` until this returns.
pub async fn record_checkin(
    state: &AppState,
    user_id: &str,
    ctx: &mut PlanContext,
    checkin: CheckIn,
    ip: Option<&str>,
) -> Result<(CheckinResult, Option<progress::Escalation>), WebError> {
    let kb = &state.kb;
    let phase = home_phase(ctx)?;
    let pos = ctx.checkins.partition_point(|c| c.day < checkin.day);
    ctx.checkins.insert(pos, checkin);
    let all = &ctx.checkins;
    let outcome = progress::after_checkin(kb, &ctx.facts, phase, ctx.plan_start, all, &all[pos]);
    let checkin = ctx.checkins.remove(pos);
    store_outcome(state, user_id, ctx, phase, &checkin, outcome, ip, false).await
}

/// Apply the rules to a corrected check-in (`progress::after_correction`)
/// and store it in place of the day's check-in, with its consequences. The
/// day must have a check-in among `ctx`'s; the caller holds the plan lock as
/// for [`record_checkin`].
pub async fn correct_checkin(
    state: &AppState,
    user_id: &str,
    ctx: &mut PlanContext,
    corrected: CheckIn,
    ip: Option<&str>,
) -> Result<(CheckinResult, Option<progress::Escalation>), WebError> {
    let kb = &state.kb;
    let phase = home_phase(ctx)?;
    let Some(pos) = ctx.checkins.iter().position(|c| c.day == corrected.day) else {
        return Err(WebError::BadRequest(format!(
            "There is no check-in for {} to correct.",
            corrected.day
        )));
    };
    let moved_from = moved_by_checkin_on(kb, ctx, corrected.day);
    let old = std::mem::replace(&mut ctx.checkins[pos], corrected);
    let all = &ctx.checkins;
    let outcome = progress::after_correction(
        kb,
        &ctx.facts,
        phase,
        moved_from,
        ctx.plan_start,
        all,
        &all[pos],
    );
    let corrected = std::mem::replace(&mut ctx.checkins[pos], old);
    store_outcome(state, user_id, ctx, phase, &corrected, outcome, ip, true).await
}

fn home_phase(ctx: &PlanContext) -> Result<PhaseState, WebError> {
    ctx.phase.ok_or_else(|| {
        WebError::BadRequest(
            "There is no home plan to check in against: please follow the advice to see a doctor, or take a new assessment.".into(),
        )
    })
}

/// The phase state before the check-in of `day` moved the plan, when the
/// plan's latest phase changes were all made on it (by the rules on that
/// check-in and on earlier corrections of it; a clinician's move has an
/// author). Only while it is the check-in logged last: then every other
/// check-in was made before those moves, in the phase the rules count it
/// in. Once another is logged (in the phase it moved to), its moves stand
/// and a correction runs the rules from the phase the plan is in, so no
/// check-in made in one phase counts for another. None otherwise.
fn moved_by_checkin_on(kb: &KnowledgeBase, ctx: &PlanContext, day: Day) -> Option<PhaseState> {
    let (last_day, last_id) = ctx.last_logged.as_ref()?;
    if *last_day != day {
        return None;
    }
    let h = &ctx.phase_history;
    let made_by_it = |p: &kneepath_store::PhaseChangeRow| {
        p.assessment_id == ctx.assessment.id && by_the_rules(p) && p.id > *last_id
    };
    let first = h.len() - h.iter().rev().take_while(|p| made_by_it(p)).count();
    let phase = kb.phase_by_id(h.get(first)?.from_phase.as_deref()?)?;
    Some(PhaseState {
        phase,
        since: first
            .checked_sub(1)
            .and_then(|i| h.get(i))
            .map_or(ctx.plan_start, |p| p.day),
    })
}

/// Whether the rules may have made phase change `p` on the check-in of
/// `day` (or on a correction of it), for the page that says what a check-in
/// did: a move starts the day after the newest check-in
/// (`progress::move_starts`), so the day after this one when it was the
/// newest; or any move made after it was logged, while it is the check-in
/// logged last (`last_logged`: its day and id; ids grow in the order rows
/// are made). A clinician's move has an author.
pub fn made_on_checkin(
    p: &kneepath_store::PhaseChangeRow,
    day: Day,
    last_logged: Option<&(Day, String)>,
) -> bool {
    by_the_rules(p)
        && (p.day == day.plus(1) || last_logged.is_some_and(|(d, id)| *d == day && p.id > *id))
}

/// A move the progression rules made (not a plan's start, not a clinician's).
fn by_the_rules(p: &kneepath_store::PhaseChangeRow) -> bool {
    p.author_id.is_none() && p.from_phase.is_some()
}

/// Store a check-in (new or corrected) with what the rules concluded.
#[allow(clippy::too_many_arguments)]
async fn store_outcome(
    state: &AppState,
    user_id: &str,
    ctx: &PlanContext,
    phase: PhaseState,
    checkin: &CheckIn,
    outcome: progress::CheckinOutcome<'_>,
    ip: Option<&str>,
    correcting: bool,
) -> Result<(CheckinResult, Option<progress::Escalation>), WebError> {
    let kb = &state.kb;
    let retriage = outcome
        .retriage
        .as_ref()
        .map(|a| (a.report(), kb.facts_to_json(&outcome.facts_now)));
    let retriage = retriage.as_ref().map(|(report, facts)| NewAssessment {
        user_id,
        day: checkin.day,
        source: "checkin",
        facts,
        report,
        start_phase: None,
    });
    let result = match (&outcome.retriage, &outcome.phase_change) {
        (Some(a), _) => CheckinResult::Retriaged(a.level),
        (None, Some((to, reason))) => CheckinResult::PhaseChanged {
            to: kb.phases[*to].id.clone(),
            reason: reason.clone(),
        },
        (None, None) => CheckinResult::Stayed {
            waiting_for: outcome.waiting_for.clone(),
            last_phase: progress::is_last_phase(kb, phase.phase),
        },
    };
    // Say it again only if it was not already said in the week before
    // (the history is read only when there is something to say).
    let escalation = match outcome.escalation {
        Some(e) => {
            let recent = state.store.escalations(user_id).await?;
            let said = recent
                .iter()
                .filter_map(|r| progress::Escalation::parse(&r.kind).map(|k| (k, r.day)));
            (!progress::already_said(e, checkin.day, said)).then_some(e)
        }
        None => None,
    };
    let from = kb.phases[phase.phase].id.clone();
    let change = outcome.phase_change.as_ref().map(|(to, reason)| {
        (
            from.as_str(),
            kb.phases[*to].id.as_str(),
            progress::move_starts(&ctx.checkins, checkin),
            reason.as_str(),
        )
    });
    let write = CheckinWrite {
        user_id,
        assessment_id: &ctx.assessment.id,
        checkin,
        phase_change: change,
        escalation: escalation.map(|e| e.as_str()),
        retriage,
        ip,
        plan_version: ctx.version,
    };
    if correcting {
        state.store.correct_checkin(&write).await?;
    } else {
        state.store.insert_checkin(&write).await?;
    }
    Ok((result, escalation))
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
        .filter(|e| e.kind == kneepath_core::plan::EditKind::Clear.as_str())
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
                kind: kneepath_core::plan::EditKind::parse(&e.kind)?,
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

/// Store a clinician's measurements: the facts they set are added to the
/// newest assessment's, the assessment is re-run (its contributing factors
/// now `measured`), and the change is described for the timeline. The plan
/// carries on (no new plan starts). Fails when there is no assessment.
pub async fn record_measurement(
    state: &AppState,
    author_id: &str,
    patient_id: &str,
    m: &kneepath_core::clinic::Measurements,
    day: Day,
    ip: Option<&str>,
) -> Result<String, WebError> {
    // Whether the assessment can take them does not depend on the plan.
    if let Some((_, message)) = measurement_problems(&state.kb, m).into_iter().next() {
        return Err(WebError::BadRequest(message));
    }
    // The assessment read here is the one the new facts are added to.
    deciding_on_plan(state, patient_id, || {
        measurement_once(state, author_id, patient_id, m, day, ip)
    })
    .await
}

/// The facts computed from measurements that the assessment cannot take
/// (a ratio out of its range), each with the fact's id and a message naming
/// it as the clinician knows it.
pub fn measurement_problems(
    kb: &KnowledgeBase,
    m: &kneepath_core::clinic::Measurements,
) -> Vec<(&'static str, String)> {
    m.facts()
        .into_iter()
        .filter_map(|(name, value)| {
            let q = &kb.questions[kb.fact_id(name)?];
            let e = q.accept(&RawValue::from(&value)).err()?;
            let unit = q.unit.as_ref().map_or(String::new(), |u| format!(" ({u})"));
            Some((
                name,
                format!(
                    "{}{unit}: {e} (computed from the values entered). Check them and which side is painful.",
                    q.label
                ),
            ))
        })
        .collect()
}

async fn measurement_once(
    state: &AppState,
    author_id: &str,
    patient_id: &str,
    m: &kneepath_core::clinic::Measurements,
    day: Day,
    ip: Option<&str>,
) -> Result<String, WebError> {
    let kb = &state.kb;
    let Some((head, version)) = state.store.plan_head(patient_id).await? else {
        return Err(WebError::BadRequest(
            "This patient has no assessment yet: measurements are added to an assessment.".into(),
        ));
    };
    let before = assess(kb, &facts_from_map(kb, &head.facts));
    let mut facts = facts_from_map(kb, &head.facts);
    for (name, value) in m.facts() {
        if let Some(fid) = kb.fact_id(name)
            && let Ok(v) = kb.questions[fid].accept(&RawValue::from(&value))
        {
            facts.set(fid, Some(v));
        }
    }
    let after = assess(kb, &facts);
    // What changed in the contributing factors, in words.
    let mut changes = Vec::new();
    for c in &kb.contributors {
        let grade = |a: &kneepath_core::Assessment<'_>| {
            a.contributors
                .iter()
                .find(|x| std::ptr::eq(x.contributor, c))
                .map(|x| x.grade.as_str())
        };
        let (b, a) = (grade(&before), grade(&after));
        if b != a {
            changes.push(format!(
                "{}: {} → {}",
                c.title,
                b.unwrap_or("not present"),
                a.unwrap_or("not present")
            ));
        }
    }
    let d = m.derived();
    let mut parts = Vec::new();
    if let Some(r) = d.hq_ratio {
        parts.push(format!("H:Q ratio (painful side) {r:.2}"));
    }
    if let Some(r) = d.hq_ratio_other {
        parts.push(format!("H:Q ratio (other side) {r:.2}"));
    }
    if let Some(l) = d.hamstring_lsi_pct {
        parts.push(format!("hamstring symmetry {l:.0}%"));
    }
    if let Some(l) = d.quadriceps_lsi_pct {
        parts.push(format!("quadriceps symmetry {l:.0}%"));
    }
    if let (Some(a), Some(b)) = (m.slr_left_deg, m.slr_right_deg) {
        parts.push(format!("straight-leg raise L {a:.0}° / R {b:.0}°"));
    }
    if let Some(a) = m.ake_deg {
        parts.push(format!("AKE deficit {a:.0}°"));
    }
    let summary = format!(
        "{}. {}",
        parts.join(", "),
        if changes.is_empty() {
            "No contributing factor changed.".to_string()
        } else {
            format!("Changed: {}.", changes.join("; "))
        }
    );
    let data = serde_json::json!({
        "inputs": m,
        "derived": d,
        "facts": m
            .facts()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<serde_json::Map<_, _>>(),
        "changes": changes,
        "summary": summary,
    });
    let report = after.report();
    let facts_json = kb.facts_to_json(&facts);
    Ok(state
        .store
        .insert_measurement(
            author_id,
            &data,
            &NewAssessment {
                user_id: patient_id,
                day,
                source: "measurement",
                facts: &facts_json,
                report: &report,
                start_phase: None,
            },
            version,
            ip,
        )
        .await?)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::time::Duration;

    use crate::error::WebError;

    #[tokio::test]
    async fn a_write_refused_for_a_changed_plan_is_decided_again_up_to_three_times() {
        // Refused once, then stored: the caller sees the second attempt.
        let tries = Cell::new(0);
        let r = super::on_fresh_plan(|| async {
            tries.set(tries.get() + 1);
            if tries.get() == 1 {
                Err(WebError::PlanChanged)
            } else {
                Ok(tries.get())
            }
        })
        .await;
        assert!(matches!(r, Ok(2)), "{r:?}");
        // Refused every time: three attempts, then the person is told.
        tries.set(0);
        let r: Result<(), WebError> = super::on_fresh_plan(|| async {
            tries.set(tries.get() + 1);
            Err(WebError::PlanChanged)
        })
        .await;
        assert!(matches!(r, Err(WebError::PlanChanged)), "{r:?}");
        assert_eq!(tries.get(), super::PLAN_TRIES);
        // Any other outcome is final at once.
        tries.set(0);
        let r: Result<(), WebError> = super::on_fresh_plan(|| async {
            tries.set(tries.get() + 1);
            Err(WebError::BadRequest("no".into()))
        })
        .await;
        assert!(matches!(r, Err(WebError::BadRequest(_))), "{r:?}");
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

/// What [`reassess_all`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reassessed {
    /// People whose latest assessment was made under another knowledge base.
    pub checked: usize,
    /// Of them, those whose answers now give a more urgent level or other
    /// plan rules: a new assessment stored, escalated.
    pub changed: usize,
    /// Left alone because their plan changed while being re-run (another
    /// instance re-ran it first).
    pub skipped: usize,
}

/// Re-run every person's latest assessment made under another knowledge
/// base (a policy change) on its facts under the current one (`kneepath
/// reassess`, and `serve` at start). Where the level is more urgent or the
/// plan rules differ, store the re-run as a new assessment (its plan
/// carries on, or stops where it now sends the person to a doctor), with a
/// `policy_changed` escalation: the person sees a banner with the reason,
/// and moves to the top of their clinician's list. The stored results stay
/// as they were, with their knowledge-base version; a level that would now
/// be less urgent is left for the person's next assessment.
pub async fn reassess_all(state: &AppState, today: Day) -> Result<Reassessed, WebError> {
    let kb = &state.kb;
    let mut out = Reassessed::default();
    for (user, _, version) in state.store.latest_assessment_versions().await? {
        if version == kb.version {
            continue;
        }
        out.checked += 1;
        let _plan = state.plan_locks.lock(&user).await;
        let Some((head, read)) = state.store.plan_head(&user).await? else {
            continue;
        };
        let Some(old) = state.store.assessment(&head.id).await? else {
            continue;
        };
        let facts = facts_from_map(kb, &head.facts);
        let a = assess(kb, &facts);
        let old_rules: Vec<&str> = old
            .report
            .plan_rules
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        let new_rules: Vec<&str> = a.plan_rules.iter().map(|r| r.rule.id.as_str()).collect();
        let more_urgent = a.level < old.level;
        if !more_urgent && old_rules == new_rules {
            continue;
        }
        let mut why = Vec::new();
        if more_urgent {
            why.push(format!("level {} to {}", old.level, a.level));
        }
        if old_rules != new_rules {
            why.push(format!(
                "plan rules [{}] to [{}]",
                old_rules.join(", "),
                new_rules.join(", ")
            ));
        }
        let detail = format!(
            "re-run under knowledge base {} (policy {}), was {}: {}",
            kb.version,
            kb.meta.policy_version,
            old.kb_version,
            why.join("; ")
        );
        let report = a.report();
        let facts_json = kb.facts_to_json(&facts);
        let written = state
            .store
            .insert_reassessment(
                &NewAssessment {
                    user_id: &user,
                    day: today,
                    source: "reassess",
                    facts: &facts_json,
                    report: &report,
                    start_phase: None,
                },
                progress::Escalation::PolicyChanged.as_str(),
                &detail,
                read,
            )
            .await;
        match written {
            Ok(_) => out.changed += 1,
            Err(kneepath_store::StoreError::PlanChanged) => out.skipped += 1,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}
