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

//!
//! - [`caseload`]: the dashboard sorted by need, and invitations;
//! - [`patient`]: one patient's page, its timeline and charts;
//! - [`forms`]: what the clinician enters on it (measurements, notes, plan
//!   edits, phase moves) and ending the link;
//! - [`report`]: the one-page report, as HTML and as PDF.

mod caseload;
mod forms;
mod patient;
mod report;

pub use caseload::{dashboard, invite};
pub use forms::{edit_plan, measure, move_phase, note, unlink};
pub use patient::patient;
pub use report::{report, report_pdf};

use kneepath_store::{Role, User, UserId};

use kneepath_store::AuditEntity;

use crate::auth::CurrentUser;
use crate::error::WebError;
use crate::state::AppState;

/// The patient behind `patient_id`, if linked to this clinician; else 404.
pub(crate) async fn linked_patient(
    state: &AppState,
    clinician: &CurrentUser,
    patient_id: &UserId,
) -> Result<User, WebError> {
    let user = state.store.user_by_id(patient_id).await?;
    let patient = user.filter(|u| u.role == Role::Patient);
    if !state.store.is_linked(clinician.id(), patient_id).await? {
        // Logged, with the patient as subject when there is one.
        let owner = patient.as_ref().map(|u| &u.id);
        return Err(clinician
            .refuse(state, owner, AuditEntity::Patient, patient_id.as_str())
            .await);
    }
    patient.ok_or(WebError::not_found())
}
