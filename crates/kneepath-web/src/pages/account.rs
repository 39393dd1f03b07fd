//! Sign up, log in and out, the account page (name and email, time zone,
//! password, calendar link, API tokens), data export and deletion, the
//! set-password page of a reset link, and the calendar feed
//! (`/calendar/<secret>.ics`).
//!
//! The site's only script, `static/tz.js`, puts the browser's time zone
//! into the sign-up form; without it the person sets it on the account
//! page, and every page works without it.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use kneepath_store::{NewAudit, Role};
use serde::Deserialize;

use kneepath_store::{AuditAction, AuditEntity};

use crate::auth::{
    ClientIp, CurrentUser, MaybeGuest, MaybeUser, VerifiedForm, clear_session_cookie, page_csrf,
    session_cookie,
};
use crate::error::WebError;
use crate::state::AppState;
use crate::views::{AccountPage, FormState, Layout, LoginPage, SignupPage, private, render};

/// The shortest and longest password accepted, in characters.
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 10..=200;

/// What is wrong with a new password (`what`: "password" or "new
/// password"), in words that match the rule.
fn password_problem(password: &str, what: &str) -> Option<String> {
    let n = password.chars().count();
    if n < *PASSWORD_CHARS.start() {
        Some(format!(
            "Choose a {what} of at least {} characters.",
            PASSWORD_CHARS.start()
        ))
    } else if n > *PASSWORD_CHARS.end() {
        Some(format!(
            "That {what} is {n} characters long: choose one of at most {}.",
            PASSWORD_CHARS.end()
        ))
    } else {
        None
    }
}

pub async fn signup_form(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    MaybeGuest(guest): MaybeGuest,
    jar: CookieJar,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = q.next.as_deref().map(safe_next).unwrap_or_default();
    if user.is_some() {
        return Redirect::to(if next.is_empty() { "/plan" } else { &next }).into_response();
    }
    let (jar, l) = signup_layout(&state, jar, guest.as_ref());
    let mut f = FormState::default();
    if !next.is_empty() {
        f.values.insert("next".into(), vec![next]);
    }
    let guest = guest.is_some();
    (jar, render(&SignupPage { l, f, guest })).into_response()
}

/// The sign-up page's layout, with its form token (a guest's own).
fn signup_layout(
    state: &AppState,
    jar: CookieJar,
    guest: Option<&CurrentUser>,
) -> (CookieJar, Layout) {
    let (jar, csrf) = page_csrf(jar, state.settings.secure_cookies, guest);
    let mut l = Layout::anon("Create your account");
    l.csrf = csrf;
    l.nav = "signup";
    (jar, l)
}

fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    // A colon is not in an address written without quotes; refusing it
    // also keeps the `guest:` of guests' rows out of accounts' emails.
    !local.is_empty()
        && !e.contains(':')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && e.len() <= 254
        && !e.chars().any(char::is_whitespace)
}

/// The sign-up and details forms' checks of a first name and an email.
fn check_name_and_email(f: &mut FormState, name: &str, email: &str) {
    if name.is_empty() || name.chars().count() > 60 {
        f.errors.push((
            "display_name".into(),
            "Enter your first name (up to 60 characters).".into(),
        ));
    } else if !crate::state::valid_contact(name) {
        // A line break in a name would start a line of its own in the
        // emails that greet the person by it.
        f.errors.push((
            "display_name".into(),
            "Enter your first name on one line, without special characters.".into(),
        ));
    }
    if !valid_email(email) {
        f.errors.push((
            "email".into(),
            "Enter an email address like name@example.org.".into(),
        ));
    }
}

