//! The clinician's area: the caseload dashboard sorted by need, invitations,
//! one patient's timeline with charts, measurements, notes, plan edits and
//! phase moves, and the one-page report (drawn by `kneepath-report`).
//!
//! Every handler takes [`Clinician`] (role) and then [`linked_patient`]
//! (ownership): a clinician sees only patients linked to them, and any
//! other patient id is a 404, exactly like one that does not exist. Every
//! read and change of a patient's data writes an audit row naming the
//! patient. What the forms change is the application's
//! (`kneepath_app::clinic`); these handlers read the form and show the
//! outcome.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kneepath_app::clinic::{PhaseMoved, PlanEditInput, PlanEdited, RawMeasurements};
use kneepath_app::outcomes::{InstrumentScores, fmt1};
use kneepath_app::report::{Factor, PlanRow};
use kneepath_app::{AppError, FieldError};
use kneepath_core::clinic::{Need, Signals, Trend, status};
use kneepath_core::plan::EditKind;
use kneepath_report::progress::{ProgressInput, progress_charts};
use kneepath_store::{NewAudit, Role, User};
use serde::Deserialize;

use crate::auth::{Clinician, CurrentUser, VerifiedForm};
use crate::error::WebError;
use crate::state::AppState;
use crate::views::{FormState, Layout, level_class, private};

/// Timeline events shown before "show all".
const TIMELINE_EVENTS: usize = 40;

/// How long an invitation link stays valid.
pub const INVITE_HOURS: i64 = 7 * 24;

/// The patient behind `patient_id`, if linked to this clinician; else 404.
pub(crate) async fn linked_patient(
    state: &AppState,
    clinician: &CurrentUser,
    patient_id: &str,
) -> Result<User, WebError> {
    let user = state.store.user_by_id(patient_id).await?;
    let patient = user.filter(|u| u.role == Role::Patient);
    if !state.store.is_linked(clinician.id(), patient_id).await? {
        // Logged, with the patient as subject when there is one.
        let owner = patient.as_ref().map(|u| u.id.as_str());
        return Err(clinician.refuse(state, owner, "patient", patient_id).await);
    }
    patient.ok_or(WebError::not_found())
}

// --- the caseload -------------------------------------------------------------

#[derive(Debug)]
pub struct CaseRow {
    pub id: String,
    pub name: String,
    pub email: String,
    pub need: Need,
    pub need_class: &'static str,
    pub last_checkin: String,
    pub phase: String,
    pub pain: String,
    /// Arrow and words for the 7-day pain trend.
    pub trend_arrow: &'static str,
    pub trend_text: &'static str,
    pub adherence: String,
}

#[derive(Debug, Template)]
#[template(path = "clinic.html")]
pub struct CaseloadPage {
    pub l: Layout,
    pub rows: Vec<CaseRow>,
    pub total: usize,
    /// (need id, label, count) for the filter.
    pub counts: Vec<(&'static str, &'static str, usize)>,
    pub need: String,
    pub q: String,
    pub invite_url: Option<String>,
    pub today: String,
}

#[derive(Debug, Deserialize)]
pub struct CaseloadQuery {
    need: Option<String>,
    q: Option<String>,
}

fn need_class(n: Need) -> &'static str {
    match n {
        Need::PolicyChanged | Need::WarningSign => "need-red",
        Need::Worsening | Need::NotImproving => "need-amber",
        Need::NoCheckin | Need::LowAdherence => "need-grey",
        Need::OnTrack => "need-green",
    }
}

