//! Accounts, sessions, personal access tokens, calendar links, each
//! person's time zone, and counting password attempts.
//!
//! - Passwords are argon2id hashes at OWASP's 7 MiB setting, made off the
//!   async runtime and never while holding the writer lock. At most two
//!   hashes run at once, and new hashes (sign-up, a new password) take at
//!   most one of the two, so logins never queue behind a flood of sign-ups.
//!   A hash made with older settings is redone at the next login; an
//!   unknown email still costs one hash, so timing tells nothing.
//! - Sessions live server-side: the cookie holds a random token, the table
//!   its SHA-256. Tokens and calendar links are stored hashed the same way.
//! - Attempts are counted before the password is checked
//!   ([`Store::reserve_attempt`]: inserted and counted in one transaction),
//!   so attempts made at the same time cannot all slip under a limit.

use argon2::password_hash::{PasswordHash, SaltString, rand_core::OsRng};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use serde::Serialize;
use sqlx::Row;

use crate::audit::{AuditAction, AuditEntity};
use crate::sql::{Cells, Stmt};
use crate::{
    ConflictKind, Result, Store, StoreError, UserId, new_id, now_rfc3339, random_token, sha256_hex,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Patient,
    Clinician,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Patient => "patient",
            Role::Clinician => "clinician",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "patient" => Some(Role::Patient),
            "clinician" => Some(Role::Clinician),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: String,
    /// IANA time zone name the person chose (or their browser reported at
    /// sign-up); `None`: the server's zone.
    pub time_zone: Option<String>,
    /// Someone answering before having an account (`crate::guests`): no
    /// email, name or password, and deleted at this time (RFC 3339 UTC).
    /// `None`: an account.
    pub guest_until: Option<String>,
}

impl User {
    /// Someone answering before having an account.
    pub fn is_guest(&self) -> bool {
        self.guest_until.is_some()
    }
}

/// A logged-in session: the user and the session's CSRF token.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub token_hash: String,
}

/// Sessions recently looked up, kept only when one process serves a SQLite
/// file (the native path): it saves a database round trip on every request.
/// Logging out, disabling an account, resetting its password and deleting
/// it forget its entries at once (and a lookup that raced with one is not
/// kept); an entry is trusted for at most `SESSION_CACHE_TTL`, so a change
/// made by another process on the same file (the CLI) counts within that.
#[derive(Debug, Default)]
pub(crate) struct SessionCache {
    inner: std::sync::Mutex<CacheInner>,
}

#[derive(Debug, Default)]
struct CacheInner {
    /// Bumped by every forget: a lookup started before it is not kept.
    generation: u64,
    entries: std::collections::HashMap<String, (Session, String, std::time::Instant)>,
}

pub(crate) const SESSION_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);
const SESSION_CACHE_MAX: usize = 10_000;

impl SessionCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, hash: &str, now: &str) -> Option<Session> {
        let inner = self.lock();
        let (session, expires, at) = inner.entries.get(hash)?;
        (at.elapsed() < SESSION_CACHE_TTL && expires.as_str() >= now).then(|| session.clone())
    }

    fn generation(&self) -> u64 {
        self.lock().generation
    }

    fn keep(&self, generation: u64, session: &Session, expires: String) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.entries.len() >= SESSION_CACHE_MAX {
            inner.entries.clear();
        }
        inner.entries.insert(
            session.token_hash.clone(),
            (session.clone(), expires, std::time::Instant::now()),
        );
    }

    pub(crate) fn forget_token(&self, hash: &str) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.remove(hash);
    }

    pub(crate) fn forget_user(&self, user_id: &UserId) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.entries.retain(|_, (s, _, _)| s.user.id != *user_id);
    }
}

const USER_COLS: &str =
    "id, email, display_name, role, disabled, created_at, time_zone, guest_until";
/// The user columns of a query that names the users table `u`.
pub(crate) const USER_COLS_U: &str =
    "u.id, u.email, u.display_name, u.role, u.disabled, u.created_at, u.time_zone, u.guest_until";