pub async fn signup(
    State(state): State<AppState>,
    MaybeGuest(guest): MaybeGuest,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    let mut f = FormState::from_pairs(&form.pairs);
    f.values.remove("password");
    let name = form.get("display_name");
    let email = form.get("email").to_lowercase();
    let password = form.raw("password");
    check_name_and_email(&mut f, name, &email);
    if let Some(problem) = password_problem(password, "password") {
        f.errors.push(("password".into(), problem));
    }
    if f.errors.is_empty()
        && let Some(ip) = &ip
    {
        // Counted before the account is made, in one transaction, so a
        // burst from one address stops at the limit too.
        let (_, counts) = state
            .store
            .reserve_attempt(&[&format!("signup:{ip}")], 60)
            .await?;
        if counts
            .first()
            .is_some_and(|n| *n > state.settings.max_signups_per_ip)
        {
            return Err(WebError::TooManyRequests(
                "Many accounts were created from this network in the last hour. Please try again in an hour.".into(),
            ));
        }
    }
    if f.errors.is_empty()
        && let Some(g) = &guest
    {
        // A guest's answers are kept: the guest becomes the account.
        match state
            .app
            .claim_guest(g.id(), &email, name, password, ip.as_deref())
            .await
        {
            Ok(user) => return signed_up(&state, jar, &form, &user).await,
            Err(kneepath_app::AppError::NotFound) => {
                // The guest's time is over: their session ends here, and
                // the form, sent again, makes a new account.
                state.store.delete_session(&g.session.token_hash).await?;
                let (jar, l) = signup_layout(&state, jar.add(clear_session_cookie()), None);
                f.errors.push((
                    String::new(),
                    "The answers you gave without an account are no longer kept (they are deleted after 24 hours). Create your account below, then take the assessment again.".into(),
                ));
                return Ok((
                    axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                    jar,
                    render(&SignupPage { l, f, guest: false }),
                )
                    .into_response());
            }
            Err(kneepath_app::AppError::Invalid(errors)) => f
                .errors
                .extend(errors.into_iter().map(|e| (e.field, e.message))),
            Err(e) => return Err(e.into()),
        }
    }
    if f.errors.is_empty() && guest.is_none() {
        match state
            .store
            .create_user(&email, name, password, Role::Patient)
            .await
        {
            Ok(user) => return signed_up(&state, jar, &form, &user).await,
            Err(kneepath_store::StoreError::Conflict(k)) => f
                .errors
                .push(("email".into(), kneepath_app::conflict_message(&k))),
            Err(e) => return Err(e.into()),
        }
    }
    let (jar, l) = signup_layout(&state, jar, guest.as_ref());
    let guest = guest.is_some();
    Ok((
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        jar,
        render(&SignupPage { l, f, guest }),
    )
        .into_response())
}

/// A new account's first session, then where the form asked to go (the
/// assessment by default).
async fn signed_up(
    state: &AppState,
    jar: CookieJar,
    form: &VerifiedForm,
    user: &kneepath_store::User,
) -> Result<Response, WebError> {
    // Filled in by the browser (static/tz.js); without JavaScript, or with
    // a name the database does not know, the account starts with none and
    // can set it later.
    let zone = form.get("time_zone");
    if crate::zones::is_known(zone) {
        state.store.set_time_zone(&user.id, Some(zone)).await?;
    }
    let token = state
        .store
        .create_session(&user.id, state.settings.session_hours)
        .await?;
    let jar = jar.add(session_cookie(token, state.settings.secure_cookies));
    let next = safe_next(form.get("next"));
    let to = if form.get("next").is_empty() {
        "/assess"
    } else {
        &next
    };
    Ok((jar, Redirect::to(to)).into_response())
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    /// `done` after a password was set with a reset link.
    reset: Option<String>,
}

/// Only same-site paths are followed after login (no open redirect): a
/// path that starts with one `/`, then holds only letters, digits and
/// `/ - _ . ~ ? = & %`, at most 512 characters; anything else is `/plan`.
/// Tabs and line breaks are refused (URL parsers skip them, so `/\t/evil`
/// is `//evil`, another host), and so is `/\`.
fn safe_next(next: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "/-_.~?=&%".contains(c);
    let ok = next.len() <= 512
        && next.starts_with('/')
        && !next[1..].starts_with('/')
        && next.chars().all(safe);
    if ok {
        next.to_string()
    } else {
        "/plan".to_string()
    }
}

fn login_page(csrf: String, email: &str, next: &str, error: Option<String>) -> LoginPage {
    let mut l = Layout::anon("Log in");
    l.csrf = csrf;
    l.nav = "login";
    LoginPage {
        l,
        email: email.to_string(),
        next: next.to_string(),
        error,
        password_set: false,
        guest: false,
    }
}

pub async fn login_form(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    MaybeGuest(guest): MaybeGuest,
    jar: CookieJar,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref().unwrap_or("/plan"));
    if user.is_some() {
        return Redirect::to(&next).into_response();
    }
    let (jar, csrf) = page_csrf(jar, state.settings.secure_cookies, guest.as_ref());
    let mut page = login_page(csrf, "", &next, None);
    page.password_set = q.reset.as_deref() == Some("done");
    page.guest = guest.is_some();
    (jar, render(&page)).into_response()
}

