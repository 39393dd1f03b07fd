//! The plan page: today's exercises as cards, the rest of the week, what it
//! takes to move on, the warning signs, advice and treatment options. At
//! urgent and above: the triage advice instead, never exercises.

use axum::extract::State;
use axum::response::Response;
use kneepath_core::Day;
use kneepath_core::plan::Because;
use kneepath_core::progress::scheduled_on;
use kneepath_store::{EscalationRow, OutcomeRow};

use kneepath_store::AuditEntity;

use crate::auth::Patient;
use crate::error::WebError;
use crate::figures::exercise_figure;
use crate::state::AppState;
use crate::views::{ExerciseCard, Layout, PlanPage, level_class, private};
use kneepath_app::PlanContext;
use kneepath_app::plan::{applied_plan_rules, plan_items};

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn days_text(days_per_week: u32) -> String {
    if days_per_week >= 7 {
        return "every day".into();
    }
    (0..7)
        .filter(|&d| scheduled_on(days_per_week, d))
        .map(|d| &WEEKDAYS[d as usize][..3])
        .collect::<Vec<_>>()
        .join(", ")
}

/// The plan, opening on today: a checklist of today's exercises (each
/// card opens, with a counter and timer where scripts run), its time, what
/// is left out and the warning signs; the whole plan one link away.
pub async fn show(state: State<AppState>, patient: Patient) -> Result<Response, WebError> {
    plan(state, patient, false).await
}

/// The whole plan: today's exercises as cards, the rest of the week, what
/// it takes to move on, advice and other treatments.
pub async fn full(state: State<AppState>, patient: Patient) -> Result<Response, WebError> {
    plan(state, patient, true).await
}

async fn plan(
    State(state): State<AppState>,
    Patient(user): Patient,
    full: bool,
) -> Result<Response, WebError> {
    let today = user.today(&state);
    let l = Layout::for_user("Your plan", "plan", &user);
    let Some(ctx) = state.app.plan_context(user.id()).await? else {
        return Ok(private(&empty(l)));
    };
    // Due questionnaires and the see-a-professional banner belong to a
    // home plan; a result that sends the person to a doctor shows neither.
    let (outcomes, escalations) = match ctx.phase {
        Some(_) => tokio::try_join!(
            state.store.outcomes(user.id()),
            state.store.escalations(user.id())
        )?,
        None => Default::default(),
    };
    let id = ctx.assessment.id.clone();
    user.audited_read(&state, AuditEntity::Plan, Some(&id), || {
        let mut page = fill(&state, l, &ctx, &outcomes, &escalations, today);
        page.full = full;
        private(&page)
    })
    .await
}

