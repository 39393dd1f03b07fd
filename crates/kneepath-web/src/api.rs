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

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use kneepath_app::plan::plan_items;
use kneepath_app::{AppError, CheckinResult, Clock, FieldError, Logging, RawCheckIn, to_the_end};
use kneepath_core::Day;
use kneepath_core::kb::KnowledgeBase;
use kneepath_store::{NewAudit, Role, User};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use utoipa::{OpenApi, ToSchema};

use crate::state::AppState;

// --- errors ---------------------------------------------------------------------

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

    fn with_fields(mut self, fields: Vec<(String, String)>) -> ApiError {
        self.error.fields = fields
            .into_iter()
            .map(|(field, message)| FieldProblem { field, message })
            .collect();
        self
    }

    fn invalid(message: impl Into<String>, fields: Vec<(String, String)>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message)
            .with_fields(fields)
    }

    fn not_found() -> ApiError {
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
    fn from_app(e: AppError, message: &str) -> ApiError {
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

type ApiResult<T> = Result<T, ApiError>;

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

// --- authentication and bodies -------------------------------------------------------

/// The patient a bearer token acts for, and whether it may write.
#[derive(Debug, Clone)]
pub struct TokenUser {
    pub user: User,
    pub can_write: bool,
    pub ip: Option<String>,
}

impl TokenUser {
    /// Today where the token's owner lives.
    fn today(&self, state: &AppState) -> kneepath_core::Day {
        state.clock.today_in(self.user.time_zone.as_deref())
    }

    fn require_write(&self) -> ApiResult<()> {
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

    async fn audit(
        &self,
        state: &AppState,
        action: &str,
        entity: &str,
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

// --- data shapes --------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub created_at: String,
    /// IANA time zone name the person set (`Europe/Oslo`); null: the
    /// server's zone is used.
    pub time_zone: Option<String>,
    /// Today where the person lives (YYYY-MM-DD): the day a check-in
    /// without a `day` is for, and the latest day one may be for.
    pub today: String,
}

impl Me {
    fn of(u: &User, clock: Clock) -> Me {
        Me {
            id: u.id.clone(),
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            created_at: u.created_at.clone(),
            time_zone: u.time_zone.clone(),
            today: clock.today_in(u.time_zone.as_deref()).to_string(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentSummary {
    pub id: String,
    /// YYYY-MM-DD.
    pub day: String,
    /// `wizard`, `checkin` (re-triage after a warning sign), `measurement`,
    /// `import` or `api`.
    pub source: String,
    /// `ambulance`, `emergency`, `urgent`, `routine` or `self_care`.
    pub level: String,
    pub level_title: String,
    /// The rule ids that fired.
    pub rules: Vec<String>,
    pub kb_version: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentDetail {
    #[serde(flatten)]
    pub summary: AssessmentSummary,
    /// The facts, in the case vocabulary.
    #[schema(value_type = Object)]
    pub facts: Json,
    /// The full report as shown (rules with reasons, factors, plan).
    #[schema(value_type = Object)]
    pub report: Json,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAssessmentBody {
    /// Fact name -> value, in the case vocabulary (see the assessment
    /// Questionnaire); missing facts are unknown.
    #[schema(value_type = Object)]
    pub facts: serde_json::Map<String, Json>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanExercise {
    pub id: String,
    pub name: String,
    pub dosage: String,
    pub days_per_week: u32,
    /// `phase`, `level`, `clinician` or the contributing factor's id.
    pub because: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanOut {
    pub assessment_id: String,
    pub level: String,
    /// False at urgent and above: see a doctor, no exercises.
    pub home_plan: bool,
    pub phase: Option<String>,
    pub phase_title: Option<String>,
    /// First day whose check-ins count for the current phase (the day
    /// after the newest check-in logged before the phase began, when that
    /// is later than the day it began).
    pub phase_since: Option<String>,
    pub exercises: Vec<PlanExercise>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CheckInOut {
    /// YYYY-MM-DD.
    pub day: String,
    #[schema(minimum = 0, maximum = 10)]
    pub pain_now: u8,
    #[schema(minimum = 0, maximum = 10)]
    pub exercise_pain: Option<u8>,
    #[schema(minimum = 0, maximum = 10)]
    pub morning_pain: Option<u8>,
    #[schema(minimum = 0, maximum = 10)]
    pub stiffness: u8,
    /// `none`, `mild` or `significant`; null when not answered.
    pub swelling: Option<String>,
    /// Null when not answered.
    pub walks_normally: Option<bool>,
    /// Null when not answered.
    pub full_range: Option<bool>,
    pub planned: Vec<String>,
    pub done: Vec<String>,
    pub training_minutes: u16,
    #[schema(minimum = 0, maximum = 10)]
    pub effort: u8,
    /// Null when not given.
    pub sleep_hours: Option<f64>,
    pub warning_signs: Vec<String>,
    /// How many times the person corrected this check-in
    /// (`PUT /api/v1/checkins/{day}`); its first answers stay in the record.
    pub corrections: u32,
}

impl From<&kneepath_store::CheckInRow> for CheckInOut {
    fn from(r: &kneepath_store::CheckInRow) -> Self {
        let c = &r.checkin;
        CheckInOut {
            day: c.day.to_string(),
            pain_now: c.pain_now,
            exercise_pain: c.exercise_pain,
            morning_pain: c.morning_pain,
            stiffness: c.stiffness,
            swelling: c.swelling.map(|s| s.as_str().to_string()),
            walks_normally: c.walks_normally,
            full_range: c.full_range,
            planned: c.planned.clone(),
            done: c.done.clone(),
            training_minutes: c.training_minutes,
            effort: c.effort,
            sleep_hours: c.sleep_hours,
            warning_signs: c.warning_signs.clone(),
            corrections: r.corrections.unwrap_or(0),
        }
    }
}

/// A check-in to record. Checked like the web form: pains 0-10, the day
/// from the plan's start (at most 14 days back) to today, one per day.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCheckIn {
    /// YYYY-MM-DD; today when left out.
    #[schema(format = Date)]
    pub day: Option<String>,
    #[schema(minimum = 0, maximum = 10)]
    pub pain_now: u32,
    #[schema(minimum = 0, maximum = 10)]
    pub exercise_pain: Option<u32>,
    #[schema(minimum = 0, maximum = 10)]
    pub morning_pain: Option<u32>,
    #[schema(minimum = 0, maximum = 10)]
    pub stiffness: u32,
    /// Left out: not answered (nothing is recorded for the person).
    #[serde(default)]
    pub swelling: Option<Swelling>,
    /// Left out: not answered.
    #[serde(default)]
    pub walks_normally: Option<bool>,
    /// Left out: not answered.
    #[serde(default)]
    pub full_range: Option<bool>,
    /// Exercise ids done (of the day's plan).
    #[serde(default)]
    pub done: Vec<String>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 600)]
    pub training_minutes: u32,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10)]
    pub effort: u32,
    /// Optional.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 24)]
    pub sleep_hours: Option<f64>,
    /// Warning-sign fact ids; any of them re-runs triage at once.
    #[serde(default)]
    pub warning_signs: Vec<String>,
}

/// Swelling of the knee today.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Swelling {
    None,
    Mild,
    Significant,
}

impl NewCheckIn {
    /// The answers as the one check-in validation takes them.
    fn raw(&self) -> RawCheckIn {
        let swelling = |s: Swelling| match s {
            Swelling::None => kneepath_core::checkin::Swelling::None,
            Swelling::Mild => kneepath_core::checkin::Swelling::Mild,
            Swelling::Significant => kneepath_core::checkin::Swelling::Significant,
        };
        let text = |n: u32| Some(n.to_string());
        RawCheckIn {
            day: self.day.clone(),
            pain_now: text(self.pain_now),
            exercise_pain: self.exercise_pain.and_then(text),
            morning_pain: self.morning_pain.and_then(text),
            stiffness: text(self.stiffness),
            swelling: self.swelling.map(|s| swelling(s).as_str().to_string()),
            walks_normally: self.walks_normally.map(kneepath_core::checkin::yes_no),
            full_range: self.full_range.map(kneepath_core::checkin::yes_no),
            training_minutes: text(self.training_minutes),
            effort: text(self.effort),
            sleep_hours: self.sleep_hours.map(|h| h.to_string()),
            done: self.done.clone(),
            warning_signs: self.warning_signs.clone(),
        }
    }
}

/// A questionnaire kneepath answers with.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuestionnaireName {
    Assessment,
    Checkin,
    Koos,
    Lefs,
    Nprs,
}

/// An outcome questionnaire.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InstrumentName {
    Koos,
    Lefs,
    Nprs,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckInResult {
    pub day: String,
    /// `stayed`, `phase_changed` or `retriaged`.
    pub outcome: String,
    /// What it means, in words.
    pub message: String,
    /// The new phase (`phase_changed`) or level (`retriaged`).
    pub now: Option<String>,
    /// A "see a professional" message, when the rules raised one.
    pub escalation: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeasurementOut {
    pub id: String,
    pub day: String,
    pub author: Option<String>,
    /// Inputs, derived ratios and what changed.
    #[schema(value_type = Object)]
    pub data: Json,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreOut {
    pub key: String,
    pub label: String,
    pub value: Option<f64>,
    pub min: f64,
    pub max: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeOut {
    pub id: String,
    /// `koos`, `lefs` or `nprs`.
    pub instrument: String,
    pub day: String,
    /// Item id -> index of the option ticked.
    pub answers: BTreeMap<String, u8>,
    pub scores: Vec<ScoreOut>,
}

impl From<&kneepath_store::OutcomeRow> for OutcomeOut {
    fn from(o: &kneepath_store::OutcomeRow) -> Self {
        OutcomeOut {
            id: o.id.clone(),
            instrument: o.instrument.clone(),
            day: o.day.to_string(),
            answers: o.answers.clone(),
            scores: o
                .scores
                .iter()
                .map(|s| ScoreOut {
                    key: s.key.clone(),
                    label: s.label.clone(),
                    value: s.value,
                    min: s.min,
                    max: s.max,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeZoneBody {
    /// An IANA time zone name (`Europe/Oslo`), or null for the server's.
    /// Required: send null to clear it.
    #[schema(value_type = Option<String>, required = true)]
    pub time_zone: Json,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOutcome {
    /// Item id -> index of the option ticked (0 = first on the form).
    pub answers: BTreeMap<String, u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Imported {
    /// The stored assessments, in the order of the responses.
    pub assessments: Vec<AssessmentSummary>,
}

fn summary(a: &kneepath_store::AssessmentRow) -> AssessmentSummary {
    AssessmentSummary {
        id: a.id.clone(),
        day: a.day.to_string(),
        source: a.source.clone(),
        level: a.level.as_str().to_string(),
        level_title: a.report.level_title.clone(),
        rules: a.report.fired.iter().map(|f| f.rule.clone()).collect(),
        kb_version: a.kb_version.clone(),
    }
}

fn detail(a: &kneepath_store::AssessmentRow) -> ApiResult<AssessmentDetail> {
    Ok(AssessmentDetail {
        summary: summary(a),
        facts: Json::Object(a.facts.clone()),
        report: serde_json::to_value(&a.report).map_err(|e| AppError::Internal(e.to_string()))?,
    })
}

fn fhir(body: Json, status: StatusCode) -> Response {
    let mut r = (status, axum::Json(body)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/fhir+json"),
    );
    r
}

// --- handlers -------------------------------------------------------------------------

/// The account the token acts for.
#[utoipa::path(get, path = "/api/v1/me", tag = "account",
    responses((status = 200, description = "The patient", body = Me)))]
async fn me(State(state): State<AppState>, t: TokenUser) -> ApiResult<axum::Json<Me>> {
    Ok(axum::Json(Me::of(&t.user, state.clock)))
}

/// Set where the person lives: their "today" (the day of a check-in, the
/// plan, when a questionnaire is due) follows this time zone.
#[utoipa::path(put, path = "/api/v1/me/time-zone", tag = "account",
    request_body = TimeZoneBody,
    responses((status = 200, description = "The account with its new time zone and today", body = Me)))]
async fn set_time_zone(
    State(state): State<AppState>,
    t: TokenUser,
    ApiJson(b): ApiJson<TimeZoneBody>,
) -> ApiResult<axum::Json<Me>> {
    t.require_write()?;
    let zone = match &b.time_zone {
        Json::Null => None,
        Json::String(z) if crate::zones::is_known(z) => Some(z.clone()),
        _ => {
            return Err(ApiError::invalid(
                "Give an IANA time zone name such as Europe/Oslo, or null for the server's; nothing was changed.",
                vec![(
                    "time_zone".into(),
                    "not a time zone name the database knows".into(),
                )],
            ));
        }
    };
    state
        .store
        .set_time_zone(&t.user.id, zone.as_deref())
        .await?;
    t.audit(&state, "update", "time_zone", None).await?;
    let mut user = t.user;
    user.time_zone = zone;
    Ok(axum::Json(Me::of(&user, state.clock)))
}

/// Every assessment, oldest first.
#[utoipa::path(get, path = "/api/v1/assessments", tag = "assessments",
    responses((status = 200, description = "Assessments", body = [AssessmentSummary])))]
async fn list_assessments(
    State(state): State<AppState>,
    t: TokenUser,
) -> ApiResult<axum::Json<Vec<AssessmentSummary>>> {
    let rows = state.store.assessments(&t.user.id).await?;
    t.audit(&state, "read", "assessment_list", None).await?;
    Ok(axum::Json(rows.iter().map(summary).collect()))
}

/// One assessment with its facts and full report.
#[utoipa::path(get, path = "/api/v1/assessments/{id}", tag = "assessments",
    params(("id" = String, Path, description = "Assessment id")),
    responses((status = 200, description = "The assessment", body = AssessmentDetail)))]
async fn get_assessment(
    State(state): State<AppState>,
    t: TokenUser,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<AssessmentDetail>> {
    let a = state
        .store
        .assessment(&id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if a.user_id != t.user.id {
        crate::auth::refuse_audit(
            &state,
            &t.user.id,
            t.ip.as_deref(),
            Some(&a.user_id),
            "assessment",
            &id,
        )
        .await?;
        return Err(ApiError::not_found());
    }
    t.audit(&state, "read", "assessment", Some(&a.id)).await?;
    Ok(axum::Json(detail(&a)?))
}

/// Assess facts and store the result (a new plan starts, as after the
/// wizard). Unknown facts, wrong types or out-of-range values: 422 naming
/// each fact.
#[utoipa::path(post, path = "/api/v1/assessments", tag = "assessments",
    request_body = NewAssessmentBody,
    responses((status = 201, description = "Stored", body = AssessmentDetail)))]
async fn create_assessment(
    State(state): State<AppState>,
    t: TokenUser,
    ApiJson(body): ApiJson<NewAssessmentBody>,
) -> ApiResult<(StatusCode, axum::Json<AssessmentDetail>)> {
    t.require_write()?;
    let kb = &state.kb;
    let text = serde_json::to_string(&Json::Object(body.facts))
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let facts = kb.facts_from_json_str(&text).map_err(|e| {
        ApiError::invalid(
            "Some facts are not right; nothing was stored.",
            e.problems()
                .iter()
                .map(|p| (p.fact.clone(), p.to_string()))
                .collect(),
        )
    })?;
    let id = state
        .app
        .record_assessment(&t.user.id, &facts, "api", t.today(&state), t.ip.as_deref())
        .await?;
    let a = state
        .store
        .assessment(&id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((StatusCode::CREATED, axum::Json(detail(&a)?)))
}

/// The current plan: phase and exercises (with any clinician's edits).
#[utoipa::path(get, path = "/api/v1/plan", tag = "plan",
    responses((status = 200, description = "The plan", body = PlanOut)))]
async fn get_plan(State(state): State<AppState>, t: TokenUser) -> ApiResult<axum::Json<PlanOut>> {
    let kb = &state.kb;
    let ctx = state.app.plan_context(&t.user.id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_plan",
            "There is no assessment yet, so no plan.",
        )
    })?;
    t.audit(&state, "read", "plan", Some(&ctx.assessment.id))
        .await?;
    let mut out = PlanOut {
        assessment_id: ctx.assessment.id.clone(),
        level: ctx.assessment.level.as_str().to_string(),
        home_plan: ctx.phase.is_some(),
        phase: None,
        phase_title: None,
        phase_since: None,
        exercises: Vec::new(),
    };
    if let Some(phase) = ctx.phase {
        let p = &kb.phases[phase.phase];
        out.phase = Some(p.id.clone());
        out.phase_title = Some(p.title.clone());
        out.phase_since = Some(phase.since.to_string());
        out.exercises = plan_items(kb, &ctx, phase)
            .items
            .iter()
            .map(|i| PlanExercise {
                id: i.exercise.id.clone(),
                name: i.exercise.name.clone(),
                dosage: i
                    .dosage
                    .as_ref()
                    .map_or_else(|| i.exercise.dosage.summary(), |(d, _)| d.clone()),
                days_per_week: i.exercise.dosage.days_per_week,
                because: match i.because {
                    kneepath_core::plan::Because::Level => "level".into(),
                    kneepath_core::plan::Because::Phase => "phase".into(),
                    kneepath_core::plan::Because::Contributor(c) => c.id.clone(),
                    kneepath_core::plan::Because::Clinician => "clinician".into(),
                    kneepath_core::plan::Because::PlanRule(r) => r.id.clone(),
                },
            })
            .collect();
    }
    Ok(axum::Json(out))
}

/// Every check-in, oldest first.
#[utoipa::path(get, path = "/api/v1/checkins", tag = "checkins",
    responses((status = 200, description = "Check-ins", body = [CheckInOut])))]
async fn list_checkins(
    State(state): State<AppState>,
    t: TokenUser,
) -> ApiResult<axum::Json<Vec<CheckInOut>>> {
    let rows = state.store.checkins(&t.user.id).await?;
    t.audit(&state, "read", "checkins", None).await?;
    Ok(axum::Json(rows.iter().map(CheckInOut::from).collect()))
}

/// Record a check-in; the progression rules run on it at once.
#[utoipa::path(post, path = "/api/v1/checkins", tag = "checkins",
    request_body = NewCheckIn,
    responses((status = 201, description = "Stored, with what it led to", body = CheckInResult)))]
async fn create_checkin(
    State(state): State<AppState>,
    t: TokenUser,
    ApiJson(b): ApiJson<NewCheckIn>,
) -> ApiResult<(StatusCode, axum::Json<CheckInResult>)> {
    to_the_end(create_checkin_now(state, t, b, None)).await?
}

/// Correct the check-in of a day of the current plan (from 14 days back):
/// the corrected answers replace it, the replaced ones are kept in the
/// record, and the progression rules run on the corrected answers (a phase
/// move the wrong answers caused is undone when the corrected ones do not
/// call for it, as long as no later check-in was logged). The body's `day`,
/// if given, must be the path's.
#[utoipa::path(put, path = "/api/v1/checkins/{day}", tag = "checkins",
    params(("day" = String, Path, description = "The day of the check-in, YYYY-MM-DD")),
    request_body = NewCheckIn,
    responses((status = 200, description = "Corrected, with what it led to", body = CheckInResult)))]
