//! FHIR R4 in and out: the questionnaires, the whole record as a Bundle,
//! and the import of questionnaire responses.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value as Json;

use kneepath_store::{AuditAction, AuditEntity};

use super::error::{ApiError, ApiResult};
use super::extract::{ApiJson, TokenUser};
use super::types::{Imported, QuestionnaireName, summary};
use crate::state::AppState;

pub(super) fn fhir(body: Json, status: StatusCode) -> Response {
    let mut r = (status, axum::Json(body)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/fhir+json"),
    );
    r
}

/// A questionnaire as a FHIR R4 `Questionnaire`.
#[utoipa::path(get, path = "/api/v1/fhir/Questionnaire/{name}", tag = "fhir",
    params(("name" = QuestionnaireName, Path, description = "The questionnaire")),
    responses((status = 200, description = "FHIR R4 Questionnaire", body = Object, content_type = "application/fhir+json")))]
pub(super) async fn fhir_questionnaire(
    State(state): State<AppState>,
    _t: TokenUser,
    Path(name): Path<QuestionnaireName>,
) -> ApiResult<Response> {
    let name = match name {
        QuestionnaireName::Assessment => "assessment",
        QuestionnaireName::Checkin => "checkin",
        QuestionnaireName::Koos => "koos",
        QuestionnaireName::Lefs => "lefs",
        QuestionnaireName::Nprs => "nprs",
    };
    let q = kneepath_app::export::questionnaire(&state.kb, name).ok_or_else(ApiError::not_found)?;
    Ok(fhir(q, StatusCode::OK))
}

/// The whole record as a FHIR R4 `Bundle` (type collection).
#[utoipa::path(get, path = "/api/v1/fhir/Bundle", tag = "fhir",
    responses((status = 200, description = "FHIR R4 Bundle", body = Object, content_type = "application/fhir+json")))]
pub(super) async fn fhir_bundle(
    State(state): State<AppState>,
    t: TokenUser,
) -> ApiResult<Response> {
    let b = state.app.fhir_bundle(&t.user).await?;
    t.audit(&state, AuditAction::Export, AuditEntity::FhirBundle, None)
        .await?;
    Ok(fhir(b, StatusCode::OK))
}

/// Import `QuestionnaireResponse`s to the assessment questionnaire (one, or
/// a Bundle of them): each becomes a stored assessment with the same result
/// as the same answers in the wizard. Any problem: 422 with a FHIR
/// `OperationOutcome` naming it, and nothing is stored.
#[utoipa::path(post, path = "/api/v1/fhir/QuestionnaireResponse", tag = "fhir",
    request_body(content = Object, content_type = "application/fhir+json", description = "A QuestionnaireResponse or a Bundle"),
    responses(
        (status = 201, description = "Stored", body = Imported),
        (status = 422, description = "FHIR OperationOutcome", body = Object, content_type = "application/fhir+json"),
    ))]
pub(super) async fn fhir_import(
    State(state): State<AppState>,
    t: TokenUser,
    ApiJson(body): ApiJson<Json>,
) -> ApiResult<Response> {
    t.require_write()?;
    match kneepath_app::export::read_responses(&state.kb, &body, t.today(&state)) {
        Err(kneepath_app::export::Rejected(outcome)) => {
            Ok(fhir(outcome, StatusCode::UNPROCESSABLE_ENTITY))
        }
        Ok(responses) => {
            let ids = state
                .app
                .import_fhir(&t.user.id, &responses, t.ip.as_deref())
                .await?;
            let mut out = Vec::new();
            for id in ids {
                if let Some(a) = state.store.assessment(&id).await? {
                    out.push(summary(&a));
                }
            }
            Ok((
                StatusCode::CREATED,
                axum::Json(Imported { assessments: out }),
            )
                .into_response())
        }
    }
}
