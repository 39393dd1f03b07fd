//! The audit log: who read or changed whose data, when and from where.
//! A write of patient data adds its audit row in the same transaction
//! ([`Store::write_audited`]); a read adds one on its own
//! ([`Store::audit`]). Rows are never changed, except that a deleted
//! account's rows are pseudonymised (`account.rs`).

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::sql::{Stmt, exec_in};
use crate::{Result, Store, UserId, new_id, now_rfc3339};

/// An enum stored as text: each variant with the exact text written for
/// it, `as_str`, `parse` and `ALL`.
macro_rules! stored_text {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The text stored for it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stored_text! {
    /// What was done (the `action` column of the audit log).
    AuditAction {
        Create = "create",
        Read = "read",
        Update = "update",
        Delete = "delete",
        /// A check-in corrected by its owner.
        Correct = "correct",
        Export = "export",
        Login = "login",
        Logout = "logout",
        /// Access to another's data, or a route of another role, refused.
        Denied = "denied",
        /// An administrator's password reset.
        Reset = "reset",
    }
}

stored_text! {
    /// What it was done to (the `entity` column of the audit log). Reads
    /// name the page or list read (`assessment_list`, `timeline`...),
    /// writes the record written.
    AuditEntity {
        Account = "account",
        ApiToken = "api_token",
        Assessment = "assessment",
        AssessmentList = "assessment_list",
        CalendarFeed = "calendar_feed",
        CalendarLink = "calendar_link",
        CareLink = "care_link",
        Caseload = "caseload",
        Checkin = "checkin",
        CheckinForm = "checkin_form",
        Checkins = "checkins",
        Draft = "draft",
        FhirBundle = "fhir_bundle",
        Invite = "invite",
        Measurement = "measurement",
        Measurements = "measurements",
        Note = "note",
        Outcome = "outcome",
        Outcomes = "outcomes",
        Password = "password",
        Patient = "patient",
        Phase = "phase",
        Plan = "plan",
        Progress = "progress",
        Report = "report",
        /// A reminder email (its setting, or one sent).
        Reminder = "reminder",
        /// A password reset link asked for by email.
        ResetLink = "reset_link",
        /// A route of another role (the path is the entity id).
        Route = "route",
        Session = "session",
        SyntheticHistory = "synthetic_history",
        TimeZone = "time_zone",
        Timeline = "timeline",
        User = "user",
    }
}

/// An audit-log row to write.
#[derive(Debug, Clone, Copy)]
pub struct NewAudit<'a> {
    /// Who did it; none: kneepath itself (a re-run, a seed).
    pub actor_id: Option<&'a UserId>,
    /// Whose data was read or changed.
    pub subject_id: Option<&'a UserId>,
    pub action: AuditAction,
    pub entity: AuditEntity,
    pub entity_id: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub detail: Option<&'a str>,
}

impl<'a> NewAudit<'a> {
    /// `actor` did `action` to `entity` of `subject`'s record (ids, address
    /// and detail added with the methods below).
    pub fn of(
        actor: &'a UserId,
        subject: Option<&'a UserId>,
        action: AuditAction,
        entity: AuditEntity,
    ) -> Self {
        NewAudit {
            actor_id: Some(actor),
            subject_id: subject,
            action,
            entity,
            entity_id: None,
            ip: None,
            detail: None,
        }
    }

    pub fn id(mut self, id: &'a str) -> Self {
        self.entity_id = Some(id);
        self
    }

    pub fn from(mut self, ip: Option<&'a str>) -> Self {
        self.ip = ip;
        self
    }

    pub fn detail(mut self, detail: &'a str) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// An audit-log row as stored. Its action and entity stay text: the log
/// keeps what older versions wrote as it was, and the admin's viewer
/// searches and shows that text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub id: String,
    pub at: String,
    pub actor_id: Option<String>,
    pub subject_id: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<String>,
}

const AUDIT_INSERT: &str = "INSERT INTO audit_log (id, at, actor_id, subject_id, action, entity, entity_id, ip, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

pub(crate) fn audit_stmt(a: &NewAudit<'_>) -> Stmt {
    Stmt::new(AUDIT_INSERT)
        .arg(new_id())
        .arg(now_rfc3339())
        .arg(a.actor_id)
        .arg(a.subject_id)
        .arg(a.action.as_str())
        .arg(a.entity.as_str())
        .arg(a.entity_id)
        .arg(a.ip)
        .arg(a.detail)
}

pub(crate) fn audit_from_row(r: &AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        actor_id: r.try_get("actor_id")?,
        subject_id: r.try_get("subject_id")?,
        action: r.try_get("action")?,
        entity: r.try_get("entity")?,
        entity_id: r.try_get("entity_id")?,
        ip: r.try_get("ip")?,
        detail: r.try_get("detail")?,
    })
}