async fn caseload_page(
    state: &AppState,
    user: &CurrentUser,
    need_filter: &str,
    search: &str,
    invite_url: Option<String>,
) -> Result<CaseloadPage, WebError> {
    let kb = &state.kb;
    // The windows of the signals are read for the clinician's today; each
    // patient's status is then judged on the patient's own today (a patient
    // a day ahead who checked in this morning has checked in "today").
    let clinician_today = user.today(state);
    let entries = state
        .store
        .caseload(
            user.id(),
            clinician_today.plus(-13),
            clinician_today.plus(-6),
        )
        .await?;
    let min_adherence = kb.progression.advance_min_adherence_pct;
    let mut rows: Vec<(CaseRow, Option<f64>)> = entries
        .into_iter()
        .map(|e| {
            let signals = Signals {
                last_checkin: e.last_checkin,
                pains: e.pains,
                week: e.week,
                escalations: e.escalations,
                level: e.level,
            };
            let today = state.clock.today_in(e.patient.time_zone.as_deref());
            let s = status(&signals, today, min_adherence);
            let (trend_arrow, trend_text) = match s.trend {
                Trend::Rising => ("↑", "rising"),
                Trend::Falling => ("↓", "falling"),
                Trend::Steady => ("→", "steady"),
                Trend::Unknown => ("", "no trend yet"),
            };
            let phase = e
                .phase
                .as_deref()
                .and_then(|p| kb.phase_by_id(p))
                .map_or_else(|| "–".to_string(), |p| kb.phases[p].title.clone());
            (
                CaseRow {
                    id: e.patient.id,
                    name: e.patient.display_name,
                    email: e.patient.email,
                    need: s.need,
                    need_class: need_class(s.need),
                    last_checkin: match (e.last_checkin, s.days_since_checkin) {
                        (Some(d), Some(0)) => format!("{d} (today)"),
                        (Some(d), Some(1)) => format!("{d} (yesterday)"),
                        (Some(d), Some(n)) => format!("{d} ({n} days ago)"),
                        _ => "never".to_string(),
                    },
                    phase,
                    pain: fmt1(s.pain_avg7),
                    trend_arrow,
                    trend_text,
                    adherence: s
                        .adherence_pct
                        .map_or_else(|| "–".to_string(), |a| format!("{a:.0}%")),
                },
                s.pain_avg7,
            )
        })
        .collect();
    // Most pressing first; within a need, the most pain first.
    rows.sort_by(|(a, pa), (b, pb)| {
        a.need
            .cmp(&b.need)
            .then(pb.unwrap_or(-1.0).total_cmp(&pa.unwrap_or(-1.0)))
            .then(a.name.cmp(&b.name))
    });
    let total = rows.len();
    let counts = Need::ALL
        .iter()
        .map(|n| {
            (
                n.as_str(),
                n.label(),
                rows.iter().filter(|(r, _)| r.need == *n).count(),
            )
        })
        .collect();
    let needle = search.trim().to_lowercase();
    let want = Need::parse(need_filter);
    let rows: Vec<CaseRow> = rows
        .into_iter()
        .map(|(r, _)| r)
        .filter(|r| want.is_none_or(|n| r.need == n))
        .filter(|r| {
            needle.is_empty()
                || r.name.to_lowercase().contains(&needle)
                || r.email.contains(&needle)
        })
        .collect();
    // One audit row for the view, naming every patient shown (the admin's
    // search by patient finds it); one row per patient would write 200
    // rows per page view.
    if !rows.is_empty() {
        let shown = rows
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>()
            .join(",");
        state
            .store
            .audit(&NewAudit {
                actor_id: Some(user.id()),
                subject_id: None,
                action: "read",
                entity: "caseload",
                entity_id: None,
                ip: user.ip(),
                detail: Some(&format!("{} patients: {shown}", rows.len())),
            })
            .await?;
    }
    Ok(CaseloadPage {
        l: Layout::for_user("Caseload", "clinic", user),
        rows,
        total,
        counts,
        need: need_filter.to_string(),
        q: search.to_string(),
        invite_url,
        today: clinician_today.to_string(),
    })
}

pub async fn dashboard(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    Query(q): Query<CaseloadQuery>,
) -> Result<Response, WebError> {
    let page = caseload_page(
        &state,
        &user,
        q.need.as_deref().unwrap_or(""),
        q.q.as_deref().unwrap_or(""),
        None,
    )
    .await?;
    Ok(private(&page))
}

