//! The administrator's area: accounts (create, disable, enable, reset the
//! password) and the audit log viewer. Admins see who did what to whose
//! record, never the clinical data itself, and never hold a password: a
//! new account and a reset each give a single-use link, valid for a day,
//! with which the account's owner sets their own. A reset ends the old
//! password, the account's sessions, API tokens and calendar links at once.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kneepath_store::{AuditFilter, Role, StoreError, User, UserId};
use serde::Deserialize;

use kneepath_store::{AuditAction, AuditEntity};

use crate::auth::{Admin, CurrentUser, VerifiedForm};
use crate::error::WebError;
use crate::state::AppState;
use crate::views::{FormState, Layout, private};

#[derive(Debug, Template)]
#[template(path = "admin_users.html")]
pub struct UsersPage {
    pub l: Layout,
    pub users: Vec<User>,
    pub role: String,
    pub q: String,
    pub f: FormState,
    /// A link to set a password, shown once: (email, link). For a new
    /// account and for a reset; the admin never holds a password.
    pub link: Option<(String, String)>,
}

#[derive(Debug, Deserialize, Default)]
pub struct UsersQuery {
    role: Option<String>,
    q: Option<String>,
}

/// The link that sets an account's password with a reset token.
fn set_password_link(state: &AppState, headers: &axum::http::HeaderMap, token: &str) -> String {
    format!("{}/reset/{token}", crate::pages::origin(state, headers))
}

async fn users_page(
    state: &AppState,
    user: &CurrentUser,
    q: &UsersQuery,
    f: FormState,
    link: Option<(String, String)>,
) -> Result<UsersPage, WebError> {
    let role = q.role.clone().unwrap_or_default();
    let search = q.q.clone().unwrap_or_default();
    let users = state.store.users(Role::parse(&role), &search, 500).await?;
    Ok(UsersPage {
        l: Layout::for_user("Users", "users", user),
        users,
        role,
        q: search,
        f,
        link,
    })
}

pub async fn users(
    State(state): State<AppState>,
    Admin(user): Admin,
    Query(q): Query<UsersQuery>,
) -> Result<Response, WebError> {
    Ok(private(
        &users_page(&state, &user, &q, FormState::default(), None).await?,
    ))
}

