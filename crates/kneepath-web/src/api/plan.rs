//! The current plan.

use axum::extract::State;
use axum::http::StatusCode;
use kneepath_app::plan::plan_items;

use kneepath_store::{AuditAction, AuditEntity};

use super::error::{ApiError, ApiResult};
use super::extract::TokenUser;
use super::types::{PlanExercise, PlanOut};
use crate::state::AppState;

/// The current plan: phase and exercises (with any clinician's edits).
#[utoipa::path(get, path = "/api/v1/plan", tag = "plan",
    responses((status = 200, description = "The plan", body = PlanOut)))]
pub(super) async fn get_plan(
    State(state): State<AppState>,
    t: TokenUser,
) -> ApiResult<axum::Json<PlanOut>> {
    let kb = &state.kb;
    let ctx = state.app.plan_context(&t.user.id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_plan",
            "There is no assessment yet, so no plan.",
        )
    })?;
    t.audit(
        &state,
        AuditAction::Read,
        AuditEntity::Plan,
        Some(&ctx.assessment.id),
    )
    .await?;
    let mut out = PlanOut {
        assessment_id: ctx.assessment.id.clone(),
        level: ctx.assessment.level.as_str().to_string(),
        home_plan: ctx.phase.is_some(),
        phase: None,
        phase_title: None,
        phase_since: None,
        exercises: Vec::new(),
    };
    if let Some(phase) = ctx.phase {
        let p = &kb.phases[phase.phase];
        out.phase = Some(p.id.clone());
        out.phase_title = Some(p.title.clone());
        out.phase_since = Some(phase.since.to_string());
        out.exercises = plan_items(kb, &ctx, phase)
            .items
            .iter()
            .map(|i| PlanExercise {
                id: i.exercise.id.clone(),
                name: i.exercise.name.clone(),
                dosage: i.dosage_text(),
                days_per_week: i.exercise.dosage.days_per_week,
                because: match i.because {
                    kneepath_core::plan::Because::Level => "level".into(),
                    kneepath_core::plan::Because::Phase => "phase".into(),
                    kneepath_core::plan::Because::Contributor(c) => c.id.clone(),
                    kneepath_core::plan::Because::Clinician => "clinician".into(),
                    kneepath_core::plan::Because::PlanRule(r) => r.id.clone(),
                },
            })
            .collect();
    }
    Ok(axum::Json(out))
}
