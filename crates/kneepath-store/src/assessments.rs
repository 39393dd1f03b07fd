//! Assessments (the facts, the report exactly as shown, the knowledge
//! base's version and where it came from) and the wizard's drafts. An
//! assessment is inserted, never updated; the newest one governs the plan.

use kneepath_core::progress::Escalation;
use kneepath_core::report::AssessmentReport;
use kneepath_core::{Day, TriageLevel};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{AuditAction, AuditEntity, NewAudit, audit_stmt};
use crate::checkins::escalation_stmt;
use crate::plan::{NewPhaseChange, PlanVersion, phase_change_stmt, plan_bump, plan_guard};
use crate::sql::{Cells, Stmt, day_of};
use crate::summary::Touch;
use crate::{Result, Store, UserId, corrupt, new_id, now_rfc3339};
use kneepath_core::caseload::CaseEvent;

/// Where an assessment came from. Stored as [`AssessmentSource::as_str`]:
/// these six texts are every value kneepath has ever written (a database
/// of any version reads back).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AssessmentSource {
    /// The patient's questionnaire (the wizard; also the demo and `kneepath
    /// seed`).
    Wizard,
    /// A re-triage after a warning sign in a check-in.
    Checkin,
    /// A clinician's measurements re-ran the patient's answers.
    Measurement,
    /// FHIR `QuestionnaireResponse`s imported.
    Import,
    /// Facts sent to the JSON API.
    Api,
    /// The latest answers re-run under a new knowledge base (`kneepath
    /// reassess`).
    Reassess,
}

impl AssessmentSource {
    pub const ALL: [AssessmentSource; 6] = [
        AssessmentSource::Wizard,
        AssessmentSource::Checkin,
        AssessmentSource::Measurement,
        AssessmentSource::Import,
        AssessmentSource::Api,
        AssessmentSource::Reassess,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AssessmentSource::Wizard => "wizard",
            AssessmentSource::Checkin => "checkin",
            AssessmentSource::Measurement => "measurement",
            AssessmentSource::Import => "import",
            AssessmentSource::Api => "api",
            AssessmentSource::Reassess => "reassess",
        }
    }

    pub fn parse(s: &str) -> Option<AssessmentSource> {
        AssessmentSource::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn of<R: Cells + ?Sized>(r: &R) -> Result<AssessmentSource> {
        let s = r.text("source")?;
        AssessmentSource::parse(&s).ok_or_else(|| corrupt(format!("assessment source {s}")))
    }
}

/// A stored assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessmentRow {
    pub id: String,
    pub user_id: UserId,
    pub created_at: String,
    pub day: Day,
    pub source: AssessmentSource,
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
    pub user_id: UserId,
    pub day: Day,
    pub source: AssessmentSource,
    pub facts: serde_json::Map<String, serde_json::Value>,
    pub level: TriageLevel,
    pub kb_version: String,
}

/// An assessment to store.
#[derive(Debug, Clone)]
pub struct NewAssessment<'a> {
    pub user_id: &'a UserId,
    pub day: Day,
    pub source: AssessmentSource,
    pub facts: &'a serde_json::Map<String, serde_json::Value>,
    pub report: &'a AssessmentReport,
    /// The phase the home plan starts in, with the reason; none at urgent
    /// and above.
    pub start_phase: Option<(&'a str, &'a str)>,
}

fn assessment_from_row(r: &AnyRow) -> Result<AssessmentRow> {
    let facts: String = r.try_get("facts")?;
    let report: String = r.try_get("report")?;
    let level: String = r.try_get("level")?;
    Ok(AssessmentRow {
        id: r.try_get("id")?,
        user_id: UserId::new(r.try_get::<String, _>("user_id")?),
        created_at: r.try_get("created_at")?,
        day: day_of(r, "day")?,
        source: AssessmentSource::of(r)?,
        facts: serde_json::from_str(&facts).map_err(corrupt)?,
        report: serde_json::from_str(&report).map_err(corrupt)?,
        level: TriageLevel::parse(&level).ok_or_else(|| corrupt(format!("level {level}")))?,
        kb_version: r.try_get("kb_version")?,
    })
}

