//! The OpenAPI 3.1 document: built by utoipa from the handlers'
//! `#[utoipa::path]` annotations and the types' schemas, then completed
//! with what only the knowledge base knows (the facts, their kinds, options
//! and ranges). A route test
//! (`the_documented_facts_are_the_ones_the_server_takes`) holds that
//! schema to what the facts reader accepts and refuses.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use kneepath_app::AppError;
use kneepath_core::kb::KnowledgeBase;
use serde_json::Value as Json;
use utoipa::OpenApi;

use super::error::{ApiError, ErrorBody, FieldProblem};
use super::types::{InstrumentName, QuestionnaireName};
use super::{assessments, checkins, fhir, me, measurements, outcomes, plan};
use crate::state::AppState;

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub(super) async fn openapi_json(State(state): State<AppState>) -> Response {
    match openapi(&state.kb).and_then(|doc| serde_json::to_string_pretty(&doc)) {
        Ok(s) => ([(header::CONTENT_TYPE, "application/json")], s).into_response(),
        Err(e) => ApiError::from(AppError::Internal(e.to_string())).into_response(),
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kneepath API",
        description = "A patient's own record: assessments, plan, check-ins, measurements, outcome questionnaires, and FHIR R4 in and out. Authenticate with a personal access token made on the account page: `Authorization: Bearer kp_...`.",
    ),
    paths(
        me::me, me::set_time_zone, assessments::list_assessments, assessments::get_assessment,
        assessments::create_assessment, plan::get_plan, checkins::list_checkins,
        checkins::create_checkin, checkins::correct_checkin, measurements::list_measurements,
        outcomes::list_outcomes, outcomes::create_outcome, fhir::fhir_questionnaire,
        fhir::fhir_bundle, fhir::fhir_import, openapi_json
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
        words_of_checkins(kb, props);
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

/// Each check-in property's description, range and answers, from the one
/// definition of the check-in's questions (`checkin.toml`).
fn words_of_checkins(kb: &KnowledgeBase, props: &mut serde_json::Map<String, Json>) {
    use kneepath_core::checkin::FieldKind;
    for f in &kb.checkin.fields {
        let Some(Json::Object(p)) = props.get_mut(&f.id) else {
            continue;
        };
        let mut about = match &f.hint {
            Some(hint) => format!("{} {hint}", f.label),
            None => f.label.clone(),
        };
        // What the type's own docs say (e.g. what leaving it out means).
        if let Some(said) = p.get("description").and_then(Json::as_str) {
            about = format!("{about} {said}");
        }
        p.insert("description".into(), Json::from(about));
        let range = match f.kind {
            FieldKind::Scale => Some((Json::from(0), Json::from(10))),
            FieldKind::Integer { min, max } => Some((Json::from(min), Json::from(max))),
            FieldKind::Decimal { min, max } => Some((Json::from(min), Json::from(max))),
            _ => None,
        };
        if let Some((min, max)) = range {
            p.insert("minimum".into(), min);
            p.insert("maximum".into(), max);
        }
        if f.kind == FieldKind::Choice {
            let mut values: Vec<Json> = f
                .options
                .iter()
                .map(|(v, _)| Json::from(v.as_str()))
                .collect();
            // Left out or null: not answered.
            values.push(Json::Null);
            p.insert("enum".into(), Json::from(values));
        }
    }
}
