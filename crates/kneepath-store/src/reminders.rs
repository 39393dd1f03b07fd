//! The opt-in daily check-in reminder (`users.reminder_time`, migration
//! 11): its setting, the people it is due for, and the claim that sends
//! it once a day even when several instances look at the same time.

use crate::audit::{AuditAction, AuditEntity, NewAudit};
use crate::sql::{Cells, Stmt};
use crate::users::{USER_COLS_U, user_from_row};
use crate::{Result, Store, User, UserId};
use kneepath_core::Day;

impl Store {
    /// The person's reminder time (`HH:MM` in their zone), if they have one.
    pub async fn reminder_time(&self, user_id: &UserId) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT reminder_time FROM users WHERE id = $1")
                .bind(user_id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(t,)| t))
    }

    /// Turn the reminder on at `time` (`HH:MM`, checked by the caller) or
    /// off (`None`); audited as the person's own change. `sent_for`: a day
    /// to count as reminded already (today, when its time has passed).
    pub async fn set_reminder(
        &self,
        user_id: &UserId,
        time: Option<&str>,
        sent_for: Option<Day>,
        ip: Option<&str>,
    ) -> Result<()> {
        let mut stmts = vec![
            Stmt::new("UPDATE users SET reminder_time = $1 WHERE id = $2")
                .arg(time.map(str::to_string))
                .arg(user_id)
                .found(),
        ];
        if let Some(day) = sent_for {
            stmts.push(
                Stmt::new("UPDATE users SET reminded_on = $1 WHERE id = $2")
                    .arg(day.to_string())
                    .arg(user_id),
            );
        }
        self.write_audited(
            stmts,
            &NewAudit::of(
                user_id,
                Some(user_id),
                AuditAction::Update,
                AuditEntity::Reminder,
            )
            .from(ip)
            .detail(match time {
                Some(_) => "daily check-in reminder on",
                None => "daily check-in reminder off",
            }),
        )
        .await
    }

    /// Every enabled account with a reminder, with its time.
    pub async fn reminders(&self) -> Result<Vec<(User, String)>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLS_U}, u.reminder_time FROM users u \
             WHERE u.reminder_time IS NOT NULL AND u.disabled = 0 ORDER BY u.id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((user_from_row(r)?, r.text("reminder_time")?)))
            .collect()
    }

    /// Claim the person's reminder of `day` (their own day): true for the
    /// one caller that marks it sent, false when it was already.
    pub async fn claim_reminder(&self, user_id: &UserId, day: Day) -> Result<bool> {
        let _writing = self.writer().await;
        let done = sqlx::query(
            "UPDATE users SET reminded_on = $1 WHERE id = $2 AND (reminded_on IS NULL OR reminded_on <> $1)",
        )
        .bind(day.to_string())
        .bind(user_id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
