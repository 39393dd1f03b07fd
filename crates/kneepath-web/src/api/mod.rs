//! The JSON API under `/api/v1`, for programs acting for a patient with a
//! personal access token (`Authorization: Bearer kp_...`, made and revoked
//! on the account page, stored hashed, scoped `read` or `write`).
//!
//! - Every handler is described with `#[utoipa::path]`; [`openapi`] builds
//!   the OpenAPI 3.1 document from them (served at `/api/v1/openapi.json`),
//!   so the document cannot drift from the code.
//! - Errors always have one shape, [`ApiError`]: `{"error": {"status",
//!   "code", "message", "fields"}}` — including 404s, 405s and the 413 of
//!   the body-size limit ([`json_errors`] rewrites any other error body).
//! - Bodies must be `application/json` (FHIR: also `application/fhir+json`):
//!   anything else is a 415. What the handlers do is the application's
//!   (`kneepath-app`), as for the web forms: a check-in body becomes a
//!   `RawCheckIn` checked by the one check-in validation, questionnaires
//!   are checked and scored by `kneepath_app::outcomes`, and an
//!   application error's status and code are `AppError::status` and
//!   `AppError::code`.
//! - Every read and write of the patient's data writes an audit row.

mod assessments;
mod checkins;
pub(crate) mod error;
mod extract;
mod fhir;
mod me;
mod measurements;
mod openapi;
mod outcomes;
mod plan;
mod types;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::routing::{get, post, put};

use crate::state::AppState;

pub use error::{ApiError, ErrorBody, FieldProblem, json_errors};
pub use extract::{ApiJson, TokenUser};
pub use openapi::openapi;
pub use types::{
    AssessmentDetail, AssessmentSummary, CheckInOut, CheckInResult, Imported, InstrumentName, Me,
    MeasurementOut, NewAssessmentBody, NewCheckIn, NewOutcome, OutcomeOut, PlanExercise, PlanOut,
    QuestionnaireName, ScoreOut, TimeZoneBody,
};

/// The API routes (JSON errors for everything under them).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me", get(me::me))
        .route("/me/time-zone", put(me::set_time_zone))
        .route(
            "/assessments",
            get(assessments::list_assessments).post(assessments::create_assessment),
        )
        .route("/assessments/{id}", get(assessments::get_assessment))
        .route("/plan", get(plan::get_plan))
        .route(
            "/checkins",
            get(checkins::list_checkins).post(checkins::create_checkin),
        )
        .route("/checkins/{day}", put(checkins::correct_checkin))
        .route("/measurements", get(measurements::list_measurements))
        .route("/outcomes", get(outcomes::list_outcomes))
        .route("/outcomes/{instrument}", post(outcomes::create_outcome))
        .route("/fhir/Questionnaire/{name}", get(fhir::fhir_questionnaire))
        .route("/fhir/Bundle", get(fhir::fhir_bundle))
        .route("/fhir/QuestionnaireResponse", post(fhir::fhir_import))
        .route("/openapi.json", get(openapi::openapi_json))
        .fallback(|| async {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "There is no such endpoint.",
            )
        })
        .layer(axum::middleware::from_fn(json_errors))
        // Every answer here is a person's health data (or about it): never
        // kept in a cache.
        .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}
