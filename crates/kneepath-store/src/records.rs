//! Clinical records (assessments, check-ins, phase changes, escalations,
//! wizard drafts) and the audit log. Records are inserted, never updated;
//! each write goes in one transaction with its audit row.

use kneepath_core::checkin::CheckIn;
use kneepath_core::report::AssessmentReport;
use kneepath_core::{Day, TriageLevel};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::clinic::{PlanEditRow, plan_edit_from_row, plan_edits_stmt};
use crate::sql::{Cells, Stmt};
use crate::{Result, Store, StoreError, new_id, now_rfc3339};

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

fn checkin_from_row<R: Cells + ?Sized>(r: &R) -> Result<CheckInRow> {
    RawCheckin::of(r)?.decode()
}

/// A check-in row as stored, its JSON not read yet. The native path reads
/// rows on the one database thread, the serial resource under load, and
/// leaves parsing the JSON to the caller's thread.
struct RawCheckin {
    id: String,
    assessment_id: String,
    data: String,
    created_at: String,
}

impl RawCheckin {
    fn of<R: Cells + ?Sized>(r: &R) -> Result<RawCheckin> {
        Ok(RawCheckin {
            id: r.text("id")?,
            assessment_id: r.text("assessment_id")?,
            data: r.text("data")?,
            created_at: r.text("created_at")?,
        })
    }

    fn decode(self) -> Result<CheckInRow> {
        Ok(CheckInRow {
            checkin: serde_json::from_str(&self.data).map_err(corrupt)?,
            id: self.id,
            assessment_id: self.assessment_id,
            created_at: self.created_at,
            corrections: None,
        })
    }
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

/// Run statements in order in an sqlx transaction.
pub(crate) async fn exec_in(tx: &mut Transaction<'_, Any>, stmt: &Stmt) -> Result<()> {
    let done = stmt.query().execute(&mut **tx).await?;
    stmt.check(done.rows_affected())
}

/// The version of a person's plan as read with it (`users.plan_version`,
/// migration 0007). Every write that changes what a plan is computed from
/// adds one to it in the same transaction ([`plan_bump`]); a write decided
/// from a plan read earlier carries the version it read and is refused with
/// [`StoreError::PlanChanged`] when the plan changed in between
/// ([`plan_guard`]), across processes and instances alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanVersion(pub(crate) i64);

/// Refuse the write unless the person's plan is still at `read`; move it on.
/// On PostgreSQL it also takes the person's row lock first, so a second
/// writer waits for the first to commit and then finds the version moved.
pub(crate) fn plan_guard(user_id: &str, read: PlanVersion) -> Stmt {
    Stmt::new(
        "UPDATE users SET plan_version = plan_version + 1 WHERE id = $1 AND plan_version = $2",
    )
    .arg(user_id)
    .arg(read.0)
    .guarding()
}

/// Move the person's plan version on (a write that does not depend on what
/// the plan was, such as a new assessment).
pub(crate) fn plan_bump(user_id: &str) -> Stmt {
    Stmt::new("UPDATE users SET plan_version = plan_version + 1 WHERE id = $1").arg(user_id)
}

/// What the rules decided on a check-in, as statements: the re-triage's
/// assessment, the phase change and the escalation (the same for a new
/// check-in and a corrected one).
fn consequences(w: &CheckinWrite<'_>) -> Result<Vec<Stmt>> {
    let mut stmts = Vec::new();
    let mut assessment_id = w.assessment_id.to_string();
    if let Some(a) = &w.retriage {
        let (new_id, more) = assessment_stmts(a, w.ip)?;
        assessment_id = new_id;
        stmts.extend(more);
    }
    if let Some((from, to, day, reason)) = w.phase_change {
        stmts.push(phase_change_stmt(&PhaseChange {
            user_id: w.user_id,
            assessment_id: &assessment_id,
            day,
            from: Some(from),
            to,
            reason,
            author_id: None,
        }));
    }
    if let Some(kind) = w.escalation {
        stmts.push(
            Stmt::new("INSERT INTO escalations (id, user_id, assessment_id, day, kind, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .arg(new_id())
                .arg(w.user_id)
                .arg(&assessment_id)
                .arg(w.checkin.day)
                .arg(kind)
                .arg(now_rfc3339()),
        );
    }
    Ok(stmts)
}

/// A stored assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessmentRow {
    pub id: String,
    pub user_id: String,
    pub created_at: String,
    pub day: Day,
    pub source: String,
    /// The facts, as a JSON object in the case vocabulary.
    pub facts: serde_json::Map<String, serde_json::Value>,
    /// The report exactly as it was shown.
    pub report: AssessmentReport,
    pub level: TriageLevel,
    pub kb_version: String,
}

/// An assessment without its report: what the plan and the rules need, read
/// without parsing the stored explanation texts.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessmentHead {
    pub id: String,
    pub user_id: String,
    pub day: Day,
    pub source: String,
    pub facts: serde_json::Map<String, serde_json::Value>,
    pub level: TriageLevel,
    pub kb_version: String,
}

