//! Assessments: answers assessed and stored with the start of their home
//! plan, and every person's latest assessment re-run after the knowledge
//! base changed ([`App::reassess_all`]).

use kneepath_core::plan::{Plan, StartReason};
use kneepath_core::progress;
use kneepath_core::{Day, Facts, KnowledgeBase, assess};
use kneepath_store::{AssessmentSource, NewAssessment, UserId};

use crate::plan::facts_from_map;
use crate::{App, AppError};

impl App {
    /// Assess facts and store the result (with the start of its home plan).
    /// `source` says where the answers came from.
    pub async fn record_assessment(
        &self,
        user_id: &UserId,
        facts: &Facts,
        source: AssessmentSource,
        day: Day,
        ip: Option<&str>,
    ) -> Result<String, AppError> {
        // A check-in in progress finishes on the plan it read first.
        let _plan = self.plan_locks.lock(user_id).await;
        self.record_assessment_locked(user_id, facts, source, day, ip)
            .await
    }

    /// [`App::record_assessment`] for a caller that holds the person's plan
    /// lock already (a check-in's read-decide-write).
    pub async fn record_assessment_locked(
        &self,
        user_id: &UserId,
        facts: &Facts,
        source: AssessmentSource,
        day: Day,
        ip: Option<&str>,
    ) -> Result<String, AppError> {
        let kb = &self.kb;
        let a = assess(kb, facts);
        let report = a.report();
        let reason = start_reason(kb, &a.plan);
        let start = match &a.plan {
            Plan::Home(h) => Some(kb.phases[h.phase].id.as_str()),
            Plan::SeekCare { .. } => None,
        };
        let facts_json = kb.facts_to_json(facts);
        let id = self
            .store
            .insert_assessment(
                &NewAssessment {
                    user_id,
                    day,
                    source,
                    facts: &facts_json,
                    report: &report,
                    start_phase: start.map(|s| (s, reason.as_str())),
                },
                ip,
            )
            .await?;
        Ok(id)
    }
}

fn start_reason(kb: &KnowledgeBase, plan: &Plan<'_>) -> String {
    match plan {
        Plan::Home(h) => match &h.start {
            StartReason::Matched(ev) => format!(
                "Plan started in this phase because of your answers: {}.",
                ev.iter()
                    .map(|e| format!(
                        "{} {}",
                        e.question.label.to_lowercase(),
                        e.question.display_value(&e.value)
                    ))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            StartReason::Limited(rule) => format!(
                "Plan started in the {} phase: {} (rule {}).",
                kb.phases[h.phase].title.to_lowercase(),
                rule.because,
                rule.id
            ),
            StartReason::Default | StartReason::Chosen => format!(
                "Plan started in the {} phase: no reason to protect or only mobilise the knee was found.",
                kb.phases[h.phase].title.to_lowercase()
            ),
        },
        Plan::SeekCare { .. } => String::new(),
    }
}

/// What [`App::reassess_all`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reassessed {
    /// People whose latest assessment was made under another knowledge base.
    pub checked: usize,
    /// Of them, those whose answers now give a more urgent level or other
    /// plan rules: a new assessment stored, escalated.
    pub changed: usize,
    /// Left alone because their plan changed while being re-run (another
    /// instance re-ran it first).
    pub skipped: usize,
}

impl App {
    /// Re-run every person's latest assessment made under another knowledge
    /// base (a policy change) on its facts under the current one (`kneepath
    /// reassess`, and `serve` at start). Where the level is more urgent or
    /// the plan rules differ, store the re-run as a new assessment (its plan
    /// carries on, or stops where it now sends the person to a doctor),
    /// with a `policy_changed` escalation: the person sees a banner with the
    /// reason, and moves to the top of their clinician's list. The stored
    /// results stay as they were, with their knowledge-base version; a
    /// level that would now be less urgent is left for the person's next
    /// assessment.
    pub async fn reassess_all(&self, today: Day) -> Result<Reassessed, AppError> {
        let kb = &self.kb;
        let mut out = Reassessed::default();
        for (user, _, version) in self.store.latest_assessment_versions().await? {
            if version == kb.version {
                continue;
            }
            out.checked += 1;
            let _plan = self.plan_locks.lock(&user).await;
            let Some((head, read)) = self.store.plan_head(&user).await? else {
                continue;
            };
            let Some(old) = self.store.assessment(&head.id).await? else {
                continue;
            };
            let facts = facts_from_map(kb, &head.facts);
            let a = assess(kb, &facts);
            let old_rules: Vec<&str> = old
                .report
                .plan_rules
                .iter()
                .map(|r| r.id.as_str())
                .collect();
            let new_rules: Vec<&str> = a.plan_rules.iter().map(|r| r.rule.id.as_str()).collect();
            let more_urgent = a.level < old.level;
            if !more_urgent && old_rules == new_rules {
                continue;
            }
            let mut why = Vec::new();
            if more_urgent {
                why.push(format!("level {} to {}", old.level, a.level));
            }
            if old_rules != new_rules {
                why.push(format!(
                    "plan rules [{}] to [{}]",
                    old_rules.join(", "),
                    new_rules.join(", ")
                ));
            }
            let detail = format!(
                "re-run under knowledge base {} (policy {}), was {}: {}",
                kb.version,
                kb.meta.policy_version,
                old.kb_version,
                why.join("; ")
            );
            let report = a.report();
            let facts_json = kb.facts_to_json(&facts);
            let written = self
                .store
                .insert_reassessment(
                    &NewAssessment {
                        user_id: &user,
                        day: today,
                        source: AssessmentSource::Reassess,
                        facts: &facts_json,
                        report: &report,
                        start_phase: None,
                    },
                    progress::Escalation::PolicyChanged,
                    &detail,
                    read,
                )
                .await;
            match written {
                Ok(_) => out.changed += 1,
                Err(kneepath_store::StoreError::PlanChanged) => out.skipped += 1,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(out)
    }
}
