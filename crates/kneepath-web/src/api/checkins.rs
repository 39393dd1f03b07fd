//! Check-ins: the list, a new one and a correction, each through the one
//! check-in validation and the progression rules.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use kneepath_app::{AppError, CheckinResult, Logging, to_the_end};
use kneepath_core::Day;

use kneepath_store::{AuditAction, AuditEntity};

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, TokenUser};
use super::types::{CheckInOut, CheckInResult, NewCheckIn};
use crate::state::AppState;

/// Every check-in, oldest first.
#[utoipa::path(get, path = "/api/v1/checkins", tag = "checkins",
    responses((status = 200, description = "Check-ins", body = [CheckInOut])))]
pub(super) async fn list_checkins(
    State(state): State<AppState>,
    t: TokenUser,
) -> ApiResult<axum::Json<Vec<CheckInOut>>> {
    let rows = state.store.checkins(&t.user.id).await?;
    t.audit(&state, AuditAction::Read, AuditEntity::Checkins, None)
        .await?;
    Ok(axum::Json(rows.iter().map(CheckInOut::from).collect()))
}

/// Record a check-in; the progression rules run on it at once.
#[utoipa::path(post, path = "/api/v1/checkins", tag = "checkins",
    request_body = NewCheckIn,
    responses((status = 201, description = "Stored, with what it led to", body = CheckInResult)))]
pub(super) async fn create_checkin(
    State(state): State<AppState>,
    t: TokenUser,
    ApiJson(b): ApiJson<NewCheckIn>,
) -> ApiResult<(StatusCode, axum::Json<CheckInResult>)> {
    to_the_end(create_checkin_now(state, t, b, None)).await?
}

/// Correct the check-in of a day of the current plan (from 14 days back):
/// the corrected answers replace it, the replaced ones are kept in the
/// record, and the progression rules run on the corrected answers (a phase
/// move the wrong answers caused is undone when the corrected ones do not
/// call for it, as long as no later check-in was logged). The body's `day`,
/// if given, must be the path's.
#[utoipa::path(put, path = "/api/v1/checkins/{day}", tag = "checkins",
    params(("day" = String, Path, description = "The day of the check-in, YYYY-MM-DD")),
    request_body = NewCheckIn,
    responses((status = 200, description = "Corrected, with what it led to", body = CheckInResult)))]
pub(super) async fn correct_checkin(
    State(state): State<AppState>,
    t: TokenUser,
    Path(day): Path<String>,
    ApiJson(b): ApiJson<NewCheckIn>,
) -> ApiResult<(StatusCode, axum::Json<CheckInResult>)> {
    let day = day.parse::<Day>().map_err(|e| {
        ApiError::invalid(
            "The day in the path is not a date.",
            vec![("day".into(), format!("{e}."))],
        )
    })?;
    if b.day.as_deref().is_some_and(|d| d != day.to_string()) {
        return Err(ApiError::invalid(
            "The body's day is not the day in the path; nothing was stored.",
            vec![("day".into(), format!("Leave it out, or give {day}."))],
        ));
    }
    to_the_end(create_checkin_now(state, t, b, Some(day))).await?
}

/// `create_checkin` or `correct_checkin` (of the day given), as a task that
/// finishes even if the client goes away.
pub(super) async fn create_checkin_now(
    state: AppState,
    t: TokenUser,
    b: NewCheckIn,
    correcting: Option<Day>,
) -> ApiResult<(StatusCode, axum::Json<CheckInResult>)> {
    t.require_write()?;
    let kb = &state.kb;
    let how = match correcting {
        Some(day) => Logging::Correct(day),
        None => Logging::New,
    };
    let logged = state
        .app
        .check_in(&t.user.id, &b.raw(), how, t.today(&state), t.ip.as_deref())
        .await
        .map_err(|e| match (e, correcting) {
            (AppError::NotFound, Some(day)) => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!(
                    "There is no check-in for {day} to correct (from the last 14 days of the current plan)."
                ),
            ),
            (e, _) => ApiError::from_app(e, "The check-in is not right; nothing was stored."),
        })?;
    let (outcome, message, now) = match logged.result {
        CheckinResult::Retriaged(level) => (
            "retriaged",
            format!(
                "A warning sign was reported, so triage ran again: {}.",
                kb.level(level).title
            ),
            Some(level.as_str().to_string()),
        ),
        CheckinResult::PhaseChanged { to, reason } => ("phase_changed", reason, Some(to)),
        CheckinResult::Stayed {
            waiting_for,
            last_phase,
        } => (
            "stayed",
            match kneepath_app::checkin::waiting_text(&waiting_for, last_phase) {
                Some(text) => format!("Saved. {text}"),
                None => "Saved.".to_string(),
            },
            None,
        ),
        CheckinResult::Waiting => (
            "waiting",
            format!(
                "Saved. You still need to be seen. {}",
                kb.level(kneepath_core::TriageLevel::Urgent).do_now
            ),
            None,
        ),
    };
    Ok((
        if correcting.is_some() {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        axum::Json(CheckInResult {
            day: logged.day.to_string(),
            outcome: outcome.into(),
            message,
            now,
            escalation: logged.escalation.map(|e| e.message().to_string()),
        }),
    ))
}