pub async fn login(
    State(state): State<AppState>,
    MaybeUser(current): MaybeUser,
    MaybeGuest(guest): MaybeGuest,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    let email = form.get("email").to_lowercase();
    let password = form.raw("password");
    let next = safe_next(form.get("next"));
    let email_key = format!("email:{email}");
    let ip_key = ip.as_ref().map(|i| format!("ip:{i}"));
    let s = &state.settings;
    let reserved = reserve_attempt(&state, &email_key, ip_key.as_deref()).await?;
    match state.store.authenticate(&email, password).await? {
        Some(user) => {
            state.store.release_attempts(&reserved).await?;
            state.store.clear_login_failures(&email_key).await?;
            // Rotate: a fresh session, and the old one (if any) ended.
            if let Some(old) = &current {
                state.store.delete_session(&old.session.token_hash).await?;
            }
            // A guest logging in to an account: the result just got is
            // added to the account (the login page says so), and shown.
            let joined = match &guest {
                Some(g) => {
                    state
                        .app
                        .join_guest(&g.session.user, &user, ip.as_deref())
                        .await?
                }
                None => None,
            };
            let token = state
                .store
                .create_session(&user.id, s.session_hours)
                .await?;
            state
                .store
                .audit(&NewAudit {
                    actor_id: Some(&user.id),
                    subject_id: Some(&user.id),
                    action: AuditAction::Login,
                    entity: AuditEntity::Session,
                    entity_id: None,
                    ip: ip.as_deref(),
                    detail: None,
                })
                .await?;
            let target = match (user.role, joined) {
                (Role::Patient, Some(id)) => format!("/assessments/{id}"),
                (Role::Patient, None) => next,
                (Role::Clinician, _) => "/clinic".to_string(),
                (Role::Admin, _) => "/admin/users".to_string(),
            };
            Ok((
                jar.add(session_cookie(token, s.secure_cookies)),
                Redirect::to(&target),
            )
                .into_response())
        }
        None => {
            // The attempt stays counted as a failure.
            let (jar, csrf) = page_csrf(jar, s.secure_cookies, guest.as_ref());
            let mut page = login_page(
                csrf,
                &email,
                &next,
                Some("The email or password is not right.".into()),
            );
            page.guest = guest.is_some();
            Ok((axum::http::StatusCode::UNAUTHORIZED, jar, render(&page)).into_response())
        }
    }
}

/// Count a password attempt for an account (and the address it comes
/// from) before the password is checked; refuse it when the count is over
/// the limit. Returns the counted rows, to release after a right password.
/// Counting first, in one transaction, keeps a burst of attempts made at
/// once to the limit (checking first let all of them through).
async fn reserve_attempt(
    state: &AppState,
    email_key: &str,
    ip_key: Option<&str>,
) -> Result<Vec<String>, WebError> {
    let s = &state.settings;
    let mut keys = vec![email_key];
    keys.extend(ip_key);
    let (ids, counts) = state.store.reserve_attempt(&keys, 15).await?;
    let over = counts
        .first()
        .is_some_and(|n| *n > s.max_failures_per_email)
        || counts.get(1).is_some_and(|n| *n > s.max_failures_per_ip);
    if over {
        return Err(WebError::TooManyRequests(
            "Too many attempts with a wrong password. Please wait 15 minutes and try again.".into(),
        ));
    }
    Ok(ids)
}

pub async fn logout(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    MaybeGuest(guest): MaybeGuest,
    jar: CookieJar,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    // A guest leaving leaves nothing behind: the answers are deleted.
    if let Some(g) = guest {
        return crate::pages::assess::delete_guest(State(state), MaybeGuest(Some(g)), jar, form)
            .await;
    }
    let Some(user) = user else {
        return Err(WebError::LoginRequired {
            next: "/".to_string(),
        });
    };
    state.store.delete_session(&user.session.token_hash).await?;
    user.audit_own(&state, AuditAction::Logout, AuditEntity::Session, None)
        .await?;
    Ok((jar.add(clear_session_cookie()), Redirect::to("/")).into_response())
}

