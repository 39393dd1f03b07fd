//! Outcome questionnaires for the patient: which are due (at the start of a
//! plan, every four weeks, and on reaching its last phase), the forms in
//! the instruments' own wording, and the scores over time with the minimal
//! important change.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kneepath_core::clinic::{Due, outcome_due};
use kneepath_core::kb::{Instrument, InstrumentKind};
use kneepath_core::outcomes::score_instrument;
use serde::Deserialize;

use crate::auth::{Patient, VerifiedForm};
use crate::error::WebError;
use crate::pages::clinic::{InstrumentScores, score_tables};
use crate::service::plan_context;
use crate::state::AppState;
use crate::views::{FormState, Layout, private};

#[derive(Debug)]
pub struct InstrumentRow {
    pub id: String,
    pub title: String,
    pub items: usize,
    pub due: Option<&'static str>,
    pub last: Option<String>,
}

#[derive(Debug, Template)]
#[template(path = "outcomes.html")]
pub struct OutcomesPage {
    pub l: Layout,
    pub instruments: Vec<InstrumentRow>,
    pub scores: Vec<InstrumentScores>,
    pub saved: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

/// The instruments due today for a patient, with the reason.
pub(crate) async fn due(
    state: &AppState,
    patient_id: &str,
    outcomes: &[kneepath_store::OutcomeRow],
    today: kneepath_core::Day,
) -> Result<Vec<(InstrumentKind, Due)>, WebError> {
    Ok(match plan_context(state, patient_id).await? {
        Some(ctx) => due_in(state, &ctx, outcomes, today),
        None => Vec::new(),
    })
}

/// The same, for a plan already read. `today` is the patient's own.
pub(crate) fn due_in(
    state: &AppState,
    ctx: &crate::service::PlanContext,
    outcomes: &[kneepath_store::OutcomeRow],
    today: kneepath_core::Day,
) -> Vec<(InstrumentKind, Due)> {
    let kb = &state.kb;
    let final_since = ctx
        .phase
        .filter(|p| p.phase + 1 == kb.phases.len())
        .map(|p| p.since);
    kb.instruments
        .iter()
        .filter_map(|i| {
            let last = outcomes
                .iter()
                .filter(|o| o.instrument == i.id)
                .map(|o| o.day)
                .max();
            outcome_due(ctx.plan_start, last, final_since, today).map(|d| (i.kind, d))
        })
        .collect()
}

pub async fn list(
    State(state): State<AppState>,
    Patient(user): Patient,
    Query(q): Query<SavedQuery>,
) -> Result<Response, WebError> {
    let kb = &state.kb;
    let outcomes = state.store.outcomes(user.id()).await?;
    let due = due(&state, user.id(), &outcomes, user.today(&state)).await?;
    user.audit_own(&state, "read", "outcomes", None).await?;
    let instruments = kb
        .instruments
        .iter()
        .map(|i| InstrumentRow {
            id: i.id.clone(),
            title: i.title.clone(),
            items: i.items.len(),
            due: due
                .iter()
                .find(|(k, _)| *k == i.kind)
                .map(|(_, d)| d.label()),
            last: outcomes
                .iter()
                .rev()
                .find(|o| o.instrument == i.id)
                .map(|o| o.day.to_string()),
        })
        .collect();
    let saved = q.saved.and_then(|s| {
        kb.instruments
            .iter()
            .find(|i| i.id == s)
            .map(|i| format!("Thank you: your {} answers are saved and scored.", i.short))
    });
    Ok(private(&OutcomesPage {
        l: Layout::for_user("Questionnaires", "outcomes", &user),
        instruments,
        scores: score_tables(kb, &outcomes),
        saved,
    }))
}

#[derive(Debug)]
pub struct ItemView {
    pub id: String,
    pub text: String,
    pub options: Vec<(usize, String)>,
    pub chosen: Option<usize>,
    pub error: bool,
}

#[derive(Debug)]
pub struct SectionView {
    pub title: String,
    pub prompt: String,
    pub items: Vec<ItemView>,
}

#[derive(Debug, Template)]
#[template(path = "outcome_form.html")]
pub struct OutcomeForm {
    pub l: Layout,
    pub id: String,
    pub title: String,
    pub intro: String,
    pub attribution: String,
    pub sections: Vec<SectionView>,
    pub errors: Vec<String>,
    pub all_required: bool,
}

pub(crate) fn instrument<'k>(state: &'k AppState, id: &str) -> Result<&'k Instrument, WebError> {
    state
        .kb
        .instruments
        .iter()
        .find(|i| i.id == id)
        .ok_or(WebError::NotFound)
}

