//! Who is asking, and is the form really theirs.
//!
//! - [`load_session`] (middleware) reads the session cookie once per request
//!   and stores the session, if any, in the request's extensions.
//! - [`CurrentUser`] is the extractor every private page uses: without a
//!   session it sends the person to the login page. Ownership of the data a
//!   page shows is checked by the handler against `CurrentUser::id`.
//!   [`Patient`], [`Clinician`] and [`Admin`] add the role: a wrong role is
//!   refused and logged as a `denied` audit row, as is
//!   [`CurrentUser::refuse`]'s access to another person's data (a 404).
//! - [`CurrentUser::audited_read`] sends a page's audit row to the store
//!   first, renders the page while the row commits, and gives the page back
//!   only once the row is stored.
//! - [`CurrentUser::today`] is the person's own calendar day (their time
//!   zone, else the server's).
//! - [`VerifiedForm`] is the only way handlers read a POSTed form. Before
//!   parsing it refuses cross-site requests (`Sec-Fetch-Site`, `Origin`),
//!   anything but a urlencoded form (415), and a missing or wrong CSRF token:
//!   the session's token when logged in, else the `kp_csrf` cookie's
//!   (double submit, for the forms before login: login, sign-up and the
//!   page of a password reset link).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use kneepath_store::{AuditAction, AuditEntity, Role, Session, UserId};

use crate::error::WebError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "kp_session";
pub const CSRF_COOKIE: &str = "kp_csrf";

/// The request's session (None when anonymous) and client address.
#[derive(Debug, Clone)]
pub struct RequestAuth {
    pub session: Option<Session>,
    pub ip: Option<String>,
}

pub async fn load_session(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let jar = CookieJar::from_headers(req.headers());
    let session = match jar.get(SESSION_COOKIE) {
        Some(c) => state.store.session(c.value()).await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "session lookup failed");
            None
        }),
        None => None,
    };
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string());
    // The asker's frame, for pages drawn without the handler (errors).
    let frame = session
        .as_ref()
        .map(|s| std::sync::Arc::new(crate::views::Layout::of_session("", "", s)));
    req.extensions_mut().insert(RequestAuth { session, ip });
    crate::views::ASKER.scope(frame, next.run(req)).await
}

fn auth_of(parts: &Parts) -> RequestAuth {
    parts
        .extensions
        .get::<RequestAuth>()
        .cloned()
        .unwrap_or(RequestAuth {
            session: None,
            ip: None,
        })
}

/// A logged-in person.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub session: Session,
    pub ip: Option<String>,
}

impl CurrentUser {
    pub fn id(&self) -> &UserId {
        &self.session.user.id
    }
    pub fn csrf(&self) -> &str {
        &self.session.csrf_token
    }
    /// The client's address, for audit rows; none for a guest (a guest's
    /// records hold no personal data).
    pub fn ip(&self) -> Option<&str> {
        if self.is_guest() {
            return None;
        }
        self.ip.as_deref()
    }
    /// Someone answering before having an account (see
    /// `kneepath_app::guest`).
    pub fn is_guest(&self) -> bool {
        self.session.user.is_guest()
    }
    /// Today where this person lives (their time zone, else the server's).
    pub fn today(&self, state: &crate::state::AppState) -> kneepath_core::Day {
        state.clock.today_in(self.session.user.time_zone.as_deref())
    }

    /// This person as the one who acts (a clinician, for the application).
    pub fn actor(&self) -> kneepath_app::Actor<'_> {
        kneepath_app::Actor {
            id: self.id(),
            name: &self.session.user.display_name,
            ip: self.ip(),
        }
    }

    /// Write the audit row for this person reading or changing their own data.
    pub async fn audit_own(
        &self,
        state: &crate::state::AppState,
        action: AuditAction,
        entity: AuditEntity,
        entity_id: Option<&str>,
    ) -> Result<(), WebError> {
        state
            .store
            .audit(&kneepath_store::NewAudit {
                actor_id: Some(self.id()),
                subject_id: Some(self.id()),
                action,
                entity,
                entity_id,
                ip: self.ip(),
                detail: None,
            })
            .await?;
        Ok(())
    }

    /// Refuse this person access to another's data, and log the attempt:
    /// an audit row `denied` with `owner` as subject (when the data has
    /// one) and the id asked for. The answer is 404, as for data that does
    /// not exist, so the refusal reveals nothing.
    pub async fn refuse(
        &self,
        state: &crate::state::AppState,
        owner: Option<&UserId>,
        entity: AuditEntity,
        asked: &str,
    ) -> WebError {
        match refuse_audit(state, self.id(), self.ip(), owner, entity, asked).await {
            Ok(()) => WebError::not_found(),
            Err(e) => e,
        }
    }

    /// Render a page of this person's own data while the audit row for
    /// reading it is written: the row goes to the store first, the page is
    /// rendered while it commits, and the page is given back only once the
    /// row is stored (a failed write gives the error, never the page).
    pub async fn audited_read<T>(
        &self,
        state: &crate::state::AppState,
        entity: AuditEntity,
        entity_id: Option<&str>,
        render: impl FnOnce() -> T,
    ) -> Result<T, WebError> {
        let audit = self.audit_own(state, AuditAction::Read, entity, entity_id);
        let (stored, page) = tokio::join!(biased; audit, async { render() });
        stored?;
        Ok(page)
    }
}

