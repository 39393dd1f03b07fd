//! The progress page: pain series with 7-day averages, weekly adherence,
//! training load with the acute:chronic ratio and single-session spikes, and
//! the phase timeline with the reason for each change.
//!
//! The charts are `kneepath_report::progress`'s (points from the core's
//! `series::daily`); the page is rendered while its audit row commits and
//! sent only once the row is stored (`CurrentUser::audited_read`), as is
//! the plan page. Its table of check-ins marks each day its owner
//! corrected.

use axum::extract::State;
use axum::response::Response;
use kneepath_app::PlanContext;
use kneepath_app::report::phase_moves;
use kneepath_report::progress::{ProgressInput, progress_charts};

use kneepath_store::AuditEntity;

use crate::auth::Patient;
use crate::error::WebError;
use crate::state::AppState;
use crate::views::{Layout, ProgressPage, private};

/// An empty progress page (no charts yet).
pub(crate) fn empty(l: Layout) -> ProgressPage {
    ProgressPage {
        l,
        has_data: false,
        pain_chart: String::new(),
        adherence_chart: String::new(),
        load_chart: String::new(),
        spikes: Vec::new(),
        acwr_now: None,
        timeline: Vec::new(),
        table: Vec::new(),
        summary: String::new(),
        correct_from: None,
        corrected: Vec::new(),
    }
}

pub async fn show(
    State(state): State<AppState>,
    Patient(user): Patient,
) -> Result<Response, WebError> {
    let kb = &state.kb;
    let today = user.today(&state);
    let mut page = empty(Layout::for_user("Your progress", "progress", &user));
    let Some(ctx) = state.app.plan_context(user.id()).await? else {
        return Ok(private(&page));
    };
    let id = ctx.assessment.id.clone();
    if ctx.phase.is_some() {
        page.correct_from = Some(kneepath_app::checkin::earliest(&ctx, today).to_string());
    }
    // The closure owns the check-ins and the page parts, so they are freed
    // once the HTML exists, not held while the audit row commits.
    user.audited_read(&state, AuditEntity::Progress, Some(&id), move || {
        fill(&mut page, kb, &ctx, today);
        private(&page)
    })
    .await
}

/// Fill the charts, timeline and table of a progress page from a plan's
/// check-ins (the charts are `kneepath-report`'s, as on the clinician's
/// page and the report).
pub(crate) fn fill(
    page: &mut ProgressPage,
    kb: &kneepath_core::KnowledgeBase,
    ctx: &PlanContext,
    today: kneepath_core::Day,
) {
    let cs = &ctx.checkins;
    if cs.is_empty() {
        return;
    }
    let moves = phase_moves(kb, &ctx.phase_history);
    let Some(charts) = progress_charts(&ProgressInput {
        checkins: cs,
        plan_start: ctx.plan_start,
        today,
        moves: &moves,
        meaningful_points: kb.progression.escalate_meaningful_change,
    }) else {
        return;
    };
    page.has_data = true;
    page.summary = charts.summary;
    page.pain_chart = charts.pain_chart;
    page.adherence_chart = charts.adherence_chart;
    page.load_chart = charts.load_chart;
    page.acwr_now = charts.acwr_now;
    page.spikes = charts.spikes;
    page.timeline = ctx
        .phase_history
        .iter()
        .map(|p| {
            let title = kb
                .phase_by_id(&p.to_phase)
                .map_or(p.to_phase.clone(), |i| kb.phases[i].title.clone());
            (p.day.to_string(), title, p.reason.clone())
        })
        .collect();
    page.corrected = ctx.corrected.iter().map(|d| d.to_string()).collect();
    page.table = cs
        .iter()
        .rev()
        .map(|c| {
            vec![
                c.day.to_string(),
                c.pain_now.to_string(),
                c.morning_pain.map_or("–".into(), |v| v.to_string()),
                c.exercise_pain.map_or("–".into(), |v| v.to_string()),
                format!(
                    "{}/{}",
                    c.planned.iter().filter(|p| c.done.contains(p)).count(),
                    c.planned.len()
                ),
                if c.training_minutes > 0 {
                    format!("{} min, effort {}", c.training_minutes, c.effort)
                } else {
                    "–".into()
                },
            ]
        })
        .collect();
}
