//! One patient's page: triage, plan, charts, scores and the timeline of
//! everything that happened.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use kneepath_app::outcomes::{InstrumentScores, fmt1};
use kneepath_app::report::{Factor, PlanRow};
use kneepath_report::progress::{ProgressInput, progress_charts};
use kneepath_store::{User, UserId};
use serde::Deserialize;

use kneepath_store::AuditEntity;

use super::linked_patient;
use crate::auth::{Clinician, CurrentUser};
use crate::error::WebError;
use crate::state::AppState;
use crate::views::{FormState, Layout, level_class, private, source_label};

/// Timeline events shown before "show all".
pub(super) const TIMELINE_EVENTS: usize = 40;

#[derive(Debug)]
pub struct Event {
    pub at: String,
    pub day: String,
    pub kind: &'static str,
    pub title: String,
    pub detail: String,
    pub by: Option<String>,
}

#[derive(Debug, Template)]
#[template(path = "clinic_patient.html")]
pub struct PatientPage {
    pub l: Layout,
    pub id: UserId,
    pub name: String,
    pub email: String,
    /// Where the patient lives and their today, when they set a zone.
    pub local_day: Option<(String, String)>,
    pub has_assessment: bool,
    pub level_title: String,
    /// When the current triage was made, and from what: the newest
    /// assessment, the one the plan follows.
    pub triage_when: String,
    pub level_class: &'static str,
    pub flags: Vec<String>,
    pub factors: Vec<Factor>,
    pub phase: Option<String>,
    pub phase_id: String,
    pub plan: Vec<PlanRow>,
    /// The plan rules (P1 ... P8) that apply, with what they leave out.
    pub plan_rules: Vec<kneepath_core::report::PlanRuleReport>,
    /// Ids of the rules among them a clinician may lift (P2), not lifted.
    pub liftable: Vec<String>,
    pub phases: Vec<(String, String)>,
    pub exercises: Vec<(String, String)>,
    pub pain_chart: String,
    pub adherence_chart: String,
    pub summary: String,
    pub scores: Vec<InstrumentScores>,
    pub events: Vec<Event>,
    /// How many events there are in all (before any truncation).
    pub event_count: usize,
    pub f: FormState,
    /// Which form `f` belongs to: measure, note, plan, phase.
    pub form: &'static str,
    pub saved: Option<String>,
    /// Why what was entered in `form` was not saved, when it was none of
    /// its fields (the plan changed under it).
    pub not_saved: Option<&'static str>,
}

impl PatientPage {
    pub fn err(&self, form: &str, field: &str) -> Option<&str> {
        if self.form == form {
            self.f.err(field)
        } else {
            None
        }
    }
    pub fn val(&self, form: &str, field: &str) -> &str {
        if self.form == form {
            self.f.val(field)
        } else {
            ""
        }
    }
}

fn exercise_name(kb: &kneepath_core::KnowledgeBase, id: &str) -> String {
    kb.exercise_by_id(id)
        .map_or_else(|| id.to_string(), |e| kb.exercises[e].name.clone())
}

fn phase_title(kb: &kneepath_core::KnowledgeBase, id: &str) -> String {
    kb.phase_by_id(id)
        .map_or_else(|| id.to_string(), |p| kb.phases[p].title.clone())
}