/// An assessment to store.
#[derive(Debug, Clone)]
pub struct NewAssessment<'a> {
    pub user_id: &'a str,
    pub day: Day,
    /// `wizard`, `checkin` or `import`.
    pub source: &'a str,
    pub facts: &'a serde_json::Map<String, serde_json::Value>,
    pub report: &'a AssessmentReport,
    /// The phase the home plan starts in, with the reason; none at urgent
    /// and above.
    pub start_phase: Option<(&'a str, &'a str)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseChangeRow {
    pub id: String,
    pub assessment_id: String,
    /// First day whose check-ins count for `to_phase`.
    pub day: Day,
    pub from_phase: Option<String>,
    pub to_phase: String,
    pub reason: String,
    pub created_at: String,
    /// The clinician who moved the phase by hand; none when the
    /// progression rules did.
    pub author_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckInRow {
    pub id: String,
    pub assessment_id: String,
    pub checkin: CheckIn,
    pub created_at: String,
    /// How many times the person corrected it (each replaced set of values
    /// is a row of `checkin_revisions`); `None` in the reads made for the
    /// progression rules, which do not need it.
    pub corrections: Option<u32>,
}

/// The values a check-in had before a correction replaced them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckinRevisionRow {
    pub checkin_id: String,
    pub checkin: CheckIn,
    pub replaced_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EscalationRow {
    pub assessment_id: String,
    pub day: Day,
    pub kind: String,
    pub created_at: String,
}

/// A check-in to store, with what the rules decided because of it.
#[derive(Debug, Clone)]
pub struct CheckinWrite<'a> {
    pub user_id: &'a str,
    pub assessment_id: &'a str,
    pub checkin: &'a CheckIn,
    /// (from, to, first day, reason)
    pub phase_change: Option<(&'a str, &'a str, Day, &'a str)>,
    pub escalation: Option<&'a str>,
    /// A warning sign re-ran triage: the new assessment.
    pub retriage: Option<NewAssessment<'a>>,
    pub ip: Option<&'a str>,
    /// The version of the plan the rules read (`PlanInputs::version`).
    pub plan_version: PlanVersion,
}

pub(crate) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

pub(crate) fn day_of<R: Cells + ?Sized>(r: &R, col: &str) -> Result<Day> {
    r.day(col)
}

fn assessment_from_row(r: &AnyRow) -> Result<AssessmentRow> {
    let facts: String = r.try_get("facts")?;
    let report: String = r.try_get("report")?;
    let level: String = r.try_get("level")?;
    Ok(AssessmentRow {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        created_at: r.try_get("created_at")?,
        day: day_of(r, "day")?,
        source: r.try_get("source")?,
        facts: serde_json::from_str(&facts).map_err(corrupt)?,
        report: serde_json::from_str(&report).map_err(corrupt)?,
        level: TriageLevel::parse(&level).ok_or_else(|| corrupt(format!("level {level}")))?,
        kb_version: r.try_get("kb_version")?,
    })
}

fn head_stmt(user_id: &str) -> Stmt {
    Stmt::new(
        "SELECT id, user_id, day, source, facts, level, kb_version, (SELECT plan_version FROM users WHERE id = $1) AS plan_version FROM assessments WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .arg(user_id)
}

fn head_from_row<R: Cells + ?Sized>(r: &R) -> Result<(AssessmentHead, PlanVersion)> {
    let raw = RawHead::of(r)?;
    let version = raw.version;
    Ok((raw.decode()?, version))
}

/// The newest assessment as stored, its facts' JSON not read yet (see
/// [`RawCheckin`]).
struct RawHead {
    head: AssessmentHead,
    facts: String,
    /// Read in the same statement as the assessment, so before anything
    /// else of the plan: a change made after it moves it on.
    version: PlanVersion,
}

impl RawHead {
    fn of<R: Cells + ?Sized>(r: &R) -> Result<RawHead> {
        let level = r.text("level")?;
        Ok(RawHead {
            head: AssessmentHead {
                id: r.text("id")?,
                user_id: r.text("user_id")?,
                day: r.day("day")?,
                source: r.text("source")?,
                facts: serde_json::Map::new(),
                level: TriageLevel::parse(&level)
                    .ok_or_else(|| corrupt(format!("level {level}")))?,
                kb_version: r.text("kb_version")?,
            },
            facts: r.text("facts")?,
            version: PlanVersion(r.int("plan_version")?),
        })
    }

    fn decode(self) -> Result<AssessmentHead> {
        Ok(AssessmentHead {
            facts: serde_json::from_str(&self.facts).map_err(corrupt)?,
            ..self.head
        })
    }
}

fn phase_changes_stmt(user_id: &str) -> Stmt {
    Stmt::new(
        "SELECT id, assessment_id, day, from_phase, to_phase, reason, created_at, author_id FROM phase_changes WHERE user_id = $1 ORDER BY created_at, id",
    )
    .arg(user_id)
}

fn phase_change_from_row<R: Cells + ?Sized>(r: &R) -> Result<PhaseChangeRow> {
    Ok(PhaseChangeRow {
        id: r.text("id")?,
        assessment_id: r.text("assessment_id")?,
        day: r.day("day")?,
        from_phase: r.opt_text("from_phase")?,
        to_phase: r.text("to_phase")?,
        reason: r.text("reason")?,
        created_at: r.text("created_at")?,
        author_id: r.opt_text("author_id")?,
    })
}

/// The check-ins of a user that were corrected, once per correction: one
/// range of `checkin_revisions`' index, counted into the rows by
/// [`count_corrections`] (cheaper than a count per check-in row).
fn revised_stmt(user_id: &str) -> Stmt {
    Stmt::new("SELECT checkin_id FROM checkin_revisions WHERE user_id = $1").arg(user_id)
}

/// Set each row's number of corrections from the ids `revised_stmt` read.
fn count_corrections(rows: &mut [CheckInRow], revised: &[String]) {
    for row in rows {
        row.corrections = Some(revised.iter().filter(|id| **id == row.id).count() as u32);
    }
}

fn checkins_stmt(user_id: &str) -> Stmt {
    Stmt::new(
        "SELECT id, assessment_id, data, created_at FROM checkins WHERE user_id = $1 ORDER BY day",
    )
    .arg(user_id)
}

fn checkins_for_rules_stmt(user_id: &str, plan_start: Day, today: Day) -> Stmt {
    use kneepath_core::progress::{RULES_LOOKBACK_CHECKINS, RULES_LOOKBACK_DAYS};
    Stmt::new(format!(
        "SELECT id, assessment_id, data, created_at FROM checkins WHERE user_id = $1 AND day >= $2 \
         AND (day <= $3 OR day >= $4 OR day >= COALESCE((SELECT c2.day FROM checkins c2 WHERE c2.user_id = $1 ORDER BY c2.day DESC LIMIT 1 OFFSET {}), $2)) \
         ORDER BY day",
        RULES_LOOKBACK_CHECKINS - 1
    ))
    .arg(user_id)
    .arg(plan_start)
    .arg(plan_start.plus(6))
    .arg(today.plus(-RULES_LOOKBACK_DAYS))
}

/// What a person's current plan is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanInputs {
    /// The newest assessment: it governs the plan.
    pub head: AssessmentHead,
    /// The current plan's phase changes, oldest first: from the newest
    /// start of a plan (a change without `from_phase`) on.
    pub history: Vec<PhaseChangeRow>,
    /// The day the current plan started.
    pub plan_start: Day,
    /// Clinicians' edits made since the plan started, oldest first.
    pub edits: Vec<PlanEditRow>,
    /// Check-ins since the plan started, oldest first.
    pub checkins: Vec<CheckInRow>,
    /// The plan's version, read before the rest: what a write decided from
    /// these inputs hands back to the store.
    pub version: PlanVersion,
}

/// The current plan found among all of a person's phase changes.
struct CurrentPlan {
    history: Vec<PhaseChangeRow>,
    start: Day,
}

impl CurrentPlan {
    fn of(all: Vec<PhaseChangeRow>, assessed: Day) -> CurrentPlan {
        let from = all
            .iter()
            .rposition(|p| p.from_phase.is_none())
            .unwrap_or(0);
        let history: Vec<_> = all.into_iter().skip(from).collect();
        let start = history.first().map_or(assessed, |p| p.day);
        CurrentPlan { history, start }
    }

    fn started_at(&self) -> Option<&str> {
        self.history.first().map(|p| p.created_at.as_str())
    }

    fn checkins_stmt(&self, user_id: &str, rules_on: Option<Day>) -> Stmt {
        match rules_on {
            Some(today) => checkins_for_rules_stmt(user_id, self.start, today),
            None => checkins_stmt(user_id),
        }
    }

    fn inputs(
        self,
        (head, version): (AssessmentHead, PlanVersion),
        edits: Vec<PlanEditRow>,
        checkins: Vec<CheckInRow>,
    ) -> PlanInputs {
        let edits = match self.started_at() {
            Some(at) => edits
                .into_iter()
                .filter(|e| e.created_at.as_str() >= at)
                .collect(),
            None => Vec::new(),
        };
        PlanInputs {
            head,
            plan_start: self.start,
            edits,
            checkins: checkins
                .into_iter()
                .filter(|c| c.checkin.day >= self.start)
                .collect(),
            history: self.history,
            version,
        }
    }
}

const ASSESSMENT_COLS: &str = "SELECT id, user_id, created_at, day, source, facts, report, level, kb_version FROM assessments";

/// The statements that store an assessment (with the start of its plan
/// and its audit row); returns the new id with them.
pub(crate) fn assessment_stmts(
    a: &NewAssessment<'_>,
    ip: Option<&str>,
) -> Result<(String, Vec<Stmt>)> {
    assessment_stmts_by(a, Some(a.user_id), None, ip)
}

/// [`assessment_stmts`] with the audit row's actor (`None`: kneepath
/// itself, as for a re-run under a new knowledge base) and detail.
fn assessment_stmts_by(
    a: &NewAssessment<'_>,
    actor: Option<&str>,
    detail: Option<&str>,
    ip: Option<&str>,
) -> Result<(String, Vec<Stmt>)> {
    let id = new_id();
    let mut stmts = vec![
        Stmt::new(
            "INSERT INTO assessments (id, user_id, created_at, day, source, facts, report, level, kb_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .arg(&id)
        .arg(a.user_id)
        .arg(now_rfc3339())
        .arg(a.day)
        .arg(a.source)
        .arg(serde_json::to_string(a.facts).map_err(corrupt)?)
        .arg(serde_json::to_string(a.report).map_err(corrupt)?)
        .arg(a.report.level.as_str())
        .arg(&a.report.kb_version),
    ];
    if let Some((phase, reason)) = a.start_phase {
        stmts.push(phase_change_stmt(&PhaseChange {
            user_id: a.user_id,
            assessment_id: &id,
            day: a.day,
            from: None,
            to: phase,
            reason,
            author_id: None,
        }));
    }
    stmts.push(audit_stmt(&NewAudit {
        actor_id: actor,
        subject_id: Some(a.user_id),
        action: "create",
        entity: "assessment",
        entity_id: Some(&id),
        ip,
        detail: Some(detail.unwrap_or(a.report.level.as_str())),
    }));
    Ok((id, stmts))
}

/// Insert an assessment in `tx`, audited as made by `actor` (the patient,
/// or the clinician whose measurements re-ran it).
pub(crate) async fn insert_assessment_in(
    tx: &mut Transaction<'_, Any>,
    a: &NewAssessment<'_>,
    actor: &str,
    ip: Option<&str>,
) -> Result<String> {
    let (id, stmts) = assessment_stmts_by(a, Some(actor), None, ip)?;
    for st in &stmts {
        exec_in(tx, st).await?;
    }
    Ok(id)
}

/// A phase change to insert (the newest row is the current phase).
pub(crate) struct PhaseChange<'a> {
    pub user_id: &'a str,
    pub assessment_id: &'a str,
    pub day: Day,
    pub from: Option<&'a str>,
    pub to: &'a str,
    pub reason: &'a str,
    /// The clinician who moved it; none when the rules did.
    pub author_id: Option<&'a str>,
}

pub(crate) fn phase_change_stmt(p: &PhaseChange<'_>) -> Stmt {
    Stmt::new(
        "INSERT INTO phase_changes (id, user_id, assessment_id, day, from_phase, to_phase, reason, created_at, author_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .arg(new_id())
    .arg(p.user_id)
    .arg(p.assessment_id)
    .arg(p.day)
    .arg(p.from)
    .arg(p.to)
    .arg(p.reason)
    .arg(now_rfc3339())
    .arg(p.author_id)
}

pub(crate) async fn insert_phase_change_in(
    tx: &mut Transaction<'_, Any>,
    p: &PhaseChange<'_>,
) -> Result<()> {
    exec_in(tx, &phase_change_stmt(p)).await
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

    // --- wizard drafts ------------------------------------------------------

    pub async fn draft(
        &self,
        user_id: &str,
    ) -> Result<Option<serde_json::Map<String, serde_json::Value>>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT answers FROM wizard_drafts WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(s,)| serde_json::from_str(&s).map_err(corrupt))
            .transpose()
    }

    pub async fn save_draft(
        &self,
        user_id: &str,
        answers: &serde_json::Map<String, serde_json::Value>,
        ip: Option<&str>,
    ) -> Result<()> {
        let _writing = self.writer().await;
        let json = serde_json::to_string(answers).map_err(corrupt)?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM wizard_drafts WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO wizard_drafts (user_id, answers, updated_at) VALUES ($1, $2, $3)")
            .bind(user_id)
            .bind(json)
            .bind(now_rfc3339())
            .execute(&mut *tx)
            .await?;
        audit_in(
            &mut tx,
            &NewAudit {
                actor_id: Some(user_id),
                subject_id: Some(user_id),
                action: "update",
                entity: "draft",
                entity_id: None,
                ip,
                detail: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // --- assessments ----------------------------------------------------------

    /// Store an assessment (and the start of its plan) and drop the draft.
    pub async fn insert_assessment(
        &self,
        a: &NewAssessment<'_>,
        ip: Option<&str>,
    ) -> Result<String> {
        let _writing = self.writer().await;
        let mut tx = self.pool.begin().await?;
        exec_in(&mut tx, &plan_bump(a.user_id)).await?;
        let id = insert_assessment_in(&mut tx, a, a.user_id, ip).await?;
        sqlx::query("DELETE FROM wizard_drafts WHERE user_id = $1")
            .bind(a.user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Store a re-run of a person's latest assessment under a new knowledge
    /// base (`reassess`): the new assessment (no new plan: the plan carries
    /// on under it, or stops where it now sends the person to a doctor),
    /// the escalation that puts the person at the top of their clinician's
    /// list and shows them a banner, and the audit row, by kneepath itself,
    /// with `detail`. Stored only while the plan is still as read
    /// (`read`), so two instances starting together store it once.
    pub async fn insert_reassessment(
        &self,
        a: &NewAssessment<'_>,
        escalation: &str,
        detail: &str,
        read: PlanVersion,
    ) -> Result<String> {
        let _writing = self.writer().await;
        let mut tx = self.pool.begin().await?;
        exec_in(&mut tx, &plan_guard(a.user_id, read)).await?;
        let (id, stmts) = assessment_stmts_by(a, None, Some(detail), None)?;
        for st in &stmts {
            exec_in(&mut tx, st).await?;
        }
        exec_in(
            &mut tx,
            &Stmt::new("INSERT INTO escalations (id, user_id, assessment_id, day, kind, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .arg(new_id())
                .arg(a.user_id)
                .arg(&id)
                .arg(a.day)
                .arg(escalation)
                .arg(now_rfc3339()),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Each person's newest assessment: (user id, assessment id, knowledge
    /// base version), in user order.
    pub async fn latest_assessment_versions(&self) -> Result<Vec<(String, String, String)>> {
        let rows = sqlx::query(
            "SELECT user_id, id, kb_version FROM assessments ORDER BY user_id, created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<(String, String, String)> = Vec::new();
        for r in &rows {
            let user: String = r.try_get("user_id")?;
            let row = (user.clone(), r.try_get("id")?, r.try_get("kb_version")?);
            match out.last_mut() {
                Some(last) if last.0 == user => *last = row,
                _ => out.push(row),
            }
        }
        Ok(out)
    }

    pub async fn assessment(&self, id: &str) -> Result<Option<AssessmentRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ASSESSMENT_COLS} WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(assessment_from_row).transpose()
    }

    /// The newest assessment of a user: the one that governs their plan.
    pub async fn latest_assessment(&self, user_id: &str) -> Result<Option<AssessmentRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ASSESSMENT_COLS} WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1"
        )))
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(assessment_from_row).transpose()
    }

    /// The newest assessment of a user, without its report.
    pub async fn latest_assessment_head(&self, user_id: &str) -> Result<Option<AssessmentHead>> {
        Ok(self.plan_head(user_id).await?.map(|(head, _)| head))
    }

    /// The newest assessment of a user with the version of their plan, for
    /// a write decided from that assessment alone (a measurement).
    pub async fn plan_head(&self, user_id: &str) -> Result<Option<(AssessmentHead, PlanVersion)>> {
        head_stmt(user_id)
            .query()
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(head_from_row)
            .transpose()
    }

    pub async fn assessments(&self, user_id: &str) -> Result<Vec<AssessmentRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ASSESSMENT_COLS} WHERE user_id = $1 ORDER BY created_at, id"
        )))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(assessment_from_row).collect()
    }

    // --- plan timeline ----------------------------------------------------------

    /// Phase changes of a user's plans, oldest first. The plan of an
    /// assessment starts with its first phase change; a re-triage after a
    /// warning sign carries the plan on under the new assessment.
    pub async fn phase_changes(&self, user_id: &str) -> Result<Vec<PhaseChangeRow>> {
        let rows = phase_changes_stmt(user_id)
            .query()
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(phase_change_from_row).collect()
    }

    pub async fn escalations(&self, user_id: &str) -> Result<Vec<EscalationRow>> {
        let rows = sqlx::query(
            "SELECT assessment_id, day, kind, created_at FROM escalations WHERE user_id = $1 ORDER BY day, created_at, id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(EscalationRow {
                    assessment_id: r.try_get("assessment_id")?,
                    day: day_of(r, "day")?,
                    kind: r.try_get("kind")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    // --- check-ins --------------------------------------------------------------

    /// A user's check-ins, oldest first.
    pub async fn checkins(&self, user_id: &str) -> Result<Vec<CheckInRow>> {
        let rows = checkins_stmt(user_id).query().fetch_all(&self.pool).await?;
        let mut out: Vec<CheckInRow> = rows.iter().map(checkin_from_row).collect::<Result<_>>()?;
        count_corrections(&mut out, &self.revised(user_id).await?);
        Ok(out)
    }

    /// The ids of a user's corrected check-ins, once per correction.
    async fn revised(&self, user_id: &str) -> Result<Vec<String>> {
        let rows = revised_stmt(user_id).query().fetch_all(&self.pool).await?;
        rows.iter().map(|r| r.text("checkin_id")).collect()
    }

    /// The check-ins the progression rules need for a check-in made on
    /// `today` (see `kneepath_core::progress::rules_window`, which this
    /// query mirrors): the plan's first week, the last days and the newest
    /// check-ins, oldest first. Independent of how long the plan has run.
    pub async fn checkins_for_rules(
        &self,
        user_id: &str,
        plan_start: Day,
        today: Day,
    ) -> Result<Vec<CheckInRow>> {
        let rows = checkins_for_rules_stmt(user_id, plan_start, today)
            .query()
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(checkin_from_row).collect()
    }

    /// What a person's current plan is computed from (see [`PlanInputs`]);
    /// none before their first assessment. With `rules_on`, only the
    /// check-ins the progression rules read for a check-in on that day.
    pub async fn plan_inputs(
        &self,
        user_id: &str,
        rules_on: Option<Day>,
    ) -> Result<Option<PlanInputs>> {
        if let Some(lite) = &self.lite {
            let user_id = user_id.to_string();
            let raw = lite
                .read(move |c| {
                    let Some(head) = head_stmt(&user_id).rows(c, |r| RawHead::of(r))?.pop() else {
                        return Ok(None);
                    };
                    let changes =
                        phase_changes_stmt(&user_id).rows(c, |r| phase_change_from_row(r))?;
                    let plan = CurrentPlan::of(changes, head.head.day);
                    let edits = match plan.started_at() {
                        Some(_) => plan_edits_stmt(&user_id).rows(c, |r| plan_edit_from_row(r))?,
                        None => Vec::new(),
                    };
                    let checkins = plan
                        .checkins_stmt(&user_id, rules_on)
                        .rows(c, |r| RawCheckin::of(r))?;
                    // The rules do not need to know what was corrected.
                    let revised = match rules_on {
                        None => Some(revised_stmt(&user_id).rows(c, |r| r.text("checkin_id"))?),
                        Some(_) => None,
                    };
                    Ok(Some((head, plan, edits, checkins, revised)))
                })
                .await?;
            // The JSON is read here, off the database thread.
            let Some((head, plan, edits, checkins, revised)) = raw else {
                return Ok(None);
            };
            let mut checkins: Vec<CheckInRow> = checkins
                .into_iter()
                .map(RawCheckin::decode)
                .collect::<Result<_>>()?;
            if let Some(revised) = revised {
                count_corrections(&mut checkins, &revised);
            }
            let version = head.version;
            return Ok(Some(plan.inputs(
                (head.decode()?, version),
                edits,
                checkins,
            )));
        }
        // The version comes with the first read, so whatever changes while
        // the rest is read moves it on.
        let Some(head) = self.plan_head(user_id).await? else {
            return Ok(None);
        };
        let plan = CurrentPlan::of(self.phase_changes(user_id).await?, head.0.day);
        let edits = match plan.started_at() {
            Some(_) => self.plan_edits(user_id).await?,
            None => Vec::new(),
        };
        let rows = plan
            .checkins_stmt(user_id, rules_on)
            .query()
            .fetch_all(&self.pool)
            .await?;
        let mut checkins: Vec<CheckInRow> =
            rows.iter().map(checkin_from_row).collect::<Result<_>>()?;
        if rules_on.is_none() {
            count_corrections(&mut checkins, &self.revised(user_id).await?);
        }
        Ok(Some(plan.inputs(head, edits, checkins)))
    }

    /// Store a check-in with its consequences in one transaction. A second
    /// check-in for the same day is a `Conflict` and changes nothing.
    pub async fn insert_checkin(&self, w: &CheckinWrite<'_>) -> Result<String> {
        let c = w.checkin;
        let id = new_id();
        let mut stmts = vec![
            plan_guard(w.user_id, w.plan_version),
            Stmt::new(
                "INSERT INTO checkins (id, user_id, assessment_id, day, pain_now, exercise_pain, morning_pain, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .arg(&id)
            .arg(w.user_id)
            .arg(w.assessment_id)
            .arg(c.day)
            .arg(i64::from(c.pain_now))
            .arg(c.exercise_pain.map(i64::from))
            .arg(c.morning_pain.map(i64::from))
            .arg(serde_json::to_string(c).map_err(corrupt)?)
            .arg(now_rfc3339()),
            audit_stmt(&NewAudit {
                actor_id: Some(w.user_id),
                subject_id: Some(w.user_id),
                action: "create",
                entity: "checkin",
                entity_id: Some(&id),
                ip: w.ip,
                detail: Some(&c.day.to_string()),
            }),
        ];
        stmts.extend(consequences(w)?);
        match self.write_all(stmts).await {
            // Only the check-in row has a unique key (user, day) a person
            // can hit; the other rows' keys are new ids.
            Err(e) if e.is_unique_violation() => Err(StoreError::Conflict(format!(
                "You have already checked in for {}.",
                c.day
            ))),
            Err(e) => Err(e),
            Ok(()) => Ok(id),
        }
    }

    /// Correct the stored check-in of `w.checkin`'s day: the row takes the
    /// new values, the values it had go to `checkin_revisions`, and the
    /// rules' consequences are stored as for a new check-in, all in one
    /// transaction and only while the plan is still at `w.plan_version`.
    /// [`StoreError::NotFound`] when there is no check-in on that day.
    pub async fn correct_checkin(&self, w: &CheckinWrite<'_>) -> Result<String> {
        let c = w.checkin;
        let (id,): (String,) =
            sqlx::query_as("SELECT id FROM checkins WHERE user_id = $1 AND day = $2")
                .bind(w.user_id)
                .bind(c.day.to_string())
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
        let now = now_rfc3339();
        let mut stmts = vec![
            plan_guard(w.user_id, w.plan_version),
            Stmt::new(
                "INSERT INTO checkin_revisions (id, checkin_id, user_id, day, data, replaced_at) SELECT $1, id, user_id, day, data, $2 FROM checkins WHERE id = $3",
            )
            .arg(new_id())
            .arg(&now)
            .arg(&id)
            .guarding(),
            Stmt::new(
                "UPDATE checkins SET pain_now = $1, exercise_pain = $2, morning_pain = $3, data = $4 WHERE id = $5",
            )
            .arg(i64::from(c.pain_now))
            .arg(c.exercise_pain.map(i64::from))
            .arg(c.morning_pain.map(i64::from))
            .arg(serde_json::to_string(c).map_err(corrupt)?)
            .arg(&id)
            .guarding(),
            audit_stmt(&NewAudit {
                actor_id: Some(w.user_id),
                subject_id: Some(w.user_id),
                action: "correct",
                entity: "checkin",
                entity_id: Some(&id),
                ip: w.ip,
                detail: Some(&c.day.to_string()),
            }),
        ];
        stmts.extend(consequences(w)?);
        self.write_all(stmts).await?;
        Ok(id)
    }

    /// The values each of a person's check-ins had before a correction,
    /// oldest day first, then in the order they were replaced.
    pub async fn checkin_revisions(&self, user_id: &str) -> Result<Vec<CheckinRevisionRow>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT checkin_id, data, replaced_at FROM checkin_revisions WHERE user_id = $1 ORDER BY day, replaced_at, id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(checkin_id, data, replaced_at)| {
                Ok(CheckinRevisionRow {
                    checkin_id,
                    checkin: serde_json::from_str(&data).map_err(corrupt)?,
                    replaced_at,
                })
            })
            .collect()
    }

    // --- the person's own data ---------------------------------------------------

    /// Everything stored about a user, as JSON ("download my data"): one
    /// key per table [`crate::tables::TABLES`] exports, in its order.
    pub async fn export_user(&self, user_id: &str) -> Result<serde_json::Value> {
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
    pub async fn delete_user(&self, user_id: &str) -> Result<()> {
        use crate::tables::{Erase, TABLES};
        let email = self
            .user_by_id(user_id)
            .await?
            .map(|u| u.email)
            .unwrap_or_default();
        let pseudonym = format!("deleted-{}", new_id());
        let _writing = self.writer().await;
        let mut tx = self.pool.begin().await?;
        for table in TABLES.iter().rev() {
            let name = table.name;
            for erase in table.erase {
                match *erase {
                    Erase::Rows(col) => {
                        sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DELETE FROM {name} WHERE {col} = $1"
                        )))
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                    }
                    Erase::Null(col) => {
                        sqlx::query(sqlx::AssertSqlSafe(format!(
                            "UPDATE {name} SET {col} = NULL WHERE {col} = $1"
                        )))
                        .bind(user_id)
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
        audit_in(
            &mut tx,
            &NewAudit {
                actor_id: Some(&pseudonym),
                subject_id: Some(&pseudonym),
                action: "delete",
                entity: "user",
                entity_id: None,
                ip: None,
                detail: Some("an account and all its data were deleted at the owner's request; the access log keeps its rows under this pseudonym"),
            },
        )
        .await?;
        tx.commit().await?;
        self.forget_sessions_of(user_id);
        Ok(())
    }

    /// How many rows of each table contain any of `needles` in any text
    /// column. Used to prove that a deleted account left nothing behind.
    pub async fn rows_containing(&self, needles: &[&str]) -> Result<Vec<(&'static str, i64)>> {
        let mut out = Vec::new();
        for table in crate::tables::TABLES {
            let cond = table
                .text_columns()
                .map(|c| format!("COALESCE({c}, '') LIKE $1"))
                .collect::<Vec<_>>()
                .join(" OR ");
            let mut total = 0;
            for needle in needles {
                let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM {} WHERE {cond}",
                    table.name
                )))
                .bind(format!("%{needle}%"))
                .fetch_one(&self.pool)
                .await?;
                total += n;
            }
            out.push((table.name, total));
        }
        Ok(out)
    }
}

