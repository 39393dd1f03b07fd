//! Clinicians and their patients: care links and invitations, the caseload
//! query, measurements, notes, plan edits, outcome questionnaires, and the
//! admin's user management and audit search. Every write goes in one
//! transaction with its audit row.

use kneepath_core::Day;
use kneepath_core::caseload::CaseSummary;
use kneepath_core::outcomes::Score;
use kneepath_core::plan::EditKind;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::assessments::assessment_stmts_by;
use crate::audit::audit_in;
use crate::audit::{AuditAction, AuditEntity};
use crate::plan::{NewPhaseChange, PlanVersion, phase_change_stmt, plan_guard};
use crate::sql::{Cells, Stmt, day_of, exec_in};
use crate::users::{USER_COLS_U, user_from_row};
use crate::{
    ConflictKind, NewAssessment, NewAudit, Result, Role, Store, StoreError, User, UserId, corrupt,
    new_id, now_rfc3339, random_token, sha256_hex,
};

/// An active link between a patient and a clinician.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CareLink {
    pub id: String,
    /// The other side of the link (the clinician for a patient, and so on).
    pub other: User,
    pub created_at: String,
}

/// One patient of a clinician's caseload with what the dashboard needs.
#[derive(Debug, Clone)]
pub struct CaseloadEntry {
    pub patient: CaseloadPatient,
    /// Their caseload summary (as stored, or rebuilt from their rows when
    /// none is: see [`Store::caseload`]).
    pub summary: CaseSummary,
}

/// What the dashboard shows of a patient.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseloadPatient {
    pub id: UserId,
    pub display_name: String,
    pub email: String,
    /// Their IANA time zone (`None`: the server's).
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasurementRow {
    pub id: String,
    pub author: Option<String>,
    pub assessment_id: String,
    pub day: Day,
    pub data: serde_json::Value,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoteRow {
    pub id: String,
    pub author: Option<String>,
    pub body: String,
    pub created_at: String,
}

/// A clinician's change to a plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanEditRow {
    pub id: String,
    pub author: Option<String>,
    /// What was changed; `Clear`: a plan rule lifted.
    pub kind: EditKind,
    /// The exercise edited; for `clear`, the plan rule's id (P2).
    pub exercise: String,
    pub replacement: Option<String>,
    pub dosage: Option<String>,
    pub reason: String,
    pub created_at: String,
}

/// A plan edit to store.
#[derive(Debug, Clone, Copy)]
pub struct NewPlanEdit<'a> {
    pub patient_id: &'a UserId,
    pub author_id: &'a UserId,
    pub kind: EditKind,
    pub exercise: &'a str,
    pub replacement: Option<&'a str>,
    pub dosage: Option<&'a str>,
    pub reason: &'a str,
    /// The version of the plan the edit was checked against.
    pub plan_version: PlanVersion,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeRow {
    pub id: String,
    pub instrument: String,
    pub day: Day,
    pub answers: std::collections::BTreeMap<String, u8>,
    pub scores: Vec<Score>,
    pub created_at: String,
}

fn author(r: &AnyRow) -> Result<Option<String>> {
    Ok(r.try_get("author_name")?)
}

pub(crate) fn plan_edits_stmt(patient_id: &UserId) -> Stmt {
    Stmt::new(
        "SELECT e.id, e.kind, e.exercise, e.replacement, e.dosage, e.reason, e.created_at, a.display_name AS author_name FROM plan_edits e LEFT JOIN users a ON a.id = e.author_id WHERE e.patient_id = $1 ORDER BY e.created_at, e.id",
    )
    .arg(patient_id)
}

pub(crate) fn plan_edit_from_row<R: Cells + ?Sized>(r: &R) -> Result<PlanEditRow> {
    Ok(PlanEditRow {
        id: r.text("id")?,
        author: r.opt_text("author_name")?,
        kind: {
            let kind = r.text("kind")?;
            EditKind::parse(&kind).ok_or_else(|| corrupt(format!("plan edit kind {kind}")))?
        },
        exercise: r.text("exercise")?,
        replacement: r.opt_text("replacement")?,
        dosage: r.opt_text("dosage")?,
        reason: r.text("reason")?,
        created_at: r.text("created_at")?,
    })
}

