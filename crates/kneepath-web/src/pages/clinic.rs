//! The clinician's area: the caseload dashboard sorted by need, invitations,
//! one patient's timeline with charts, measurements, notes, plan edits and
//! phase moves, and the one-page report.
//!
//! Every handler takes [`Clinician`] (role) and then [`linked_patient`]
//! (ownership): a clinician sees only patients linked to them, and any
//! other patient id is a 404, exactly like one that does not exist. Every
//! read and change of a patient's data writes an audit row naming the
//! patient.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use kneepath_core::clinic::{Measurements, Need, Side, Signals, Trend, status};
use kneepath_core::plan::EditKind;
use kneepath_store::{NewAudit, NewPlanEdit, Role, User};
use serde::Deserialize;

use crate::auth::{Clinician, CurrentUser, VerifiedForm};
use crate::error::WebError;
use crate::service::{PlanContext, deciding_on_plan, plan_context, plan_items};
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
    patient.ok_or(WebError::NotFound)
}

/// Who is reading: a logged-in clinician, or the CLI acting for one.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub ip: Option<&'a str>,
}

impl<'a> From<&'a CurrentUser> for Actor<'a> {
    fn from(u: &'a CurrentUser) -> Self {
        Actor {
            id: u.id(),
            name: &u.session.user.display_name,
            ip: u.ip(),
        }
    }
}

async fn audit(
    state: &AppState,
    who: Actor<'_>,
    patient: &str,
    action: &str,
    entity: &str,
) -> Result<(), WebError> {
    state
        .store
        .audit(&NewAudit {
            actor_id: Some(who.id),
            subject_id: Some(patient),
            action,
            entity,
            entity_id: None,
            ip: who.ip,
            detail: None,
        })
        .await?;
    Ok(())
}

/// A score as published calculators show it: half up to one decimal.
fn fmt1(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), kneepath_core::outcomes::format1)
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

#[derive(Debug)]
pub struct FactorView {
    pub title: String,
    pub grade: &'static str,
    pub facts: Vec<String>,
}

#[derive(Debug)]
pub struct PlanRow {
    pub id: String,
    pub name: String,
    pub dosage: String,
    pub why: String,
}

#[derive(Debug)]
pub struct ScoreRow {
    pub day: String,
    /// (label, value, change) for each score; the change is against the
    /// first response, e.g. "+12.5 (better)", empty on the first.
    pub values: Vec<(String, String, String)>,
}