async fn account_page(
    state: &AppState,
    user: &CurrentUser,
    error: Option<String>,
) -> Result<AccountPage, WebError> {
    let u = &user.session.user;
    let counts = vec![
        (
            "Assessments".to_string(),
            state.store.assessments(&u.id).await?.len(),
        ),
        (
            "Check-ins".to_string(),
            state.store.checkins(&u.id).await?.len(),
        ),
    ];
    let links = if u.role == Role::Patient {
        state
            .store
            .links_of_patient(&u.id)
            .await?
            .into_iter()
            .map(|l| {
                (
                    l.id,
                    l.other.display_name,
                    l.other.email,
                    l.created_at.get(..10).unwrap_or_default().to_string(),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let tokens = if u.role == Role::Patient {
        state.store.api_tokens(&u.id).await?
    } else {
        Vec::new()
    };
    user.audit_own(state, AuditAction::Read, AuditEntity::Account, None)
        .await?;
    let zone = u.time_zone.as_deref();
    let reminder_time = if u.role == Role::Patient {
        state.store.reminder_time(&u.id).await?
    } else {
        None
    };
    let mut reminder = vec![(
        "reminder_time".to_string(),
        reminder_time.clone().unwrap_or_else(|| "18:00".into()),
    )];
    if reminder_time.is_some() {
        reminder.push(("reminder".to_string(), "on".to_string()));
    }
    Ok(AccountPage {
        mails: state.mails().is_some(),
        reminder: FormState::from_pairs(&reminder),
        reminder_saved: false,
        event_time: reminder_time.unwrap_or_else(|| "18:00".into()),
        time_zone: zone.map(crate::zones::label),
        default_zone: crate::zones::label(&state.clock.default_zone()),
        today: user.today(state).to_string(),
        zones: crate::zones::grouped(zone),
        tz_error: None,
        tz_saved: false,
        pw: FormState::default(),
        pw_saved: false,
        details: FormState::from_pairs(&[
            ("display_name".to_string(), u.display_name.clone()),
            ("email".to_string(), u.email.clone()),
        ]),
        details_saved: false,
        links,
        tokens,
        new_token: None,
        token_error: None,
        l: Layout::for_user("Your account", "account", user),
        created: u.created_at.get(..10).unwrap_or_default().to_string(),
        counts,
        error,
        calendar_since: state
            .store
            .calendar_token_created(&u.id)
            .await?
            .map(|c| c.get(..10).unwrap_or_default().to_string()),
        calendar_url: None,
    })
}

#[derive(Deserialize)]
pub struct AccountQuery {
    saved: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<AccountQuery>,
) -> Result<Response, WebError> {
    let mut page = account_page(&state, &user, None).await?;
    page.tz_saved = q.saved.as_deref() == Some("time-zone");
    page.pw_saved = q.saved.as_deref() == Some("password");
    page.details_saved = q.saved.as_deref() == Some("details");
    page.reminder_saved = q.saved.as_deref() == Some("reminder");
    Ok(private(&page))
}

/// The key wrong passwords for an account are counted under (the login
/// form's too).
fn guesses_key(u: &kneepath_store::User) -> String {
    format!("email:{}", u.email)
}

/// Refuse for a while after too many wrong passwords for the account (at
/// the login form or here), as login does.
async fn refuse_after_wrong_guesses(
    state: &AppState,
    u: &kneepath_store::User,
) -> Result<(), WebError> {
    if state.store.login_failures(&guesses_key(u), 15).await?
        >= state.settings.max_failures_per_email
    {
        return Err(WebError::TooManyRequests(
            "Too many wrong passwords. Please wait 15 minutes and try again.".into(),
        ));
    }
    Ok(())
}

/// Whether `password` is the account's current one; a wrong one counts
/// towards the login limit.
async fn is_current_password(
    state: &AppState,
    u: &kneepath_store::User,
    password: &str,
) -> Result<bool, WebError> {
    if state
        .store
        .authenticate(&u.email, password)
        .await?
        .is_some()
    {
        return Ok(true);
    }
    state.store.record_login_failure(&[&guesses_key(u)]).await?;
    Ok(false)
}

/// Change one's name or email. A new email needs the current password (an
/// open session alone must not be enough to take over the account's
/// login); wrong passwords count towards the login limit.
pub async fn details(
    State(state): State<AppState>,
    user: CurrentUser,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    let u = &user.session.user;
    let name = form.get("display_name");
    let email = form.get("email").to_lowercase();
    let current = form.raw("current_password");
    let mut f = FormState::from_pairs(&form.pairs);
    f.values.remove("current_password");
    check_name_and_email(&mut f, name, &email);
    if f.errors.is_empty() && email != u.email {
        refuse_after_wrong_guesses(&state, u).await?;
        if current.is_empty() {
            f.errors.push((
                "current_password".into(),
                "Enter your current password to change the email address.".into(),
            ));
        } else if !is_current_password(&state, u, current).await? {
            f.errors.push((
                "current_password".into(),
                "That is not your current password.".into(),
            ));
        }
    }
    if f.errors.is_empty() {
        match state
            .store
            .update_details(user.id(), name, &email, user.ip())
            .await
        {
            Ok(()) => {
                return Ok(Redirect::to("/account?saved=details#details").into_response());
            }
            Err(kneepath_store::StoreError::Conflict(k)) => f
                .errors
                .push(("email".into(), kneepath_app::conflict_message(&k))),
            Err(e) => return Err(e.into()),
        }
    }
    let mut page = account_page(&state, &user, None).await?;
    page.details = f;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, private(&page)).into_response())
}

/// Change one's own password: the current one is checked (and wrong
/// guesses count towards the login limit for the account), the new one is
/// set, every session of the account ends, and this browser gets a fresh
/// one.
pub async fn password(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    let current = form.raw("current_password");
    let new = form.raw("new_password");
    let again = form.raw("new_password_again");
    let u = &user.session.user;
    refuse_after_wrong_guesses(&state, u).await?;
    let mut f = FormState::default();
    if let Some(problem) = password_problem(new, "new password") {
        f.errors.push(("new_password".into(), problem));
    } else if new != again {
        f.errors.push((
            "new_password_again".into(),
            "Type the same new password twice.".into(),
        ));
    } else if new == current {
        f.errors.push((
            "new_password".into(),
            "Choose a password other than your current one.".into(),
        ));
    }
    if current.is_empty() {
        f.errors.insert(
            0,
            (
                "current_password".into(),
                "Enter your current password.".into(),
            ),
        );
    } else if f.errors.is_empty() && !is_current_password(&state, u, current).await? {
        f.errors.push((
            "current_password".into(),
            "That is not your current password.".into(),
        ));
    }
    if !f.errors.is_empty() {
        let mut page = account_page(&state, &user, None).await?;
        page.pw = f;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, private(&page)).into_response());
    }
    state.store.clear_login_failures(&guesses_key(u)).await?;
    state
        .store
        .set_password(user.id(), new, user.id(), user.ip())
        .await?;
    let s = &state.settings;
    let token = state
        .store
        .create_session(user.id(), s.session_hours)
        .await?;
    Ok((
        jar.add(session_cookie(token, s.secure_cookies)),
        Redirect::to("/account?saved=password#password"),
    )
        .into_response())
}

