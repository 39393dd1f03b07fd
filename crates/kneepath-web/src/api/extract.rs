//! What a handler reads from a request: the patient a bearer token acts
//! for ([`TokenUser`]) and a JSON body ([`ApiJson`]).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use kneepath_store::{AuditAction, AuditEntity, NewAudit, Role, User};
use serde::de::DeserializeOwned;

use super::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The patient a bearer token acts for, and whether it may write.
#[derive(Debug, Clone)]
pub struct TokenUser {
    pub user: User,
    pub can_write: bool,
    pub ip: Option<String>,
}

impl TokenUser {
    /// Today where the token's owner lives.
    pub(super) fn today(&self, state: &AppState) -> kneepath_core::Day {
        state.clock.today_in(self.user.time_zone.as_deref())
    }

    pub(super) fn require_write(&self) -> ApiResult<()> {
        if self.can_write {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "read_only_token",
                "This token may only read; make a token with the write scope to change data.",
            ))
        }
    }

    pub(super) async fn audit(
        &self,
        state: &AppState,
        action: AuditAction,
        entity: AuditEntity,
        id: Option<&str>,
    ) -> ApiResult<()> {
        state
            .store
            .audit(&NewAudit {
                actor_id: Some(&self.user.id),
                subject_id: Some(&self.user.id),
                action,
                entity,
                entity_id: id,
                ip: self.ip.as_deref(),
                detail: Some("api"),
            })
            .await?;
        Ok(())
    }
}

impl FromRequestParts<AppState> for TokenUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                unauthorized("Send a personal access token: Authorization: Bearer kp_...")
            })?;
        // The scheme is case-insensitive (RFC 7235).
        let token = header
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t)
            .ok_or_else(|| unauthorized("Use the Bearer scheme: Authorization: Bearer kp_..."))?;
        let (user, scope) = state
            .store
            .api_token_user(token.trim())
            .await?
            .ok_or_else(|| unauthorized("This token is not valid, or it was revoked."))?;
        if user.role != Role::Patient {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "patients_only",
                "The API serves a patient's own record; this token belongs to another role.",
            ));
        }
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        Ok(TokenUser {
            user,
            can_write: scope == "write",
            ip,
        })
    }
}

/// A JSON body: `application/json` (or `application/fhir+json`), else 415;
/// malformed JSON is a 400, JSON of the wrong shape a 422.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> ApiResult<Self> {
        let ct = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mime = ct.split(';').next().unwrap_or("").trim();
        if mime != "application/json" && mime != "application/fhir+json" {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as application/json.",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if crate::server::timed_out(&e) {
                ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "body_timeout",
                    "The body did not arrive in full in time; nothing was stored.",
                )
            } else if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    format!("The body is larger than {} bytes.", crate::BODY_LIMIT),
                )
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "bad_body", e.body_text())
            }
        })?;
        serde_json::from_slice(&bytes).map(ApiJson).map_err(|e| {
            if e.is_data() {
                ApiError::invalid(
                    format!("The body does not have the expected shape: {e}"),
                    Vec::new(),
                )
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_json",
                    format!("The body is not valid JSON: {e}"),
                )
            }
        })
    }
}