async fn correct_checkin(
    State(state): State<AppState>,
    t: TokenUser,
    Path(day): Path<String>,
    ApiJson(b): ApiJson<NewCheckIn>,
) -> ApiResult<(StatusCode, axum::Json<CheckInResult>)> {
    let day = day.parse::<Day>().map_err(|e| {
        ApiError::invalid(
            "The day in the path is not a date.",
            vec![("day".into(), format!("{e}."))],
        )
    })?;
    if b.day.as_deref().is_some_and(|d| d != day.to_string()) {
        return Err(ApiError::invalid(
            "The body's day is not the day in the path; nothing was stored.",
            vec![("day".into(), format!("Leave it out, or give {day}."))],
        ));
    }
    to_the_end(create_checkin_now(state, t, b, Some(day))).await?
}

/// `create_checkin` or `correct_checkin` (of the day given), as a task that
/// finishes even if the client goes away.
async fn create_checkin_now(
    state: AppState,
    t: TokenUser,
    b: NewCheckIn,
    correcting: Option<Day>,
) -> ApiResult<(StatusCode, axum::Json<CheckInResult>)> {
    t.require_write()?;
    let kb = &state.kb;
    let how = match correcting {
        Some(day) => Logging::Correct(day),
        None => Logging::New,
    };
    let logged = state
        .app
        .check_in(&t.user.id, &b.raw(), how, t.today(&state), t.ip.as_deref())
        .await
        .map_err(|e| match (e, correcting) {
            (AppError::NotFound, Some(day)) => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!(
                    "There is no check-in for {day} to correct (from the last 14 days of the current plan)."
                ),
            ),
            (e, _) => ApiError::from_app(e, "The check-in is not right; nothing was stored."),
        })?;
    let (outcome, message, now) = match logged.result {
        CheckinResult::Retriaged(level) => (
            "retriaged",
            format!(
                "A warning sign was reported, so triage ran again: {}.",
                kb.level(level).title
            ),
            Some(level.as_str().to_string()),
        ),
        CheckinResult::PhaseChanged { to, reason } => ("phase_changed", reason, Some(to)),
        CheckinResult::Stayed {
            waiting_for,
            last_phase,
        } => (
            "stayed",
            match kneepath_app::checkin::waiting_text(&waiting_for, last_phase) {
                Some(text) => format!("Saved. {text}"),
                None => "Saved.".to_string(),
            },
            None,
        ),
    };
    Ok((
        if correcting.is_some() {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        axum::Json(CheckInResult {
            day: logged.day.to_string(),
            outcome: outcome.into(),
            message,
            now,
            escalation: logged.escalation.map(|e| e.message().to_string()),
        }),
    ))
}

