//! A person's own data as a whole: the export ("download my data") and
//! the deletion of an account, each table as [`crate::tables::TABLES`]
//! says.

use sqlx::{Any, Transaction};

use crate::audit::{AuditAction, AuditEntity};
use crate::audit::{NewAudit, audit_in};
use crate::{Result, Store, StoreError, UserId, corrupt, new_id};

impl Store {
    /// Everything stored about a user, as JSON ("download my data"): one
    /// key per table [`crate::tables::TABLES`] exports, in its order.
    pub async fn export_user(&self, user_id: &UserId) -> Result<serde_json::Value> {
        use crate::tables::{Export, TABLES};
        let user = self
            .user_by_id(user_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let json =
            |v: std::result::Result<serde_json::Value, serde_json::Error>| v.map_err(corrupt);
        let mut out = serde_json::Map::new();
        for table in TABLES {
            let Export::As(key) = table.export else {
                continue;
            };
            let value = match key {
                "user" => json(serde_json::to_value(&user))?,
                "assessments" => serde_json::Value::Array(
                    self.assessments(user_id)
                        .await?
                        .into_iter()
                        .map(|a| {
                            serde_json::json!({
                                "id": a.id, "created_at": a.created_at, "day": a.day, "source": a.source,
                                "facts": a.facts, "report": a.report, "level": a.level, "kb_version": a.kb_version,
                            })
                        })
                        .collect(),
                ),
                "phase_changes" => json(serde_json::to_value(self.phase_changes(user_id).await?))?,
                "checkins" => json(serde_json::to_value(self.checkins(user_id).await?))?,
                "checkin_revisions" => {
                    json(serde_json::to_value(self.checkin_revisions(user_id).await?))?
                }
                "escalations" => json(serde_json::to_value(self.escalations(user_id).await?))?,
                "draft" => json(serde_json::to_value(self.draft(user_id).await?))?,
                "care_links" => json(serde_json::to_value(self.links_of_patient(user_id).await?))?,
                "measurements" => json(serde_json::to_value(self.measurements(user_id).await?))?,
                "notes" => json(serde_json::to_value(self.notes(user_id).await?))?,
                "plan_edits" => json(serde_json::to_value(self.plan_edits(user_id).await?))?,
                "outcomes" => json(serde_json::to_value(self.outcomes(user_id).await?))?,
                "audit_log" => json(serde_json::to_value(
                    self.audit_entries(Some(user_id), 100_000).await?,
                ))?,
                other => {
                    return Err(StoreError::Corrupt(format!(
                        "the export has no reader for table {} (key {other})",
                        table.name
                    )));
                }
            };
            out.insert(key.to_string(), value);
        }
        Ok(serde_json::Value::Object(out))
    }

    /// Delete an account and everything of it, for real, table by table as
    /// [`crate::tables::TABLES`] says (children first). The audit log keeps
    /// its rows about the person (who read or changed what, when), with the
    /// person's id replaced by a pseudonym, the ids of deleted records
    /// dropped and the person's addresses removed; and one row that the
    /// account was deleted.
    pub async fn delete_user(&self, user_id: &UserId) -> Result<()> {
        self.delete_user_as(
            user_id,
            "an account and all its data were deleted at the owner's request; the access log keeps its rows under this pseudonym",
        )
        .await
    }

    /// [`Store::delete_user`], with `why` as the audit row's detail (a
    /// guest's answers deleted at the end of their time, or at the guest's
    /// request).
    pub async fn delete_user_as(&self, user_id: &UserId, why: &str) -> Result<()> {
        use crate::tables::{Erase, TABLES};
        let email = self
            .user_by_id(user_id)
            .await?
            .map(|u| u.email)
            .unwrap_or_default();
        let pseudonym = format!("deleted-{}", new_id());
        let _writing = self.writer().await;
        let mut tx = self.pool.begin().await?;
        // The person's row first (on PostgreSQL; SQLite writes one at a
        // time): a link to them made meanwhile waits and then fails (its
        // clinician is gone), so no patient is left linked to nobody. The
        // caseload rows the person is a side of go with the other tables;
        // those of a patient's other links stay as they are.
        if self.backend() == crate::Backend::Postgres {
            sqlx::query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
                .bind(user_id.as_str())
                .execute(&mut *tx)
                .await?;
            // Then the rows of the patients a clinician looks after, as
            // their own writers lock them: a patient ending their link or
            // making another one meanwhile waits for the deletion instead
            // of meeting it, in `care_links` and `caseload_rows`, in the
            // other order. A write of theirs that already holds a patient's
            // row and then needs this person's can still deadlock with it;
            // PostgreSQL refuses one of the two, and nothing is half done.
            let patients: Vec<(UserId,)> = sqlx::query_as(
                "SELECT DISTINCT patient_id FROM care_links WHERE clinician_id = $1 AND revoked_at IS NULL",
            )
            .bind(user_id.as_str())
            .fetch_all(&mut *tx)
            .await?;
            crate::summary::lock_in(&mut tx, self.backend(), patients.iter().map(|(p,)| p)).await?;
        }
        for table in TABLES.iter().rev() {
            let name = table.name;
            for erase in table.erase {
                match *erase {
                    Erase::Rows(col) => {
                        sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DELETE FROM {name} WHERE {col} = $1"
                        )))
                        .bind(user_id.as_str())
                        .execute(&mut *tx)
                        .await?;
                    }
                    Erase::Null(col) => {
                        sqlx::query(sqlx::AssertSqlSafe(format!(
                            "UPDATE {name} SET {col} = NULL WHERE {col} = $1"
                        )))
                        .bind(user_id.as_str())
                        .execute(&mut *tx)
                        .await?;
                    }
                    Erase::LoginKey => {
                        sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DELETE FROM {name} WHERE key = $1"
                        )))
                        .bind(format!("email:{email}"))
                        .execute(&mut *tx)
                        .await?;
                    }
                    Erase::Pseudonymise => pseudonymise_in(&mut tx, user_id, &pseudonym).await?,
                }
            }
        }
        // The deletion is logged under the pseudonym, in place of the id.
        let as_id = UserId::new(pseudonym.as_str());
        audit_in(
            &mut tx,
            &NewAudit {
                actor_id: Some(&as_id),
                subject_id: Some(&as_id),
                action: AuditAction::Delete,
                entity: AuditEntity::User,
                entity_id: None,
                ip: None,
                detail: Some(why),
            },
        )
        .await?;
        tx.commit().await?;
        self.forget_sessions_of(user_id);
        Ok(())
    }
}

