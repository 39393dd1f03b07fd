//! The audit log: who read or changed whose data, when and from where.
//! A write of patient data adds its audit row in the same transaction
//! (the write helpers of each concept); a read adds one on its own
//! ([`Store::audit`]). Rows are never changed, except that a deleted
//! account's rows are pseudonymised (`account.rs`).

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::sql::{Stmt, exec_in};
use crate::{Result, Store, new_id, now_rfc3339};

/// An audit-log row to write.
#[derive(Debug, Clone, Copy)]
pub struct NewAudit<'a> {
    pub actor_id: Option<&'a str>,
    /// Whose data was read or changed.
    pub subject_id: Option<&'a str>,
    /// `read`, `create`, `update`, `delete`, `login`, `logout`, `export` ...
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub detail: Option<&'a str>,
}

impl<'a> NewAudit<'a> {
    /// `actor` did `action` to `entity` of `subject`'s record (ids, address
    /// and detail added with the methods below).
    pub fn of(actor: &'a str, subject: Option<&'a str>, action: &'a str, entity: &'a str) -> Self {
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
        .arg(a.action)
        .arg(a.entity)
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
        subject_id: Option<&str>,
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
            .bind(subject_id.unwrap_or(""))
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