/// Measurements entered by the patient's clinicians.
#[utoipa::path(get, path = "/api/v1/measurements", tag = "measurements",
    responses((status = 200, description = "Measurements", body = [MeasurementOut])))]
async fn list_measurements(
    State(state): State<AppState>,
    t: TokenUser,
) -> ApiResult<axum::Json<Vec<MeasurementOut>>> {
    let rows = state.store.measurements(&t.user.id).await?;
    t.audit(&state, "read", "measurements", None).await?;
    Ok(axum::Json(
        rows.into_iter()
            .map(|m| MeasurementOut {
                id: m.id,
                day: m.day.to_string(),
                author: m.author,
                data: m.data,
            })
            .collect(),
    ))
}

/// Outcome questionnaires with their scores, oldest first.
#[utoipa::path(get, path = "/api/v1/outcomes", tag = "outcomes",
    responses((status = 200, description = "Questionnaires", body = [OutcomeOut])))]
async fn list_outcomes(
    State(state): State<AppState>,
    t: TokenUser,
) -> ApiResult<axum::Json<Vec<OutcomeOut>>> {
    let rows = state.store.outcomes(&t.user.id).await?;
    t.audit(&state, "read", "outcomes", None).await?;
    Ok(axum::Json(rows.iter().map(OutcomeOut::from).collect()))
}

