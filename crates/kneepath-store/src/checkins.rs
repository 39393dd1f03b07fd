//! Check-ins, their corrections and the escalations the rules raised.
//! A check-in is written with everything the rules decided from it (a
//! phase change, an escalation, a re-triage) in one transaction, and only
//! while the plan is as the rules read it. A correction replaces a
//! check-in's values and keeps the replaced ones in `checkin_revisions`.

use kneepath_core::Day;
use kneepath_core::checkin::CheckIn;
use kneepath_core::progress::Escalation;
use serde::Serialize;
use sqlx::Row;

use crate::assessments::{NewAssessment, assessment_stmts};
use crate::audit::{AuditAction, AuditEntity};
use crate::audit::{NewAudit, audit_stmt};
use crate::plan::{NewPhaseChange, PlanVersion, phase_change_stmt, plan_guard};
use crate::sql::{Cells, Stmt, day_of};
use crate::summary::Touch;
use crate::{ConflictKind, Result, Store, StoreError, UserId, corrupt, new_id, now_rfc3339};
use kneepath_core::caseload::CaseEvent;
use kneepath_core::clinic::DaySignal;

pub(crate) fn checkin_from_row<R: Cells + ?Sized>(r: &R) -> Result<CheckInRow> {
    RawCheckin::of(r)?.decode()
}

/// A check-in row as stored, its JSON not read yet. The native path reads
/// rows on the one database thread, the serial resource under load, and
/// leaves parsing the JSON to the caller's thread.
pub(crate) struct RawCheckin {
    id: String,
    assessment_id: String,
    data: String,
    created_at: String,
}

impl RawCheckin {
    pub(crate) fn of<R: Cells + ?Sized>(r: &R) -> Result<RawCheckin> {
        Ok(RawCheckin {
            id: r.text("id")?,
            assessment_id: r.text("assessment_id")?,
            data: r.text("data")?,
            created_at: r.text("created_at")?,
        })
    }

