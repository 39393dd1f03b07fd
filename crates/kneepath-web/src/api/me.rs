//! The account the token acts for.

use axum::extract::State;
use serde_json::Value as Json;

use kneepath_store::{AuditAction, AuditEntity};

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, TokenUser};
use super::types::{Me, TimeZoneBody};
use crate::state::AppState;

/// The account the token acts for.
#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    responses((status = 200, description = "The patient", body = Me)))]
pub(super) async fn me(State(state): State<AppState>, t: TokenUser) -> ApiResult<axum::Json<Me>> {
    Ok(axum::Json(Me::of(&t.user, state.clock)))
}

/// Set where the person lives: their "today" (the day of a check-in, the
/// plan, when a questionnaire is due) follows this time zone.
#[utoipa::path(put, path = "/api/v1/me/time-zone", tag = "account",
    request_body = TimeZoneBody,
    responses((status = 200, description = "The account with its new time zone and today", body = Me)))]
pub(super) async fn set_time_zone(
    State(state): State<AppState>,
    t: TokenUser,
    ApiJson(b): ApiJson<TimeZoneBody>,
) -> ApiResult<axum::Json<Me>> {
    t.require_write()?;
    let zone = match &b.time_zone {
        Json::Null => None,
        Json::String(z) if crate::zones::is_known(z) => Some(z.clone()),
        _ => {
            return Err(ApiError::invalid(
                "Give an IANA time zone name such as Europe/Oslo, or null for the server's; nothing was changed.",
                vec![(
                    "time_zone".into(),
                    "not a time zone name the database knows".into(),
                )],
            ));
        }
    };
    state
        .store
        .set_time_zone(&t.user.id, zone.as_deref())
        .await?;
    t.audit(&state, AuditAction::Update, AuditEntity::TimeZone, None)
        .await?;
    let mut user = t.user;
    user.time_zone = zone;
    Ok(axum::Json(Me::of(&user, state.clock)))
}