/// Fill in a questionnaire; it is scored by its manual's rules.
#[utoipa::path(post, path = "/api/v1/outcomes/{instrument}", tag = "outcomes",
    params(("instrument" = InstrumentName, Path, description = "The questionnaire")),
    request_body = NewOutcome,
    responses((status = 201, description = "Stored and scored", body = OutcomeOut)))]
async fn create_outcome(
    State(state): State<AppState>,
    t: TokenUser,
    Path(instrument): Path<InstrumentName>,
    ApiJson(b): ApiJson<NewOutcome>,
) -> ApiResult<(StatusCode, axum::Json<OutcomeOut>)> {
    t.require_write()?;
    let kind = match instrument {
        InstrumentName::Koos => kneepath_core::kb::InstrumentKind::Koos,
        InstrumentName::Lefs => kneepath_core::kb::InstrumentKind::Lefs,
        InstrumentName::Nprs => kneepath_core::kb::InstrumentKind::Nprs,
    };
    let ins = state.kb.instrument(kind).ok_or_else(ApiError::not_found)?;
    let unknown: Vec<(String, String)> = b
        .answers
        .keys()
        .filter(|k| !ins.items.iter().any(|i| &i.id == *k))
        .map(|k| {
            (
                k.clone(),
                format!("`{k}` is not an item of the {}", ins.short),
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::invalid(
            "Unknown items; nothing was stored.",
            unknown,
        ));
    }
    let id = state
        .app
        .record_outcome(
            &t.user.id,
            ins,
            |id| b.answers.get(id).map(u32::to_string).unwrap_or_default(),
            t.today(&state),
            t.ip.as_deref(),
        )
        .await?;
    let row = state
        .store
        .outcomes(&t.user.id)
        .await?
        .into_iter()
        .find(|o| o.id == id)
        .ok_or_else(ApiError::not_found)?;
    Ok((StatusCode::CREATED, axum::Json(OutcomeOut::from(&row))))
}

/// A questionnaire as a FHIR R4 `Questionnaire`.
#[utoipa::path(get, path = "/api/v1/fhir/Questionnaire/{name}", tag = "fhir",
    params(("name" = QuestionnaireName, Path, description = "The questionnaire")),
    responses((status = 200, description = "FHIR R4 Questionnaire", body = Object, content_type = "application/fhir+json")))]