/// A logged-in person with an account (a guest is sent to sign up).
impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, WebError> {
        let auth = auth_of(parts);
        match auth.session {
            // Back to the page after signing up; a form sent is not sent
            // again, so after one the sign-up goes its own way.
            Some(session) if session.user.is_guest() => Err(WebError::AccountNeeded {
                next: match parts.method {
                    axum::http::Method::GET => parts.uri.path().to_string(),
                    _ => String::new(),
                },
            }),
            Some(session) => Ok(CurrentUser {
                session,
                ip: auth.ip,
            }),
            None => Err(WebError::LoginRequired {
                next: parts.uri.path().to_string(),
            }),
        }
    }
}

/// Someone taking the assessment: a patient, or a guest (answering before
/// having an account). Anyone else anonymous is sent to the assessment's
/// start, where they can start as a guest or log in.
#[derive(Debug, Clone)]
pub struct Respondent(pub CurrentUser);

impl<S: Send + Sync> FromRequestParts<S> for Respondent
where
    crate::state::AppState: FromRef<S>,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, WebError> {
        let auth = auth_of(parts);
        match auth.session {
            Some(session) if session.user.is_guest() => Ok(Respondent(CurrentUser {
                session,
                ip: auth.ip,
            })),
            Some(_) => Ok(Respondent(Patient::from_request_parts(parts, s).await?.0)),
            None => Err(WebError::StartFirst),
        }
    }
}

/// The guest of this request, if it is one.
#[derive(Debug, Clone)]
pub struct MaybeGuest(pub Option<CurrentUser>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeGuest {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, WebError> {
        let auth = auth_of(parts);
        Ok(MaybeGuest(auth.session.filter(|s| s.user.is_guest()).map(
            |session| CurrentUser {
                session,
                ip: auth.ip,
            },
        )))
    }
}

/// A logged-in patient (the patient area is theirs alone).
#[derive(Debug, Clone)]
pub struct Patient(pub CurrentUser);

impl<S: Send + Sync> FromRequestParts<S> for Patient
where
    crate::state::AppState: FromRef<S>,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, WebError> {
        let u = CurrentUser::from_request_parts(parts, s).await?;
        if u.session.user.role != Role::Patient {
            return Err(role_refused(parts, s, &u, "This part of kneepath is for patients.").await);
        }
        Ok(Patient(u))
    }
}

/// A logged-in clinician. Which patients they may see is checked per
/// request against the care links ([`crate::pages::clinic`]).
#[derive(Debug, Clone)]
pub struct Clinician(pub CurrentUser);

impl<S: Send + Sync> FromRequestParts<S> for Clinician
where
    crate::state::AppState: FromRef<S>,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, WebError> {
        let u = CurrentUser::from_request_parts(parts, s).await?;
        if u.session.user.role != Role::Clinician {
            return Err(
                role_refused(parts, s, &u, "This part of kneepath is for clinicians.").await,
            );
        }
        Ok(Clinician(u))
    }
}

/// A logged-in administrator. Admins manage accounts and read the audit
/// log; they do not see clinical data.
#[derive(Debug, Clone)]
pub struct Admin(pub CurrentUser);

impl<S: Send + Sync> FromRequestParts<S> for Admin
where
    crate::state::AppState: FromRef<S>,
{
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, s: &S) -> Result<Self, WebError> {
        let u = CurrentUser::from_request_parts(parts, s).await?;
        if u.session.user.role != Role::Admin {
            return Err(
                role_refused(parts, s, &u, "This part of kneepath is for administrators.").await,
            );
        }
        Ok(Admin(u))
    }
}

/// Refuse a route of another role, and log the attempt (a `denied` audit
/// row naming the path).
async fn role_refused<S>(parts: &Parts, s: &S, u: &CurrentUser, message: &'static str) -> WebError
where
    crate::state::AppState: FromRef<S>,
{
    let state = crate::state::AppState::from_ref(s);
    match refuse_audit(
        &state,
        u.id(),
        u.ip(),
        None,
        AuditEntity::Route,
        parts.uri.path(),
    )
    .await
    {
        Ok(()) => WebError::forbidden(message),
        Err(e) => e,
    }
}

/// The client's address (from the connection; no proxy header is trusted).
#[derive(Debug, Clone)]
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, WebError> {
        Ok(ClientIp(auth_of(parts).ip))
    }
}

