//! What a clinician's report of one patient shows ([`ReportData`]), read
//! from the store: the current triage and contributing factors, the plan
//! with its adherence, the check-ins its charts are drawn from, the outcome
//! scores and the clinicians' notes. The report is rendered from it (HTML,
//! PDF) by `kneepath-report`; the clinician's page of the patient shows the
//! same data with the timeline.

use kneepath_core::checkin::CheckIn;
use kneepath_core::report::{PlanReport, PlanRuleReport};
use kneepath_core::{Day, KnowledgeBase, TriageLevel};
use kneepath_store::{AuditAction, AuditEntity, NewAudit, User, UserId};

use crate::outcomes::{InstrumentScores, score_tables};
use crate::plan::{applied_plan_rules, plan_items};
use crate::{Actor, App, AppError};

/// The data of a clinician's report of one patient.
#[derive(Debug, Clone)]
pub struct ReportData {
    pub patient_id: UserId,
    pub name: String,
    pub email: String,
    /// The patient's today (their time zone, else the server's).
    pub today: Day,
    /// Who the report is prepared by (empty for the clinician's page).
    pub clinician: String,
    /// When it was made: `YYYY-MM-DD HH:MM`, UTC.
    pub generated: String,
    /// The latest assessment's triage, when there is one.
    pub triage: Option<Triage>,
    /// The latest assessment's contributing factors.
    pub factors: Vec<Factor>,
    /// Titles of the latest assessment's advice.
    pub advice: Vec<String>,
    /// The current phase (id, title), when there is a home plan.
    pub phase: Option<(String, String)>,
    /// The exercises of the home plan.
    pub plan: Vec<PlanRow>,
    /// The plan rules (P1 ... P8) that apply, with what they leave out.
    pub plan_rules: Vec<PlanRuleReport>,
    /// Ids of the rules among them a clinician may lift (P2), not lifted.
    pub liftable: Vec<String>,
    /// Adherence over the current plan, in words.
    pub adherence: String,
    /// What the charts are drawn from, when there is a plan.
    pub progress: Option<ProgressData>,
    pub scores: Vec<InstrumentScores>,
    /// The clinicians' notes, oldest first.
    pub notes: Vec<Note>,
}

/// The triage of the latest assessment.
#[derive(Debug, Clone)]
pub struct Triage {
    pub level: TriageLevel,
    pub title: String,
    /// "flag title (rule id)" of each rule that fired.
    pub flags: Vec<String>,
}

/// A contributing factor as assessed.
#[derive(Debug, Clone)]
pub struct Factor {
    pub title: String,
    pub grade: &'static str,
    /// The facts behind it, in words.
    pub facts: Vec<String>,
}

/// An exercise of the home plan.
#[derive(Debug, Clone)]
pub struct PlanRow {
    pub id: String,
    pub name: String,
    pub dosage: String,
    /// Why it is in the plan.
    pub why: String,
}

/// A clinician's note.
#[derive(Debug, Clone)]
pub struct Note {
    /// YYYY-MM-DD.
    pub day: String,
    pub author: String,
    pub text: String,
}

/// What a plan's charts are drawn from.
#[derive(Debug, Clone)]
pub struct ProgressData {
    /// The plan's check-ins, oldest first.
    pub checkins: Vec<CheckIn>,
    pub plan_start: Day,
    /// The patient's today: the charts end on it, or on a later check-in.
    pub today: Day,
    /// Each move between phases: its first day and the phase moved to.
    pub moves: Vec<(Day, String)>,
    /// The smallest change of pain from the first week that matters, in
    /// points (`progression.toml`).
    pub meaningful_points: f64,
}

/// Each move between phases of a plan (not its start): the day it began
/// and the title of the phase moved to.
pub fn phase_moves(
    kb: &KnowledgeBase,
    history: &[kneepath_store::PhaseChangeRow],
) -> Vec<(Day, String)> {
    history
        .iter()
        .filter(|p| !p.how.is_start())
        .map(|p| {
            let title = kb
                .phase_by_id(&p.to_phase)
                .map_or(p.to_phase.clone(), |i| kb.phases[i].title.clone());
            (p.day, title)
        })
        .collect()
}

impl App {
    /// The data of the report of `patient`, made by the clinician `by`
    /// (whose care link to the patient the caller has checked), with its
    /// audit rows: reading the patient's record (`timeline`, as the
    /// clinician's page of the patient) and the report.
    pub async fn report_data(&self, by: Actor<'_>, patient: &User) -> Result<ReportData, AppError> {
        let mut data = self.patient_summary(patient).await?;
        self.audit_read(by, &patient.id, AuditEntity::Timeline)
            .await?;
        self.audit_read(by, &patient.id, AuditEntity::Report)
            .await?;
        data.clinician = by.name.to_string();
        data.generated = kneepath_store::now_rfc3339()
            .get(..16)
            .unwrap_or_default()
            .replace('T', " ");
        Ok(data)
    }

    /// A clinician's read of a patient's data, audited with the patient as
    /// subject.
    pub async fn audit_read(
        &self,
        by: Actor<'_>,
        patient_id: &UserId,
        entity: AuditEntity,
    ) -> Result<(), AppError> {
        self.store
            .audit(&NewAudit {
                actor_id: Some(by.id),
                subject_id: Some(patient_id),
                action: AuditAction::Read,
                entity,
                entity_id: None,
                ip: by.ip,
                detail: None,
            })
            .await?;
        Ok(())
    }