    pub(crate) fn decode(self) -> Result<CheckInRow> {
        Ok(CheckInRow {
            checkin: serde_json::from_str(&self.data).map_err(corrupt)?,
            id: self.id,
            assessment_id: self.assessment_id,
            created_at: self.created_at,
            corrections: None,
        })
    }
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
        stmts.push(phase_change_stmt(&NewPhaseChange {
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
        stmts.push(escalation_stmt(
            w.user_id,
            &assessment_id,
            w.checkin.day,
            kind,
        ));
    }
    Ok(stmts)
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
    pub kind: Escalation,
    pub created_at: String,
}

/// A check-in to store, with what the rules decided because of it.
#[derive(Debug, Clone)]
pub struct CheckinWrite<'a> {
    pub user_id: &'a UserId,
    pub assessment_id: &'a str,
    pub checkin: &'a CheckIn,
    /// (from, to, first day, reason)
    pub phase_change: Option<(&'a str, &'a str, Day, &'a str)>,
    pub escalation: Option<Escalation>,
    /// A warning sign re-ran triage: the new assessment.
    pub retriage: Option<NewAssessment<'a>>,
    pub ip: Option<&'a str>,
    /// The version of the plan the rules read (`PlanInputs::version`).
    pub plan_version: PlanVersion,
}

/// The check-ins of a user that were corrected, once per correction: one
/// range of `checkin_revisions`' index, counted into the rows by
/// [`count_corrections`] (cheaper than a count per check-in row).
pub(crate) fn revised_stmt(user_id: &UserId) -> Stmt {
    Stmt::new("SELECT checkin_id FROM checkin_revisions WHERE user_id = $1").arg(user_id)
}

/// Set each row's number of corrections from the ids `revised_stmt` read.
pub(crate) fn count_corrections(rows: &mut [CheckInRow], revised: &[String]) {
    for row in rows {
        row.corrections = Some(revised.iter().filter(|id| **id == row.id).count() as u32);
    }
}

pub(crate) fn checkins_stmt(user_id: &UserId) -> Stmt {
    Stmt::new(
        "SELECT id, assessment_id, data, created_at FROM checkins WHERE user_id = $1 ORDER BY day",
    )
    .arg(user_id)
}

pub(crate) fn checkins_for_rules_stmt(user_id: &UserId, plan_start: Day, today: Day) -> Stmt {
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

impl Store {
    pub async fn escalations(&self, user_id: &UserId) -> Result<Vec<EscalationRow>> {
        let rows = sqlx::query(
            "SELECT assessment_id, day, kind, created_at FROM escalations WHERE user_id = $1 ORDER BY day, created_at, id",
        )
        .bind(user_id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(EscalationRow {
                    assessment_id: r.try_get("assessment_id")?,
                    day: day_of(r, "day")?,
                    kind: escalation_of(r)?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    // --- check-ins --------------------------------------------------------------

    /// A user's check-ins, oldest first.
    pub async fn checkins(&self, user_id: &UserId) -> Result<Vec<CheckInRow>> {
        let rows = checkins_stmt(user_id).query().fetch_all(&self.pool).await?;
        let mut out: Vec<CheckInRow> = rows.iter().map(checkin_from_row).collect::<Result<_>>()?;
        count_corrections(&mut out, &self.revised(user_id).await?);
        Ok(out)
    }

    /// The ids of a user's corrected check-ins, once per correction.
    pub(crate) async fn revised(&self, user_id: &UserId) -> Result<Vec<String>> {
        let rows = revised_stmt(user_id).query().fetch_all(&self.pool).await?;
        rows.iter().map(|r| r.text("checkin_id")).collect()
    }

    /// The check-ins the progression rules need for a check-in made on
    /// `today` (see `kneepath_core::progress::rules_window`, which this
    /// query mirrors): the plan's first week, the last days and the newest
    /// check-ins, oldest first. Independent of how long the plan has run.
    pub async fn checkins_for_rules(
        &self,
        user_id: &UserId,
        plan_start: Day,
        today: Day,
    ) -> Result<Vec<CheckInRow>> {
        let rows = checkins_for_rules_stmt(user_id, plan_start, today)
            .query()
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(checkin_from_row).collect()
    }

    /// Store a check-in with its consequences in one transaction. A second
    /// check-in for the same day is a [`ConflictKind::AlreadyCheckedIn`] and
    /// changes nothing.
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
            .arg(now_rfc3339())
            .touching(w.user_id, checked_in(c)),
            audit_stmt(&NewAudit {
                actor_id: Some(w.user_id),
                subject_id: Some(w.user_id),
                action: AuditAction::Create,
                entity: AuditEntity::Checkin,
                entity_id: Some(&id),
                ip: w.ip,
                detail: Some(&c.day.to_string()),
            }),
        ];
        stmts.extend(consequences(w)?);
        match self.write_all(stmts).await {
            // Only the check-in row has a unique key (user, day) a person
            // can hit; the other rows' keys are new ids.
            Err(e) if e.is_unique_violation() => {
                Err(StoreError::Conflict(ConflictKind::AlreadyCheckedIn {
                    day: c.day,
                }))
            }
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
            .guarding()
            .touching(w.user_id, checked_in(c)),
            audit_stmt(&NewAudit {
                actor_id: Some(w.user_id),
                subject_id: Some(w.user_id),
                action: AuditAction::Correct,
                entity: AuditEntity::Checkin,
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
    pub async fn checkin_revisions(&self, user_id: &UserId) -> Result<Vec<CheckinRevisionRow>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT checkin_id, data, replaced_at FROM checkin_revisions WHERE user_id = $1 ORDER BY day, replaced_at, id",
        )
        .bind(user_id.as_str())
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
}

/// An escalation to insert: the rules (or a new knowledge base) raised
/// `kind` for the person on `day`, under that assessment.
pub(crate) fn escalation_stmt(
    user_id: &UserId,
    assessment_id: &str,
    day: Day,
    kind: Escalation,
) -> Stmt {
    Stmt::new("INSERT INTO escalations (id, user_id, assessment_id, day, kind, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .arg(new_id())
        .arg(user_id)
        .arg(assessment_id)
        .arg(day)
        .arg(kind.as_str())
        .arg(now_rfc3339())
        .touching(user_id, Touch::Event(CaseEvent::Escalated(day, kind)))
}

/// What storing a check-in does to its person's caseload summary.
fn checked_in(c: &CheckIn) -> Touch {
    Touch::Event(CaseEvent::CheckedIn(DaySignal::of(c)))
}

/// The `kind` of an escalation row: one of the three texts
/// [`Escalation::as_str`] gives, the only ones ever written.
pub(crate) fn escalation_of<R: Cells + ?Sized>(r: &R) -> Result<Escalation> {
    let kind = r.text("kind")?;
    Escalation::parse(&kind).ok_or_else(|| corrupt(format!("escalation kind {kind}")))
}
