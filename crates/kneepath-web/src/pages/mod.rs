//! The routes, one module per area. Every handler that shows or changes a
//! person's data takes `Patient`/`CurrentUser` (or `Respondent`, the
//! wizard and its results, which also lets in a guest answering before an
//! account) and checks that the data is theirs; every read or change of
//! patient data writes an audit row.

mod account;
mod admin;
mod assess;
mod checkin;
mod clinic;
mod info;
mod outcomes;
mod plan;
mod progress;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::auth::MaybeUser;
use crate::error::WebError;
use crate::state::AppState;
use crate::views::{HomePage, Layout, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(healthz))
        .route("/about", get(info::about))
        .route("/privacy", get(info::privacy))
        .route("/static/style.css", get(stylesheet))
        .route("/signup", get(account::signup_form).post(account::signup))
        .route("/login", get(account::login_form).post(account::login))
        .route("/logout", post(account::logout))
        .route("/account", get(account::show))
        .route("/account/export.json", get(account::export))
        .route("/account/delete", post(account::delete))
        .route("/account/time-zone", post(account::time_zone))
        .route("/account/password", post(account::password))
        .route(
            "/password/forgot",
            get(account::forgot_form).post(account::forgot_submit),
        )
        .route(
            "/reset/{token}",
            get(account::reset_form).post(account::reset_submit),
        )
        .route("/account/details", post(account::details))
        .route("/static/tz.js", get(time_zone_script))
        .route("/account/reminder", post(account::reminder))
        .route("/account/calendar", post(account::calendar_create))
        .route("/account/calendar/revoke", post(account::calendar_revoke))
        .route("/calendar/{token}", get(account::calendar_feed))
        .route("/assess", get(assess::start))
        .route("/assess/guest", post(assess::start_guest))
        .route(
            "/guest/delete",
            get(assess::delete_guest_form).post(assess::delete_guest),
        )
        .route(
            "/assess/check",
            get(assess::check_form).post(assess::check_submit),
        )
        .route(
            "/assess/{step}",
            get(assess::step_form).post(assess::step_submit),
        )
        .route("/assessments", get(assess::list))
        .route("/assessments/{id}", get(assess::result))
        .route("/plan", get(plan::show))
        .route("/plan/full", get(plan::full))
        .route("/static/today.js", get(today_script))
        .route("/checkin", get(checkin::form).post(checkin::submit))
        .route("/checkin/saved", get(checkin::saved))
        .route("/progress", get(progress::show))
        .route("/outcomes", get(outcomes::list))
        .route("/outcomes/{id}", get(outcomes::form).post(outcomes::submit))
        .route(
            "/invite/{token}",
            get(account::invite_show).post(account::invite_accept),
        )
        .route("/account/links/{id}/revoke", post(account::link_revoke))
        .route("/account/tokens", post(account::token_create))
        .route("/account/tokens/{id}/revoke", post(account::token_revoke))
        .route("/clinic", get(clinic::dashboard))
        .route("/clinic/invites", post(clinic::invite))
        .route("/clinic/patients/{id}", get(clinic::patient))
        .route("/clinic/patients/{id}/measurements", post(clinic::measure))
        .route("/clinic/patients/{id}/notes", post(clinic::note))
        .route("/clinic/patients/{id}/plan", post(clinic::edit_plan))
        .route("/clinic/patients/{id}/phase", post(clinic::move_phase))
        .route("/clinic/patients/{id}/unlink", post(clinic::unlink))
        .route("/clinic/patients/{id}/report", get(clinic::report))
        .route("/clinic/patients/{id}/report.pdf", get(clinic::report_pdf))
        .route("/admin/users", get(admin::users).post(admin::create))
        .route("/admin/users/{id}/disable", post(admin::disable))
        .route("/admin/users/{id}/enable", post(admin::enable))
        .route("/admin/users/{id}/reset", post(admin::reset))
        .route("/admin/audit", get(admin::audit))
        .fallback(not_found)
}

async fn not_found() -> WebError {
    WebError::not_found()
}

#[derive(serde::Deserialize)]
struct HomeQuery {
    deleted: Option<String>,
}

async fn home(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    crate::auth::MaybeGuest(guest): crate::auth::MaybeGuest,
    axum::extract::Query(q): axum::extract::Query<HomeQuery>,
) -> Result<Response, WebError> {
    if let Some(u) = &user {
        match u.session.user.role {
            kneepath_store::Role::Clinician => return Ok(Redirect::to("/clinic").into_response()),
            kneepath_store::Role::Admin => return Ok(Redirect::to("/admin/users").into_response()),
            kneepath_store::Role::Patient => {}
        }
    }
    let (l, has_assessment) = match &user {
        Some(u) => (
            Layout::for_user("Hamstring-related knee pain", "", u),
            state.store.latest_assessment_head(u.id()).await?.is_some(),
        ),
        None => (Layout::anon("Hamstring-related knee pain"), false),
    };
    // A guest's header stays anonymous; the page leads back to the result.
    let (l, guest_result) = match &guest {
        Some(g) => (
            Layout::for_user("Hamstring-related knee pain", "", g),
            state
                .store
                .latest_assessment_head(g.id())
                .await?
                .map(|a| a.id),
        ),
        None => (l, None),
    };
    let deleted = match q.deleted.as_deref() {
        _ if user.is_some() || guest.is_some() => None,
        Some("answers") => Some("Your answers and their result have been deleted."),
        Some(_) => Some("Your account and all its data have been deleted."),
        None => None,
    };
    Ok(render(&HomePage {
        l,
        has_assessment,
        guest_result,
        deleted,
    }))
}

async fn healthz(State(state): State<AppState>) -> Response {
    // A cheap query proves the database answers.
    match state
        .store
        .user_by_id(&kneepath_store::UserId::new("healthz"))
        .await
    {
        Ok(_) => "ok".into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "database unavailable",
            )
                .into_response()
        }
    }
}

/// The stylesheet, `kneepath-report`'s (the report inlines it too).
pub(crate) const STYLE: &str = kneepath_report::STYLE;

/// The only script: it fills in the browser's time zone on the sign-up
/// form. Every page works without it.
const TIME_ZONE_SCRIPT: &str = include_str!("../../static/tz.js");

/// This site's origin for the links kneepath hands out to be opened
/// elsewhere (an invitation, a calendar feed, an administrator's reset
/// link): the deployment's `--public-url` when it has one, else as the
/// request named it (`https://` with secure cookies).
pub(crate) fn origin(state: &AppState, headers: &axum::http::HeaderMap) -> String {
    if let Some(url) = &state.settings.public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    let scheme = if state.settings.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

async fn stylesheet() -> Response {
    asset(STYLE, "text/css; charset=utf-8")
}

/// The Today view's counter and timer (progressive enhancement: the
/// checklist works without it).
const TODAY_SCRIPT: &str = include_str!("../../static/today.js");

async fn today_script() -> Response {
    asset(TODAY_SCRIPT, "text/javascript; charset=utf-8")
}

async fn time_zone_script() -> Response {
    asset(TIME_ZONE_SCRIPT, "text/javascript; charset=utf-8")
}
