//! Outcome questionnaires: the list with scores, and a new one.

use axum::extract::{Path, State};
use axum::http::StatusCode;

use kneepath_store::{AuditAction, AuditEntity};

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, TokenUser};
use super::types::{InstrumentName, NewOutcome, OutcomeOut};
use crate::state::AppState;

/// Outcome questionnaires with their scores, oldest first.
#[utoipa::path(get, path = "/api/v1/outcomes", tag = "outcomes",
    responses((status = 200, description = "Questionnaires", body = [OutcomeOut])))]
pub(super) async fn list_outcomes(
    State(state): State<AppState>,
    t: TokenUser,
) -> ApiResult<axum::Json<Vec<OutcomeOut>>> {
    let rows = state.store.outcomes(&t.user.id).await?;
    t.audit(&state, AuditAction::Read, AuditEntity::Outcomes, None)
        .await?;
    Ok(axum::Json(rows.iter().map(OutcomeOut::from).collect()))
}

/// Fill in a questionnaire; it is scored by its manual's rules.
#[utoipa::path(post, path = "/api/v1/outcomes/{instrument}", tag = "outcomes",
    params(("instrument" = InstrumentName, Path, description = "The questionnaire")),
    request_body = NewOutcome,
    responses((status = 201, description = "Stored and scored", body = OutcomeOut)))]
pub(super) async fn create_outcome(
    State(state): State<AppState>,
    t: TokenUser,
    Path(instrument): Path<InstrumentName>,
    ApiJson(b): ApiJson<NewOutcome>,
) -> ApiResult<(StatusCode, axum::Json<OutcomeOut>)> {
    t.require_write()?;
    let kind = match instrument {
        InstrumentName::Koos => kneepath_core::kb::InstrumentKind::Koos,
        InstrumentName::Lefs => kneepath_core::kb::InstrumentKind::Lefs,
        InstrumentName::Nprs => kneepath_core::kb::InstrumentKind::Nprs,
    };
    let ins = state.kb.instrument(kind).ok_or_else(ApiError::not_found)?;
    let unknown: Vec<(String, String)> = b
        .answers
        .keys()
        .filter(|k| !ins.items.iter().any(|i| &i.id == *k))
        .map(|k| {
            (
                k.clone(),
                format!("`{k}` is not an item of the {}", ins.short),
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::invalid(
            "Unknown items; nothing was stored.",
            unknown,
        ));
    }
    let id = state
        .app
        .record_outcome(
            &t.user.id,
            ins,
            |id| b.answers.get(id).map(u32::to_string).unwrap_or_default(),
            t.today(&state),
            t.ip.as_deref(),
        )
        .await?;
    let row = state
        .store
        .outcomes(&t.user.id)
        .await?
        .into_iter()
        .find(|o| o.id == id)
        .ok_or_else(ApiError::not_found)?;
    Ok((StatusCode::CREATED, axum::Json(OutcomeOut::from(&row))))
}