fn origin(state: &AppState, headers: &axum::http::HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    let scheme = if state.settings.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

pub async fn invite(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    headers: axum::http::HeaderMap,
    _form: VerifiedForm,
) -> Result<Response, WebError> {
    let token = state
        .store
        .create_invite(user.id(), INVITE_HOURS, user.ip())
        .await?;
    let url = format!("{}/invite/{token}", origin(&state, &headers));
    let page = caseload_page(&state, &user, "", "", Some(url)).await?;
    Ok(private(&page))
}

// --- one patient ----------------------------------------------------------------

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
    pub id: String,
    pub name: String,
    pub email: String,
    /// Where the patient lives and their today, when they set a zone.
    pub local_day: Option<(String, String)>,
    pub has_assessment: bool,
    pub level_title: String,
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

async fn patient_page(
    state: &AppState,
    user: &CurrentUser,
    l: Layout,
    patient: &User,
    f: FormState,
    form: &'static str,
    saved: Option<String>,
) -> Result<PatientPage, WebError> {
    let kb = &state.kb;
    let pid = patient.id.as_str();
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
    state.app.audit_read(user.actor(), pid, "timeline").await?;
    Ok(page)
}

/// Everything that happened, newest first.
async fn timeline(
    state: &AppState,
    pid: &str,
    assessments: &[kneepath_store::AssessmentRow],
    outcomes: &[kneepath_store::OutcomeRow],
    notes: &[kneepath_store::NoteRow],
) -> Result<Vec<Event>, WebError> {
    let kb = &state.kb;
    let store = &state.store;
    let mut ev = Vec::new();
    for a in assessments {
        let title = match a.source.as_str() {
            "checkin" => "Re-triage after a warning sign",
            "measurement" => "Contributing factors re-run with measurements",
            "import" => "Assessment imported",
            "reassess" => "Re-run under a new clinical policy",
            _ => "Assessment",
        };
        ev.push(Event {
            at: a.created_at.clone(),
            day: a.day.to_string(),
            kind: "assessment",
            title: title.to_string(),
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
        let title = match &p.from_phase {
            None => format!("Plan started: {}", phase_title(kb, &p.to_phase)),
            Some(from) => format!(
                "Phase: {} → {}",
                phase_title(kb, from),
                phase_title(kb, &p.to_phase)
            ),
        };
        let by = match &p.author_id {
            Some(a) => store.user_by_id(a).await?.map(|u| u.display_name),
            None => None,
        };
        ev.push(Event {
            at: p.created_at.clone(),
            day: p.day.to_string(),
            kind: "phase",
            title,
            detail: p.reason.clone(),
            by,
        });
    }
    for e in store.escalations(pid).await? {
        let kind = kneepath_core::progress::Escalation::parse(&e.kind);
        let msg = kind.map_or(e.kind.clone(), |k| k.message().to_string());
        ev.push(Event {
            at: e.created_at.clone(),
            day: e.day.to_string(),
            kind: "warning",
            title: match kind {
                Some(kneepath_core::progress::Escalation::PolicyChanged) => {
                    "Result changed by a new clinical policy".into()
                }
                _ => "See a professional".into(),
            },
            detail: msg,
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
    ev.sort_by(|a, b| b.at.cmp(&a.at));
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
    Path(id): Path<String>,
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

async fn invalid(
    state: &AppState,
    user: &CurrentUser,
    p: &User,
    f: FormState,
    form: &'static str,
) -> Result<Response, WebError> {
    let l = Layout::for_user(&p.display_name, "clinic", user);
    let mut page = patient_page(state, user, l, p, f, form, None).await?;
    page.events.truncate(TIMELINE_EVENTS);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, private(&page)).into_response())
}

/// A form that was refused because the patient's plan kept changing under
/// it (`AppError::PlanChanged` after every try): the page again, on the
/// plan as it is now, with what the clinician entered and why it was not
/// saved. Any other outcome passes through.
async fn unless_plan_changed(
    sent: Result<Response, WebError>,
    state: &AppState,
    user: &CurrentUser,
    p: &User,
    form: &VerifiedForm,
    which: &'static str,
) -> Result<Response, WebError> {
    let Err(WebError::App(AppError::PlanChanged)) = sent else {
        return sent;
    };
    let l = Layout::for_user(&p.display_name, "clinic", user);
    let f = FormState::from_pairs(&form.pairs);
    let mut page = patient_page(state, user, l, p, f, which, None).await?;
    page.events.truncate(TIMELINE_EVENTS);
    page.not_saved = Some(crate::error::CLINIC_NOT_SAVED);
    Ok((StatusCode::CONFLICT, private(&page)).into_response())
}

fn saved(id: &str, what: &str) -> Response {
    Redirect::to(&format!("/clinic/patients/{id}?saved={what}")).into_response()
}

/// A form's refusal: its field errors added to the form as sent.
fn with_errors(form: &VerifiedForm, errors: Vec<FieldError>) -> FormState {
    let mut f = FormState::from_pairs(&form.pairs);
    f.errors
        .extend(errors.into_iter().map(|e| (e.field, e.message)));
    f
}

pub async fn measure(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    Path(id): Path<String>,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    let p = linked_patient(&state, &user, &id).await?;
    let raw = RawMeasurements {
        painful_side: form.get("painful_side"),
        ham_left: form.get("ham_left"),
        ham_right: form.get("ham_right"),
        quad_left: form.get("quad_left"),
        quad_right: form.get("quad_right"),
        slr_left: form.get("slr_left"),
        slr_right: form.get("slr_right"),
        ake: form.get("ake"),
    };
    match state.app.measure(user.actor(), &p, &raw).await {
        Ok(_) => Ok(saved(&p.id, "measure")),
        // Not right, or no assessment to add them to: said on the form,
        // nothing stored.
        Err(AppError::Invalid(errors)) => {
            invalid(&state, &user, &p, with_errors(&form, errors), "measure").await
        }
        Err(e) => unless_plan_changed(Err(e.into()), &state, &user, &p, &form, "measure").await,
    }
}

pub async fn note(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    Path(id): Path<String>,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    let p = linked_patient(&state, &user, &id).await?;
    let mut f = FormState::from_pairs(&form.pairs);
    let body = form.get("body");
    if body.is_empty() || body.chars().count() > 4000 {
        f.errors.push((
            "body".into(),
            "Write the note (up to 4,000 characters).".into(),
        ));
        return invalid(&state, &user, &p, f, "note").await;
    }
    state
        .store
        .add_note(&p.id, user.id(), body, user.ip())
        .await?;
    Ok(saved(&p.id, "note"))
}

pub async fn edit_plan(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    Path(id): Path<String>,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    let p = linked_patient(&state, &user, &id).await?;
    let input = PlanEditInput {
        kind: form.get("kind"),
        exercise: form.get("exercise"),
        replacement: form.get("replacement"),
        dosage: form.get("dosage"),
        rule: form.get("rule"),
        reason: form.get("reason"),
    };
    match state.app.edit_plan(user.actor(), &p.id, &input).await {
        Ok(PlanEdited::Edited) => Ok(saved(&p.id, "plan")),
        Ok(PlanEdited::Lifted) => Ok(saved(&p.id, "lift")),
        Err(AppError::NoHomePlan) => {
            let errors = vec![FieldError::new(
                "kind",
                "This patient has no home plan to edit (no assessment yet, or sent to a doctor).",
            )];
            invalid(&state, &user, &p, with_errors(&form, errors), "plan").await
        }
        Err(AppError::Invalid(errors)) => {
            let which = if EditKind::parse(input.kind) == Some(EditKind::Clear) {
                "lift"
            } else {
                "plan"
            };
            invalid(&state, &user, &p, with_errors(&form, errors), which).await
        }
        Err(e) => unless_plan_changed(Err(e.into()), &state, &user, &p, &form, "plan").await,
    }
}

pub async fn move_phase(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    Path(id): Path<String>,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    let p = linked_patient(&state, &user, &id).await?;
    let moved = state
        .app
        .move_phase(user.actor(), &p, form.get("to"), form.get("reason"))
        .await;
    match moved {
        Ok(PhaseMoved::Moved) => Ok(saved(&p.id, "phase")),
        Ok(PhaseMoved::Started) => Ok(saved(&p.id, "start")),
        Err(AppError::Invalid(errors)) => {
            invalid(&state, &user, &p, with_errors(&form, errors), "phase").await
        }
        Err(e) => unless_plan_changed(Err(e.into()), &state, &user, &p, &form, "phase").await,
    }
}

pub async fn unlink(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    Path(id): Path<String>,
    _form: VerifiedForm,
) -> Result<Response, WebError> {
    let p = linked_patient(&state, &user, &id).await?;
    for link in state.store.links_of_patient(&p.id).await? {
        if link.other.id == user.id() {
            state
                .store
                .revoke_link(&link.id, user.id(), user.ip())
                .await?;
        }
    }
    Ok(Redirect::to("/clinic").into_response())
}

// --- the report -------------------------------------------------------------------

/// The report of one patient as HTML (`kneepath-report`). `inline_css`
/// embeds the stylesheet (for printing from a file); else it links it.
async fn report_html(
    state: &AppState,
    user: &CurrentUser,
    patient: &User,
    inline_css: bool,
) -> Result<String, WebError> {
    let data = state.app.report_data(user.actor(), patient).await?;
    kneepath_report::render(&data, inline_css).map_err(|e| WebError::internal(e.to_string()))
}

pub async fn report(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let p = linked_patient(&state, &user, &id).await?;
    let html = report_html(&state, &user, &p, false).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response())
}

pub async fn report_pdf(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let p = linked_patient(&state, &user, &id).await?;
    let html = report_html(&state, &user, &p, true).await?;
    let pdf = state.pdf.print(html).await.map_err(|e| match e {
        crate::pdf::PdfError::Busy => WebError::Busy(e.to_string(), crate::pdf::RETRY_AFTER_SECS),
        other => WebError::Unavailable(other.to_string()),
    })?;
    let name: String = p
        .display_name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"kneepath-report-{name}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response())
}
