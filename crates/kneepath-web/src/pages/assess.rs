//! The assessment wizard (one questionnaire section per step, answers kept
//! server-side while going back and forth), the result page and the list
//! of a person's assessments.
//!
//! Works without JavaScript, so a question's `show_if` is evaluated on the
//! answers of *earlier* steps; after a step is sent, answers that no longer
//! apply are dropped.
//!
//! Policy v2, "What the questionnaire must do" (`core::questionnaire`):
//! no answer is preselected; a must-answer question (onset, mechanism, and
//! every yes/no question an urgent or more urgent rule reads) refuses its
//! step until answered yes, no or not sure; a blank optional answer is not
//! reported. After every step the wizard checks whether to stop: when an
//! `ambulance` rule fires it records the result at once and shows the action
//! first; for an `emergency` rule it first asks the unanswered questions the
//! `ambulance` rules read (`/assess/check`). The draft is kept, so the rest
//! can be answered afterwards.

use axum::extract::Query;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kneepath_core::kb::{KnowledgeBase, Question, QuestionKind};
use kneepath_core::questionnaire::{Stop, stop};
use kneepath_core::report::PlanReport;
use serde_json::{Map, Value as Json};

use kneepath_store::{AssessmentSource, AuditAction, AuditEntity};

use crate::auth::{
    ClientIp, MaybeGuest, MaybeUser, Respondent, VerifiedForm, anon_csrf, clear_session_cookie,
    session_cookie,
};
use crate::error::WebError;
use crate::state::AppState;
use crate::views::{
    AssessStartPage, AssessmentsPage, Layout, OptView, QuestionView, ResultPage, WizardPage,
    level_class, private, render,
};
use kneepath_app::plan::facts_from_map;

fn section_questions(kb: &KnowledgeBase, section: usize) -> Vec<usize> {
    (0..kb.questions.len())
        .filter(|&q| kb.questions[q].section == section)
        .collect()
}

