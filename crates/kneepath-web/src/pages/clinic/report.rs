//! The one-page report of a patient (drawn by `kneepath-report`), as HTML
//! and as PDF.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kneepath_store::{User, UserId};

use super::linked_patient;
use crate::auth::{Clinician, CurrentUser};
use crate::error::WebError;
use crate::state::AppState;

/// The report of one patient as HTML (`kneepath-report`). `inline_css`
/// embeds the stylesheet (for printing from a file); else it links it.
async fn report_html(
    state: &AppState,
    user: &CurrentUser,
    patient: &User,
    inline_css: bool,
) -> Result<String, WebError> {
    let data = state.app.report_data(user.actor(), patient).await?;
    kneepath_report::render(&data, inline_css).map_err(|e| WebError::internal(e.to_string()))
}

pub async fn report(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    Path(id): Path<UserId>,
) -> Result<Response, WebError> {
    let p = linked_patient(&state, &user, &id).await?;
    let html = report_html(&state, &user, &p, false).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response())
}

pub async fn report_pdf(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    Path(id): Path<UserId>,
) -> Result<Response, WebError> {
    let p = linked_patient(&state, &user, &id).await?;
    let html = report_html(&state, &user, &p, true).await?;
    let pdf = state.pdf.print(html).await.map_err(|e| match e {
        crate::pdf::PdfError::Busy => WebError::Busy(e.to_string(), crate::pdf::RETRY_AFTER_SECS),
        other => WebError::Unavailable(other.to_string()),
    })?;
    let name: String = p
        .display_name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"kneepath-report-{name}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response())
}
