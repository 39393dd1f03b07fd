//! Guests: someone taking the assessment before having an account
//! (`users.guest_until`, migration 12).
//!
//! A guest is an account row with no personal data: no email (the
//! `email` column, unique and required, holds `guest:` and the row's id,
//! which no login or lookup by email can match), no name, no password
//! (a hash no password verifies against), and the time it ends. The
//! wizard's drafts and results are stored against it as against any
//! patient's. Signing up as a guest turns the row into the new account,
//! keeping the answers ([`Store::claim_guest`]); otherwise it is deleted
//! with everything of it once its time is over ([`Store::expired_guests`],
//! then [`Store::delete_user_as`]).

use crate::audit::{AuditAction, AuditEntity, NewAudit};
use crate::sql::Stmt;
use crate::users::hash_password;
use crate::{ConflictKind, Result, Store, StoreError, User, UserId, new_id};

/// The `email` column of a guest: not an address (it has no `@`).
pub(crate) fn guest_email(id: &UserId) -> String {
    format!("guest:{}", id.as_str())
}

impl Store {
    /// A new guest, ending `hours` after `now` (milliseconds since the
    /// epoch, by the application's clock), with the session it answers in
    /// (as long): the guest and the session's cookie token. No address is
    /// stored with it, in the account or its audit row.
    pub async fn create_guest(&self, now: i64, hours: i64) -> Result<(User, String)> {
        let until = crate::ids::format_ms(now + hours * 3_600_000);
        let id = UserId::new(new_id());
        let user = User {
            email: guest_email(&id),
            id,
            display_name: String::new(),
            role: crate::Role::Patient,
            disabled: false,
            created_at: crate::ids::format_ms(now),
            time_zone: None,
            guest_until: Some(until.clone()),
        };
        self.write_audited(
            vec![
                Stmt::new(
                    "INSERT INTO users (id, email, display_name, password_hash, role, disabled, created_at, guest_until) VALUES ($1, $2, '', '!', 'patient', 0, $3, $4)",
                )
                .arg(&user.id)
                .arg(&user.email)
                .arg(&user.created_at)
                .arg(&until),
            ],
            &NewAudit::of(
                &user.id,
                Some(&user.id),
                AuditAction::Create,
                AuditEntity::User,
            )
            .id(user.id.as_str())
            .detail("guest: answers without an account, no personal data"),
        )
        .await?;
        let token = self.create_session(&user.id, hours).await?;
        Ok((user, token))
    }

    /// Turn a guest into a patient's account with this email, name and
    /// password, keeping everything the guest answered: one transaction
    /// with its audit row, which ends the guest's sessions (the caller
    /// starts a new one). [`StoreError::NotFound`] when `guest` is not a
    /// guest whose time is still running at `now` (milliseconds);
    /// [`ConflictKind::EmailTaken`] when the email has an account.
    pub async fn claim_guest(
        &self,
        guest: &UserId,
        (email, display_name, password): (&str, &str, &str),
        now: i64,
        ip: Option<&str>,
    ) -> Result<User> {
        let hash = hash_password(password.to_string()).await?;
        let email = email.trim().to_lowercase();
        let display_name = display_name.trim().to_string();
        let written = self
            .write_audited(
                vec![
                    Stmt::new(
                        "UPDATE users SET email = $1, display_name = $2, password_hash = $3, guest_until = NULL \
                         WHERE id = $4 AND guest_until IS NOT NULL AND guest_until > $5",
                    )
                    .arg(&email)
                    .arg(&display_name)
                    .arg(&hash)
                    .arg(guest)
                    .arg(crate::ids::format_ms(now))
                    .found(),
                    crate::summary::profile_stmt(guest),
                    Stmt::new("DELETE FROM sessions WHERE user_id = $1").arg(guest),
                ],
                &NewAudit::of(guest, Some(guest), AuditAction::Create, AuditEntity::Account)
                    .from(ip)
                    .detail("account made from a guest's answers, which it keeps"),
            )
            .await;
        self.forget_sessions_of(guest);
        match written {
            Err(e) if e.is_unique_violation() => {
                Err(StoreError::Conflict(ConflictKind::EmailTaken))
            }
            Err(e) => Err(e),
            Ok(()) => self.user_by_id(guest).await?.ok_or(StoreError::NotFound),
        }
    }

    /// The guests whose time ended before `now` (milliseconds since the
    /// epoch), oldest first, at most `limit`.
    pub async fn expired_guests(&self, now_ms: i64, limit: i64) -> Result<Vec<UserId>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM users WHERE guest_until IS NOT NULL AND guest_until < $1 ORDER BY guest_until, id LIMIT $2",
        )
        .bind(crate::ids::format_ms(now_ms))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| UserId::new(id)).collect())
    }
}
