//! kneepath's web app: server-rendered HTML that works without JavaScript,
//! and the JSON API. HTTP only: what each user action does is the
//! application's (`kneepath-app`), the report and the charts are drawn by
//! `kneepath-report`.
//!
//! # Layout
//! - [`state`]: `AppState` (the [`kneepath_app::App`], the settings, the PDF
//!   queue) — passed in, never global.
//! - [`auth`]: the session middleware, the `CurrentUser` extractor and
//!   `VerifiedForm`, the only way a handler reads a POSTed form (it checks
//!   the CSRF token and the request's origin first).
//! - [`error`]: `WebError`, the one error type of the pages: an
//!   application error takes its status from `AppError::status`; internal
//!   details are logged, never shown.
//! - [`pages`]: one module per area (account, assessment, plan, check-in,
//!   progress, outcomes, clinic, admin).
//! - [`api`]: the JSON API under `/api/v1`, with its OpenAPI document.
//! - [`figures`]: exercise figures drawn on the server; [`charts`] and
//!   [`pdf`] are `kneepath-report`'s.
//! - [`server`]: the HTTP/1.1 server (timeouts, connection cap); `gzip`:
//!   whole-page compression; [`zones`], [`ics`]: time zones and the
//!   calendar feed.
//!
//! [`router`] wraps every route in the same layers: the session lookup, the
//! body-size limit and body deadline, the security headers (CSP, HSTS when
//! served over HTTPS, ...), gzip and request tracing.

pub mod api;
pub mod auth;
pub mod error;
pub mod figures;
mod gzip;
pub mod ics;
pub mod pages;
pub mod server;
pub mod state;
mod views;
pub mod zones;

pub use kneepath_report::{charts, pdf};

use std::future::Future;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use kneepath_app::Clock;
pub use state::{AppState, Settings};

/// Largest request body accepted (forms are small).
pub const BODY_LIMIT: usize = 64 * 1024;

/// The whole application as a router.
pub fn router(state: AppState) -> Router {
    let hsts = state
        .settings
        .secure_cookies
        .then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    let csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
               frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";
    pages::routes()
        .nest("/api/v1", api::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::load_session,
        ))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(axum::middleware::from_fn(error::styled_plain_errors))
        // Outside the size limit, so its errors stay where extractors look.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            server::body_deadline,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(
                "camera=(), microphone=(), geolocation=(), interest-cohort=()",
            ),
        ))
        // Outside every layer that draws a page (the 413 and the body
        // deadline's), so that their footers name the number too.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            views::deployment,
        ))
        .layer(axum::middleware::from_fn(gzip::gzip))
        .layer(TraceLayer::new_for_http())
        // Served over HTTPS (secure cookies): browsers are to keep to it.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            hsts,
        ))
        .with_state(state)
}

/// Serve on a bound listener until `shutdown` completes (so tests can bind
/// port 0 and stop the server), with the timeouts and connection cap of
/// [`server`].
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    server::serve(listener, state, shutdown).await
}