pub(super) async fn patient_page(
    state: &AppState,
    user: &CurrentUser,
    l: Layout,
    patient: &User,
    f: FormState,
    form: &'static str,
    saved: Option<String>,
) -> Result<PatientPage, WebError> {
    let kb = &state.kb;
    let pid = &patient.id;
    let store = &state.store;
    let assessments = store.assessments(pid).await?;
    let outcomes = store.outcomes(pid).await?;
    let notes = store.notes(pid).await?;
    let d = state
        .app
        .summary_of(patient, assessments.last(), &outcomes, &notes)
        .await?;
    let charts = d
        .progress
        .as_ref()
        .and_then(|p| progress_charts(&ProgressInput::of(p)));
    let (phase_id, phase) = d.phase.clone().unzip();
    let mut page = PatientPage {
        l,
        id: patient.id.clone(),
        name: patient.display_name.clone(),
        email: patient.email.clone(),
        local_day: patient
            .time_zone
            .as_deref()
            .map(|z| (crate::zones::label(z), d.today.to_string())),
        has_assessment: d.triage.is_some(),
        level_title: d
            .triage
            .as_ref()
            .map_or_else(String::new, |t| t.title.clone()),
        level_class: d.triage.as_ref().map_or("", |t| level_class(t.level)),
        triage_when: assessments
            .last()
            .map(|a| format!("{} · {}", a.day, source_label(a.source)))
            .unwrap_or_default(),
        flags: d.triage.map(|t| t.flags).unwrap_or_default(),
        factors: d.factors,
        phase,
        phase_id: phase_id.unwrap_or_default(),
        plan: d.plan,
        plan_rules: d.plan_rules,
        liftable: d.liftable,
        phases: kb
            .phases
            .iter()
            .map(|p| (p.id.clone(), p.title.clone()))
            .collect(),
        exercises: kb
            .exercises
            .iter()
            .map(|e| (e.id.clone(), e.name.clone()))
            .collect(),
        pain_chart: String::new(),
        adherence_chart: String::new(),
        summary: String::new(),
        scores: d.scores,
        events: Vec::new(),
        event_count: 0,
        f,
        form,
        saved,
        not_saved: None,
    };
    if let Some(c) = charts {
        page.pain_chart = c.pain_chart;
        page.adherence_chart = c.adherence_chart;
        page.summary = c.summary;
    }
    page.events = timeline(state, pid, &assessments, &outcomes, &notes).await?;
    page.event_count = page.events.len();
    state
        .app
        .audit_read(user.actor(), pid, AuditEntity::Timeline)
        .await?;
    Ok(page)
}