pub(crate) fn user_from_row<R: Cells + ?Sized>(r: &R) -> Result<User> {
    let role = r.text("role")?;
    Ok(User {
        id: UserId::new(r.text("id")?),
        email: r.text("email")?,
        display_name: r.text("display_name")?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown role {role}")))?,
        disabled: r.int("disabled")? != 0,
        created_at: r.text("created_at")?,
        time_zone: r.opt_text("time_zone")?,
        guest_until: r.opt_text("guest_until")?,
    })
}

/// argon2id with OWASP's lowest-memory equivalent setting: m = 7 MiB,
/// t = 5, p = 1 (OWASP lists it beside m = 19 MiB, t = 2 as giving the
/// same protection). Every hash holds its memory while it runs, so this
/// bounds what logins cost the server; hashes made with other parameters
/// still verify (the parameters are stored in each hash) and are redone
/// with these at the next login.
fn hasher() -> Argon2<'static> {
    let params = argon2::Params::new(7 * 1024, 5, 1, None).unwrap_or_default();
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
}

/// Hashes running at once: each holds 7 MiB for about as long as it runs.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// New hashes (sign-up, a password set or changed) that may hold or wait
/// for a [`HASHING`] slot at once: one. So a flood of sign-ups takes at
/// most one of the two slots and waits in its own queue, and a login
/// waits behind at most one new hash, not behind the whole flood (16
/// sign-up clients had taken a login from 26 ms to 439 ms).
static NEW_HASHES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Run argon2 work off the async runtime, at most two at a time.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let _slot = HASHING
        .acquire()
        .await
        .map_err(|e| StoreError::Hash(e.to_string()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Hash(e.to_string()))
}

/// Hash a password with argon2id (see [`hasher`]).
pub(crate) async fn hash_password(password: String) -> Result<String> {
    let _new = NEW_HASHES
        .acquire()
        .await
        .map_err(|e| StoreError::Hash(e.to_string()))?;
    hashing(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| StoreError::Hash(e.to_string()))
    })
    .await?
}

/// Whether `password` matches `hash`, and whether the hash was made with
/// other parameters than today's (so it should be redone).
async fn verify(hash: String, password: String) -> (bool, bool) {
    hashing(move || {
        let Ok(h) = PasswordHash::new(&hash) else {
            return (false, false);
        };
        let ok = hasher().verify_password(password.as_bytes(), &h).is_ok();
        let current = hasher().params().clone();
        let stale = argon2::Params::try_from(&h).map_or(true, |p| {
            (p.m_cost(), p.t_cost(), p.p_cost())
                != (current.m_cost(), current.t_cost(), current.p_cost())
        });
        (ok, stale)
    })
    .await
    .unwrap_or((false, false))
}

impl Store {
    /// Create an account. The email is stored lower-cased; a taken email is
    /// a [`ConflictKind::EmailTaken`].
    pub async fn create_user(
        &self,
        email: &str,
        display_name: &str,
        password: &str,
        role: Role,
    ) -> Result<User> {
        // Hashed before the write: other writes (a login's session,
        // check-ins) do not wait for the hash.
        let hash = hash_password(password.to_string()).await?;
        let user = User {
            id: UserId::new(new_id()),
            email: email.trim().to_lowercase(),
            display_name: display_name.trim().to_string(),
            role,
            disabled: false,
            created_at: now_rfc3339(),
            time_zone: None,
            guest_until: None,
        };
        let written = self
            .write_audited(
                vec![
                    Stmt::new(
                        "INSERT INTO users (id, email, display_name, password_hash, role, disabled, created_at) VALUES ($1, $2, $3, $4, $5, 0, $6)",
                    )
                    .arg(&user.id)
                    .arg(&user.email)
                    .arg(&user.display_name)
                    .arg(&hash)
                    .arg(role.as_str())
                    .arg(&user.created_at),
                ],
                &crate::NewAudit {
                    actor_id: Some(&user.id),
                    subject_id: Some(&user.id),
                    action: AuditAction::Create,
                    entity: AuditEntity::User,
                    entity_id: Some(&user.id),
                    ip: None,
                    detail: Some(role.as_str()),
                },
            )
            .await;
        match written {
            // The only key a new account can hit: its email.
            Err(e) if e.is_unique_violation() => {
                Err(StoreError::Conflict(ConflictKind::EmailTaken))
            }
            Err(e) => Err(e),
            Ok(()) => Ok(user),
        }
    }