/// The audit log's rows about a deleted person, kept: the ids of records
/// that are gone and the addresses the person used are dropped, and the
/// person's id becomes `pseudonym`, the same in every row (subject, actor,
/// entity, and the caseload views that listed them), so the trail still
/// reads as one person's.
async fn pseudonymise_in(
    tx: &mut Transaction<'_, Any>,
    user_id: &UserId,
    pseudonym: &str,
) -> Result<()> {
    for q in [
        "UPDATE audit_log SET entity_id = NULL WHERE subject_id = $1",
        "UPDATE audit_log SET ip = NULL WHERE actor_id = $1",
    ] {
        sqlx::query(q)
            .bind(user_id.as_str())
            .execute(&mut **tx)
            .await?;
    }
    for q in [
        "UPDATE audit_log SET subject_id = $2 WHERE subject_id = $1",
        "UPDATE audit_log SET actor_id = $2 WHERE actor_id = $1",
        "UPDATE audit_log SET entity_id = $2 WHERE entity_id = $1",
    ] {
        sqlx::query(q)
            .bind(user_id.as_str())
            .bind(pseudonym)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("UPDATE audit_log SET detail = REPLACE(detail, $1, $2) WHERE detail LIKE $3")
        .bind(user_id.as_str())
        .bind(pseudonym)
        .bind(format!("%{user_id}%"))
        .execute(&mut **tx)
        .await?;
    Ok(())
}