/// Everything that happened, newest first.
async fn timeline(
    state: &AppState,
    pid: &UserId,
    assessments: &[kneepath_store::AssessmentRow],
    outcomes: &[kneepath_store::OutcomeRow],
    notes: &[kneepath_store::NoteRow],
) -> Result<Vec<Event>, WebError> {
    let kb = &state.kb;
    let store = &state.store;
    let mut ev = Vec::new();
    for a in assessments {
        ev.push(Event {
            at: a.created_at.clone(),
            day: a.day.to_string(),
            kind: "assessment",
            title: format!("Assessment: {}", source_label(a.source)),
            detail: format!(
                "{}. {}",
                a.report.level_title,
                a.report
                    .fired
                    .iter()
                    .map(|f| format!("{}: {}", f.rule, f.flag_title))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            by: None,
        });
    }
    // The answers of a check-in in one line, with any warning signs.
    let describe = |ci: &kneepath_core::checkin::CheckIn| {
        let mut detail = format!(
            "Pain {}/10, next morning {}, during exercises {}; {} of {} exercises done.",
            ci.pain_now,
            ci.morning_pain.map_or("–".into(), |v| v.to_string()),
            ci.exercise_pain.map_or("–".into(), |v| v.to_string()),
            ci.planned.iter().filter(|p| ci.done.contains(p)).count(),
            ci.planned.len()
        );
        if !ci.warning_signs.is_empty() {
            let signs: Vec<String> = ci
                .warning_signs
                .iter()
                .map(|w| {
                    kb.fact_id(w)
                        .map_or_else(|| w.clone(), |f| kb.questions[f].label.clone())
                })
                .collect();
            detail.push_str(&format!(" Warning signs: {}.", signs.join(", ")));
        }
        detail
    };
    // A corrected check-in shows its answers as they are now, and each
    // correction what it replaced, when it was made.
    let revisions = store.checkin_revisions(pid).await?;
    for c in store.checkins(pid).await? {
        let ci = &c.checkin;
        let corrected = c.corrections.is_some_and(|n| n > 0);
        ev.push(Event {
            at: c.created_at.clone(),
            day: ci.day.to_string(),
            kind: if ci.warning_signs.is_empty() {
                "checkin"
            } else {
                "warning"
            },
            title: if corrected {
                "Check-in (corrected since)".into()
            } else {
                "Check-in".into()
            },
            detail: describe(ci),
            by: None,
        });
    }
    for r in &revisions {
        ev.push(Event {
            at: r.replaced_at.clone(),
            day: r.checkin.day.to_string(),
            kind: "checkin",
            title: "Check-in corrected by the patient".into(),
            detail: format!("The answers it replaced: {}", describe(&r.checkin)),
            by: None,
        });
    }
    for p in store.phase_changes(pid).await? {
        let title = match p.how.from() {
            None => format!("Plan started: {}", phase_title(kb, &p.to_phase)),
            Some(from) => format!(
                "Phase: {} → {}",
                phase_title(kb, from),
                phase_title(kb, &p.to_phase)
            ),
        };
        let by = match p.how.author() {
            Some(a) => store.user_by_id(a).await?.map(|u| u.display_name),
            None => None,
        };
        // Dated by the first day whose check-ins count for it, which for
        // a move made on (or after) a day's check-in is the next day: said
        // in words, so a date ahead of today does not read as an error.
        let detail = format!(
            "{} Check-ins count for it from {} (a move made after a day's check-in counts from the next day).",
            p.reason, p.day
        );
        ev.push(Event {
            at: p.created_at.clone(),
            day: p.day.to_string(),
            kind: "phase",
            title,
            detail,
            by,
        });
    }
    for e in store.escalations(pid).await? {
        ev.push(Event {
            at: e.created_at.clone(),
            day: e.day.to_string(),
            kind: "warning",
            title: match e.kind {
                kneepath_core::progress::Escalation::PolicyChanged => {
                    "Result changed by a new clinical policy".into()
                }
                _ => "See a professional".into(),
            },
            detail: e.kind.message().to_string(),
            by: None,
        });
    }
    for m in store.measurements(pid).await? {
        let detail = m
            .data
            .get("summary")
            .and_then(|s| s.as_str())
            .unwrap_or_default()
            .to_string();
        ev.push(Event {
            at: m.created_at.clone(),
            day: m.day.to_string(),
            kind: "measurement",
            title: "Measurements".into(),
            detail,
            by: m.author.clone(),
        });
    }
    for n in notes {
        ev.push(Event {
            at: n.created_at.clone(),
            day: n.created_at.get(..10).unwrap_or_default().to_string(),
            kind: "note",
            title: "Note".into(),
            detail: n.body.clone(),
            by: n.author.clone(),
        });
    }
    for e in store.plan_edits(pid).await? {
        let what = match e.kind.as_str() {
            "add" => format!("Added {}", exercise_name(kb, &e.exercise)),
            "remove" => format!("Removed {}", exercise_name(kb, &e.exercise)),
            "swap" => format!(
                "Swapped {} for {}",
                exercise_name(kb, &e.exercise),
                e.replacement
                    .as_deref()
                    .map_or_else(String::new, |r| exercise_name(kb, r))
            ),
            _ => format!(
                "Dosage of {}: {}",
                exercise_name(kb, &e.exercise),
                e.dosage.clone().unwrap_or_default()
            ),
        };
        ev.push(Event {
            at: e.created_at.clone(),
            day: e.created_at.get(..10).unwrap_or_default().to_string(),
            kind: "plan",
            title: format!("Plan edit: {what}"),
            detail: e.reason.clone(),
            by: e.author.clone(),
        });
    }
    for o in outcomes {
        let title = kb
            .instruments
            .iter()
            .find(|i| i.id == o.instrument)
            .map_or_else(|| o.instrument.clone(), |i| i.short.clone());
        ev.push(Event {
            at: o.created_at.clone(),
            day: o.day.to_string(),
            kind: "outcome",
            title: format!("{title} filled in"),
            detail: o
                .scores
                .iter()
                .map(|s| format!("{} {}", s.label, fmt1(s.value)))
                .collect::<Vec<_>>()
                .join(", "),
            by: None,
        });
    }
    // By the day each is about, newest first; within a day, newest made
    // first (a check-in logged late sits on its own day).
    ev.sort_by(|a, b| b.day.cmp(&a.day).then_with(|| b.at.cmp(&a.at)));
    Ok(ev)
}

#[derive(Debug, Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
    /// Show the whole timeline, not only the newest events.
    all: Option<String>,
}

pub async fn patient(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    Path(id): Path<UserId>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, WebError> {
    let p = linked_patient(&state, &user, &id).await?;
    let saved = q.saved.map(|s| match s.as_str() {
        "measure" => "Measurements saved; the contributing factors were re-run.".to_string(),
        "note" => "Note saved.".to_string(),
        "plan" => "Plan updated; the patient sees it now.".to_string(),
        "phase" => "Phase changed.".to_string(),
        "start" => "Home plan given; the plan rules apply to it as to any other.".to_string(),
        "lift" => "Plan rule lifted; the patient's plan now holds what it left out.".to_string(),
        _ => "Saved.".to_string(),
    });
    let l = Layout::for_user(&p.display_name, "clinic", &user);
    let mut page = patient_page(&state, &user, l, &p, FormState::default(), "", saved).await?;
    if q.all.is_none() {
        page.events.truncate(TIMELINE_EVENTS);
    }
    Ok(private(&page))
}
