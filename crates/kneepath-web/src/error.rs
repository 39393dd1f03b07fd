//! The web layer's one error type. An application error ([`AppError`])
//! takes its status from [`AppError::status`], the mapping the JSON API
//! uses too; the errors only HTTP has (login, body, rate limits, links that
//! expired, a busy PDF queue) are mapped here and nowhere else. Internal
//! details are logged, never shown to the person.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kneepath_app::{AppError, PlanChangedError};
use kneepath_store::StoreError;

use crate::views::{ErrorPage, render};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// What the application refused or failed at.
    #[error(transparent)]
    App(#[from] AppError),
    /// Not logged in: send to the login page, then back to `next`.
    #[error("login required")]
    LoginRequired { next: String },
    /// A guest (answering before having an account) asked for a page of
    /// account holders: send to sign up, then back to `next`.
    #[error("an account is needed")]
    AccountNeeded { next: String },
    /// The assessment asked for with neither a session nor a guest: send
    /// to its start.
    #[error("the assessment was not started")]
    StartFirst,
    /// A request that could not be read (400), as the API's `bad_json`.
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("payload too large")]
    PayloadTooLarge,
    /// The body did not arrive in full in time ([`crate::server`]).
    #[error("request body timed out")]
    BodyTimeout,
    #[error("too many requests: {0}")]
    TooManyRequests(String),
    /// A link that worked once (used or expired); the message says what to do.
    #[error("gone: {0}")]
    Gone(&'static str),
    /// A feature that needs something this machine lacks (message for people).
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Busy for now: 503 with `Retry-After` (seconds).
    #[error("busy: {0}")]
    Busy(String, u64),
}

impl WebError {
    /// Nothing here, or not the asker's (404).
    pub fn not_found() -> WebError {
        WebError::App(AppError::NotFound)
    }

    /// Not allowed (403), with why.
    pub fn forbidden(why: &str) -> WebError {
        WebError::App(AppError::Forbidden(why.to_string()))
    }

    /// Anything unexpected (500); the detail is logged.
    pub fn internal(detail: impl Into<String>) -> WebError {
        WebError::App(AppError::Internal(detail.into()))
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        WebError::App(e.into())
    }
}

impl PlanChangedError for WebError {
    fn plan_changed(&self) -> bool {
        matches!(self, WebError::App(AppError::PlanChanged))
    }
}

/// The title and message of an application error's page.
fn app_page(e: &AppError) -> (&'static str, String) {
    match e {
        AppError::NotFound => (
            "Page not found",
            "There is nothing here, or it is not yours to see.".to_string(),
        ),
        AppError::Forbidden(why) => ("Not allowed", why.clone()),
        AppError::Invalid(fields) => (
            "That did not work",
            fields
                .iter()
                .map(|f| f.message.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        ),
        AppError::AlreadyLogged { day } => (
            "That did not work",
            format!("You have already checked in for {day}."),
        ),
        AppError::NoHomePlan => (
            "That did not work",
            "There is no home plan to check in against: please follow the advice to see a doctor, or take a new assessment.".to_string(),
        ),
        AppError::PlanChanged => ("Changed at the same moment", PLAN_CHANGED.to_string()),
        AppError::Internal(detail) => {
            tracing::error!(%detail, "internal error");
            (
                "Something went wrong",
                "An unexpected error happened on our side. Nothing you entered was lost; please try again.".to_string(),
            )
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if let WebError::Busy(m, secs) = &self {
            let page = render(&ErrorPage::new("Busy just now", m));
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(axum::http::header::RETRY_AFTER, secs.to_string())],
                page,
            )
                .into_response();
        }
        let (status, title, message) = match &self {
            WebError::App(e) => {
                let (title, message) = app_page(e);
                let status =
                    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (status, title, message)
            }
            WebError::LoginRequired { next } => {
                let to = format!("/login?next={}", urlencode(next));
                return Redirect::to(&to).into_response();
            }
            WebError::AccountNeeded { next } if next.is_empty() => {
                return Redirect::to("/signup").into_response();
            }
            WebError::AccountNeeded { next } => {
                let to = format!("/signup?next={}", urlencode(next));
                return Redirect::to(&to).into_response();
            }
            WebError::StartFirst => return Redirect::to("/assess").into_response(),
            WebError::BadRequest(m) => (StatusCode::BAD_REQUEST, "That did not work", m.clone()),
            WebError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported form",
                "Forms must be sent as application/x-www-form-urlencoded.".to_string(),
            ),
            WebError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too much data",
                "That form sent more data than kneepath accepts, so nothing was saved. Go back: your answers are still in the form. Shorten the longest text and send it again.".to_string(),
            ),
            WebError::BodyTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                "Too slow",
                "The form took too long to arrive, so nothing was saved. Please send it again."
                    .to_string(),
            ),
            WebError::TooManyRequests(m) => (
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                m.clone(),
            ),
            WebError::Gone(m) => (
                StatusCode::GONE,
                "This link no longer works",
                (*m).to_string(),
            ),
            WebError::Busy(m, _) => (StatusCode::SERVICE_UNAVAILABLE, "Busy just now", m.clone()),
            WebError::Unavailable(m) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Not available here",
                m.clone(),
            ),
        };
        (status, render(&ErrorPage::new(title, &message))).into_response()
    }
}

/// What a person is told when their plan kept changing while they saved.
pub const PLAN_CHANGED: &str = "Your plan was being changed at the same moment (on another device, or by your clinician), so nothing was saved. Go back, check what is shown now, and send it again.";

/// Shown above the check-in form when it could not be saved because the
/// plan changed at the same moment, again and again.
pub const CHECKIN_NOT_SAVED: &str = "Your plan was being changed at the same moment (a check-in from another device, or your clinician). Your answers are still below: check them against the plan as it is now, and send them again.";

/// Shown on a clinician's form that could not be saved because the
/// patient's plan changed at the same moment, again and again.
pub const CLINIC_NOT_SAVED: &str = "The patient's plan was being changed at the same moment (a check-in, or another clinician), so nothing was saved. What you entered is still below: check it against the plan as it is now, and save it again.";

/// Percent-encode a string for a query parameter.
pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Refusals made before any handler ran are plain text (or empty): the
/// body limit's 413, the router's 405, a path or query that does not parse
/// (400). On a page each becomes the site's error page, saying what
/// happened, with the footer's emergency number; in the API, the 413 takes
/// its JSON error shape. Every 413 says `Connection: close`: the unread
/// body ends the connection, and a client that knows it sends its next
/// request on a new one.
pub async fn styled_plain_errors(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let r = next.run(req).await;
    let status = r.status();
    if !status.is_client_error() {
        return r;
    }
    // Already a page or the API's error: only plain text is replaced.
    let shaped = r
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html") || v.contains("json"));
    if shaped {
        return r;
    }
    let page = |title: &str, message: &str| {
        (status, render(&ErrorPage::new(title, message))).into_response()
    };
    let mut r = match (status, api) {
        (StatusCode::PAYLOAD_TOO_LARGE, true) => crate::api::error::too_large(),
        (StatusCode::PAYLOAD_TOO_LARGE, false) => WebError::PayloadTooLarge.into_response(),
        (_, true) => return r,
        (StatusCode::METHOD_NOT_ALLOWED, false) => page(
            "Not a way to use this page",
            "This address does not take that kind of request. Use the links and buttons on the pages.",
        ),
        (StatusCode::BAD_REQUEST, false) => page(
            "That address could not be read",
            "Part of the address (a number, a date or a repeated field) is not one kneepath can read. Go back and use the links on the pages.",
        ),
        _ => return r,
    };
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        r.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    r
}