pub async fn create(
    State(state): State<AppState>,
    Admin(user): Admin,
    headers: axum::http::HeaderMap,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    let mut f = FormState::from_pairs(&form.pairs);
    let email = form.get("email").to_lowercase();
    let name = form.get("display_name");
    let role = Role::parse(form.get("role"));
    if name.is_empty() || name.chars().count() > 60 {
        f.errors.push((
            "display_name".into(),
            "Enter a name (up to 60 characters).".into(),
        ));
    }
    if !email.contains('@') || email.len() > 254 || email.chars().any(char::is_whitespace) {
        f.errors.push((
            "email".into(),
            "Enter an email address like name@example.org.".into(),
        ));
    }
    let Some(role) = role.filter(|_| f.errors.is_empty()) else {
        if role.is_none() {
            f.errors.push(("role".into(), "Choose a role.".into()));
        }
        let page = users_page(&state, &user, &UsersQuery::default(), f, None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, private(&page)).into_response());
    };
    // A password nobody knows; the person sets their own with the link.
    let unknown = kneepath_store::random_token();
    match state.store.create_user(&email, name, &unknown, role).await {
        Ok(created) => {
            audit_admin(
                &state,
                &user,
                &created.id,
                AuditAction::Create,
                AuditEntity::User,
                role.as_str(),
            )
            .await?;
            let token = state
                .store
                .start_password_reset(&created.id, user.id(), RESET_HOURS, user.ip())
                .await?;
            let link = set_password_link(&state, &headers, &token);
            let page = users_page(
                &state,
                &user,
                &UsersQuery::default(),
                FormState::default(),
                Some((created.email, link)),
            )
            .await?;
            Ok(private(&page))
        }
        Err(StoreError::Conflict(k)) => {
            f.errors
                .push(("email".into(), kneepath_app::conflict_message(&k)));
            let page = users_page(&state, &user, &UsersQuery::default(), f, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, private(&page)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn audit_admin(
    state: &AppState,
    admin: &CurrentUser,
    subject: &UserId,
    action: AuditAction,
    entity: AuditEntity,
    detail: &str,
) -> Result<(), WebError> {
    state
        .store
        .audit(&kneepath_store::NewAudit {
            actor_id: Some(admin.id()),
            subject_id: Some(subject),
            action,
            entity,
            entity_id: Some(subject),
            ip: admin.ip(),
            detail: Some(detail),
        })
        .await?;
    Ok(())
}

/// The account an administrator acts on: 404 for none, and for a guest
/// (answers without an account are no one's to manage).
async fn account(state: &AppState, id: &UserId) -> Result<kneepath_store::User, WebError> {
    match state.store.user_by_id(id).await? {
        Some(u) if !u.is_guest() => Ok(u),
        _ => Err(WebError::not_found()),
    }
}

pub async fn disable(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<UserId>,
    _form: VerifiedForm,
) -> Result<Response, WebError> {
    account(&state, &id).await?;
    if id == user.id() {
        return Err(WebError::BadRequest(
            "You cannot disable your own account.".into(),
        ));
    }
    state
        .store
        .set_disabled(&id, true, user.id(), user.ip())
        .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

pub async fn enable(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<UserId>,
    _form: VerifiedForm,
) -> Result<Response, WebError> {
    account(&state, &id).await?;
    state
        .store
        .set_disabled(&id, false, user.id(), user.ip())
        .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

/// How long a reset link works.
pub const RESET_HOURS: i64 = 24;

/// Reset an account's password: the admin gets a single-use link that
/// expires, for the account's owner, never a password. The old password,
/// sessions, API tokens and calendar links end at once (all audited).
pub async fn reset(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(id): Path<UserId>,
    headers: axum::http::HeaderMap,
    _form: VerifiedForm,
) -> Result<Response, WebError> {
    let target = account(&state, &id).await?;
    if target.id == user.id() {
        return Err(WebError::BadRequest(
            "Change your own password on your account page.".into(),
        ));
    }
    let token = state
        .store
        .start_password_reset(&id, user.id(), RESET_HOURS, user.ip())
        .await?;
    let link = set_password_link(&state, &headers, &token);
    let page = users_page(
        &state,
        &user,
        &UsersQuery::default(),
        FormState::default(),
        Some((target.email, link)),
    )
    .await?;
    Ok(private(&page))
}

// --- the audit log ---------------------------------------------------------------

#[derive(Debug)]
pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub subject: String,
    pub action: String,
    pub entity: String,
    pub ip: String,
    pub detail: String,
}

#[derive(Debug, Template)]
#[template(path = "admin_audit.html")]
pub struct AuditPage {
    pub l: Layout,
    pub rows: Vec<AuditRow>,
    pub q: AuditQuery,
    pub error: Option<String>,
    pub limit: i64,
}

#[derive(Debug, Deserialize, Default, Clone)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub action: Option<String>,
    pub entity: Option<String>,
    pub from: Option<String>,
    pub until: Option<String>,
}

impl AuditQuery {
    pub fn v(s: &Option<String>) -> &str {
        s.as_deref().unwrap_or("")
    }
}

const AUDIT_LIMIT: i64 = 500;

fn is_day(s: &str) -> bool {
    s.parse::<kneepath_core::Day>().is_ok()
}

pub async fn audit(
    State(state): State<AppState>,
    Admin(user): Admin,
    Query(q): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let store = &state.store;
    let mut error = None;
    let mut filter = AuditFilter::default();
    let lookup = |e: &Option<String>| {
        e.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    for (value, slot, what) in [
        (lookup(&q.actor), &mut filter.actor_id, "who"),
        (lookup(&q.subject), &mut filter.subject_id, "whose record"),
    ] {
        if let Some(email) = value {
            match store.user_by_email(&email).await? {
                Some(u) => *slot = Some(u.id.to_string()),
                None => {
                    error = Some(format!(
                        "No account has the email {email} (filter “{what}”)."
                    ));
                    *slot = Some("-".into());
                }
            }
        }
    }
    filter.action = lookup(&q.action);
    filter.entity = lookup(&q.entity);
    for (value, slot, end) in [
        (lookup(&q.from), &mut filter.from, false),
        (lookup(&q.until), &mut filter.until, true),
    ] {
        if let Some(d) = value {
            if is_day(&d) {
                *slot = Some(if end {
                    d.parse::<kneepath_core::Day>()
                        .map(|x| x.plus(1).to_string())
                        .unwrap_or(d)
                } else {
                    d
                });
            } else {
                error = Some(format!("“{d}” is not a date: use YYYY-MM-DD."));
            }
        }
    }
    let entries = store.audit_search(&filter, AUDIT_LIMIT).await?;
    // Names for the ids on this page (one lookup per distinct id).
    let mut names: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for e in &entries {
        for id in [&e.actor_id, &e.subject_id].into_iter().flatten() {
            if !names.contains_key(id) {
                let n = store
                    .user_by_id(&UserId::new(id.as_str()))
                    .await?
                    .map_or_else(|| "deleted account".to_string(), |u| u.email);
                names.insert(id.clone(), n);
            }
        }
    }
    let name = |id: &Option<String>| {
        id.as_ref().map_or_else(
            || "—".to_string(),
            |i| names.get(i).cloned().unwrap_or_default(),
        )
    };
    let rows = entries
        .iter()
        .map(|e| AuditRow {
            at: e.at.replace('T', " ").trim_end_matches('Z').to_string(),
            actor: name(&e.actor_id),
            subject: name(&e.subject_id),
            action: e.action.clone(),
            entity: e.entity.clone(),
            ip: e.ip.clone().unwrap_or_default(),
            detail: e.detail.clone().unwrap_or_default(),
        })
        .collect();
    Ok(private(&AuditPage {
        l: Layout::for_user("Audit log", "audit", &user),
        rows,
        q,
        error,
        limit: AUDIT_LIMIT,
    }))
}
