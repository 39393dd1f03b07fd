//! Synthetic data, for `kneepath seed` and the demo: many accounts at
//! once, many care links at once, and a whole synthetic patient history in
//! one transaction. Nothing here is on a path a real person's request
//! takes.

use kneepath_core::Day;
use kneepath_core::checkin::CheckIn;
use kneepath_core::progress::Escalation;
use kneepath_core::report::AssessmentReport;

use crate::AssessmentSource;
use crate::audit::{AuditAction, AuditEntity};
use crate::audit::{NewAudit, audit_in};
use crate::users::hash_password;
use crate::{Result, Role, Store, UserId, corrupt, new_id, now_rfc3339};

/// A whole synthetic history of one patient, written in one transaction
/// (for `kneepath seed`). Timestamps are made from the days, in order.
#[derive(Debug, Clone)]
pub struct History {
    pub user_id: UserId,
    /// Oldest first; the others name theirs by its index here.
    pub assessments: Vec<HistoryAssessment>,
    pub phase_changes: Vec<HistoryPhaseChange>,
    pub checkins: Vec<HistoryCheckin>,
    pub escalations: Vec<HistoryEscalation>,
}

/// An assessment of a synthetic history.
#[derive(Debug, Clone)]
pub struct HistoryAssessment {
    pub day: Day,
    pub source: AssessmentSource,
    pub facts: serde_json::Map<String, serde_json::Value>,
    pub report: AssessmentReport,
}

/// A phase change of a synthetic history, under its `assessment` (an
/// index of [`History::assessments`]).
#[derive(Debug, Clone)]
pub struct HistoryPhaseChange {
    pub assessment: usize,
    /// The first day whose check-ins count for `to`.
    pub day: Day,
    /// None: the plan's start.
    pub from: Option<String>,
    pub to: String,
    pub reason: String,
}

/// A check-in of a synthetic history, under its `assessment`.
#[derive(Debug, Clone)]
pub struct HistoryCheckin {
    pub assessment: usize,
    pub checkin: CheckIn,
}

/// An escalation of a synthetic history, under its `assessment`.
#[derive(Debug, Clone)]
pub struct HistoryEscalation {
    pub assessment: usize,
    pub day: Day,
    pub kind: Escalation,
}

impl History {
    /// An empty history of `user_id`, to fill.
    pub fn of(user_id: UserId) -> History {
        History {
            user_id,
            assessments: Vec::new(),
            phase_changes: Vec::new(),
            checkins: Vec::new(),
            escalations: Vec::new(),
        }
    }
}

impl Store {
    pub async fn insert_history(&self, h: &History) -> Result<()> {
        let _writing = self.writer().await;
        let mut tx = self.pool.begin().await?;
        crate::summary::lock_in(&mut tx, self.backend(), [&h.user_id]).await?;
        // created_at: the day at 08:00 UTC plus a running millisecond, so
        // "newest" queries see the events in the order they happened.
        let mut seq = 0i64;
        let mut at = |day: Day| {
            seq += 1;
            crate::ids::format_ms(i64::from(day.0) * 86_400_000 + 8 * 3_600_000 + seq)
        };
        let mut ids = Vec::new();
        for HistoryAssessment {
            day,
            source,
            facts,
            report,
        } in &h.assessments
        {
            let id = new_id();
            sqlx::query(
                "INSERT INTO assessments (id, user_id, created_at, day, source, facts, report, level, kb_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&id)
            .bind(&h.user_id)
            .bind(at(*day))
            .bind(day.to_string())
            .bind(source.as_str())
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
                .map(|(i, p)| (p.day, 0u8, i)),
        );
        events.extend(
            h.checkins
                .iter()
                .enumerate()
                .map(|(i, c)| (c.checkin.day, 1u8, i)),
        );
        events.extend(
            h.escalations
                .iter()
                .enumerate()
                .map(|(i, e)| (e.day, 2u8, i)),
        );
        events.sort();
        for (_, kind, i) in events {
            match kind {
                0 => {
                    let HistoryPhaseChange {
                        assessment: a,
                        day,
                        from,
                        to,
                        reason,
                    } = &h.phase_changes[i];
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
                    let HistoryCheckin {
                        assessment: a,
                        checkin: c,
                    } = &h.checkins[i];
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
                    let HistoryEscalation {
                        assessment: a,
                        day,
                        kind: k,
                    } = &h.escalations[i];
                    sqlx::query("INSERT INTO escalations (id, user_id, assessment_id, day, kind, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                        .bind(new_id())
                        .bind(&h.user_id)
                        .bind(aid(*a)?)
                        .bind(day.to_string())
                        .bind(k.as_str())
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
                action: AuditAction::Create,
                entity: AuditEntity::SyntheticHistory,
                entity_id: None,
                ip: None,
                detail: Some("kneepath seed"),
            },
        )
        .await?;
        crate::summary::refresh_in(&mut tx, &[crate::summary::rebuild_stmt(&h.user_id)]).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Create many accounts of one role sharing one precomputed password
    /// hash (for synthetic data: hashing each would dominate). Emails are
    /// `{prefix}{i}@synthetic.kneepath.local`. Returns their ids.
    pub async fn create_synthetic_users(
        &self,
        prefix: &str,
        n: usize,
        password: &str,
        role: Role,
    ) -> Result<Vec<UserId>> {
        let hash = hash_password(password.to_string()).await?;
        let _writing = self.writer().await;
        let mut ids = Vec::with_capacity(n);
        let now = now_rfc3339();
        for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
            let mut tx = self.pool.begin().await?;
            for i in chunk {
                let id = UserId::new(new_id());
                sqlx::query(
                    "INSERT INTO users (id, email, display_name, password_hash, role, disabled, created_at) VALUES ($1, $2, $3, $4, $5, 0, $6)",
                )
                .bind(&id)
                .bind(format!("{prefix}{i}@synthetic.kneepath.local"))
                .bind(match role {
                    Role::Patient => format!("Patient {i}"),
                    Role::Clinician => format!("Clinician {i}"),
                    Role::Admin => format!("Admin {i}"),
                })
                .bind(&hash)
                .bind(role.as_str())
                .bind(&now)
                .execute(&mut *tx)
                .await?;
                ids.push(id);
            }
            tx.commit().await?;
        }
        Ok(ids)
    }

    /// Link many (clinician, patient) pairs at once (for synthetic data).
    pub async fn link_many(&self, pairs: &[(UserId, UserId)]) -> Result<()> {
        let _writing = self.writer().await;
        let now = now_rfc3339();
        for chunk in pairs.chunks(500) {
            let mut tx = self.pool.begin().await?;
            let patients = chunk.iter().map(|(_, p)| p);
            crate::summary::lock_in(&mut tx, self.backend(), patients).await?;
            for (c, p) in chunk {
                sqlx::query("INSERT INTO care_links (id, patient_id, clinician_id, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(new_id())
                    .bind(p)
                    .bind(c)
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
            }
            let marks: Vec<_> = chunk
                .iter()
                .map(|(_, p)| crate::summary::rebuild_stmt(p))
                .collect();
            crate::summary::refresh_in(&mut tx, &marks).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}
