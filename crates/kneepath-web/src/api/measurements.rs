//! The measurements the patient's clinicians entered.

use axum::extract::State;

use kneepath_store::{AuditAction, AuditEntity};

use super::error::ApiResult;
use super::extract::TokenUser;
use super::types::MeasurementOut;
use crate::state::AppState;

/// Measurements entered by the patient's clinicians.
#[utoipa::path(get, path = "/api/v1/measurements", tag = "measurements",
    responses((status = 200, description = "Measurements", body = [MeasurementOut])))]
pub(super) async fn list_measurements(
    State(state): State<AppState>,
    t: TokenUser,
) -> ApiResult<axum::Json<Vec<MeasurementOut>>> {
    let rows = state.store.measurements(&t.user.id).await?;
    t.audit(&state, AuditAction::Read, AuditEntity::Measurements, None)
        .await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|m| MeasurementOut {
                id: m.id,
                day: m.day.to_string(),
                author: m.author,
                data: m.data,
            })
            .collect(),
    ))
}