async fn fhir_questionnaire(
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
async fn fhir_bundle(State(state): State<AppState>, t: TokenUser) -> ApiResult<Response> {
    let b = state.app.fhir_bundle(&t.user).await?;
    t.audit(&state, "export", "fhir_bundle", None).await?;
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
async fn fhir_import(
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

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
async fn openapi_json(State(state): State<AppState>) -> Response {
    match openapi(&state.kb).and_then(|doc| serde_json::to_string_pretty(&doc)) {
        Ok(s) => ([(header::CONTENT_TYPE, "application/json")], s).into_response(),
        Err(e) => ApiError::from(AppError::Internal(e.to_string())).into_response(),
    }
}

// --- the document -----------------------------------------------------------------------

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kneepath API",
        description = "A patient's own record: assessments, plan, check-ins, measurements, outcome questionnaires, and FHIR R4 in and out. Authenticate with a personal access token made on the account page: `Authorization: Bearer kp_...`.",
    ),
    paths(
        me, set_time_zone, list_assessments, get_assessment, create_assessment, get_plan, list_checkins,
        create_checkin, correct_checkin, list_measurements, list_outcomes, create_outcome, fhir_questionnaire,
        fhir_bundle, fhir_import, openapi_json
    ),
    components(schemas(ApiError, ErrorBody, FieldProblem, QuestionnaireName, InstrumentName)),
    security(("token" = [])),
    modifiers(&Documented),
)]
struct ApiDoc;