pub(crate) fn head_stmt(user_id: &UserId) -> Stmt {
    Stmt::new(
        "SELECT id, user_id, day, source, facts, level, kb_version, (SELECT plan_version FROM users WHERE id = $1) AS plan_version FROM assessments WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .arg(user_id)
}

pub(crate) fn head_from_row<R: Cells + ?Sized>(r: &R) -> Result<(AssessmentHead, PlanVersion)> {
    let raw = RawHead::of(r)?;
    let version = raw.version;
    Ok((raw.decode()?, version))
}

/// The newest assessment as stored, its facts' JSON not read yet (see
/// [`RawCheckin`]).
pub(crate) struct RawHead {
    pub(crate) head: AssessmentHead,
    facts: String,
    /// Read in the same statement as the assessment, so before anything
    /// else of the plan: a change made after it moves it on.
    pub(crate) version: PlanVersion,
}

impl RawHead {
    pub(crate) fn of<R: Cells + ?Sized>(r: &R) -> Result<RawHead> {
        let level = r.text("level")?;
        Ok(RawHead {
            head: AssessmentHead {
                id: r.text("id")?,
                user_id: UserId::new(r.text("user_id")?),
                day: r.day("day")?,
                source: AssessmentSource::of(r)?,
                facts: serde_json::Map::new(),
                level: TriageLevel::parse(&level)
                    .ok_or_else(|| corrupt(format!("level {level}")))?,
                kb_version: r.text("kb_version")?,
            },
            facts: r.text("facts")?,
            version: PlanVersion(r.int("plan_version")?),
        })
    }

    pub(crate) fn decode(self) -> Result<AssessmentHead> {
        Ok(AssessmentHead {
            facts: serde_json::from_str(&self.facts).map_err(corrupt)?,
            ..self.head
        })
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
pub(crate) fn assessment_stmts_by(
    a: &NewAssessment<'_>,
    actor: Option<&UserId>,
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
        .arg(a.source.as_str())
        .arg(serde_json::to_string(a.facts).map_err(corrupt)?)
        .arg(serde_json::to_string(a.report).map_err(corrupt)?)
        .arg(a.report.level.as_str())
        .arg(&a.report.kb_version)
        .touching(
            a.user_id,
            Touch::Event(CaseEvent::Assessed(a.report.level)),
        ),
    ];
    if let Some((phase, reason)) = a.start_phase {
        stmts.push(phase_change_stmt(&NewPhaseChange {
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
        action: AuditAction::Create,
        entity: AuditEntity::Assessment,
        entity_id: Some(&id),
        ip,
        detail: Some(detail.unwrap_or(a.report.level.as_str())),
    }));
    Ok((id, stmts))
}

impl Store {
    // --- wizard drafts ------------------------------------------------------

    pub async fn draft(
        &self,
        user_id: &UserId,
    ) -> Result<Option<serde_json::Map<String, serde_json::Value>>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT answers FROM wizard_drafts WHERE user_id = $1")
                .bind(user_id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(s,)| serde_json::from_str(&s).map_err(corrupt))
            .transpose()
    }

    pub async fn save_draft(
        &self,
        user_id: &UserId,
        answers: &serde_json::Map<String, serde_json::Value>,
        ip: Option<&str>,
    ) -> Result<()> {
        let json = serde_json::to_string(answers).map_err(corrupt)?;
        self.write_audited(
            vec![
                Stmt::new("DELETE FROM wizard_drafts WHERE user_id = $1").arg(user_id),
                Stmt::new(
                    "INSERT INTO wizard_drafts (user_id, answers, updated_at) VALUES ($1, $2, $3)",
                )
                .arg(user_id)
                .arg(json)
                .arg(now_rfc3339()),
            ],
            &NewAudit {
                actor_id: Some(user_id),
                subject_id: Some(user_id),
                action: AuditAction::Update,
                entity: AuditEntity::Draft,
                entity_id: None,
                ip,
                detail: None,
            },
        )
        .await
    }

    // --- assessments ----------------------------------------------------------

    /// Store an assessment (and the start of its plan) and drop the draft.
    pub async fn insert_assessment(
        &self,
        a: &NewAssessment<'_>,
        ip: Option<&str>,
    ) -> Result<String> {
        // The assessment's own statements carry its audit row.
        let (id, stmts) = assessment_stmts(a, ip)?;
        let mut all = vec![plan_bump(a.user_id)];
        all.extend(stmts);
        all.push(Stmt::new("DELETE FROM wizard_drafts WHERE user_id = $1").arg(a.user_id));
        self.write_all(all).await?;
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
        escalation: Escalation,
        detail: &str,
        read: PlanVersion,
    ) -> Result<String> {
        let (id, stmts) = assessment_stmts_by(a, None, Some(detail), None)?;
        let mut all = vec![plan_guard(a.user_id, read)];
        all.extend(stmts);
        all.push(escalation_stmt(a.user_id, &id, a.day, escalation));
        self.write_all(all).await?;
        Ok(id)
    }

    /// Each person's newest assessment: (user id, assessment id, knowledge
    /// base version), in user order.
    pub async fn latest_assessment_versions(&self) -> Result<Vec<(UserId, String, String)>> {
        let rows = sqlx::query(
            "SELECT user_id, id, kb_version FROM assessments ORDER BY user_id, created_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<(UserId, String, String)> = Vec::new();
        for r in &rows {
            let user: UserId = r.try_get("user_id")?;
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
    pub async fn latest_assessment(&self, user_id: &UserId) -> Result<Option<AssessmentRow>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ASSESSMENT_COLS} WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1"
        )))
        .bind(user_id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(assessment_from_row).transpose()
    }

    /// The newest assessment of a user, without its report.
    pub async fn latest_assessment_head(&self, user_id: &UserId) -> Result<Option<AssessmentHead>> {
        Ok(self.plan_head(user_id).await?.map(|(head, _)| head))
    }

    /// The newest assessment of a user with the version of their plan, for
    /// a write decided from that assessment alone (a measurement).
    pub async fn plan_head(
        &self,
        user_id: &UserId,
    ) -> Result<Option<(AssessmentHead, PlanVersion)>> {
        head_stmt(user_id)
            .query()
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(head_from_row)
            .transpose()
    }

    pub async fn assessments(&self, user_id: &UserId) -> Result<Vec<AssessmentRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{ASSESSMENT_COLS} WHERE user_id = $1 ORDER BY created_at, id"
        )))
        .bind(user_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(assessment_from_row).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::AssessmentSource;

    /// Every text kneepath has written as a source reads back, and is
    /// written the same.
    #[test]
    fn sources_keep_their_stored_texts() {
        let texts: Vec<&str> = AssessmentSource::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            texts,
            [
                "wizard",
                "checkin",
                "measurement",
                "import",
                "api",
                "reassess"
            ]
        );
        for s in AssessmentSource::ALL {
            assert_eq!(AssessmentSource::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).ok(),
                Some(serde_json::Value::from(s.as_str()))
            );
        }
    }
}