#[derive(Debug)]
pub struct InstrumentScores {
    pub title: String,
    pub mic: String,
    pub higher_is_better: bool,
    pub rows: Vec<ScoreRow>,
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
    pub factors: Vec<FactorView>,
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
    /// Adherence over the current plan, in words (for the report).
    pub adherence: String,
    /// Titles of the current advice (for the report).
    pub advice: Vec<String>,
    /// (date, author, text) of the clinicians' notes, oldest first.
    pub notes: Vec<(String, String, String)>,
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

/// Scores over time per instrument, with the change from the first
/// response judged against the minimal important change.
pub(crate) fn score_tables(
    kb: &kneepath_core::KnowledgeBase,
    outcomes: &[kneepath_store::OutcomeRow],
) -> Vec<InstrumentScores> {
    use kneepath_core::outcomes::{Change, format1, instrument_change, score_instrument};
    kb.instruments
        .iter()
        .filter_map(|ins| {
            // Scored again from the answers as stored, so a response saved
            // before a scoring fix (KOOS S4/S5) shows its right score.
            let scored: Vec<(&kneepath_store::OutcomeRow, Vec<kneepath_core::outcomes::Score>)> =
                outcomes
                    .iter()
                    .filter(|o| o.instrument == ins.id)
                    .map(|o| {
                        let s = score_instrument(ins.kind, &o.answers)
                            .unwrap_or_else(|_| o.scores.clone());
                        (o, s)
                    })
                    .collect();
            let (first, first_scores) = scored.first()?;
            let rows = scored
                .iter()
                .map(|(o, scores)| ScoreRow {
                    day: o.day.to_string(),
                    values: scores
                        .iter()
                        .zip(first_scores)
                        .map(|(s, f)| {
                            let change = match (f.value, s.value) {
                                (Some(a), Some(b)) if o.id != first.id => {
                                    let word = match instrument_change(
                                        ins.kind,
                                        ins.mic,
                                        ins.higher_is_better,
                                        a,
                                        b,
                                    ) {
                                        Change::Better => "better",
                                        Change::Worse => "worse",
                                        Change::NotMeaningful => "not a meaningful change",
                                    };
                                    let d = format1(b - a);
                                    let sign = if d.starts_with('-') { "" } else { "+" };
                                    format!("{sign}{d} ({word})")
                                }
                                _ => String::new(),
                            };
                            (s.label.clone(), fmt1(s.value), change)
                        })
                        .collect(),
                })
                .collect();
            Some(InstrumentScores {
                title: ins.short.clone(),
                mic: match ins.kind {
                    kneepath_core::kb::InstrumentKind::Nprs => format!(
                        "{} points or 30% of the first score, whichever is smaller (the same size for worsening)",
                        ins.mic
                    ),
                    _ => format!("{} points", ins.mic),
                },
                higher_is_better: ins.higher_is_better,
                rows,
            })
        })
        .collect()
}

async fn patient_page(
    state: &AppState,
    user: Actor<'_>,
    l: Layout,
    patient: &User,
    f: FormState,
    form: &'static str,
    saved: Option<String>,
) -> Result<PatientPage, WebError> {
    let kb = &state.kb;
    let today = state.clock.today_in(patient.time_zone.as_deref());
    let pid = patient.id.as_str();
    let ctx = plan_context(state, pid).await?;
    let store = &state.store;
    let assessments = store.assessments(pid).await?;
    let mut page = PatientPage {
        l,
        id: patient.id.clone(),
        name: patient.display_name.clone(),
        email: patient.email.clone(),
        local_day: patient
            .time_zone
            .as_deref()
            .map(|z| (crate::zones::label(z), today.to_string())),
        has_assessment: false,
        level_title: String::new(),
        level_class: "",
        flags: Vec::new(),
        factors: Vec::new(),
        phase: None,
        phase_id: String::new(),
        plan: Vec::new(),
        plan_rules: Vec::new(),
        liftable: Vec::new(),
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
        scores: Vec::new(),
        events: Vec::new(),
        event_count: 0,
        adherence: "No check-ins yet.".to_string(),
        advice: Vec::new(),
        notes: Vec::new(),
        f,
        form,
        saved,
        not_saved: None,
    };
    if let Some(latest) = assessments.last() {
        let r = &latest.report;
        page.has_assessment = true;
        page.level_title = r.level_title.clone();
        page.level_class = level_class(r.level);
        page.flags = r
            .fired
            .iter()
            .map(|f| format!("{} ({})", f.flag_title, f.rule))
            .collect();
        page.factors = r
            .contributors
            .iter()
            .map(|c| FactorView {
                title: c.title.clone(),
                grade: c.grade.as_str(),
                facts: c.facts.iter().map(|f| f.text.clone()).collect(),
            })
            .collect();
        page.advice = match &r.plan {
            kneepath_core::report::PlanReport::SeekCare { advice }
            | kneepath_core::report::PlanReport::Home { advice, .. } => {
                advice.iter().map(|x| x.title.clone()).collect()
            }
        };
    }
    if let Some(ctx) = &ctx {
        let rules = crate::service::applied_plan_rules(kb, ctx);
        page.liftable = rules
            .iter()
            .filter(|r| r.rule.liftable && r.lifted.is_none())
            .map(|r| r.rule.id.clone())
            .collect();
        let home = ctx.phase.map(|phase| plan_items(kb, ctx, phase));
        page.plan_rules = kneepath_core::report::plan_rule_reports(
            &rules,
            home.as_ref().map_or(&[][..], |h| &h.exclusions),
        );
        if let (Some(phase), Some(home)) = (ctx.phase, &home) {
            page.phase = Some(kb.phases[phase.phase].title.clone());
            page.phase_id = kb.phases[phase.phase].id.clone();
            page.plan = home
                .items
                .iter()
                .map(|i| PlanRow {
                    id: i.exercise.id.clone(),
                    name: i.exercise.name.clone(),
                    dosage: i
                        .dosage
                        .as_ref()
                        .map_or_else(|| i.exercise.dosage.summary(), |(d, _)| d.clone()),
                    why: match i.because {
                        kneepath_core::plan::Because::Contributor(c) => c.title.clone(),
                        kneepath_core::plan::Because::Clinician => "added by a clinician".into(),
                        _ => "phase".into(),
                    } + &i
                        .supported
                        .map(|r| format!("; supported version, rule {}", r.id))
                        .unwrap_or_default(),
                })
                .collect();
        }
        let mut progress = super::progress::empty(Layout::default());
        super::progress::fill(&mut progress, kb, ctx, today);
        page.pain_chart = progress.pain_chart;
        page.adherence_chart = progress.adherence_chart;
        page.summary = progress.summary;
        let planned: usize = ctx.checkins.iter().map(|x| x.planned.len()).sum();
        let done: usize = ctx
            .checkins
            .iter()
            .map(|x| x.planned.iter().filter(|e| x.done.contains(e)).count())
            .sum();
        if planned > 0 {
            page.adherence = format!(
                "{done} of {planned} planned exercises done ({:.0}%) over {} check-ins since {}.",
                done as f64 * 100.0 / planned as f64,
                ctx.checkins.len(),
                ctx.plan_start
            );
        } else if !ctx.checkins.is_empty() {
            page.adherence = format!("{} check-ins, no exercises planned.", ctx.checkins.len());
        }
    }
    let outcomes = store.outcomes(pid).await?;
    page.scores = score_tables(kb, &outcomes);
    let notes = store.notes(pid).await?;
    page.notes = notes
        .iter()
        .map(|n| {
            (
                n.created_at.get(..10).unwrap_or_default().to_string(),
                n.author
                    .clone()
                    .unwrap_or_else(|| "former clinician".into()),
                n.body.clone(),
            )
        })
        .collect();
    page.events = timeline(state, pid, &assessments, &outcomes, &notes).await?;
    page.event_count = page.events.len();
    audit(state, user, pid, "read", "timeline").await?;
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
    let mut page = patient_page(
        &state,
        (&user).into(),
        l,
        &p,
        FormState::default(),
        "",
        saved,
    )
    .await?;
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
    let mut page = patient_page(state, user.into(), l, p, f, form, None).await?;
    page.events.truncate(TIMELINE_EVENTS);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, private(&page)).into_response())
}