/// Questions of `section` to show, given the answers of earlier sections.
fn visible(kb: &KnowledgeBase, section: usize, draft: &Map<String, Json>) -> Vec<usize> {
    let earlier: Map<String, Json> = draft
        .iter()
        .filter(|(k, _)| {
            kb.fact_id(k)
                .is_some_and(|id| kb.questions[id].section < section)
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    kneepath_core::questionnaire::visible(kb, section, &facts_from_map(kb, &earlier))
}

/// What a person entered for one question, as text.
struct Entered {
    single: String,
    multi: Vec<String>,
    other: String,
}

/// The form value of "Not sure" for a choice or list: an answer, kept in the
/// draft as `null`, that leaves the fact unknown.
const NOT_SURE: &str = "__unsure";

/// Whether a question offers "Not sure" as a choice of its own (yes/no
/// questions have it among their three answers; numbers may be left
/// blank).
fn offers_not_sure(q: &Question) -> bool {
    match q.kind {
        QuestionKind::Choice { .. } => !q.required,
        QuestionKind::Multi { .. } => q.must_answer && !q.required,
        _ => false,
    }
}

/// The draft's answers as facts: `null` (answered "not sure" to a choice or
/// list) is unknown, so it is left out, and so are the wizard's own marks
/// (keys starting with `__`).
fn answered_pairs(
    draft: &Map<String, Json>,
) -> impl Iterator<Item = (&str, kneepath_core::facts::RawValue)> {
    draft
        .iter()
        .filter(|(k, v)| !v.is_null() && !k.starts_with("__"))
        .map(|(k, v)| (k.as_str(), kneepath_core::facts::RawValue::from(v)))
}

/// The draft's mark of the level the wizard already stopped at (the rest
/// of the questions being answered afterwards).
const STOPPED: &str = "__stopped";

/// Whether to stop after the answers in `draft`: as `core::questionnaire`
/// says, except that once stopped, the questions answered afterwards stop
/// again only for a more urgent level (not at every step).
fn stop_here(kb: &KnowledgeBase, draft: &Map<String, Json>) -> Stop {
    let facts = facts_from_map(kb, draft);
    let s = stop(kb, &facts, &|f| draft.contains_key(&kb.questions[f].id));
    let already = draft
        .get(STOPPED)
        .and_then(Json::as_str)
        .and_then(kneepath_core::TriageLevel::parse);
    match (&s, already) {
        (Stop::Now(level), Some(a)) if *level >= a => Stop::GoOn,
        (Stop::AskFirst(_), Some(a)) if a <= kneepath_core::TriageLevel::Emergency => Stop::GoOn,
        _ => s,
    }
}

fn entered_from_json(q: &Question, v: Option<&Json>) -> Entered {
    let mut e = Entered {
        single: String::new(),
        multi: Vec::new(),
        other: String::new(),
    };
    match (v, &q.kind) {
        (Some(Json::Null), _) => {
            e.single = NOT_SURE.into();
            e.multi = vec![NOT_SURE.into()];
        }
        (Some(Json::Bool(b)), _) => e.single = if *b { "yes" } else { "no" }.into(),
        (Some(Json::String(s)), QuestionKind::Bool) if s == kneepath_core::facts::UNSURE => {
            e.single = "unsure".into()
        }
        (Some(Json::Number(n)), _) => e.single = n.to_string(),
        (Some(Json::String(s)), _) => e.single = s.clone(),
        (Some(Json::Array(items)), QuestionKind::Multi { options, .. }) => {
            let words: Vec<String> = items
                .iter()
                .filter_map(|i| i.as_str().map(String::from))
                .collect();
            let (known, other): (Vec<String>, Vec<String>) = words
                .into_iter()
                .partition(|w| options.iter().any(|o| o.value == *w));
            e.multi = known;
            e.other = other.join(", ");
        }
        _ => {}
    }
    e
}

fn entered_from_form(q: &Question, form: &VerifiedForm) -> Entered {
    Entered {
        single: form.get(&q.id).to_string(),
        multi: form.all(&q.id),
        other: form.get(&format!("{}__other", q.id)).to_string(),
    }
}

fn view(q: &Question, e: &Entered, error: Option<String>) -> QuestionView {
    let (kind, min, max, options, open) = match &q.kind {
        QuestionKind::Bool => ("bool", String::new(), String::new(), Vec::new(), false),
        QuestionKind::Integer { min, max } => (
            "integer",
            min.to_string(),
            max.to_string(),
            Vec::new(),
            false,
        ),
        QuestionKind::Number { min, max } => (
            "number",
            min.to_string(),
            max.to_string(),
            Vec::new(),
            false,
        ),
        QuestionKind::Choice { options } => (
            "choice",
            String::new(),
            String::new(),
            options.clone(),
            false,
        ),
        QuestionKind::Multi { options, open } => (
            "multi",
            String::new(),
            String::new(),
            options.clone(),
            *open,
        ),
    };
    QuestionView {
        id: q.id.clone(),
        prompt: q.prompt.clone(),
        help: q.help.clone(),
        how_to_check: q.how_to_check.clone(),
        kind,
        min,
        max,
        unit: q.unit.clone(),
        options: options
            .into_iter()
            .map(|o| OptView {
                checked: if kind == "multi" {
                    e.multi.contains(&o.value)
                } else {
                    e.single == o.value
                },
                value: o.value,
                label: o.label,
            })
            .collect(),
        value: e.single.clone(),
        other: e.other.clone(),
        open,
        required: q.must_answer,
        not_sure: offers_not_sure(q),
        not_sure_checked: e.single == NOT_SURE || e.multi.iter().any(|m| m == NOT_SURE),
        error,
    }
}

/// Parse what was entered; `Ok(None)` means not answered.
fn parse(q: &Question, e: &Entered) -> Result<Option<Json>, String> {
    if offers_not_sure(q) {
        let multi_unsure = e.multi.iter().any(|m| m == NOT_SURE);
        if matches!(q.kind, QuestionKind::Multi { .. }) && multi_unsure {
            let others = e.multi.len() > 1 || !e.other.trim().is_empty();
            return if others {
                Err(format!(
                    "{}: choose \"not sure\" or the answers that apply, not both.",
                    q.label
                ))
            } else {
                Ok(Some(Json::Null))
            };
        }
        if e.single == NOT_SURE {
            return Ok(Some(Json::Null));
        }
    }
    let text = match q.kind {
        QuestionKind::Multi { .. } => {
            let mut all = e.multi.clone();
            all.extend(
                e.other
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from),
            );
            if all.is_empty() {
                return Ok(None);
            }
            all.join(",")
        }
        _ => e.single.clone(),
    };
    match q.parse_text(&text) {
        Ok(Some(v)) => Ok(Some(q.value_to_json(&v))),
        Ok(None) if q.must_answer && q.kind == QuestionKind::Bool => Err(format!(
            "{}: an answer is needed here: yes, no or not sure.",
            q.label
        )),
        Ok(None) if q.must_answer && offers_not_sure(q) => Err(format!(
            "{}: an answer is needed here (or \"not sure\").",
            q.label
        )),
        Ok(None) if q.must_answer => Err(format!("{}: an answer is needed here.", q.label)),
        Ok(None) => Ok(None),
        Err(p) => Err(format!("{}: {p}.", q.label)),
    }
}

fn page(
    state: &AppState,
    l: Layout,
    step: usize,
    questions: Vec<QuestionView>,
    gate_value: String,
) -> WizardPage {
    let kb = &state.kb;
    let section = &kb.sections[step - 1];
    WizardPage {
        l,
        step,
        steps: kb.sections.len(),
        section_title: section.title.clone(),
        intro: section.intro.clone(),
        gate: section.gate.clone(),
        gate_value,
        questions,
        disclaimer: kb.meta.disclaimer.clone(),
        action: format!("/assess/{step}"),
        can_go_back: step > 1,
        last: step == kb.sections.len(),
    }
}

fn check_step(state: &AppState, step: usize) -> Result<(), WebError> {
    if step == 0 || step > state.kb.sections.len() {
        return Err(WebError::not_found());
    }
    Ok(())
}

/// The assessment's start: a patient or a guest goes to the first step;
/// someone not logged in is offered to start without an account (as a
/// guest) or to log in or sign up first; other roles are refused.
pub async fn start(
    State(state): State<AppState>,
    who: Result<Respondent, WebError>,
    jar: axum_extra::extract::cookie::CookieJar,
) -> Response {
    match who {
        Ok(_) => Redirect::to("/assess/1").into_response(),
        Err(WebError::StartFirst) => {
            let (jar, csrf) = anon_csrf(jar, state.settings.secure_cookies);
            let mut l = Layout::anon("Start the assessment");
            l.csrf = csrf;
            let page = AssessStartPage {
                l,
                hours: kneepath_app::GUEST_HOURS,
            };
            (jar, render(&page)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// Start answering without an account: a guest with its session (rate
/// limited per network address), then the first step.
pub async fn start_guest(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    MaybeGuest(guest): MaybeGuest,
    ClientIp(ip): ClientIp,
    jar: axum_extra::extract::cookie::CookieJar,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    if let Some(u) = &user
        && u.session.user.role != kneepath_store::Role::Patient
    {
        return Err(WebError::forbidden(
            "This part of kneepath is for patients.",
        ));
    }
    if user.is_some() {
        return Ok(Redirect::to("/assess/1").into_response());
    }
    // Every start is a new guest with a fresh session: a session someone
    // else planted in the browser is never answered into. (The old one's
    // answers stay until its time ends.)
    if let Some(g) = &guest {
        state.store.delete_session(&g.session.token_hash).await?;
    }
    match state.app.start_guest(ip.as_deref()).await? {
        kneepath_app::GuestStart::Started { guest, token } => {
            // The day answers are dated by (static/tz.js fills it in).
            let zone = form.get("time_zone");
            if crate::zones::is_known(zone) {
                state.store.set_time_zone(&guest.id, Some(zone)).await?;
            }
            Ok((
            jar.add(session_cookie(token, state.settings.secure_cookies)),
                Redirect::to("/assess/1"),
            )
                .into_response())
        }
        kneepath_app::GuestStart::TooManyFromAddress => Err(WebError::TooManyRequests(
            "Many people started the assessment from this network in the last hour. Please try again later, or create an account.".into(),
        )),
    }
}

/// A guest asks to delete their answers: a confirmation first (a tap by
/// mistake deletes nothing). Anyone else: 404.
pub async fn delete_guest_form(MaybeGuest(guest): MaybeGuest) -> Result<Response, WebError> {
    let Some(guest) = guest else {
        return Err(WebError::not_found());
    };
    let l = Layout::for_user("Delete your answers?", "", &guest);
    Ok(private(&crate::views::GuestDeletePage { l }))
}

/// A guest deletes their answers and results now (no account is made).
pub async fn delete_guest(
    State(state): State<AppState>,
    MaybeGuest(guest): MaybeGuest,
    jar: axum_extra::extract::cookie::CookieJar,
    _form: VerifiedForm,
) -> Result<Response, WebError> {
    let Some(guest) = guest else {
        return Err(WebError::forbidden(
            "Only answers given without an account are deleted here. To delete an account, use the account page.",
        ));
    };
    state.app.delete_guest(&guest.session.user).await?;
    Ok((
        jar.add(clear_session_cookie()),
        Redirect::to("/?deleted=answers"),
    )
        .into_response())
}

pub async fn step_form(
    State(state): State<AppState>,
    Respondent(user): Respondent,
    Path(step): Path<usize>,
) -> Result<Response, WebError> {
    check_step(&state, step)?;
    let kb = &state.kb;
    let draft = state.store.draft(user.id()).await?.unwrap_or_default();
    let questions: Vec<QuestionView> = visible(kb, step - 1, &draft)
        .into_iter()
        .map(|q| {
            let q = &kb.questions[q];
            view(q, &entered_from_json(q, draft.get(&q.id)), None)
        })
        .collect();
    let any_answered = section_questions(kb, step - 1)
        .iter()
        .any(|&q| draft.contains_key(&kb.questions[q].id));
    let gate_value = if any_answered { "yes" } else { "no" }.to_string();
    let l = Layout::for_user("Assessment", "assess", &user);
    Ok(private(&page(&state, l, step, questions, gate_value)))
}

pub async fn step_submit(
    State(state): State<AppState>,
    Respondent(user): Respondent,
    Path(step): Path<usize>,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    check_step(&state, step)?;
    let kb = &state.kb;
    let back = form.get("nav") == "back";
    let mut draft = state.store.draft(user.id()).await?.unwrap_or_default();
    let section = &kb.sections[step - 1];
    let shown = visible(kb, step - 1, &draft);
    let gate_open = section.gate.is_none() || form.get("__gate") == "yes";

    let mut views = Vec::new();
    let mut errors = 0;
    for &qi in &section_questions(kb, step - 1) {
        let q = &kb.questions[qi];
        if !shown.contains(&qi) || !gate_open {
            draft.remove(&q.id);
            continue;
        }
        let e = entered_from_form(q, &form);
        match parse(q, &e) {
            Ok(Some(v)) => {
                draft.insert(q.id.clone(), v);
                views.push(view(q, &e, None));
            }
            Ok(None) => {
                draft.remove(&q.id);
                views.push(view(q, &e, None));
            }
            Err(msg) => {
                errors += 1;
                views.push(view(q, &e, Some(msg)));
            }
        }
    }
    // A red flag answered on a step stops the questions at once, even with
    // other questions of the step still unanswered: the action comes first.
    if errors > 0 && !back {
        match stop_here(kb, &draft) {
            Stop::GoOn => {}
            Stop::Now(_) => {
                // The step is not finished: the rest starts with it.
                return stop_now(&state, &user, &draft, step).await;
            }
            Stop::AskFirst(_) => {
                state.store.save_draft(user.id(), &draft, user.ip()).await?;
                return Ok(Redirect::to(&format!("/assess/check?next={step}")).into_response());
            }
        }
    }
    if errors > 0 && !back {
        let l = Layout::for_user("Assessment", "assess", &user);
        let gate = if gate_open { "yes" } else { "no" }.to_string();
        let p = page(&state, l, step, views, gate);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, private(&p)).into_response());
    }
    // Drop answers that no longer apply given everything answered so far.
    let facts = facts_from_map(kb, &draft);
    draft.retain(|k, _| {
        k.starts_with("__")
            || kb.fact_id(k).is_some_and(|id| {
                kb.questions[id]
                    .show_if
                    .as_ref()
                    .is_none_or(|c| c.eval(&facts) != kneepath_core::condition::Tri::False)
            })
    });
    state.store.save_draft(user.id(), &draft, user.ip()).await?;
    if back {
        return Ok(
            Redirect::to(&format!("/assess/{}", step.saturating_sub(1).max(1))).into_response(),
        );
    }
    // Stop at once when the answers so far call for an ambulance (or, after
    // its questions, an emergency department).
    if step < kb.sections.len() {
        match stop_here(kb, &draft) {
            Stop::GoOn => {}
            Stop::Now(_) => return stop_now(&state, &user, &draft, step + 1).await,
            Stop::AskFirst(_) => {
                return Ok(
                    Redirect::to(&format!("/assess/check?next={}", step + 1)).into_response()
                );
            }
        }
        return Ok(Redirect::to(&format!("/assess/{}", step + 1)).into_response());
    }
    let facts = match kb.facts_from_pairs(answered_pairs(&draft)) {
        Ok(f) => f,
        Err(e) => {
            // Only a required answer can be missing here: go back to it.
            let first = e
                .problems()
                .iter()
                .filter_map(|p| kb.fact_id(&p.fact))
                .map(|id| kb.questions[id].section + 1)
                .min()
                .unwrap_or(1);
            return Ok(Redirect::to(&format!("/assess/{first}")).into_response());
        }
    };
    let id = record(&state, &user, &facts).await?;
    Ok(Redirect::to(&format!("/assessments/{id}")).into_response())
}

/// Store the wizard's answers as an assessment made today; its id.
async fn record(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    facts: &kneepath_core::Facts,
) -> Result<String, WebError> {
    Ok(state
        .app
        .record_assessment(
            user.id(),
            facts,
            AssessmentSource::Wizard,
            user.today(state),
            user.ip(),
        )
        .await?)
}

/// Record the result of the answers so far and show it: the wizard stopped
/// at once. The draft is kept so that the rest (from step `next`) can be
/// answered afterwards.
async fn stop_now(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    draft: &Map<String, Json>,
    next: usize,
) -> Result<Response, WebError> {
    let kb = &state.kb;
    let facts = kb.facts_from_pairs(answered_pairs(draft)).map_err(|e| {
        WebError::internal(format!(
            "the wizard's draft holds facts it cannot read: {e}"
        ))
    })?;
    let level = kneepath_core::assess(kb, &facts).level;
    let id = record(state, user, &facts).await?;
    // Recording drops the draft; keep it for the questions still to come,
    // with the level stopped at.
    let mut draft = draft.clone();
    draft.insert(STOPPED.into(), Json::from(level.as_str()));
    state.store.save_draft(user.id(), &draft, user.ip()).await?;
    Ok(Redirect::to(&format!("/assessments/{id}?stopped={next}")).into_response())
}

#[derive(Debug, serde::Deserialize)]
pub struct NextStep {
    next: Option<usize>,
}

/// The questions the `ambulance` rules read that are still unanswered,
/// asked before stopping for an emergency.
fn check_questions(kb: &KnowledgeBase, draft: &Map<String, Json>) -> Option<Vec<usize>> {
    let facts = facts_from_map(kb, draft);
    match stop(kb, &facts, &|f| draft.contains_key(&kb.questions[f].id)) {
        Stop::AskFirst(qs) => Some(qs),
        _ => None,
    }
}

fn check_page(
    state: &AppState,
    l: Layout,
    next: usize,
    questions: Vec<QuestionView>,
) -> WizardPage {
    WizardPage {
        l,
        step: next.saturating_sub(1).max(1),
        steps: state.kb.sections.len(),
        section_title: "Before your result: a few more questions".into(),
        intro: "Your answers point to an emergency. These questions decide whether you need an ambulance, so please answer them now; the rest can wait.".into(),
        gate: None,
        gate_value: String::new(),
        questions,
        disclaimer: state.kb.meta.disclaimer.clone(),
        action: format!("/assess/check?next={next}"),
        can_go_back: false,
        last: true,
    }
}

pub async fn check_form(
    State(state): State<AppState>,
    Respondent(user): Respondent,
    Query(q): Query<NextStep>,
) -> Result<Response, WebError> {
    let kb = &state.kb;
    let draft = state.store.draft(user.id()).await?.unwrap_or_default();
    let next = q.next.unwrap_or(1).clamp(1, kb.sections.len());
    let Some(ids) = check_questions(kb, &draft) else {
        return Ok(Redirect::to(&format!("/assess/{next}")).into_response());
    };
    let questions = ids
        .into_iter()
        .map(|i| {
            let q = &kb.questions[i];
            view(q, &entered_from_json(q, draft.get(&q.id)), None)
        })
        .collect();
    let l = Layout::for_user("Assessment", "assess", &user);
    Ok(private(&check_page(&state, l, next, questions)))
}

pub async fn check_submit(
    State(state): State<AppState>,
    Respondent(user): Respondent,
    Query(q): Query<NextStep>,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    let kb = &state.kb;
    let mut draft = state.store.draft(user.id()).await?.unwrap_or_default();
    let next = q.next.unwrap_or(1).clamp(1, kb.sections.len());
    let Some(ids) = check_questions(kb, &draft) else {
        return Ok(Redirect::to(&format!("/assess/{next}")).into_response());
    };
    let mut views = Vec::new();
    let mut errors = 0;
    for i in ids {
        let q = &kb.questions[i];
        let e = entered_from_form(q, &form);
        match parse(q, &e) {
            Ok(Some(v)) => {
                draft.insert(q.id.clone(), v);
                views.push(view(q, &e, None));
            }
            Ok(None) => views.push(view(q, &e, None)),
            Err(msg) => {
                errors += 1;
                views.push(view(q, &e, Some(msg)));
            }
        }
    }
    if errors > 0 {
        let l = Layout::for_user("Assessment", "assess", &user);
        let p = check_page(&state, l, next, views);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, private(&p)).into_response());
    }
    state.store.save_draft(user.id(), &draft, user.ip()).await?;
    stop_now(&state, &user, &draft, next).await
}

/// A stored instant as the person's wall-clock time, with their zone's
/// name (the stored text as it is if it cannot be read).
fn local_time(state: &AppState, stored: &str, zone: Option<&str>) -> String {
    let Ok(at) = stored.parse::<jiff::Timestamp>() else {
        return stored.to_string();
    };
    let tz = state.clock.zone_of(zone);
    let name = tz.iana_name().unwrap_or("UTC").to_string();
    format!(
        "{} ({name} time)",
        at.to_zoned_datetime(tz).strftime("%Y-%m-%d %H:%M")
    )
}

#[derive(Debug, serde::Deserialize)]
pub struct Stopped {
    stopped: Option<usize>,
    /// Triaged from the warning signs of a check-in that was not saved.
    unsaved_checkin: Option<String>,
}

pub async fn result(
    State(state): State<AppState>,
    Respondent(user): Respondent,
    Path(id): Path<String>,
    Query(stopped): Query<Stopped>,
) -> Result<Response, WebError> {
    let a = state
        .store
        .assessment(&id)
        .await?
        .ok_or(WebError::not_found())?;
    if a.user_id != user.id() {
        return Err(user
            .refuse(&state, Some(&a.user_id), AuditEntity::Assessment, &id)
            .await);
    }
    user.audit_own(
        &state,
        AuditAction::Read,
        AuditEntity::Assessment,
        Some(&a.id),
    )
    .await?;
    let latest = state.store.latest_assessment(user.id()).await?;
    let seek_care_advice = match &a.report.plan {
        PlanReport::SeekCare { advice } => advice.clone(),
        PlanReport::Home { .. } => Vec::new(),
    };
    let home = a.level.allows_home_plan();
    let is_latest = latest.is_some_and(|l| l.id == a.id);
    let u = &user.session.user;
    let guest_until = u
        .guest_until
        .as_deref()
        .map(|t| local_time(&state, t, u.time_zone.as_deref()));
    // A result the wizard stopped at: the rest can be answered afterwards
    // (only while it is the latest result and the draft is still there).
    let finish_from = match stopped.stopped {
        Some(n) if is_latest && (1..=state.kb.sections.len()).contains(&n) => {
            state.store.draft(user.id()).await?.is_some().then_some(n)
        }
        _ => None,
    };
    Ok(private(&ResultPage {
        l: Layout::for_user("Your result", "assess", &user),
        is_latest,
        finish_from,
        emergency_number: state.settings.emergency_number.clone(),
        day: a.day.to_string(),
        source: a.source.as_str(),
        home,
        seek_care_advice,
        guest_until,
        unsaved_checkin: stopped.unsaved_checkin.is_some() && a.source == AssessmentSource::Checkin,
        id: a.id,
        r: a.report,
    }))
}

pub async fn list(
    State(state): State<AppState>,
    Respondent(user): Respondent,
) -> Result<Response, WebError> {
    let mut rows: Vec<_> = state
        .store
        .assessments(user.id())
        .await?
        .into_iter()
        .map(|a| {
            let source = crate::views::source_label(a.source);
            (
                a.id,
                a.day.to_string(),
                a.report.level_title.clone(),
                source.to_string(),
                level_class(a.level),
            )
        })
        .collect();
    rows.reverse();
    user.audit_own(&state, AuditAction::Read, AuditEntity::AssessmentList, None)
        .await?;
    Ok(private(&AssessmentsPage {
        l: Layout::for_user("Your assessments", "assess", &user),
        rows,
    }))
}