fn form_page(
    l: Layout,
    ins: &Instrument,
    f: &FormState,
    missing: &[String],
    errors: Vec<String>,
) -> OutcomeForm {
    let sections = ins
        .sections
        .iter()
        .enumerate()
        .map(|(si, s)| SectionView {
            title: s.title.clone(),
            prompt: s.prompt.clone(),
            items: ins
                .items
                .iter()
                .filter(|i| i.section == si)
                .map(|i| ItemView {
                    id: i.id.clone(),
                    text: i.text.clone(),
                    options: i.options.iter().cloned().enumerate().collect(),
                    chosen: f.val(&i.id).parse().ok(),
                    error: missing.contains(&i.id),
                })
                .collect(),
        })
        .collect();
    OutcomeForm {
        l,
        id: ins.id.clone(),
        title: ins.title.clone(),
        intro: ins.intro.clone(),
        attribution: ins.attribution.clone(),
        sections,
        errors,
        all_required: ins.kind != InstrumentKind::Koos,
    }
}

/// Answers (item -> option index) and their scores.
pub(crate) type Checked = (BTreeMap<String, u8>, Vec<kneepath_core::outcomes::Score>);
/// Messages, and the items unanswered or invalid.
pub(crate) type Unanswered = (Vec<String>, Vec<String>);

/// Check a questionnaire's answers (`raw(item)` = the option index as
/// text, empty when unanswered) the way its manual asks: KOOS may miss
/// items (subscales with too few are left unscored, but at least one must
/// score); LEFS and NPRS need every item. Ok: the answers and scores; Err:
/// messages and the unanswered or invalid items.
pub(crate) fn check_answers(
    ins: &Instrument,
    raw: impl Fn(&str) -> String,
) -> Result<Checked, Unanswered> {
    let mut answers: BTreeMap<String, u8> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut missing = Vec::new();
    for item in &ins.items {
        let value = raw(&item.id);
        let value = value.trim();
        if value.is_empty() {
            missing.push(item.id.clone());
            continue;
        }
        match value.parse::<u8>() {
            Ok(v) if usize::from(v) < item.options.len() => {
                answers.insert(item.id.clone(), v);
            }
            _ => {
                errors.push(format!(
                    "{} “{}”: choose one of the answers given (0 to {}).",
                    item.id,
                    item.text,
                    item.options.len() - 1
                ));
                missing.push(item.id.clone());
            }
        }
    }
    if !errors.is_empty() {
        return Err((errors, missing));
    }
    let scores =
        score_instrument(ins.kind, &answers).map_err(|e| (vec![e.to_string()], Vec::new()))?;
    if ins.kind == InstrumentKind::Koos {
        if scores.iter().all(|s| s.value.is_none()) {
            return Err((
                vec!["Answer at least half of the questions in a section so it can be scored. Unanswered questions are marked.".into()],
                missing,
            ));
        }
    } else if !missing.is_empty() {
        return Err((
            vec![format!(
                "Answer every question: {} of {} are still open (marked below).",
                missing.len(),
                ins.items.len()
            )],
            missing,
        ));
    }
    Ok((answers, scores))
}

pub async fn form(
    State(state): State<AppState>,
    Patient(user): Patient,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let ins = instrument(&state, &id)?;
    let l = Layout::for_user(&ins.short, "outcomes", &user);
    Ok(private(&form_page(
        l,
        ins,
        &FormState::default(),
        &[],
        Vec::new(),
    )))
}

pub async fn submit(
    State(state): State<AppState>,
    Patient(user): Patient,
    Path(id): Path<String>,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    let ins = instrument(&state, &id)?;
    let f = FormState::from_pairs(&form.pairs);
    let (answers, scores, errors, missing) = match check_answers(ins, |id| form.get(id).to_string())
    {
        Ok((a, s)) => (a, s, Vec::new(), Vec::new()),
        Err((e, m)) => (BTreeMap::new(), Vec::new(), e, m),
    };
    if !errors.is_empty() {
        let l = Layout::for_user(&ins.short, "outcomes", &user);
        let page = form_page(l, ins, &f, &missing, errors);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, private(&page)).into_response());
    }
    state
        .store
        .insert_outcome(
            user.id(),
            &ins.id,
            user.today(&state),
            &answers,
            &scores,
            user.ip(),
        )
        .await?;
    Ok(Redirect::to(&format!("/outcomes?saved={}", ins.id)).into_response())
}