    pub async fn user_by_id(&self, id: &UserId) -> Result<Option<User>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLS} FROM users WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Change a person's name and email (the email lower-cased), with the
    /// audit row naming what changed, in one transaction. An email that
    /// belongs to another account is a [`ConflictKind::EmailInUse`] and
    /// changes nothing.
    pub async fn update_details(
        &self,
        user_id: &UserId,
        display_name: &str,
        email: &str,
        ip: Option<&str>,
    ) -> Result<()> {
        let Some(before) = self.user_by_id(user_id).await? else {
            return Err(StoreError::NotFound);
        };
        let name = display_name.trim();
        let email = email.trim().to_lowercase();
        let changed = match (before.display_name != name, before.email != email) {
            (true, true) => "name and email",
            (true, false) => "name",
            (false, true) => "email",
            (false, false) => return Ok(()),
        };
        let written = self
            .write_audited(
                vec![
                    Stmt::new("UPDATE users SET display_name = $1, email = $2 WHERE id = $3")
                        .arg(name)
                        .arg(&email)
                        .arg(user_id),
                    crate::summary::profile_stmt(user_id),
                ],
                &crate::NewAudit::of(
                    user_id,
                    Some(user_id),
                    AuditAction::Update,
                    AuditEntity::User,
                )
                .id(user_id)
                .from(ip)
                .detail(changed),
            )
            .await;
        match written {
            // The only key it can hit: the email of another account.
            Err(e) if e.is_unique_violation() => {
                return Err(StoreError::Conflict(ConflictKind::EmailInUse));
            }
            other => other?,
        }
        // Cached sessions carry the user row.
        self.forget_sessions_of(user_id);
        Ok(())
    }

    /// Set or clear (`None`) a person's time zone. The name is stored as
    /// given: the web layer checks it against the time zone database.
    /// Returns whether the account exists.
    pub async fn set_time_zone(&self, user_id: &UserId, zone: Option<&str>) -> Result<bool> {
        let done = self
            .write_all(vec![
                Stmt::new("UPDATE users SET time_zone = $1 WHERE id = $2")
                    .arg(zone)
                    .arg(user_id)
                    .found(),
                crate::summary::profile_stmt(user_id),
            ])
            .await;
        // Cached sessions carry the user row: drop them so the next request
        // sees the new zone.
        self.forget_sessions_of(user_id);
        match done {
            Err(StoreError::NotFound) => Ok(false),
            Err(e) => Err(e),
            Ok(()) => Ok(true),
        }
    }

    /// The user with this email and password, if both match and the account
    /// is not disabled. Always runs one hash, so timing does not reveal
    /// whether the email exists.
    pub async fn authenticate(&self, email: &str, password: &str) -> Result<Option<User>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLS}, password_hash FROM users WHERE email = $1 AND guest_until IS NULL"
        )))
        .bind(email.trim().to_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            // Equalise timing with a real verification against a real hash.
            let password = password.to_string();
            let _ = hashing(move || {
                static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
                let dummy = DUMMY.get_or_init(|| {
                    let salt = SaltString::generate(&mut OsRng);
                    hasher()
                        .hash_password(b"not a password", &salt)
                        .ok()
                        .map(|h| h.to_string())
                });
                if let Some(h) = dummy.as_deref().and_then(|d| PasswordHash::new(d).ok()) {
                    let _ = hasher().verify_password(password.as_bytes(), &h);
                }
            })
            .await;
            return Ok(None);
        };
        let hash: String = row.try_get("password_hash")?;
        let user = user_from_row(&row)?;
        let (ok, stale) = verify(hash, password.to_string()).await;
        if !ok || user.disabled {
            return Ok(None);
        }
        if stale {
            let new_hash = hash_password(password.to_string()).await?;
            let _writing = self.writer().await;
            sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(new_hash)
                .bind(&user.id)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(user))
    }

    /// Start a session: returns the cookie token (only its hash is stored).
    pub async fn create_session(&self, user_id: &UserId, ttl_hours: i64) -> Result<String> {
        let _writing = self.writer().await;
        let token = random_token();
        let now = jiff::Timestamp::now().as_millisecond();
        sqlx::query("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(sha256_hex(&token))
            .bind(user_id.as_str())
            .bind(random_token())
            .bind(crate::ids::format_ms(now))
            .bind(crate::ids::format_ms(now + ttl_hours * 3_600_000))
            .execute(&self.pool)
            .await?;
        Ok(token)
    }

    /// The session for a cookie token, if it exists, has not expired and
    /// belongs to an enabled account.
    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        let hash = sha256_hex(token);
        let now = now_rfc3339();
        let generation = match &self.sessions {
            Some(cache) => {
                if let Some(s) = cache.get(&hash, &now) {
                    return Ok(Some(s));
                }
                cache.generation()
            }
            None => 0,
        };
        let st = Stmt::new(format!(
            "SELECT {USER_COLS_U}, s.csrf_token, s.expires_at \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1"
        ))
        .arg(&hash);
        fn decode<R: Cells + ?Sized>(r: &R) -> Result<(User, String, String)> {
            Ok((
                user_from_row(r)?,
                r.text("csrf_token")?,
                r.text("expires_at")?,
            ))
        }
        let found = match &self.lite {
            Some(lite) => lite.read(move |c| st.rows(c, |r| decode(r))).await?.pop(),
            None => st
                .query()
                .fetch_optional(&self.pool)
                .await?
                .as_ref()
                .map(decode)
                .transpose()?,
        };
        let Some((user, csrf_token, expires)) = found else {
            return Ok(None);
        };
        if expires < now || user.disabled {
            return Ok(None);
        }
        let session = Session {
            user,
            csrf_token,
            token_hash: hash,
        };
        if let Some(cache) = &self.sessions {
            cache.keep(generation, &session, expires);
        }
        Ok(Some(session))
    }

    /// Forget cached sessions of a user (after their sessions were ended).
    pub(crate) fn forget_sessions_of(&self, user_id: &UserId) {
        if let Some(cache) = &self.sessions {
            cache.forget_user(user_id);
        }
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        if let Some(cache) = &self.sessions {
            cache.forget_token(token_hash);
        }
        let _writing = self.writer().await;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        if let Some(cache) = &self.sessions {
            cache.forget_token(token_hash);
        }
        Ok(())
    }

    /// Record a failed login for each key (e.g. the email and the address).
    pub async fn record_login_failure(&self, keys: &[&str]) -> Result<()> {
        let _writing = self.writer().await;
        let now = now_rfc3339();
        for k in keys {
            sqlx::query("INSERT INTO login_failures (id, key, at) VALUES ($1, $2, $3)")
                .bind(new_id())
                .bind(*k)
                .bind(&now)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Count a password attempt before it is checked, for each of `keys`
    /// (an account, an address): one row each, written and counted in one
    /// transaction, so attempts made at the same time each see those made
    /// before them and no more than the limit get through. Returns the new
    /// rows' ids (to release after a right password) and, per key, the
    /// attempts in the last `minutes`, this one included.
    pub async fn reserve_attempt(
        &self,
        keys: &[&str],
        minutes: i64,
    ) -> Result<(Vec<String>, Vec<i64>)> {
        let _writing = self.writer().await;
        let now = now_rfc3339();
        let since =
            crate::ids::format_ms(jiff::Timestamp::now().as_millisecond() - minutes * 60_000);
        let mut tx = self.pool.begin().await?;
        if self.backend() == crate::Backend::Postgres {
            // SQLite's writers queue on the writer lock above; PostgreSQL's
            // run at once, and under READ COMMITTED two attempts could each
            // count before the other committed. A lock per key, held to the
            // end of the transaction (taken in one order: no deadlock),
            // makes each count see every attempt before it.
            let mut sorted: Vec<&str> = keys.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            for k in sorted {
                sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                    .bind(k)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let mut ids = Vec::new();
        let mut counts = Vec::new();
        for k in keys {
            let id = new_id();
            sqlx::query("INSERT INTO login_failures (id, key, at) VALUES ($1, $2, $3)")
                .bind(&id)
                .bind(*k)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
            let (n,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at > $2")
                    .bind(*k)
                    .bind(&since)
                    .fetch_one(&mut *tx)
                    .await?;
            ids.push(id);
            counts.push(n);
        }
        tx.commit().await?;
        Ok((ids, counts))
    }

    /// Take back attempts counted by [`Store::reserve_attempt`] (the
    /// password was right).
    pub async fn release_attempts(&self, ids: &[String]) -> Result<()> {
        let _writing = self.writer().await;
        for id in ids {
            sqlx::query("DELETE FROM login_failures WHERE id = $1")
                .bind(id)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Forget attempts counted before `before` (milliseconds since the
    /// epoch): every limit looks back an hour at most, and the counters
    /// hold addresses and emails. How many were deleted.
    pub async fn prune_attempts(&self, before: i64) -> Result<u64> {
        let _writing = self.writer().await;
        let done = sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(crate::ids::format_ms(before))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Failed logins for `key` in the last `minutes`.
    pub async fn login_failures(&self, key: &str, minutes: i64) -> Result<i64> {
        let since =
            crate::ids::format_ms(jiff::Timestamp::now().as_millisecond() - minutes * 60_000);
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at > $2")
                .bind(key)
                .bind(since)
                .fetch_one(&self.pool)
                .await?;
        Ok(n)
    }

    pub async fn clear_login_failures(&self, key: &str) -> Result<()> {
        let _writing = self.writer().await;
        sqlx::query("DELETE FROM login_failures WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

impl Store {
    /// The CSRF token of a session (by cookie token).
    pub async fn session_csrf(&self, token: &str) -> Result<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT csrf_token FROM sessions WHERE token_hash = $1")
                .bind(sha256_hex(token))
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(c,)| c))
    }
}

impl Store {
    /// A new secret calendar token for the user (replacing any old one);
    /// only its hash is stored, so the URL can be shown only now.
    pub async fn create_calendar_token(&self, user_id: &UserId) -> Result<String> {
        let token = random_token();
        self.write_all(vec![
            Stmt::new("DELETE FROM calendar_tokens WHERE user_id = $1").arg(user_id),
            Stmt::new(
                "INSERT INTO calendar_tokens (token_hash, user_id, created_at) VALUES ($1, $2, $3)",
            )
            .arg(sha256_hex(&token))
            .arg(user_id)
            .arg(now_rfc3339()),
        ])
        .await?;
        Ok(token)
    }

    pub async fn revoke_calendar_token(&self, user_id: &UserId) -> Result<()> {
        let _writing = self.writer().await;
        sqlx::query("DELETE FROM calendar_tokens WHERE user_id = $1")
            .bind(user_id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// When the user's calendar link was made, if they have one.
    pub async fn calendar_token_created(&self, user_id: &UserId) -> Result<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT created_at FROM calendar_tokens WHERE user_id = $1")
                .bind(user_id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(c,)| c))
    }

    /// Whose calendar a token opens (only enabled accounts).
    pub async fn calendar_user(&self, token: &str) -> Result<Option<User>> {
        let row: Option<(UserId,)> =
            sqlx::query_as("SELECT user_id FROM calendar_tokens WHERE token_hash = $1")
                .bind(sha256_hex(token))
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some((id,)) => Ok(self.user_by_id(&id).await?.filter(|u| !u.disabled)),
            None => Ok(None),
        }
    }
}

/// A personal access token (without its secret).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    /// `read` or `write`.
    pub scope: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

/// Prefix of every personal access token, so a leaked one is recognisable.
pub const API_TOKEN_PREFIX: &str = "kp_";

impl Store {
    /// Make a token for `user_id`; returns the secret (shown once).
    pub async fn create_api_token(
        &self,
        user_id: &UserId,
        name: &str,
        scope: &str,
        ip: Option<&str>,
    ) -> Result<String> {
        let token = format!("{API_TOKEN_PREFIX}{}", random_token());
        let id = new_id();
        self.write_audited(
            vec![
                Stmt::new("INSERT INTO api_tokens (id, user_id, name, token_hash, scope, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                    .arg(&id)
                    .arg(user_id)
                    .arg(name)
                    .arg(sha256_hex(&token))
                    .arg(scope)
                    .arg(now_rfc3339()),
            ],
            &crate::NewAudit::of(user_id, Some(user_id), AuditAction::Create, AuditEntity::ApiToken)
                .id(&id)
                .from(ip)
                .detail(scope),
        )
        .await?;
        Ok(token)
    }

    /// A user's active tokens, newest first.
    pub async fn api_tokens(&self, user_id: &UserId) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(
            "SELECT id, name, scope, created_at, last_used_at FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id",
        )
        .bind(user_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiToken {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    scope: r.try_get("scope")?,
                    created_at: r.try_get("created_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                })
            })
            .collect()
    }

    /// Revoke one of a user's tokens; false when there was none to revoke.
    pub async fn revoke_api_token(
        &self,
        user_id: &UserId,
        id: &str,
        ip: Option<&str>,
    ) -> Result<bool> {
        let revoked = self
            .write_audited(
                vec![
                    Stmt::new("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
                        .arg(now_rfc3339())
                        .arg(id)
                        .arg(user_id)
                        .found(),
                ],
                &crate::NewAudit::of(user_id, Some(user_id), AuditAction::Delete, AuditEntity::ApiToken)
                    .id(id)
                    .from(ip),
            )
            .await;
        match revoked {
            // No active token of theirs with that id: nothing to revoke.
            Err(StoreError::NotFound) => Ok(false),
            Err(e) => Err(e),
            Ok(()) => Ok(true),
        }
    }

    /// The enabled user and scope of an active token.
    pub async fn api_token_user(&self, token: &str) -> Result<Option<(User, String)>> {
        if !token.starts_with(API_TOKEN_PREFIX) {
            return Ok(None);
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLS_U}, t.scope, t.id AS token_id, t.last_used_at FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
        )))
        .bind(sha256_hex(token))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let user = user_from_row(&row)?;
        if user.disabled {
            return Ok(None);
        }
        // Record the use at most once an hour (a write per request would
        // make every read a write).
        let last: Option<String> = row.try_get("last_used_at")?;
        let now = now_rfc3339();
        if last.as_deref().is_none_or(|l| l.get(..13) != now.get(..13)) {
            let _writing = self.writer().await;
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(&now)
                .bind(row.try_get::<String, _>("token_id")?)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some((user, row.try_get("scope")?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_use_7_mib_and_older_settings_verify_but_are_stale() {
        let new = hash_password("a long enough password".into())
            .await
            .expect("hash");
        assert!(new.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{new}");
        assert_eq!(
            verify(new.clone(), "a long enough password".into()).await,
            (true, false)
        );
        assert_eq!(verify(new, "wrong".into()).await, (false, false));
        // A hash from argon2's default setting (m = 19 MiB, t = 2).
        let salt = SaltString::generate(&mut OsRng);
        let old = Argon2::default()
            .hash_password(b"a long enough password", &salt)
            .expect("hash")
            .to_string();
        assert_eq!(
            verify(old, "a long enough password".into()).await,
            (true, true)
        );
    }
}
