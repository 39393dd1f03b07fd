//! Assessments: the list, one with its report, and a new one from facts.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use kneepath_app::AppError;
use serde_json::Value as Json;

use kneepath_store::{AssessmentSource, AuditAction, AuditEntity};

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, TokenUser};
use super::types::{AssessmentDetail, AssessmentSummary, NewAssessmentBody, detail, summary};
use crate::state::AppState;

/// Every assessment, oldest first.
#[utoipa::path(get, path = "/api/v1/assessments", tag = "assessments",
    responses((status = 200, description = "Assessments", body = [AssessmentSummary])))]
pub(super) async fn list_assessments(
    State(state): State<AppState>,
    t: TokenUser,
) -> ApiResult<axum::Json<Vec<AssessmentSummary>>> {
    let rows = state.store.assessments(&t.user.id).await?;
    t.audit(&state, AuditAction::Read, AuditEntity::AssessmentList, None)
        .await?;
    Ok(axum::Json(rows.iter().map(summary).collect()))
}

/// One assessment with its facts and full report.
#[utoipa::path(get, path = "/api/v1/assessments/{id}", tag = "assessments",
    params(("id" = String, Path, description = "Assessment id")),
    responses((status = 200, description = "The assessment", body = AssessmentDetail)))]
pub(super) async fn get_assessment(
    State(state): State<AppState>,
    t: TokenUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<AssessmentDetail>> {
    let a = state
        .store
        .assessment(&id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if a.user_id != t.user.id {
        crate::auth::refuse_audit(
            &state,
            &t.user.id,
            t.ip.as_deref(),
            Some(&a.user_id),
            AuditEntity::Assessment,
            &id,
        )
        .await?;
        return Err(ApiError::not_found());
    }
    t.audit(
        &state,
        AuditAction::Read,
        AuditEntity::Assessment,
        Some(&a.id),
    )
    .await?;
    Ok(axum::Json(detail(&a)?))
}

/// Assess facts and store the result (a new plan starts, as after the
/// wizard). Unknown facts, wrong types or out-of-range values: 422 naming
/// each fact.
#[utoipa::path(post, path = "/api/v1/assessments", tag = "assessments",
    request_body = NewAssessmentBody,
    responses((status = 201, description = "Stored", body = AssessmentDetail)))]
pub(super) async fn create_assessment(
    State(state): State<AppState>,
    t: TokenUser,
    ApiJson(body): ApiJson<NewAssessmentBody>,
) -> ApiResult<(StatusCode, axum::Json<AssessmentDetail>)> {
    t.require_write()?;
    let kb = &state.kb;
    let text = serde_json::to_string(&Json::Object(body.facts))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let facts = kb.facts_from_json_str(&text).map_err(|e| {
        ApiError::invalid(
            "Some facts are not right; nothing was stored.",
            e.problems()
                .iter()
                .map(|p| (p.fact.clone(), p.to_string()))
                .collect(),
        )
    })?;
    let id = state
        .app
        .record_assessment(
            &t.user.id,
            &facts,
            AssessmentSource::Api,
            t.today(&state),
            t.ip.as_deref(),
        )
        .await?;
    let a = state
        .store
        .assessment(&id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((StatusCode::CREATED, axum::Json(detail(&a)?)))
}