/// Set or clear the person's time zone (any role: a clinician's caseload
/// also counts days in it).
pub async fn time_zone(
    State(state): State<AppState>,
    user: CurrentUser,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    let zone = form.get("time_zone");
    if !zone.is_empty() && !crate::zones::is_known(zone) {
        let mut page = account_page(&state, &user, None).await?;
        page.tz_error = Some("Choose a time zone from the list.".into());
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, private(&page)).into_response());
    }
    let zone = (!zone.is_empty()).then_some(zone);
    state.store.set_time_zone(user.id(), zone).await?;
    user.audit_own(&state, AuditAction::Update, AuditEntity::TimeZone, None)
        .await?;
    Ok(Redirect::to("/account?saved=time-zone#tz").into_response())
}

pub async fn export(
    State(state): State<AppState>,
    crate::auth::Patient(user): crate::auth::Patient,
) -> Result<Response, WebError> {
    let data = state.app.export_record(user.id(), user.ip()).await?;
    let body =
        serde_json::to_string_pretty(&data).map_err(|e| WebError::internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"kneepath-my-data.json\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    crate::auth::Patient(user): crate::auth::Patient,
    jar: CookieJar,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    let password = form.raw("password");
    // Counted with the login limit, before the check.
    let email_key = format!("email:{}", user.session.user.email.to_lowercase());
    let reserved = reserve_attempt(&state, &email_key, None).await?;
    let ok = state
        .store
        .authenticate(&user.session.user.email, password)
        .await?
        .is_some_and(|u| u.id == user.id());
    if ok {
        state.store.release_attempts(&reserved).await?;
    } else {
        let page = account_page(
            &state,
            &user,
            Some("That password is not right; nothing was deleted.".into()),
        )
        .await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, private(&page)).into_response());
    }
    state.app.delete_account(user.id()).await?;
    Ok((jar.add(clear_session_cookie()), Redirect::to("/?deleted=1")).into_response())
}