/// A form that was refused because the patient's plan kept changing under
/// it (`WebError::PlanChanged` after every try): the page again, on the
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
    let Err(WebError::PlanChanged) = sent else {
        return sent;
    };
    let l = Layout::for_user(&p.display_name, "clinic", user);
    let f = FormState::from_pairs(&form.pairs);
    let mut page = patient_page(state, user.into(), l, p, f, which, None).await?;
    page.events.truncate(TIMELINE_EVENTS);
    page.not_saved = Some(crate::error::CLINIC_NOT_SAVED);
    Ok((StatusCode::CONFLICT, private(&page)).into_response())
}

fn saved(id: &str, what: &str) -> Response {
    Redirect::to(&format!("/clinic/patients/{id}?saved={what}")).into_response()
}

/// A number field: empty is none; else it must parse and lie in range.
fn number(f: &mut FormState, form: &VerifiedForm, name: &str, max: f64, what: &str) -> Option<f64> {
    let raw = form.get(name);
    if raw.is_empty() {
        return None;
    }
    match raw.replace(',', ".").parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=max).contains(&v) => Some(v),
        _ => {
            f.errors.push((
                name.to_string(),
                format!("{what}: enter a number from 0 to {max}."),
            ));
            None
        }
    }
}

pub async fn measure(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    Path(id): Path<String>,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    let p = linked_patient(&state, &user, &id).await?;
    let mut f = FormState::from_pairs(&form.pairs);
    let side = match form.get("painful_side") {
        "left" => Some(Side::Left),
        "right" => Some(Side::Right),
        _ => None,
    };
    let m = Measurements {
        painful_side: side,
        hamstring_left_nm: number(&mut f, &form, "ham_left", 500.0, "Hamstring torque, left"),
        hamstring_right_nm: number(&mut f, &form, "ham_right", 500.0, "Hamstring torque, right"),
        quadriceps_left_nm: number(&mut f, &form, "quad_left", 600.0, "Quadriceps torque, left"),
        quadriceps_right_nm: number(
            &mut f,
            &form,
            "quad_right",
            600.0,
            "Quadriceps torque, right",
        ),
        slr_left_deg: number(&mut f, &form, "slr_left", 180.0, "Straight-leg raise, left"),
        slr_right_deg: number(
            &mut f,
            &form,
            "slr_right",
            180.0,
            "Straight-leg raise, right",
        ),
        ake_deg: number(&mut f, &form, "ake", 90.0, "Active knee extension deficit"),
    };
    let sided = [
        m.hamstring_left_nm,
        m.hamstring_right_nm,
        m.quadriceps_left_nm,
        m.quadriceps_right_nm,
        m.slr_left_deg,
        m.slr_right_deg,
    ]
    .iter()
    .any(Option::is_some);
    if sided && side.is_none() {
        f.errors.push((
            "painful_side".into(),
            "Choose the painful side: the ratios compare it with the other leg.".into(),
        ));
    }
    // A ratio the assessment cannot take, at the field it was computed from.
    let (painful, other) = match side {
        Some(Side::Left) => ("left", "right"),
        _ => ("right", "left"),
    };
    for (fact, message) in crate::service::measurement_problems(&state.kb, &m) {
        let field = match fact {
            "hq_ratio" | "strength_lsi_pct" => format!("ham_{painful}"),
            "slr_deg" => format!("slr_{painful}"),
            "slr_other_deg" => format!("slr_{other}"),
            "ake_deg" => "ake".into(),
            _ => "ham_left".into(),
        };
        f.errors.push((field, message));
    }
    if f.errors.is_empty() && m.is_empty() {
        f.errors.push((
            "ham_left".into(),
            "Enter at least one measurement (torques need both the hamstring and quadriceps of a side).".into(),
        ));
    }
    if !f.errors.is_empty() {
        return invalid(&state, &user, &p, f, "measure").await;
    }
    let day = state.clock.today_in(p.time_zone.as_deref());
    match crate::service::record_measurement(&state, user.id(), &p.id, &m, day, user.ip()).await {
        Ok(_) => Ok(saved(&p.id, "measure")),
        // No assessment to add them to: said on the form, nothing stored.
        Err(WebError::BadRequest(message)) => {
            f.errors.push(("ham_left".into(), message));
            invalid(&state, &user, &p, f, "measure").await
        }
        Err(e) => unless_plan_changed(Err(e), &state, &user, &p, &form, "measure").await,
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

async fn current_plan(state: &AppState, pid: &str) -> Result<Option<PlanContext>, WebError> {
    Ok(plan_context(state, pid)
        .await?
        .filter(|c| c.phase.is_some()))
}

pub async fn edit_plan(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    Path(id): Path<String>,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    let p = linked_patient(&state, &user, &id).await?;
    let sent = deciding_on_plan(&state, &p.id, || edit_plan_once(&state, &user, &p, &form)).await;
    unless_plan_changed(sent, &state, &user, &p, &form, "plan").await
}

/// One check-and-store of a plan edit, against the plan as it is now.
async fn edit_plan_once(
    state: &AppState,
    user: &CurrentUser,
    p: &User,
    form: &VerifiedForm,
) -> Result<Response, WebError> {
    let kb = &state.kb;
    let mut f = FormState::from_pairs(&form.pairs);
    let Some(ctx) = current_plan(state, &p.id).await? else {
        f.errors.push((
            "kind".into(),
            "This patient has no home plan to edit (no assessment yet, or sent to a doctor)."
                .into(),
        ));
        return invalid(state, user, p, f, "plan").await;
    };
    let Some(phase) = ctx.phase else {
        return Err(WebError::NotFound);
    };
    let kind = EditKind::parse(form.get("kind"));
    if kind == Some(EditKind::Clear) {
        return lift_rule_once(state, user, p, form, &ctx, f).await;
    }
    let in_plan: Vec<String> = plan_items(kb, &ctx, phase)
        .items
        .iter()
        .map(|i| i.exercise.id.clone())
        .collect();
    let exercise = form.get("exercise");
    let replacement = form.get("replacement");
    let dosage = form.get("dosage");
    let reason = form.get("reason");
    if kind.is_none() {
        f.errors
            .push(("kind".into(), "Choose what to change.".into()));
    }
    if kb.exercise_by_id(exercise).is_none() {
        f.errors
            .push(("exercise".into(), "Choose an exercise.".into()));
    } else if kind == Some(EditKind::Add) && in_plan.iter().any(|e| e == exercise) {
        f.errors.push((
            "exercise".into(),
            "This exercise is already in the plan.".into(),
        ));
    } else if kind.is_some_and(|k| k != EditKind::Add) && !in_plan.iter().any(|e| e == exercise) {
        f.errors.push((
            "exercise".into(),
            "This exercise is not in the current plan.".into(),
        ));
    }
    if kind == Some(EditKind::Swap)
        && (kb.exercise_by_id(replacement).is_none() || in_plan.iter().any(|e| e == replacement))
    {
        f.errors.push((
            "replacement".into(),
            "Choose an exercise that is not already in the plan to swap in.".into(),
        ));
    }
    if kind == Some(EditKind::Dosage) && (dosage.is_empty() || dosage.chars().count() > 120) {
        f.errors.push((
            "dosage".into(),
            "Write the new dosage, for example “3 x 10, every other day” (up to 120 characters)."
                .into(),
        ));
    }
    if reason.is_empty() || reason.chars().count() > 500 {
        f.errors.push((
            "reason".into(),
            "Say why (up to 500 characters): the patient and the timeline show it.".into(),
        ));
    }
    let Some(kind) = kind.filter(|_| f.errors.is_empty()) else {
        return invalid(state, user, p, f, "plan").await;
    };
    state
        .store
        .add_plan_edit(
            &NewPlanEdit {
                patient_id: &p.id,
                author_id: user.id(),
                kind: kind.as_str(),
                exercise,
                replacement: (kind == EditKind::Swap).then_some(replacement),
                dosage: (kind == EditKind::Dosage).then_some(dosage),
                reason,
                plan_version: ctx.version,
            },
            user.ip(),
        )
        .await?;
    Ok(saved(&p.id, "plan"))
}

/// One check-and-store of a lift of a plan rule (P2): the rule must apply
/// to the patient, be one a clinician may lift and not be lifted already;
/// the reason records who cleared the patient.
async fn lift_rule_once(
    state: &AppState,
    user: &CurrentUser,
    p: &User,
    form: &VerifiedForm,
    ctx: &PlanContext,
    mut f: FormState,
) -> Result<Response, WebError> {
    let kb = &state.kb;
    let rule = form.get("rule");
    let reason = form.get("reason");
    let rules = crate::service::applied_plan_rules(kb, ctx);
    match rules.iter().find(|r| r.rule.id == rule) {
        Some(r) if r.rule.liftable && r.lifted.is_none() => {}
        Some(r) if r.lifted.is_some() => f.errors.push((
            "rule".into(),
            format!("Rule {rule} is already lifted for this patient."),
        )),
        Some(_) => f.errors.push((
            "rule".into(),
            format!(
                "Rule {rule} protects the patient whoever gives the plan: it cannot be lifted."
            ),
        )),
        None => f.errors.push((
            "rule".into(),
            "Choose a plan rule that applies to this patient.".into(),
        )),
    }
    if reason.chars().count() < 10 || reason.chars().count() > 500 {
        f.errors.push((
            "reason".into(),
            "Say who cleared the patient and on what examination (10 to 500 characters): the patient and the timeline show it.".into(),
        ));
    }
    if !f.errors.is_empty() {
        return invalid(state, user, p, f, "lift").await;
    }
    let reason = format!("Cleared by {}: {reason}", user.session.user.display_name);
    state
        .store
        .add_plan_edit(
            &NewPlanEdit {
                patient_id: &p.id,
                author_id: user.id(),
                kind: EditKind::Clear.as_str(),
                exercise: rule,
                replacement: None,
                dosage: None,
                reason: &reason,
                plan_version: ctx.version,
            },
            user.ip(),
        )
        .await?;
    Ok(saved(&p.id, "lift"))
}

pub async fn move_phase(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    Path(id): Path<String>,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    let p = linked_patient(&state, &user, &id).await?;
    let sent = deciding_on_plan(&state, &p.id, || move_phase_once(&state, &user, &p, &form)).await;
    unless_plan_changed(sent, &state, &user, &p, &form, "phase").await
}

/// One check-and-store of a phase move, from the phase the plan is in now.
async fn move_phase_once(
    state: &AppState,
    user: &CurrentUser,
    p: &User,
    form: &VerifiedForm,
) -> Result<Response, WebError> {
    let kb = &state.kb;
    let mut f = FormState::from_pairs(&form.pairs);
    let to = form.get("to");
    let reason = form.get("reason");
    let Some(ctx) = plan_context(state, &p.id).await? else {
        f.errors.push((
            "to".into(),
            "This patient has no assessment yet: there is no plan to give.".into(),
        ));
        return invalid(state, user, p, f, "phase").await;
    };
    // No phase: the triage sent the patient to a doctor. The policy lets
    // only a clinician give a plan then; this move starts one.
    let from = ctx.phase.map(|phase| kb.phases[phase.phase].id.clone());
    if kb.phase_by_id(to).is_none() || from.as_deref() == Some(to) {
        f.errors.push((
            "to".into(),
            "Choose a phase other than the current one.".into(),
        ));
    }
    if reason.is_empty() || reason.chars().count() > 500 {
        f.errors
            .push(("reason".into(), "Say why (up to 500 characters).".into()));
    }
    if !f.errors.is_empty() {
        return invalid(state, user, p, f, "phase").await;
    }
    let reason = match from {
        Some(_) => format!("Moved by {}: {reason}", user.session.user.display_name),
        None => format!(
            "Home plan given by {} after the triage sent the patient to a doctor: {reason}",
            user.session.user.display_name
        ),
    };
    let starts = kneepath_core::progress::starts_from(
        &ctx.checkins,
        state.clock.today_in(p.time_zone.as_deref()),
    );
    state
        .store
        .move_phase(
            &p.id,
            user.id(),
            &ctx.assessment.id,
            starts,
            from.as_deref(),
            to,
            &reason,
            ctx.version,
            user.ip(),
        )
        .await?;
    Ok(saved(&p.id, if from.is_some() { "phase" } else { "start" }))
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

#[derive(Debug, Template)]
#[template(path = "report.html")]
pub struct ReportPage {
    pub title: String,
    /// The stylesheet inlined (for the PDF, printed from a file).
    pub inline_css: Option<String>,
    pub generated: String,
    pub clinician: String,
    pub p: PatientPage,
}

/// The report of one patient as HTML. `inline_css` embeds the stylesheet
/// (for printing from a file); else it links it.
pub async fn report_html(
    state: &AppState,
    clinician: Actor<'_>,
    patient: &User,
    inline_css: bool,
) -> Result<String, WebError> {
    let p = patient_page(
        state,
        clinician,
        Layout::default(),
        patient,
        FormState::default(),
        "",
        None,
    )
    .await?;
    audit(state, clinician, &patient.id, "read", "report").await?;
    let page = ReportPage {
        title: format!("kneepath report: {}", patient.display_name),
        inline_css: inline_css.then(|| super::STYLE.to_string()),
        generated: kneepath_store::now_rfc3339()
            .get(..16)
            .unwrap_or_default()
            .replace('T', " "),
        clinician: clinician.name.to_string(),
        p,
    };
    page.render()
        .map_err(|e| WebError::Internal(format!("report template: {e}")))
}

pub async fn report(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let p = linked_patient(&state, &user, &id).await?;
    let html = report_html(&state, (&user).into(), &p, false).await?;
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
    let html = report_html(&state, (&user).into(), &p, true).await?;
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
