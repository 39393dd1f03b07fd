//! What a person's plan is computed from, and its version: the phase
//! changes (started by an assessment, moved by the progression rules or by
//! a clinician), [`PlanInputs`] (read natively on a SQLite file, in one
//! hand-off), and [`PlanVersion`] with the guard every write decided from
//! a read plan carries.
//!
//! The version orders writers across processes and instances (a clinic
//! network on one PostgreSQL), where the application's in-process plan
//! locks cannot: it is read in the same statement as the newest
//! assessment, so before the rest of the plan; every write that changes
//! what a plan is computed from moves it on in its own transaction; and a
//! write decided from a plan (a check-in, a measurement, a plan edit, a
//! phase move) goes through only while the version is still the one read,
//! else [`crate::StoreError::PlanChanged`] with nothing stored (store test
//! `writes_from_a_stale_plan_are_refused_and_store_nothing`). The version
//! is not data: backups leave it out and a restored database starts at 0.
//!
//! What a check-in reads (the newest assessment with its level and
//! version, the phase changes, the plan edits) comes in index order
//! without a sort; a unit test reads the query plans.

use kneepath_core::Day;
use kneepath_core::phases::{PhaseChange, PhaseMove, current_plan_start};

use crate::assessments::{AssessmentHead, RawHead, head_stmt};
use crate::checkins::{
    CheckInRow, RawCheckin, checkin_from_row, checkins_for_rules_stmt, checkins_stmt,
    count_corrections, revised_stmt,
};
use crate::clinic::{PlanEditRow, plan_edit_from_row, plan_edits_stmt};
use crate::sql::{Cells, Stmt};
use crate::{Result, Store, UserId, new_id, now_rfc3339};

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
pub(crate) fn plan_guard(user_id: &UserId, read: PlanVersion) -> Stmt {
    Stmt::new(
        "UPDATE users SET plan_version = plan_version + 1 WHERE id = $1 AND plan_version = $2",
    )
    .arg(user_id)
    .arg(read.0)
    .guarding()
}

/// Move the person's plan version on (a write that does not depend on what
/// the plan was, such as a new assessment).
pub(crate) fn plan_bump(user_id: &UserId) -> Stmt {
    Stmt::new("UPDATE users SET plan_version = plan_version + 1 WHERE id = $1").arg(user_id)
}

/// A phase change as stored: the core's [`PhaseChange`] with a clinician
/// named by their user id.
pub type PhaseChangeRow = PhaseChange<UserId>;

fn phase_changes_stmt(user_id: &UserId) -> Stmt {
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
        to_phase: r.text("to_phase")?,
        reason: r.text("reason")?,
        created_at: r.text("created_at")?,
        how: PhaseMove::of(
            r.opt_text("from_phase")?,
            r.opt_text("author_id")?.map(UserId::new),
        ),
    })
}

/// What a person's current plan is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanInputs {
    /// The newest assessment: it governs the plan.
    pub head: AssessmentHead,
    /// The current plan's phase changes, oldest first: from the newest
    /// start of a plan on (`phases::current_plan_start`).
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
        let from = current_plan_start(&all);
        let history: Vec<_> = all.into_iter().skip(from).collect();
        let start = history.first().map_or(assessed, |p| p.day);
        CurrentPlan { history, start }
    }

    fn started_at(&self) -> Option<&str> {
        self.history.first().map(|p| p.created_at.as_str())
    }

    fn checkins_stmt(&self, user_id: &UserId, rules_on: Option<Day>) -> Stmt {
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

/// A phase change to insert (the newest row is the current phase).
pub(crate) struct NewPhaseChange<'a> {
    pub user_id: &'a UserId,
    pub assessment_id: &'a str,
    pub day: Day,
    pub from: Option<&'a str>,
    pub to: &'a str,
    pub reason: &'a str,
    /// The clinician who moved it; none when the rules did.
    pub author_id: Option<&'a UserId>,
}

pub(crate) fn phase_change_stmt(p: &NewPhaseChange<'_>) -> Stmt {
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
    .touching(
        p.user_id,
        crate::summary::Touch::Event(kneepath_core::caseload::CaseEvent::InPhase(
            p.to.to_string(),
        )),
    )
}

impl Store {
    /// Phase changes of a user's plans, oldest first. The plan of an
    /// assessment starts with its first phase change; a re-triage after a
    /// warning sign carries the plan on under the new assessment.
    pub async fn phase_changes(&self, user_id: &UserId) -> Result<Vec<PhaseChangeRow>> {
        let rows = phase_changes_stmt(user_id)
            .query()
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(phase_change_from_row).collect()
    }

    /// What a person's current plan is computed from (see [`PlanInputs`]);
    /// none before their first assessment. With `rules_on`, only the
    /// check-ins the progression rules read for a check-in on that day.
    pub async fn plan_inputs(
        &self,
        user_id: &UserId,
        rules_on: Option<Day>,
    ) -> Result<Option<PlanInputs>> {
        if let Some(lite) = &self.lite {
            let user_id = user_id.clone();
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
        let someone = crate::UserId::new("someone");
        for (st, index) in [
            (super::head_stmt(&someone), "assessments_head (user_id=?)"),
            (
                super::phase_changes_stmt(&someone),
                "phase_changes_in_order (user_id=?)",
            ),
            (
                crate::clinic::plan_edits_stmt(&someone),
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