    /// The report's data of `patient`, not audited (the caller audits what
    /// it shows); `clinician` and `generated` left empty.
    pub async fn patient_summary(&self, patient: &User) -> Result<ReportData, AppError> {
        let pid = &patient.id;
        let store = &self.store;
        let assessments = store.assessments(pid).await?;
        let outcomes = store.outcomes(pid).await?;
        let notes = store.notes(pid).await?;
        self.summary_of(patient, assessments.last(), &outcomes, &notes)
            .await
    }

    /// [`App::patient_summary`] from the patient's latest assessment,
    /// outcome questionnaires and notes, already read (the clinician's page
    /// shows them in the timeline too).
    pub async fn summary_of(
        &self,
        patient: &User,
        latest: Option<&kneepath_store::AssessmentRow>,
        outcomes: &[kneepath_store::OutcomeRow],
        notes: &[kneepath_store::NoteRow],
    ) -> Result<ReportData, AppError> {
        let kb = &self.kb;
        let today = self.clock.today_in(patient.time_zone.as_deref());
        let ctx = self.plan_context(&patient.id).await?;
        let mut data = ReportData {
            patient_id: patient.id.clone(),
            name: patient.display_name.clone(),
            email: patient.email.clone(),
            today,
            clinician: String::new(),
            generated: String::new(),
            triage: None,
            factors: Vec::new(),
            advice: Vec::new(),
            phase: None,
            plan: Vec::new(),
            plan_rules: Vec::new(),
            liftable: Vec::new(),
            adherence: "No check-ins yet.".to_string(),
            progress: None,
            scores: Vec::new(),
            notes: Vec::new(),
        };
        if let Some(latest) = latest {
            let r = &latest.report;
            data.triage = Some(Triage {
                level: r.level,
                title: r.level_title.clone(),
                flags: r
                    .fired
                    .iter()
                    .map(|f| format!("{} ({})", f.flag_title, f.rule))
                    .collect(),
            });
            data.factors = r
                .contributors
                .iter()
                .map(|c| Factor {
                    title: c.title.clone(),
                    grade: c.grade.as_str(),
                    facts: c.facts.iter().map(|f| f.text.clone()).collect(),
                })
                .collect();
            data.advice = match &r.plan {
                PlanReport::SeekCare { advice } | PlanReport::Home { advice, .. } => {
                    advice.iter().map(|x| x.title.clone()).collect()
                }
            };
        }
        if let Some(ctx) = ctx {
            let rules = applied_plan_rules(kb, &ctx);
            data.liftable = rules
                .iter()
                .filter(|r| r.rule.liftable && r.lifted.is_none())
                .map(|r| r.rule.id.clone())
                .collect();
            let home = ctx.phase.map(|phase| plan_items(kb, &ctx, phase));
            data.plan_rules = kneepath_core::report::plan_rule_reports(
                &rules,
                home.as_ref().map_or(&[][..], |h| &h.exclusions),
            );
            if let (Some(phase), Some(home)) = (ctx.phase, &home) {
                let p = &kb.phases[phase.phase];
                data.phase = Some((p.id.clone(), p.title.clone()));
                data.plan = home
                    .items
                    .iter()
                    .map(|i| PlanRow {
                        id: i.exercise.id.clone(),
                        name: i.exercise.name.clone(),
                        dosage: i.dosage_text(),
                        why: match i.because {
                            kneepath_core::plan::Because::Contributor(c) => c.title.clone(),
                            kneepath_core::plan::Because::Clinician => {
                                "added by a clinician".into()
                            }
                            _ => "phase".into(),
                        } + &i
                            .supported
                            .map(|r| format!("; supported version, rule {}", r.id))
                            .unwrap_or_default(),
                    })
                    .collect();
            }
            drop(home);
            let planned: usize = ctx.checkins.iter().map(|x| x.planned.len()).sum();
            let done: usize = ctx
                .checkins
                .iter()
                .map(|x| x.planned.iter().filter(|e| x.done.contains(e)).count())
                .sum();
            if planned > 0 {
                data.adherence = format!(
                    "{done} of {planned} planned exercises done ({:.0}%) over {} since {}.",
                    done as f64 * 100.0 / planned as f64,
                    checkins_text(ctx.checkins.len()),
                    ctx.plan_start
                );
            } else if !ctx.checkins.is_empty() {
                data.adherence = format!(
                    "{}, no exercises planned.",
                    checkins_text(ctx.checkins.len())
                );
            }
            data.progress = Some(ProgressData {
                moves: phase_moves(kb, &ctx.phase_history),
                checkins: ctx.checkins,
                plan_start: ctx.plan_start,
                today,
                meaningful_points: kb.progression.escalate_meaningful_change,
            });
        }
        data.scores = score_tables(kb, outcomes);
        data.notes = notes
            .iter()
            .map(|n| Note {
                day: n.created_at.get(..10).unwrap_or_default().to_string(),
                author: n
                    .author
                    .clone()
                    .unwrap_or_else(|| "former clinician".into()),
                text: n.body.clone(),
            })
            .collect();
        Ok(data)
    }
}

/// "1 check-in", "3 check-ins".
fn checkins_text(n: usize) -> String {
    if n == 1 {
        "1 check-in".to_string()
    } else {
        format!("{n} check-ins")
    }
}