/// Adds the bearer scheme and the error responses every operation can give.
struct Documented;

impl utoipa::Modify for Documented {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal access token, kp_ and 64 hex digits."))
                    .build(),
            ),
        );
        let error = |why: &str| {
            ResponseBuilder::new()
                .description(why)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ApiError")))
                        .build(),
                )
                .build()
        };
        for (path, item) in doc.paths.paths.iter_mut() {
            let public = path.ends_with("openapi.json");
            for (method, op) in [
                ("get", item.get.as_mut()),
                ("post", item.post.as_mut()),
                ("put", item.put.as_mut()),
            ] {
                let Some(op) = op else { continue };
                let mut add = |code: &str, why: &str| {
                    op.responses
                        .responses
                        .entry(code.to_string())
                        .or_insert_with(|| error(why).into());
                };
                add("400", "Malformed request (a path parameter or the JSON)");
                add("404", "Not found, or not this patient's");
                add("405", "Method not allowed");
                add("500", "Unexpected error; nothing was changed");
                if !public {
                    add("401", "No valid token");
                    add(
                        "403",
                        "The token may not do this (read-only, or not a patient)",
                    );
                }
                if method == "put" {
                    add("413", "Body over the size limit");
                    add("415", "Not application/json");
                    add("422", "Input not right; the fields say which");
                    add("503", "Unavailable");
                }
                if method == "post" {
                    add(
                        "409",
                        "Already exists (a check-in for that day), or the plan changed at the same moment (`plan_changed`: nothing was stored; send it again)",
                    );
                    add("413", "Body over the size limit");
                    add("415", "Not application/json");
                    add("422", "Input not right; the fields say which");
                    add("503", "Unavailable");
                }
            }
        }
    }
}