/// The page of a person's current plan, from what `show` read.
fn fill(
    state: &AppState,
    l: Layout,
    ctx: &PlanContext,
    outcomes: &[OutcomeRow],
    escalations: &[EscalationRow],
    today: Day,
) -> PlanPage {
    let kb = &state.kb;
    let level = kb.level(ctx.assessment.level);
    let mut page = empty(l);
    page.has_plan = true;
    page.assessment_id = ctx.assessment.id.clone();
    page.level_title = level.title.clone();
    page.level_class = level_class(ctx.assessment.level);
    page.do_now = level.do_now.clone();
    page.watch = kneepath_core::report::watch_for(kb, &ctx.facts);
    if ctx.assessment.source == kneepath_store::AssessmentSource::Reassess {
        page.policy_changed = Some((
            kneepath_core::progress::Escalation::PolicyChanged
                .message()
                .to_string(),
            ctx.assessment.id.clone(),
        ));
    }
    page.emergency_number = state.settings.emergency_number.clone();
    let Some(phase) = ctx.phase else {
        page.seek_care = true;
        page.waiting = ctx.waiting();
        page.checked_in_today = ctx.checkin_on(today).is_some();
        page.seek_care_advice = level
            .advice
            .iter()
            .map(|&a| (kb.advice[a].title.clone(), kb.advice[a].text.clone()))
            .collect();
        return page;
    };
    let home = plan_items(kb, ctx, phase);
    let p = &kb.phases[phase.phase];
    page.phase_title = p.title.clone();
    page.phase_goal = p.goal.clone();
    page.phase_days = p.typical_days.clone();
    page.phase_number = phase.phase + 1;
    page.phase_count = kb.phases.len();
    page.weekday = WEEKDAYS[today.weekday() as usize].to_string();
    page.day = today.to_string();
    let rules = applied_plan_rules(kb, ctx);
    page.exit = match kneepath_core::plan::phase_cap(&rules) {
        // A plan rule (P1) keeps the plan where it is, whatever the
        // check-ins say.
        Some(cap) if cap <= phase.phase => rules
            .iter()
            .filter(|r| r.lifted.is_none() && r.rule.max_phase == Some(cap))
            .map(|r| {
                format!(
                    "Not for now: the plan stays here because {} (rule {}).",
                    r.rule.because, r.rule.id
                )
            })
            .collect(),
        _ => p.exit.iter().map(|e| e.text.clone()).collect(),
    };
    for item in &home.items {
        let e = item.exercise;
        // A clinician's dosage is in words: nothing to count by.
        let counted = item.dosage.is_none().then_some(&e.dosage);
        let count =
            |f: fn(&kneepath_core::kb::Dosage) -> Option<u32>| counted.and_then(f).unwrap_or(0);
        let card = ExerciseCard {
            minutes: e.minutes_a_day(),
            sport: e.sport_session,
            sets: count(|d| d.sets),
            reps: count(|d| d.reps),
            hold: count(|d| d.hold_seconds),
            session_minutes: count(|d| d.minutes),
            per_day: count(|d| Some(d.per_day)).max(1),
            id: e.id.clone(),
            name: e.name.clone(),
            purpose: e.purpose.clone(),
            steps: e.steps.clone(),
            dosage: item.dosage_text(),
            note: match &item.dosage {
                Some((_, why)) => Some(format!("Dosage set by your clinician: {why}")),
                None => e.dosage.note.clone(),
            },
            easier: e.easier.clone(),
            harder: e.harder.clone(),
            stop_if: e.stop_if.clone(),
            figure: exercise_figure(kb, e),
            because: match item.because {
                Because::Contributor(c) => Some(format!("Added for: {}", c.title)),
                Because::Clinician => Some("Added by your clinician".to_string()),
                _ => None,
            },
            days: days_text(e.dosage.days_per_week),
            supported: item
                .supported
                .zip(e.supported.clone())
                .map(|(rule, text)| (text, rule.id.clone())),
        };
        if scheduled_on(e.dosage.days_per_week, today.weekday()) {
            if card.sport {
                page.sport_minutes += card.minutes;
            } else {
                page.today_minutes += card.minutes;
            }
            page.today_cards.push(card);
        } else {
            page.other_cards.push(card);
        }
    }
    page.advice = home
        .advice
        .iter()
        .map(|a| (a.advice.title.clone(), a.advice.text.clone()))
        .collect();
    page.plan_rules = kneepath_core::report::plan_rule_reports(&rules, &home.exclusions);
    page.treatments = home
        .treatments
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                t.evidence.label().to_string(),
                t.summary.clone(),
                t.who.clone(),
            )
        })
        .collect();
    page.checked_in_today = ctx.checkins.iter().any(|c| c.day == today);
    page.due = kneepath_app::outcomes::due_in(kb, ctx, outcomes, today)
        .into_iter()
        .filter_map(|(kind, why)| {
            kb.instrument(kind)
                .map(|i| (i.id.clone(), i.title.clone(), why.label()))
        })
        .collect();
    page.escalation = escalations
        .iter()
        .rev()
        .find(|e| e.day >= ctx.plan_start && today.days_since(e.day) <= 7)
        .map(|e| e.kind)
        .filter(|e| *e != kneepath_core::progress::Escalation::PolicyChanged)
        .map(|e| e.message().to_string());
    page
}

fn empty(l: Layout) -> PlanPage {
    PlanPage {
        l,
        has_plan: false,
        level_title: String::new(),
        level_class: "",
        do_now: String::new(),
        seek_care: false,
        waiting: false,
        seek_care_advice: Vec::new(),
        escalation: None,
        policy_changed: None,
        due: Vec::new(),
        phase_title: String::new(),
        phase_goal: String::new(),
        phase_days: String::new(),
        phase_number: 0,
        phase_count: 0,
        weekday: String::new(),
        day: String::new(),
        today_cards: Vec::new(),
        other_cards: Vec::new(),
        exit: Vec::new(),
        advice: Vec::new(),
        watch: Vec::new(),
        emergency_number: String::new(),
        treatments: Vec::new(),
        plan_rules: Vec::new(),
        checked_in_today: false,
        assessment_id: String::new(),
        full: false,
        today_minutes: 0,
        sport_minutes: 0,
    }
}