pub(crate) async fn audit_in(tx: &mut Transaction<'_, Any>, a: &NewAudit<'_>) -> Result<()> {
    exec_in(tx, &audit_stmt(a)).await
}

/// Filters of the audit-log search; every one optional.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<String>,
    pub subject_id: Option<String>,
    pub action: Option<String>,
    pub entity: Option<String>,
    /// RFC 3339 prefixes (e.g. a day): entries at or after / before.
    pub from: Option<String>,
    pub until: Option<String>,
}

impl Store {
    /// Write an audit row on its own (reads of patient data): one
    /// statement, atomic by itself.
    pub async fn audit(&self, a: &NewAudit<'_>) -> Result<()> {
        self.write_all(vec![audit_stmt(a)]).await
    }

    /// Audit entries, newest first; for one subject when given.
    pub async fn audit_entries(
        &self,
        subject_id: Option<&UserId>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        let q = match subject_id {
            Some(_) => {
                "SELECT id, at, actor_id, subject_id, action, entity, entity_id, ip, detail FROM audit_log WHERE subject_id = $1 ORDER BY at DESC, id DESC LIMIT $2"
            }
            None => {
                "SELECT id, at, actor_id, subject_id, action, entity, entity_id, ip, detail FROM audit_log WHERE $1 = $1 ORDER BY at DESC, id DESC LIMIT $2"
            }
        };
        let rows = sqlx::query(q)
            .bind(subject_id.map_or("", UserId::as_str))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(audit_from_row).collect()
    }

    /// Audit entries matching a filter, newest first. A subject filter also
    /// finds the caseload views that listed the subject (one row per view,
    /// the patients named in `detail`).
    pub async fn audit_search(&self, f: &AuditFilter, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, at, actor_id, subject_id, action, entity, entity_id, ip, detail FROM audit_log \
             WHERE ($1 = '' OR actor_id = $1) \
             AND ($2 = '' OR subject_id = $2 OR (entity = 'caseload' AND detail LIKE '%' || $2 || '%')) \
             AND ($3 = '' OR action = $3) \
             AND ($4 = '' OR entity = $4) AND ($5 = '' OR at >= $5) AND ($6 = '' OR at < $6) \
             ORDER BY at DESC, id DESC LIMIT $7",
        )
        .bind(f.actor_id.clone().unwrap_or_default())
        .bind(f.subject_id.clone().unwrap_or_default())
        .bind(f.action.clone().unwrap_or_default())
        .bind(f.entity.clone().unwrap_or_default())
        .bind(f.from.clone().unwrap_or_default())
        .bind(f.until.clone().unwrap_or_default())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(audit_from_row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::{AuditAction, AuditEntity};

    /// The texts the log stores: the admin's viewer filters and the export
    /// show them, and rows written before keep them, so a changed text
    /// would split the log's history in two.
    #[test]
    fn actions_and_entities_keep_their_stored_texts() {
        let actions: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(
            actions,
            [
                "create", "read", "update", "delete", "correct", "export", "login", "logout",
                "denied", "reset"
            ]
        );
        let entities: Vec<&str> = AuditEntity::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(
            entities,
            [
                "account",
                "api_token",
                "assessment",
                "assessment_list",
                "calendar_feed",
                "calendar_link",
                "care_link",
                "caseload",
                "checkin",
                "checkin_form",
                "checkins",
                "draft",
                "fhir_bundle",
                "invite",
                "measurement",
                "measurements",
                "note",
                "outcome",
                "outcomes",
                "password",
                "patient",
                "phase",
                "plan",
                "progress",
                "report",
                "reminder",
                "reset_link",
                "route",
                "session",
                "synthetic_history",
                "time_zone",
                "timeline",
                "user",
            ]
        );
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(*a));
        }
        for e in AuditEntity::ALL {
            assert_eq!(AuditEntity::parse(e.as_str()), Some(*e));
        }
    }
}