/// The OpenAPI 3.1 document, with the knowledge base's vocabulary filled in
/// where the Rust types cannot carry it: the facts an assessment takes (each
/// with its type and its range or options, the required ones required) and
/// the ids a check-in may name. So a program can check a request against the
/// document before it sends it.
pub fn openapi(kb: &KnowledgeBase) -> Result<Json, serde_json::Error> {
    let mut doc = serde_json::to_value(ApiDoc::openapi())?;
    let schemas = doc
        .pointer_mut("/components/schemas")
        .and_then(Json::as_object_mut);
    if let Some(schemas) = schemas {
        if let Some(Json::Object(props)) = schemas
            .get_mut("NewAssessmentBody")
            .and_then(|b| b.get_mut("properties"))
        {
            props.insert("facts".into(), facts_schema(kb));
        }
        if let Some(Json::Object(checkin)) = schemas.get_mut("NewCheckIn") {
            vocabulary_of_checkins(kb, checkin);
        }
    }
    Ok(doc)
}

/// JSON Schema of an assessment's facts, one property per question, as
/// [`KnowledgeBase::facts_from_pairs`] checks them.
fn facts_schema(kb: &KnowledgeBase) -> Json {
    use kneepath_core::kb::QuestionKind;
    let values = |options: &[kneepath_core::kb::ChoiceOption]| -> Vec<Json> {
        options
            .iter()
            .map(|o| Json::from(o.value.as_str()))
            .collect()
    };
    let mut props = serde_json::Map::new();
    for q in &kb.questions {
        let mut schema = match &q.kind {
            QuestionKind::Bool => serde_json::json!({"type": "boolean"}),
            QuestionKind::Integer { min, max } => {
                serde_json::json!({"type": "integer", "minimum": min, "maximum": max})
            }
            QuestionKind::Number { min, max } => {
                serde_json::json!({"type": "number", "minimum": min, "maximum": max})
            }
            QuestionKind::Choice { options } => {
                serde_json::json!({"type": "string", "enum": values(options)})
            }
            QuestionKind::Multi {
                options,
                open: false,
            } => serde_json::json!({
                "type": "array",
                "items": {"type": "string", "enum": values(options)},
            }),
            // Any word (a sport): letters, digits, spaces, '-' or '_', up to
            // 40. The server also takes letters beyond ASCII.
            QuestionKind::Multi { open: true, .. } => serde_json::json!({
                "type": "array",
                "items": {"type": "string", "maxLength": 40, "pattern": "^[A-Za-z0-9_-][A-Za-z0-9 _-]*$"},
            }),
        };
        let mut about = q.label.clone();
        if let Some(unit) = &q.unit {
            about = format!("{about} ({unit})");
        }
        if let Some(sign) = &q.warning_sign {
            about = format!("{about}. A warning sign: {sign}");
        }
        schema["description"] = Json::from(about);
        props.insert(q.id.clone(), schema);
    }
    let required: Vec<Json> = kb
        .questions
        .iter()
        .filter(|q| q.required)
        .map(|q| Json::from(q.id.as_str()))
        .collect();
    serde_json::json!({
        "type": "object",
        "description": "Fact name -> value, in the case vocabulary (the assessment Questionnaire asks for the same facts); missing facts are unknown.",
        "properties": props,
        "required": required,
        "additionalProperties": false,
    })
}

