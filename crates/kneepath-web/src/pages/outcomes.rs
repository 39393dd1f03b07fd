//! Outcome questionnaires for the patient: which are due (at the start of a
//! plan, every four weeks, and on reaching its last phase), the forms in
//! the instruments' own wording, and the scores over time with the minimal
//! important change.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kneepath_app::AppError;
use kneepath_app::outcomes::{InstrumentScores, Unanswered, score_tables};
use kneepath_core::kb::{Instrument, InstrumentKind};
use serde::Deserialize;

use kneepath_store::{AuditAction, AuditEntity};

use crate::auth::{Patient, VerifiedForm};
use crate::error::WebError;
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

pub async fn list(
    State(state): State<AppState>,
    Patient(user): Patient,
    Query(q): Query<SavedQuery>,
) -> Result<Response, WebError> {
    let kb = &state.kb;
    let outcomes = state.store.outcomes(user.id()).await?;
    let due = state
        .app
        .outcomes_due(user.id(), &outcomes, user.today(&state))
        .await?;
    user.audit_own(&state, AuditAction::Read, AuditEntity::Outcomes, None)
        .await?;
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

pub async fn form(
    State(state): State<AppState>,
    Patient(user): Patient,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let ins = state.app.instrument(&id)?;
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
    let ins = state.app.instrument(&id)?;
    let saved = state
        .app
        .record_outcome(
            user.id(),
            ins,
            |id| form.get(id).to_string(),
            user.today(&state),
            user.ip(),
        )
        .await;
    match saved {
        Ok(_) => Ok(Redirect::to(&format!("/outcomes?saved={}", ins.id)).into_response()),
        Err(AppError::Invalid(fields)) => {
            let Unanswered { messages, missing } = Unanswered::of(&fields);
            let f = FormState::from_pairs(&form.pairs);
            let l = Layout::for_user(&ins.short, "outcomes", &user);
            let page = form_page(l, ins, &f, &missing, messages);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, private(&page)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
