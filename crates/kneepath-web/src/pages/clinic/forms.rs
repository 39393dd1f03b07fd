//! What a clinician enters on a patient's page (measurements, notes, plan
//! edits, phase moves) and ending the link. The change is the
//! application's; a refusal shows the page again with the form as sent.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kneepath_app::clinic::{PhaseMoved, PlanEditInput, PlanEdited, RawMeasurements};
use kneepath_app::{AppError, FieldError};
use kneepath_core::plan::EditKind;
use kneepath_store::{User, UserId};

use super::linked_patient;
use super::patient::{TIMELINE_EVENTS, patient_page};
use crate::auth::{Clinician, CurrentUser, VerifiedForm};
use crate::error::WebError;
use crate::state::AppState;
use crate::views::{FormState, Layout, private};

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

/// The application refused what a form sent: its field errors shown on the
/// form `which` (422), the plan changed under it (409, see
/// [`unless_plan_changed`]), or the error as it is.
async fn refused(
    state: &AppState,
    user: &CurrentUser,
    p: &User,
    form: &VerifiedForm,
    which: &'static str,
    e: AppError,
) -> Result<Response, WebError> {
    match e {
        AppError::Invalid(errors) => {
            invalid(state, user, p, with_errors(form, errors), which).await
        }
        e => unless_plan_changed(Err(e.into()), state, user, p, form, which).await,
    }
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
    Path(id): Path<UserId>,
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
        Err(e) => refused(&state, &user, &p, &form, "measure", e).await,
    }
}

pub async fn note(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    Path(id): Path<UserId>,
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
    Path(id): Path<UserId>,
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
        Err(e) => refused(&state, &user, &p, &form, "plan", e).await,
    }
}

pub async fn move_phase(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    Path(id): Path<UserId>,
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
        Err(e) => refused(&state, &user, &p, &form, "phase", e).await,
    }
}

pub async fn unlink(
    State(state): State<AppState>,
    Clinician(user): Clinician,
    Path(id): Path<UserId>,
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
    Ok(Redirect::to("/clinic?ended=1").into_response())
}