/// Anyone: the person with an account who is logged in, if any (a guest
/// counts as not logged in here; see [`MaybeGuest`]).
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, WebError> {
        let auth = auth_of(parts);
        Ok(MaybeUser(auth.session.filter(|s| !s.user.is_guest()).map(
            |session| CurrentUser {
                session,
                ip: auth.ip,
            },
        )))
    }
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Refuse requests another site made the browser send.
fn check_origin(headers: &HeaderMap) -> Result<(), WebError> {
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
    {
        return Err(WebError::forbidden(
            "This form was sent from another website.",
        ));
    }
    if let (Some(origin), Some(host)) = (headers.get(header::ORIGIN), headers.get(header::HOST)) {
        let origin = origin.to_str().unwrap_or_default();
        let origin_host = origin.split_once("://").map_or(origin, |(_, h)| h);
        if origin != "null" && origin_host != host.to_str().unwrap_or_default() {
            return Err(WebError::forbidden(
                "This form was sent from another website.",
            ));
        }
    }
    Ok(())
}

/// A form that passed the origin and CSRF checks, as name/value pairs in
/// the order sent (repeated names kept, for checkboxes).
#[derive(Debug, Clone)]
pub struct VerifiedForm {
    pub pairs: Vec<(String, String)>,
}

impl VerifiedForm {
    /// The first value of a field, trimmed ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// The first value of a field exactly as sent (passwords are not trimmed).
    pub fn raw(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of a field.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for VerifiedForm {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, WebError> {
        let (mut parts, body) = req.into_parts();
        check_origin(&parts.headers)?;
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(WebError::UnsupportedMediaType);
        }
        // With a session (a guest's too), only its own token: an anonymous
        // double-submit cookie could be set by someone else.
        let expected = match auth_of(&parts).session {
            Some(s) => Some(s.csrf_token),
            None => CookieJar::from_request_parts(&mut parts, state)
                .await
                .ok()
                .and_then(|jar| jar.get(CSRF_COOKIE).map(|c| c.value().to_string())),
        };
        let req = Request::from_parts(parts, body);
        let axum::Form(pairs): axum::Form<Vec<(String, String)>> =
            axum::Form::from_request(req, state).await.map_err(|e| {
                if crate::server::timed_out(&e) {
                    WebError::BodyTimeout
                } else if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    WebError::PayloadTooLarge
                } else {
                    WebError::BadRequest(format!("The form could not be read: {e}"))
                }
            })?;
        let sent = pairs
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str());
        match (expected, sent) {
            (Some(e), Some(s)) if same(&e, s) => Ok(VerifiedForm { pairs }),
            _ => Err(WebError::forbidden(
                "This form has expired or did not come from this site. Go back, reload the page and try again.",
            )),
        }
    }
}

/// The session cookie: HttpOnly, SameSite=Lax, whole site.
pub fn session_cookie(token: String, secure: bool) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
        .path("/")
        .build()
}

/// The anonymous CSRF cookie for login and sign-up, and its value: reuses
/// the one the browser has, or makes a new one.
pub fn anon_csrf(jar: CookieJar, secure: bool) -> (CookieJar, String) {
    if let Some(c) = jar.get(CSRF_COOKIE) {
        let v = c.value().to_string();
        return (jar, v);
    }
    let token = kneepath_store::random_token();
    let cookie = Cookie::build((CSRF_COOKIE, token.clone()))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .path("/")
        .build();
    (jar.add(cookie), token)
}

/// The form token of a page open to people without an account (log in,
/// sign up, a forgotten password, an invitation): a guest's own session
/// token when a guest asks (their forms are checked against it), else the
/// anonymous cookie's ([`anon_csrf`]).
pub fn page_csrf(jar: CookieJar, secure: bool, guest: Option<&CurrentUser>) -> (CookieJar, String) {
    match guest {
        Some(g) => (jar, g.csrf().to_string()),
        None => anon_csrf(jar, secure),
    }
}

/// A removal cookie for the session.
pub fn clear_session_cookie() -> Cookie<'static> {
    let mut c = Cookie::build((SESSION_COOKIE, "")).path("/").build();
    c.make_removal();
    c
}

/// The audit row of a refused access (see [`CurrentUser::refuse`]); the id
/// asked for is kept to 64 characters.
pub async fn refuse_audit(
    state: &crate::state::AppState,
    actor: &UserId,
    ip: Option<&str>,
    owner: Option<&UserId>,
    entity: AuditEntity,
    asked: &str,
) -> Result<(), WebError> {
    let asked: String = asked.chars().take(64).collect();
    state
        .store
        .audit(&kneepath_store::NewAudit {
            actor_id: Some(actor),
            subject_id: owner,
            action: AuditAction::Denied,
            entity,
            entity_id: Some(&asked),
            ip,
            detail: Some("refused: not theirs to see"),
        })
        .await?;
    Ok(())
}