/// The audit log's rows about a deleted person, kept: the ids of records
/// that are gone and the addresses the person used are dropped, and the
/// person's id becomes `pseudonym`, the same in every row (subject, actor,
/// entity, and the caseload views that listed them), so the trail still
/// reads as one person's.
async fn pseudonymise_in(
    tx: &mut Transaction<'_, Any>,
    user_id: &str,
    pseudonym: &str,
) -> Result<()> {
    for q in [
        "UPDATE audit_log SET entity_id = NULL WHERE subject_id = $1",
        "UPDATE audit_log SET ip = NULL WHERE actor_id = $1",
    ] {
        sqlx::query(q).bind(user_id).execute(&mut **tx).await?;
    }
    for q in [
        "UPDATE audit_log SET subject_id = $2 WHERE subject_id = $1",
        "UPDATE audit_log SET actor_id = $2 WHERE actor_id = $1",
        "UPDATE audit_log SET entity_id = $2 WHERE entity_id = $1",
    ] {
        sqlx::query(q)
            .bind(user_id)
            .bind(pseudonym)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("UPDATE audit_log SET detail = REPLACE(detail, $1, $2) WHERE detail LIKE $3")
        .bind(user_id)
        .bind(pseudonym)
        .bind(format!("%{user_id}%"))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A whole synthetic history of one patient, written in one transaction
/// (for `kneepath seed`). Timestamps are made from the days, in order.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub user_id: String,
    /// (day, source, facts, report), oldest first.
    pub assessments: Vec<(
        Day,
        &'static str,
        serde_json::Map<String, serde_json::Value>,
        AssessmentReport,
    )>,
    /// (assessment index, first day, from, to, reason).
    pub phase_changes: Vec<(usize, Day, Option<String>, String, String)>,
    /// (assessment index, check-in).
    pub checkins: Vec<(usize, CheckIn)>,
    /// (assessment index, day, kind).
    pub escalations: Vec<(usize, Day, &'static str)>,
}

impl Store {
    pub async fn insert_history(&self, h: &History) -> Result<()> {
        let _writing = self.writer().await;
        let mut tx = self.pool.begin().await?;
        // created_at: the day at 08:00 UTC plus a running millisecond, so
        // "newest" queries see the events in the order they happened.
        let mut seq = 0i64;
        let mut at = |day: Day| {
            seq += 1;
            crate::ids::format_ms(i64::from(day.0) * 86_400_000 + 8 * 3_600_000 + seq)
        };
        let mut ids = Vec::new();
        for (day, source, facts, report) in &h.assessments {
            let id = new_id();
            sqlx::query(
                "INSERT INTO assessments (id, user_id, created_at, day, source, facts, report, level, kb_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&id)
            .bind(&h.user_id)
            .bind(at(*day))
            .bind(day.to_string())
            .bind(*source)
            .bind(serde_json::to_string(facts).map_err(corrupt)?)
            .bind(serde_json::to_string(report).map_err(corrupt)?)
            .bind(report.level.as_str())
            .bind(&report.kb_version)
            .execute(&mut *tx)
            .await?;
            ids.push(id);
        }
        let aid = |i: usize| {
            ids.get(i)
                .cloned()
                .ok_or_else(|| corrupt(format!("no assessment {i}")))
        };
        let mut events: Vec<(Day, u8, usize)> = Vec::new();
        events.extend(
            h.phase_changes
                .iter()
                .enumerate()
                .map(|(i, p)| (p.1, 0u8, i)),
        );
        events.extend(
            h.checkins
                .iter()
                .enumerate()
                .map(|(i, c)| (c.1.day, 1u8, i)),
        );
        events.extend(h.escalations.iter().enumerate().map(|(i, e)| (e.1, 2u8, i)));
        events.sort();
        for (_, kind, i) in events {
            match kind {
                0 => {
                    let (a, day, from, to, reason) = &h.phase_changes[i];
                    sqlx::query(
                        "INSERT INTO phase_changes (id, user_id, assessment_id, day, from_phase, to_phase, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(new_id())
                    .bind(&h.user_id)
                    .bind(aid(*a)?)
                    .bind(day.to_string())
                    .bind(from.as_deref())
                    .bind(to)
                    .bind(reason)
                    .bind(at(*day))
                    .execute(&mut *tx)
                    .await?;
                }
                1 => {
                    let (a, c) = &h.checkins[i];
                    sqlx::query(
                        "INSERT INTO checkins (id, user_id, assessment_id, day, pain_now, exercise_pain, morning_pain, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(new_id())
                    .bind(&h.user_id)
                    .bind(aid(*a)?)
                    .bind(c.day.to_string())
                    .bind(i64::from(c.pain_now))
                    .bind(c.exercise_pain.map(i64::from))
                    .bind(c.morning_pain.map(i64::from))
                    .bind(serde_json::to_string(c).map_err(corrupt)?)
                    .bind(at(c.day))
                    .execute(&mut *tx)
                    .await?;
                }
                _ => {
                    let (a, day, k) = &h.escalations[i];
                    sqlx::query("INSERT INTO escalations (id, user_id, assessment_id, day, kind, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                        .bind(new_id())
                        .bind(&h.user_id)
                        .bind(aid(*a)?)
                        .bind(day.to_string())
                        .bind(*k)
                        .bind(at(*day))
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        audit_in(
            &mut tx,
            &NewAudit {
                actor_id: None,
                subject_id: Some(&h.user_id),
                action: "create",
                entity: "synthetic_history",
                entity_id: None,
                ip: None,
                detail: Some("kneepath seed"),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::sql::Stmt;

    /// The query plan of a statement on a database with every migration.
    fn plan_of(st: &Stmt) -> Vec<String> {
        let conn = rusqlite::Connection::open_in_memory().expect("open");
        for (_, _, sql) in crate::db::MIGRATIONS {
            for s in crate::db::statements(sql) {
                conn.execute_batch(&s).expect("migration");
            }
        }
        let mut q = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", st.sql))
            .expect("plan");
        q.query_map(rusqlite::params_from_iter(&st.args), |r| {
            r.get::<_, String>(3)
        })
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("plan rows")
    }

    /// What a check-in reads before the rules run comes from indexes in
    /// the order it is read: no sort. The newest assessment's level and
    /// version come from its index rather than after the report in the row.
    #[test]
    fn a_check_ins_reads_use_indexes_in_order() {
        for (st, index) in [
            (super::head_stmt("someone"), "assessments_head (user_id=?)"),
            (
                super::phase_changes_stmt("someone"),
                "phase_changes_in_order (user_id=?)",
            ),
            (
                crate::clinic::plan_edits_stmt("someone"),
                "plan_edits_in_order (patient_id=?)",
            ),
        ] {
            let plan = plan_of(&st);
            assert!(
                plan.iter()
                    .any(|d| d.contains(&format!("USING INDEX {index}"))),
                "{}: {plan:?}",
                st.sql
            );
            assert!(
                !plan.iter().any(|d| d.contains("TEMP B-TREE")),
                "{}: {plan:?}",
                st.sql
            );
        }
    }
}
