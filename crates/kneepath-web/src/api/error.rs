//! The API's one error shape, [`ApiError`], made from an application
//! error through `AppError::status` and `AppError::code`, and
//! [`json_errors`], which gives every other error response under the API
//! (the body limit's 413, axum's 404 and 405, a panic's 500) that shape.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use kneepath_app::{AppError, FieldError};
use serde::Serialize;
use utoipa::ToSchema;

/// Every error of the API.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiError {
    pub error: ErrorBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The HTTP status, repeated.
    pub status: u16,
    /// A stable machine-readable code, e.g. `invalid_input`.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// Problems with single fields (empty when none).
    pub fields: Vec<FieldProblem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            error: ErrorBody {
                status: status.as_u16(),
                code: code.to_string(),
                message: message.into(),
                fields: Vec::new(),
            },
        }
    }

    pub(super) fn with_fields(mut self, fields: Vec<(String, String)>) -> ApiError {
        self.error.fields = fields
            .into_iter()
            .map(|(field, message)| FieldProblem { field, message })
            .collect();
        self
    }

    pub(super) fn invalid(message: impl Into<String>, fields: Vec<(String, String)>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message)
            .with_fields(fields)
    }

    pub(super) fn not_found() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "There is nothing here, or it is not yours.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = (status, axum::Json(self)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

impl ApiError {
    /// An application error, with `message` as what is said when the input
    /// is not right and no problem is about it as a whole.
    pub(super) fn from_app(e: AppError, message: &str) -> ApiError {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = e.code();
        match e {
            AppError::Invalid(fields) => {
                let (whole, fields): (Vec<FieldError>, Vec<FieldError>) =
                    fields.into_iter().partition(FieldError::is_whole);
                let message = if whole.is_empty() {
                    message.to_string()
                } else {
                    whole
                        .into_iter()
                        .map(|f| f.message)
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                ApiError::new(status, code, message)
                    .with_fields(fields.into_iter().map(|f| (f.field, f.message)).collect())
            }
            AppError::AlreadyLogged { day } => ApiError::new(
                status,
                code,
                format!("There is already a check-in for {day}."),
            ),
            AppError::PlanChanged => ApiError::new(
                status,
                code,
                "The plan was changed at the same moment (on another device, or by a clinician), so nothing was stored. Read the plan again and send it again.",
            ),
            AppError::NoHomePlan => ApiError::new(
                status,
                code,
                "There is no home plan to check in against: take an assessment first, or follow the advice to see a doctor.",
            ),
            AppError::NotFound => ApiError::not_found(),
            AppError::Forbidden(m) => ApiError::new(status, code, m),
            AppError::Internal(detail) => {
                tracing::error!(%detail, "api internal error");
                ApiError::new(
                    status,
                    code,
                    "An unexpected error happened; nothing was changed.",
                )
            }
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        ApiError::from_app(e, "The input is not right; nothing was stored.")
    }
}

impl From<crate::error::WebError> for ApiError {
    fn from(e: crate::error::WebError) -> ApiError {
        use crate::error::WebError as W;
        match e {
            W::App(e) => e.into(),
            W::BadRequest(m) => ApiError::new(StatusCode::BAD_REQUEST, "bad_request", m),
            W::Unavailable(m) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", m),
            other => AppError::Internal(other.to_string()).into(),
        }
    }
}

impl From<kneepath_store::StoreError> for ApiError {
    fn from(e: kneepath_store::StoreError) -> ApiError {
        AppError::from(e).into()
    }
}

pub(super) type ApiResult<T> = Result<T, ApiError>;

/// The body limit's refusal in the API's shape, for a body refused before
/// the API's routes ran (its declared length over the limit).
pub(crate) fn too_large() -> Response {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("The body is larger than {} bytes.", crate::BODY_LIMIT),
    )
    .into_response()
}

/// Rewrite any error response of the API that is not JSON (the body-size
/// limit's 413, axum's 404/405, a panic's 500) into the one error shape.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let r = next.run(req).await;
    let status = r.status();
    let is_json = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if status.as_u16() < 400 || is_json {
        return r;
    }
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "too_large",
            format!("The body is larger than {} bytes.", crate::BODY_LIMIT),
        ),
        StatusCode::NOT_FOUND => ("not_found", "There is no such endpoint.".to_string()),
        StatusCode::BAD_REQUEST => (
            "bad_request",
            "The request is malformed: check the path parameters against the API document."
                .to_string(),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "This endpoint does not take that method.".to_string(),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "Send the body as application/json.".to_string(),
        ),
        _ => (
            "error",
            status.canonical_reason().unwrap_or("error").to_string(),
        ),
    };
    ApiError::new(status, code, message).into_response()
}