/// Turn the daily check-in reminder by email on (at a time of day where
/// the person lives) or off.
pub async fn reminder(
    State(state): State<AppState>,
    crate::auth::Patient(user): crate::auth::Patient,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    if state.mails().is_none() {
        return Err(WebError::not_found());
    }
    let on = form.get("reminder") == "on";
    let time = on.then(|| form.get("reminder_time"));
    match state.app.set_reminder(user.id(), time, user.ip()).await {
        Ok(()) => Ok(Redirect::to("/account?saved=reminder#reminder").into_response()),
        Err(kneepath_app::AppError::Invalid(fields)) => {
            let mut page = account_page(&state, &user, None).await?;
            page.reminder = FormState::from_pairs(&form.pairs);
            page.reminder.errors = fields
                .into_iter()
                .map(|e| (e.field.clone(), e.message))
                .collect();
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, private(&page)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn calendar_create(
    State(state): State<AppState>,
    crate::auth::Patient(user): crate::auth::Patient,
    headers: axum::http::HeaderMap,
    _form: VerifiedForm,
) -> Result<Response, WebError> {
    let token = state.store.create_calendar_token(user.id()).await?;
    user.audit_own(&state, AuditAction::Create, AuditEntity::CalendarLink, None)
        .await?;
    let mut page = account_page(&state, &user, None).await?;
    page.calendar_url = Some(format!(
        "{}/calendar/{token}.ics",
        crate::pages::origin(&state, &headers)
    ));
    Ok(private(&page))
}

pub async fn calendar_revoke(
    State(state): State<AppState>,
    crate::auth::Patient(user): crate::auth::Patient,
    _form: VerifiedForm,
) -> Result<Response, WebError> {
    state.store.revoke_calendar_token(user.id()).await?;
    user.audit_own(&state, AuditAction::Delete, AuditEntity::CalendarLink, None)
        .await?;
    Ok(Redirect::to("/account").into_response())
}

/// The secret calendar feed: the exercise schedule of the current plan.
pub async fn calendar_feed(
    State(state): State<AppState>,
    crate::auth::ClientIp(ip): crate::auth::ClientIp,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Result<Response, WebError> {
    let token = token.trim_end_matches(".ics");
    let user = state
        .store
        .calendar_user(token)
        .await?
        .ok_or(WebError::not_found())?;
    state
        .store
        .audit(&NewAudit {
            actor_id: None,
            subject_id: Some(&user.id),
            action: AuditAction::Read,
            entity: AuditEntity::CalendarFeed,
            entity_id: None,
            ip: ip.as_deref(),
            detail: None,
        })
        .await?;
    let kb = &state.kb;
    let ctx = state.app.plan_context(&user.id).await?;
    let exercises: Vec<&kneepath_core::kb::Exercise> = match &ctx {
        Some(c) => match c.phase {
            Some(phase) => kneepath_app::plan::plan_items(kb, c, phase)
                .items
                .iter()
                .map(|i| i.exercise)
                .collect(),
            None => Vec::new(),
        },
        None => Vec::new(),
    };
    let stamp: String = kneepath_store::now_rfc3339()
        .chars()
        .take(19)
        .filter(|c| *c != '-' && *c != ':')
        .collect::<String>()
        + "Z";
    // At the reminder's time where the person lives, else 18:00.
    let (hour, minute) = state
        .store
        .reminder_time(&user.id)
        .await?
        .and_then(|t| kneepath_app::account::hour_minute(&t))
        .unwrap_or((18, 0));
    let when = crate::ics::When {
        zone: user
            .time_zone
            .clone()
            .unwrap_or_else(|| state.clock.default_zone()),
        hour,
        minute,
    };
    let body = crate::ics::calendar(
        "kneepath exercises",
        &exercises,
        state.clock.today_in(user.time_zone.as_deref()),
        &when,
        &stamp,
        &kneepath_store::sha256_hex(&user.id)[..12],
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

/// What an invitation page shows.
#[derive(askama::Template)]
#[template(path = "invite.html")]
pub struct InvitePage {
    pub l: Layout,
    pub token: String,
    pub clinician: String,
    /// Logged in as a patient (else: log in or sign up first).
    pub can_accept: bool,
}

async fn invite_state(
    state: &AppState,
    token: &str,
) -> Result<Result<kneepath_store::User, Response>, WebError> {
    match state.store.invite_clinician(token).await {
        Ok(c) => Ok(Ok(c)),
        Err(kneepath_store::StoreError::Conflict(k)) => Ok(Err((
            axum::http::StatusCode::GONE,
            render(&crate::views::ErrorPage::new(
                "Invitation no longer valid",
                &kneepath_app::conflict_message(&k),
            )),
        )
            .into_response())),
        Err(kneepath_store::StoreError::NotFound) => Ok(Err((
            axum::http::StatusCode::NOT_FOUND,
            render(&crate::views::ErrorPage::new(
                "Invitation not found",
                "This invitation link is not valid. Check that the whole link was copied, or ask your clinician for a new one.",
            )),
        )
            .into_response())),
        Err(e) => Err(e.into()),
    }
}

pub async fn invite_show(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    MaybeGuest(guest): MaybeGuest,
    jar: CookieJar,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Result<Response, WebError> {
    let clinician = match invite_state(&state, &token).await? {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let (l, can_accept, jar) = match &user {
        Some(u) if u.session.user.role == Role::Patient => {
            (Layout::for_user("Invitation", "account", u), true, jar)
        }
        Some(_) => {
            return Err(WebError::forbidden(
                "Invitations are for patients: log out and open the link with the patient's account.",
            ));
        }
        None => {
            let (jar, csrf) = page_csrf(jar, state.settings.secure_cookies, guest.as_ref());
            let mut l = Layout::anon("Invitation");
            l.csrf = csrf;
            (l, false, jar)
        }
    };
    let page = InvitePage {
        l,
        token,
        clinician: clinician.display_name,
        can_accept,
    };
    Ok((jar, private(&page)).into_response())
}

pub async fn invite_accept(
    State(state): State<AppState>,
    crate::auth::Patient(user): crate::auth::Patient,
    axum::extract::Path(token): axum::extract::Path<String>,
    _form: VerifiedForm,
) -> Result<Response, WebError> {
    if let Err(r) = invite_state(&state, &token).await? {
        return Ok(r);
    }
    state
        .store
        .accept_invite(&token, user.id(), user.ip())
        .await?;
    Ok(Redirect::to("/account#care").into_response())
}

pub async fn link_revoke(
    State(state): State<AppState>,
    crate::auth::Patient(user): crate::auth::Patient,
    axum::extract::Path(id): axum::extract::Path<String>,
    _form: VerifiedForm,
) -> Result<Response, WebError> {
    if !state.store.revoke_link(&id, user.id(), user.ip()).await? {
        return Err(WebError::not_found());
    }
    Ok(Redirect::to("/account#care").into_response())
}

pub async fn token_create(
    State(state): State<AppState>,
    crate::auth::Patient(user): crate::auth::Patient,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    let name = form.get("name");
    let scope = form.get("scope");
    if name.is_empty() || name.chars().count() > 60 || !matches!(scope, "read" | "write") {
        let mut page = account_page(&state, &user, None).await?;
        page.token_error =
            Some("Give the token a name (up to 60 characters) and choose what it may do.".into());
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, private(&page)).into_response());
    }
    if scope == "write" {
        // A token that may add to the record outlives the session: an open
        // session alone must not be enough to make one.
        let u = &user.session.user;
        refuse_after_wrong_guesses(&state, u).await?;
        let password = form.raw("password");
        if password.is_empty() || !is_current_password(&state, u, password).await? {
            let mut page = account_page(&state, &user, None).await?;
            page.token_error = Some(if password.is_empty() {
                "Enter your password to make a token that may add to your record.".into()
            } else {
                "That is not your current password.".into()
            });
            return Ok(
                (axum::http::StatusCode::UNPROCESSABLE_ENTITY, private(&page)).into_response(),
            );
        }
    }
    let secret = state
        .store
        .create_api_token(user.id(), name, scope, user.ip())
        .await?;
    let mut page = account_page(&state, &user, None).await?;
    page.new_token = Some((name.to_string(), secret));
    Ok(private(&page))
}

/// The page behind an administrator's reset link: the account's owner sets
/// a new password. Only for someone logged out (an admin's session, or
/// anyone else's, is refused), and only while the link is unused and
/// unexpired.
pub async fn reset_form(
    State(state): State<AppState>,
    MaybeUser(current): MaybeUser,
    MaybeGuest(guest): MaybeGuest,
    jar: CookieJar,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Result<Response, WebError> {
    if current.is_some() {
        return Err(WebError::forbidden(RESET_LOGGED_IN));
    }
    let user = state
        .store
        .password_reset_user(&token)
        .await?
        .ok_or(WebError::Gone(RESET_GONE))?;
    let (jar, csrf) = page_csrf(jar, state.settings.secure_cookies, guest.as_ref());
    let page = reset_page(csrf, &user.email, &token, FormState::default());
    Ok((jar, private(&page)).into_response())
}

fn forgot_page(state: &AppState, csrf: String, f: FormState) -> crate::views::ForgotPage {
    let mut l = Layout::anon("Forgot your password?");
    l.csrf = csrf;
    l.nav = "login";
    crate::views::ForgotPage {
        l,
        mails: state.mails().is_some(),
        contact: state.settings.contact.clone(),
        sent_to: None,
        hours: kneepath_app::account::RESET_LINK_HOURS,
        f,
    }
}

/// "Forgot your password?": ask for a reset link by email; without email
/// configured, the page says to ask the clinic (an administrator can issue
/// a link). Only for someone logged out.
pub async fn forgot_form(
    State(state): State<AppState>,
    MaybeUser(current): MaybeUser,
    MaybeGuest(guest): MaybeGuest,
    jar: CookieJar,
) -> Response {
    if current.is_some() {
        return Redirect::to("/account#password").into_response();
    }
    let (jar, csrf) = page_csrf(jar, state.settings.secure_cookies, guest.as_ref());
    (
        jar,
        render(&forgot_page(&state, csrf, FormState::default())),
    )
        .into_response()
}

pub async fn forgot_submit(
    State(state): State<AppState>,
    MaybeUser(current): MaybeUser,
    ClientIp(ip): ClientIp,
    MaybeGuest(guest): MaybeGuest,
    jar: CookieJar,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    if current.is_some() {
        return Ok(Redirect::to("/account#password").into_response());
    }
    let email = form.get("email").trim().to_lowercase();
    let (jar, csrf) = page_csrf(jar, state.settings.secure_cookies, guest.as_ref());
    let mut page = forgot_page(&state, csrf, FormState::from_pairs(&form.pairs));
    let refused = |page: &crate::views::ForgotPage, jar| {
        Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            jar,
            render(page),
        )
            .into_response())
    };
    // Nothing to send with: the page says whom to ask.
    let Some(base) = state.mails().map(str::to_string) else {
        return refused(&page, jar);
    };
    if !valid_email(&email) {
        page.f.errors.push((
            "email".into(),
            "Enter the email address of your account, like name@example.org.".into(),
        ));
        return refused(&page, jar);
    }
    match state
        .app
        .ask_password_reset(&email, &base, ip.as_deref())
        .await?
    {
        kneepath_app::ResetAsked::Taken => {
            page.sent_to = Some(email);
            Ok((jar, render(&page)).into_response())
        }
        kneepath_app::ResetAsked::TooManyFromAddress => Err(WebError::TooManyRequests(
            "Many password reset links were asked for from this network in the last hour. Please try again in an hour, or ask your clinic.".into(),
        )),
    }
}

const RESET_LOGGED_IN: &str = "A link to set a password works only when nobody is logged in in this browser. Log out, then open the link again.";
const RESET_GONE: &str = "This link to set a password was used already or has expired. Ask for a new one with \"Forgot your password?\" on the login page, or ask your clinic.";

fn reset_page(csrf: String, email: &str, token: &str, f: FormState) -> crate::views::ResetPage {
    let mut l = Layout::anon("Set a new password");
    l.csrf = csrf;
    crate::views::ResetPage {
        l,
        email: email.to_string(),
        token: token.to_string(),
        f,
    }
}

/// Set the password with a reset link, once; then log in with it.
pub async fn reset_submit(
    State(state): State<AppState>,
    MaybeUser(current): MaybeUser,
    ClientIp(ip): ClientIp,
    MaybeGuest(guest): MaybeGuest,
    jar: CookieJar,
    axum::extract::Path(token): axum::extract::Path<String>,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    if current.is_some() {
        return Err(WebError::forbidden(RESET_LOGGED_IN));
    }
    let user = state
        .store
        .password_reset_user(&token)
        .await?
        .ok_or(WebError::Gone(RESET_GONE))?;
    let new = form.raw("new_password");
    let again = form.raw("new_password_again");
    let mut f = FormState::default();
    if let Some(problem) = password_problem(new, "password") {
        f.errors.push(("new_password".into(), problem));
    } else if new != again {
        f.errors.push((
            "new_password_again".into(),
            "Type the same password twice.".into(),
        ));
    }
    if !f.errors.is_empty() {
        let (jar, csrf) = page_csrf(jar, state.settings.secure_cookies, guest.as_ref());
        let page = reset_page(csrf, &user.email, &token, f);
        return Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            jar,
            private(&page),
        )
            .into_response());
    }
    match state
        .store
        .use_password_reset(&token, new, ip.as_deref())
        .await?
    {
        Some(_) => Ok(Redirect::to("/login?reset=done").into_response()),
        // Used by someone else between the check above and now.
        None => Err(WebError::Gone(RESET_GONE)),
    }
}

pub async fn token_revoke(
    State(state): State<AppState>,
    crate::auth::Patient(user): crate::auth::Patient,
    axum::extract::Path(id): axum::extract::Path<String>,
    _form: VerifiedForm,
) -> Result<Response, WebError> {
    if !state
        .store
        .revoke_api_token(user.id(), &id, user.ip())
        .await?
    {
        return Err(WebError::not_found());
    }
    Ok(Redirect::to("/account#api").into_response())
}

#[cfg(test)]
mod tests {
    use super::safe_next;
    use proptest::prelude::*;

    /// Where a browser goes with `Location: next` from this site.
    fn host_after(next: &str) -> Option<String> {
        let base = url::Url::parse("http://kneepath.local/login").ok()?;
        base.join(next).ok()?.host_str().map(String::from)
    }

    proptest! {
        /// Whatever arrives as `next`, what comes out is a valid header
        /// value and stays on this site.
        #[test]
        fn next_always_stays_on_this_site(raw in any::<String>()) {
            let next = safe_next(&raw);
            prop_assert!(axum::http::HeaderValue::from_str(&next).is_ok(), "{next:?}");
            let host = host_after(&next);
            prop_assert_eq!(host.as_deref(), Some("kneepath.local"), "{:?}", next);
        }

        /// The same for strings made of the characters that trick URL
        /// parsers: slashes, backslashes, tabs, line breaks, `@`, `:`.
        #[test]
        fn tricky_next_stays_on_this_site(raw in "[/\\\t\n\r@:.a-z%0-9]{0,12}") {
            let next = safe_next(&raw);
            prop_assert!(axum::http::HeaderValue::from_str(&next).is_ok(), "{next:?}");
            let host = host_after(&next);
            prop_assert_eq!(host.as_deref(), Some("kneepath.local"), "{:?}", next);
        }
    }

    #[test]
    fn ordinary_paths_are_kept() {
        for p in [
            "/plan",
            "/progress",
            "/outcomes/koos",
            "/checkin?day=2026-11-02",
        ] {
            assert_eq!(safe_next(p), p);
        }
        for p in [
            "/\t/evil.example",
            "//evil.example",
            "/\\evil",
            "http://evil",
            "",
        ] {
            assert_eq!(safe_next(p), "/plan", "{p:?}");
        }
    }
}