/// The check-in's exercise and warning-sign ids, and the two answers that
/// become required with others: the exercise pain when exercises were done,
/// the effort when there was training.
fn vocabulary_of_checkins(kb: &KnowledgeBase, checkin: &mut serde_json::Map<String, Json>) {
    let signs: Vec<Json> = kb
        .warning_signs()
        .map(|(_, q)| Json::from(q.id.as_str()))
        .collect();
    let exercises: Vec<Json> = kb
        .exercises
        .iter()
        .map(|e| Json::from(e.id.as_str()))
        .collect();
    if let Some(Json::Object(props)) = checkin.get_mut("properties") {
        for (field, ids) in [("warning_signs", signs), ("done", exercises)] {
            if let Some(Json::Object(list)) = props.get_mut(field) {
                list.insert(
                    "items".into(),
                    serde_json::json!({"type": "string", "enum": ids}),
                );
            }
        }
    }
    checkin.insert(
        "allOf".into(),
        serde_json::json!([
            {
                "if": {"required": ["done"], "properties": {"done": {"minItems": 1}}},
                "then": {"required": ["exercise_pain"], "properties": {"exercise_pain": {"type": "integer"}}},
            },
            {
                "if": {"required": ["training_minutes"], "properties": {"training_minutes": {"minimum": 1}}},
                "then": {"required": ["effort"]},
            },
        ]),
    );
}

/// The API routes (JSON errors for everything under them).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/me/time-zone", put(set_time_zone))
        .route(
            "/assessments",
            get(list_assessments).post(create_assessment),
        )
        .route("/assessments/{id}", get(get_assessment))
        .route("/plan", get(get_plan))
        .route("/checkins", get(list_checkins).post(create_checkin))
        .route("/checkins/{day}", put(correct_checkin))
        .route("/measurements", get(list_measurements))
        .route("/outcomes", get(list_outcomes))
        .route("/outcomes/{instrument}", post(create_outcome))
        .route("/fhir/Questionnaire/{name}", get(fhir_questionnaire))
        .route("/fhir/Bundle", get(fhir_bundle))
        .route("/fhir/QuestionnaireResponse", post(fhir_import))
        .route("/openapi.json", get(openapi_json))
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