impl Store {
    // --- invitations and links ---------------------------------------------------

    /// A single-use invitation for `clinician_id`, valid `ttl_hours`:
    /// returns the token for the link (only its hash is stored).
    pub async fn create_invite(
        &self,
        clinician_id: &UserId,
        ttl_hours: i64,
        ip: Option<&str>,
    ) -> Result<String> {
        let token = random_token();
        let now = jiff::Timestamp::now().as_millisecond();
        self.write_audited(
            vec![
                Stmt::new("INSERT INTO invites (token_hash, clinician_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                    .arg(sha256_hex(&token))
                    .arg(clinician_id)
                    .arg(crate::ids::format_ms(now))
                    .arg(crate::ids::format_ms(now + ttl_hours * 3_600_000)),
            ],
            &NewAudit::of(clinician_id, None, AuditAction::Create, AuditEntity::Invite).from(ip),
        )
        .await?;
        Ok(token)
    }

    /// The clinician an unused, unexpired invitation comes from.
    pub async fn invite_clinician(&self, token: &str) -> Result<User> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLS_U}, i.expires_at, i.used_at FROM invites i JOIN users u ON u.id = i.clinician_id WHERE i.token_hash = $1"
        )))
        .bind(sha256_hex(token))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::NotFound);
        };
        let used: Option<String> = row.try_get("used_at")?;
        let expires: String = row.try_get("expires_at")?;
        if used.is_some() {
            return Err(StoreError::Conflict(ConflictKind::InviteUsed));
        }
        if expires < now_rfc3339() {
            return Err(StoreError::Conflict(ConflictKind::InviteExpired));
        }
        let user = user_from_row(&row)?;
        if user.disabled {
            return Err(StoreError::NotFound);
        }
        Ok(user)
    }

    /// Use an invitation: links the patient to its clinician. Single use
    /// even under concurrent requests (the update claims the row).
    pub async fn accept_invite(
        &self,
        token: &str,
        patient_id: &UserId,
        ip: Option<&str>,
    ) -> Result<User> {
        let clinician = self.invite_clinician(token).await?;
        let _writing = self.writer().await;
        let mut tx = self.pool.begin().await?;
        crate::summary::lock_in(&mut tx, self.backend(), [patient_id]).await?;
        let claimed = sqlx::query(
            "UPDATE invites SET used_at = $1, used_by = $2 WHERE token_hash = $3 AND used_at IS NULL",
        )
        .bind(now_rfc3339())
        .bind(patient_id.as_str())
        .bind(sha256_hex(token))
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() != 1 {
            return Err(StoreError::Conflict(ConflictKind::InviteUsed));
        }
        let existing: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM care_links WHERE patient_id = $1 AND clinician_id = $2 AND revoked_at IS NULL",
        )
        .bind(patient_id.as_str())
        .bind(&clinician.id)
        .fetch_optional(&mut *tx)
        .await?;
        let link_id = match existing {
            Some((id,)) => id,
            None => {
                let id = new_id();
                sqlx::query("INSERT INTO care_links (id, patient_id, clinician_id, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(&id)
                    .bind(patient_id.as_str())
                    .bind(&clinician.id)
                    .bind(now_rfc3339())
                    .execute(&mut *tx)
                    .await?;
                id
            }
        };
        audit_in(
            &mut tx,
            &NewAudit::of(
                patient_id,
                Some(patient_id),
                AuditAction::Create,
                AuditEntity::CareLink,
            )
            .id(&link_id)
            .from(ip)
            .detail(&clinician.id),
        )
        .await?;
        // The clinician's dashboard reads the patient's summary from now on.
        crate::summary::refresh_in(&mut tx, &[crate::summary::rebuild_stmt(patient_id)]).await?;
        tx.commit().await?;
        Ok(clinician)
    }

    /// A patient's active links, with the clinicians.
    pub async fn links_of_patient(&self, patient_id: &UserId) -> Result<Vec<CareLink>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLS_U}, l.id AS link_id, l.created_at AS linked_at FROM care_links l JOIN users u ON u.id = l.clinician_id WHERE l.patient_id = $1 AND l.revoked_at IS NULL ORDER BY l.created_at, l.id"
        )))
        .bind(patient_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CareLink {
                    id: r.try_get("link_id")?,
                    other: user_from_row(r)?,
                    created_at: r.try_get("linked_at")?,
                })
            })
            .collect()
    }

    /// End a link; `by` must be one of its two sides. Returns whether a link
    /// was ended.
    pub async fn revoke_link(&self, link_id: &str, by: &UserId, ip: Option<&str>) -> Result<bool> {
        // Whose link it is (a link's sides never change), for the audit row.
        let link: Option<(UserId,)> = sqlx::query_as(
            "SELECT patient_id FROM care_links WHERE id = $1 AND revoked_at IS NULL AND (patient_id = $2 OR clinician_id = $2)",
        )
        .bind(link_id)
        .bind(by.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some((patient_id,)) = link else {
            return Ok(false);
        };
        // Ended only while still active: two ends at once end it once.
        let ended = self
            .write_audited(
                vec![
                    Stmt::new("UPDATE care_links SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                        .arg(now_rfc3339())
                        .arg(link_id)
                        .found(),
                    // Deleted when this was the patient's last link.
                    crate::summary::rebuild_stmt(&patient_id),
                ],
                &NewAudit::of(by, Some(&patient_id), AuditAction::Delete, AuditEntity::CareLink)
                    .id(link_id)
                    .from(ip),
            )
            .await;
        match ended {
            Err(StoreError::NotFound) => Ok(false),
            Err(e) => Err(e),
            Ok(()) => Ok(true),
        }
    }

    /// Whether the clinician currently looks after the patient.
    pub async fn is_linked(&self, clinician_id: &UserId, patient_id: &UserId) -> Result<bool> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM care_links WHERE clinician_id = $1 AND patient_id = $2 AND revoked_at IS NULL",
        )
        .bind(clinician_id.as_str())
        .bind(patient_id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Link directly (admin tools, seeding and tests).
    pub async fn link(&self, clinician_id: &UserId, patient_id: &UserId) -> Result<String> {
        let id = new_id();
        self.write_all(vec![
            Stmt::new("INSERT INTO care_links (id, patient_id, clinician_id, created_at) VALUES ($1, $2, $3, $4)")
                .arg(&id)
                .arg(patient_id)
                .arg(clinician_id)
                .arg(now_rfc3339()),
            crate::summary::rebuild_stmt(patient_id),
        ])
        .await?;
        Ok(id)
    }

    // --- the caseload ---------------------------------------------------------------

    /// Every active patient of a clinician with their caseload summary
    /// ([`crate::summary`]): one range of `caseload_rows`' primary key,
    /// whatever the caseload's size and the patients' histories. In no
    /// particular order.
    ///
    /// The same statement counts the clinician's active links (from their
    /// covering index). When a linked patient has no row (a restore between
    /// its commit and the rebuild, or a rebuild cut short) the
    /// caseload is read from the links instead, and such a patient is
    /// judged from their records, never left out or taken as someone with
    /// nothing recorded.
    pub async fn caseload(&self, clinician_id: &UserId) -> Result<Vec<CaseloadEntry>> {
        let fast = Stmt::new(
            "SELECT patient_id, display_name, email, time_zone, data, \
             (SELECT COUNT(DISTINCT patient_id) FROM care_links WHERE clinician_id = $1 AND revoked_at IS NULL) AS links \
             FROM caseload_rows WHERE clinician_id = $1",
        )
        .arg(clinician_id);
        // The rows as stored; their summaries are decoded here, on the
        // caller's thread (on SQLite, not on the one database thread).
        fn raw<R: Cells + ?Sized>(r: &R) -> Result<(CaseloadPatient, Option<Vec<u8>>)> {
            Ok((
                CaseloadPatient {
                    id: UserId::new(r.text("patient_id")?),
                    display_name: r.text("display_name")?,
                    email: r.text("email")?,
                    time_zone: r.opt_text("time_zone")?,
                },
                r.opt_bytes("data")?,
            ))
        }
        let rows = self
            .read_rows(fast, |r| Ok((raw(r)?, r.int("links")?)))
            .await?;
        let links = rows.first().map_or(0, |(_, n)| *n);
        let rows = if usize::try_from(links).ok() == Some(rows.len()) && !rows.is_empty() {
            rows.into_iter().map(|(row, _)| row).collect()
        } else {
            // No row at all (maybe none needed), or fewer rows than links.
            let from_links = Stmt::new(
                "SELECT DISTINCT u.id AS patient_id, u.display_name, u.email, u.time_zone, r.data \
                 FROM care_links l JOIN users u ON u.id = l.patient_id \
                 LEFT JOIN caseload_rows r ON r.clinician_id = l.clinician_id AND r.patient_id = l.patient_id \
                 WHERE l.clinician_id = $1 AND l.revoked_at IS NULL",
            )
            .arg(clinician_id);
            self.read_rows(from_links, |r| raw(r)).await?
        };
        let mut entries = Vec::with_capacity(rows.len());
        for (patient, summary) in rows {
            // Every linked patient has a readable summary at rest. Without
            // one the patient is judged from their records.
            let summary = match summary.as_deref().and_then(crate::summary::decode) {
                Some(summary) => summary,
                None => self.rebuilt_summary(&patient.id).await?,
            };
            entries.push(CaseloadEntry { patient, summary });
        }
        Ok(entries)
    }

    // --- measurements, notes, plan edits ---------------------------------------------

    /// Store test results with the assessment they were re-run in (which
    /// carries the plan on: no new plan starts).
    pub async fn insert_measurement(
        &self,
        author_id: &UserId,
        data: &serde_json::Value,
        assessment: &NewAssessment<'_>,
        read: PlanVersion,
        ip: Option<&str>,
    ) -> Result<String> {
        let mut stmts = vec![plan_guard(assessment.user_id, read)];
        // The clinician re-ran the assessment, and is its audit row's actor.
        let (assessment_id, more) = assessment_stmts_by(assessment, Some(author_id), None, ip)?;
        stmts.extend(more);
        let id = new_id();
        stmts.push(
            Stmt::new("INSERT INTO measurements (id, patient_id, author_id, assessment_id, day, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .arg(&id)
                .arg(assessment.user_id)
                .arg(author_id)
                .arg(&assessment_id)
                .arg(assessment.day)
                .arg(serde_json::to_string(data).map_err(corrupt)?)
                .arg(now_rfc3339()),
        );
        self.write_audited(
            stmts,
            &NewAudit::of(
                author_id,
                Some(assessment.user_id),
                AuditAction::Create,
                AuditEntity::Measurement,
            )
            .id(&id)
            .from(ip),
        )
        .await?;
        Ok(id)
    }

    pub async fn measurements(&self, patient_id: &UserId) -> Result<Vec<MeasurementRow>> {
        let rows = sqlx::query(
            "SELECT m.id, m.assessment_id, m.day, m.data, m.created_at, a.display_name AS author_name FROM measurements m LEFT JOIN users a ON a.id = m.author_id WHERE m.patient_id = $1 ORDER BY m.created_at, m.id",
        )
        .bind(patient_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let data: String = r.try_get("data")?;
                Ok(MeasurementRow {
                    id: r.try_get("id")?,
                    author: author(r)?,
                    assessment_id: r.try_get("assessment_id")?,
                    day: day_of(r, "day")?,
                    data: serde_json::from_str(&data).map_err(corrupt)?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    pub async fn add_note(
        &self,
        patient_id: &UserId,
        author_id: &UserId,
        body: &str,
        ip: Option<&str>,
    ) -> Result<String> {
        let id = new_id();
        self.write_audited(
            vec![
                Stmt::new("INSERT INTO notes (id, patient_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .arg(&id)
                    .arg(patient_id)
                    .arg(author_id)
                    .arg(body)
                    .arg(now_rfc3339()),
            ],
            &NewAudit::of(author_id, Some(patient_id), AuditAction::Create, AuditEntity::Note)
                .id(&id)
                .from(ip),
        )
        .await?;
        Ok(id)
    }

    pub async fn notes(&self, patient_id: &UserId) -> Result<Vec<NoteRow>> {
        let rows = sqlx::query(
            "SELECT n.id, n.body, n.created_at, a.display_name AS author_name FROM notes n LEFT JOIN users a ON a.id = n.author_id WHERE n.patient_id = $1 ORDER BY n.created_at, n.id",
        )
        .bind(patient_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(NoteRow {
                    id: r.try_get("id")?,
                    author: author(r)?,
                    body: r.try_get("body")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    pub async fn add_plan_edit(&self, e: &NewPlanEdit<'_>, ip: Option<&str>) -> Result<String> {
        let id = new_id();
        self.write_audited(
            vec![
                plan_guard(e.patient_id, e.plan_version),
                Stmt::new("INSERT INTO plan_edits (id, patient_id, author_id, kind, exercise, replacement, dosage, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                    .arg(&id)
                    .arg(e.patient_id)
                    .arg(e.author_id)
                    .arg(e.kind.as_str())
                    .arg(e.exercise)
                    .arg(e.replacement)
                    .arg(e.dosage)
                    .arg(e.reason)
                    .arg(now_rfc3339()),
            ],
            &NewAudit::of(e.author_id, Some(e.patient_id), AuditAction::Update, AuditEntity::Plan)
                .id(&id)
                .from(ip)
                .detail(e.kind.as_str()),
        )
        .await?;
        Ok(id)
    }

    pub async fn plan_edits(&self, patient_id: &UserId) -> Result<Vec<PlanEditRow>> {
        let rows = plan_edits_stmt(patient_id)
            .query()
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(plan_edit_from_row).collect()
    }

    /// A clinician moves the plan to another phase, with the reason; with
    /// no `from`, gives a home plan where the triage gave none (the policy
    /// leaves a plan at urgent and above to a clinician).
    #[allow(clippy::too_many_arguments)]
    pub async fn move_phase(
        &self,
        patient_id: &UserId,
        author_id: &UserId,
        assessment_id: &str,
        day: Day,
        from: Option<&str>,
        to: &str,
        reason: &str,
        read: PlanVersion,
        ip: Option<&str>,
    ) -> Result<()> {
        self.write_audited(
            vec![
                plan_guard(patient_id, read),
                phase_change_stmt(&NewPhaseChange {
                    user_id: patient_id,
                    assessment_id,
                    day,
                    from,
                    to,
                    reason,
                    author_id: Some(author_id),
                }),
            ],
            &NewAudit::of(
                author_id,
                Some(patient_id),
                AuditAction::Update,
                AuditEntity::Phase,
            )
            .from(ip)
            .detail(to),
        )
        .await
    }

    // --- outcome questionnaires ------------------------------------------------------

    pub async fn insert_outcome(
        &self,
        patient_id: &UserId,
        instrument: &str,
        day: Day,
        answers: &std::collections::BTreeMap<String, u8>,
        scores: &[Score],
        ip: Option<&str>,
    ) -> Result<String> {
        let id = new_id();
        self.write_audited(
            vec![
                Stmt::new("INSERT INTO outcome_responses (id, patient_id, instrument, day, answers, scores, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .arg(&id)
                    .arg(patient_id)
                    .arg(instrument)
                    .arg(day)
                    .arg(serde_json::to_string(answers).map_err(corrupt)?)
                    .arg(serde_json::to_string(scores).map_err(corrupt)?)
                    .arg(now_rfc3339()),
            ],
            &NewAudit::of(patient_id, Some(patient_id), AuditAction::Create, AuditEntity::Outcome)
                .id(&id)
                .from(ip)
                .detail(instrument),
        )
        .await?;
        Ok(id)
    }

    /// A patient's questionnaires, oldest first.
    pub async fn outcomes(&self, patient_id: &UserId) -> Result<Vec<OutcomeRow>> {
        let rows = sqlx::query(
            "SELECT id, instrument, day, answers, scores, created_at FROM outcome_responses WHERE patient_id = $1 ORDER BY created_at, id",
        )
        .bind(patient_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let answers: String = r.try_get("answers")?;
                let scores: String = r.try_get("scores")?;
                Ok(OutcomeRow {
                    id: r.try_get("id")?,
                    instrument: r.try_get("instrument")?,
                    day: day_of(r, "day")?,
                    answers: serde_json::from_str(&answers).map_err(corrupt)?,
                    scores: serde_json::from_str(&scores).map_err(corrupt)?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    // --- administration -----------------------------------------------------------------

    /// Accounts, newest first, optionally of one role and matching a search
    /// in email or name.
    pub async fn users(&self, role: Option<Role>, search: &str, limit: i64) -> Result<Vec<User>> {
        let pattern = format!("%{}%", search.trim().to_lowercase());
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLS_U} FROM users u WHERE u.guest_until IS NULL AND ($1 = '' OR u.role = $1) AND (LOWER(u.email) LIKE $2 OR LOWER(u.display_name) LIKE $2) ORDER BY u.created_at DESC, u.id LIMIT $3"
        )))
        .bind(role.map_or("", Role::as_str))
        .bind(pattern)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLS_U} FROM users u WHERE u.email = $1 AND u.guest_until IS NULL"
        )))
        .bind(email.trim().to_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Disable or enable an account; disabling ends its sessions.
    pub async fn set_disabled(
        &self,
        user_id: &UserId,
        disabled: bool,
        actor_id: &UserId,
        ip: Option<&str>,
    ) -> Result<()> {
        let mut stmts = vec![
            Stmt::new("UPDATE users SET disabled = $1 WHERE id = $2")
                .arg(i64::from(disabled))
                .arg(user_id)
                .found(),
        ];
        if disabled {
            stmts.push(Stmt::new("DELETE FROM sessions WHERE user_id = $1").arg(user_id));
        }
        self.write_audited(
            stmts,
            &NewAudit::of(
                actor_id,
                Some(user_id),
                AuditAction::Update,
                AuditEntity::User,
            )
            .id(user_id)
            .from(ip)
            .detail(if disabled { "disabled" } else { "enabled" }),
        )
        .await?;
        if disabled {
            self.forget_sessions_of(user_id);
        }
        Ok(())
    }

    /// Set a new password: an admin's reset, or the account holder's own
    /// change (`actor_id` is the account). Ends every session of the
    /// account, in the same transaction as the audit row.
    pub async fn set_password(
        &self,
        user_id: &UserId,
        password: &str,
        actor_id: &UserId,
        ip: Option<&str>,
    ) -> Result<()> {
        let hash = crate::users::hash_password(password.to_string()).await?;
        self.write_audited(
            new_password(user_id, hash),
            &NewAudit::of(
                actor_id,
                Some(user_id),
                AuditAction::Update,
                AuditEntity::Password,
            )
            .id(user_id)
            .from(ip)
            .detail(if actor_id == user_id {
                "changed by the account holder"
            } else {
                "reset"
            }),
        )
        .await?;
        self.forget_sessions_of(user_id);
        Ok(())
    }

    /// An administrator's reset of `user_id`'s password: a single-use link
    /// token valid for `hours` (returned; only its hash is kept). At once
    /// the old password stops working, and the account's sessions, API
    /// tokens and calendar links end; the admin never holds a password.
    pub async fn start_password_reset(
        &self,
        user_id: &UserId,
        admin_id: &UserId,
        hours: i64,
        ip: Option<&str>,
    ) -> Result<String> {
        let token = crate::random_token();
        let now = jiff::Timestamp::now().as_millisecond();
        // A hash no password matches (not a PHC string at all).
        let mut stmts = new_password(user_id, "!reset".into());
        stmts.push(
            Stmt::new("INSERT INTO password_resets (token_hash, user_id, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
                .arg(crate::sha256_hex(&token))
                .arg(user_id)
                .arg(admin_id)
                .arg(crate::ids::format_ms(now))
                .arg(crate::ids::format_ms(now + hours * 3_600_000)),
        );
        self.write_audited(
            stmts,
            &NewAudit::of(
                admin_id,
                Some(user_id),
                AuditAction::Reset,
                AuditEntity::Password,
            )
            .id(user_id)
            .from(ip)
            .detail("reset link issued; old password, sessions, tokens and calendar links ended"),
        )
        .await?;
        self.forget_sessions_of(user_id);
        Ok(token)
    }

    /// A reset link asked for by the account's owner ("forgot your
    /// password"): a single-use token valid for `hours` (returned; only its
    /// hash is kept). Unlike an administrator's reset, the password keeps
    /// working until the link is used: whoever asked may not be the owner.
    pub async fn issue_reset_link(
        &self,
        user_id: &UserId,
        hours: i64,
        ip: Option<&str>,
    ) -> Result<String> {
        let token = crate::random_token();
        let now = jiff::Timestamp::now().as_millisecond();
        self.write_audited(
            vec![
                Stmt::new("INSERT INTO password_resets (token_hash, user_id, created_by, created_at, expires_at) VALUES ($1, $2, NULL, $3, $4)")
                    .arg(crate::sha256_hex(&token))
                    .arg(user_id)
                    .arg(crate::ids::format_ms(now))
                    .arg(crate::ids::format_ms(now + hours * 3_600_000)),
            ],
            &NewAudit {
                actor_id: None,
                subject_id: Some(user_id),
                action: AuditAction::Create,
                entity: AuditEntity::ResetLink,
                entity_id: None,
                ip,
                detail: Some("asked for by email"),
            },
        )
        .await?;
        Ok(token)
    }

    /// The account a reset link is for, if it is unused and unexpired.
    pub async fn password_reset_user(&self, token: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2")
            .bind(crate::sha256_hex(token))
            .bind(now_rfc3339())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => self.user_by_id(&r.try_get::<UserId, _>("user_id")?).await,
            None => Ok(None),
        }
    }

    /// Use a reset link: set the new password, once. `None` when the link
    /// is unknown, used or expired (nothing changed).
    pub async fn use_password_reset(
        &self,
        token: &str,
        password: &str,
        ip: Option<&str>,
    ) -> Result<Option<UserId>> {
        let hash = crate::users::hash_password(password.to_string()).await?;
        let _writing = self.writer().await;
        let mut tx = self.pool.begin().await?;
        let now = now_rfc3339();
        // Claimed with the update itself, so two uses cannot both win.
        let row = sqlx::query("UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id")
            .bind(&now)
            .bind(crate::sha256_hex(token))
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let user_id: UserId = row.try_get("user_id")?;
        // Any other link still open for the account ends with this one.
        sqlx::query(
            "UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL",
        )
        .bind(&now)
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(&user_id)
            .execute(&mut *tx)
            .await?;
        for st in &end_access(&user_id) {
            exec_in(&mut tx, st).await?;
        }
        audit_in(
            &mut tx,
            &NewAudit::of(
                &user_id,
                Some(&user_id),
                AuditAction::Update,
                AuditEntity::Password,
            )
            .id(&user_id)
            .from(ip)
            .detail("set with a reset link"),
        )
        .await?;
        tx.commit().await?;
        self.forget_sessions_of(&user_id);
        Ok(Some(user_id))
    }
}

/// A new password hash for an account, which must exist, and the end of
/// every other way in to it ([`end_access`]).
fn new_password(user_id: &UserId, hash: String) -> Vec<Stmt> {
    let mut stmts = vec![
        Stmt::new("UPDATE users SET password_hash = $1 WHERE id = $2")
            .arg(hash)
            .arg(user_id)
            .found(),
    ];
    stmts.extend(end_access(user_id));
    stmts
}

/// End every way in to an account but a password: its sessions, API tokens
/// (revoked, kept for the record) and calendar links.
fn end_access(user_id: &UserId) -> [Stmt; 3] {
    [
        Stmt::new("DELETE FROM sessions WHERE user_id = $1").arg(user_id),
        Stmt::new(
            "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .arg(now_rfc3339())
        .arg(user_id),
        Stmt::new("DELETE FROM calendar_tokens WHERE user_id = $1").arg(user_id),
    ]
}
