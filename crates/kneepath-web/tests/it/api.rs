//! The JSON API: tokens and scopes, the error shape, content types and
//! limits, writes checked like the web forms, FHIR in and out, and the
//! OpenAPI document matching the routes.

use axum::http::{Method, StatusCode};
use kneepath_store::{Role, UserId};

use super::{App, Resp, app};

impl App {
    pub(super) async fn api(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, &str)>,
    ) -> Resp {
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(a) = &auth {
            headers.push(("authorization", a.as_str()));
        }
        match body {
            Some((ct, b)) => {
                headers.push(("content-type", ct));
                self.send_raw(method, path, &headers, b).await
            }
            None => self.send(method, path, None, None, &headers).await,
        }
    }
}

impl App {
    /// A read-only and a write token for the account.
    pub(super) async fn tokens(&self, user_id: &UserId) -> (String, String) {
        let store = &self.state.store;
        let read = store
            .create_api_token(user_id, "reader", "read", None)
            .await
            .expect("t");
        let write = store
            .create_api_token(user_id, "writer", "write", None)
            .await
            .expect("t");
        (read, write)
    }
}

fn json(r: &Resp) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.body))
}

fn assert_error(r: &Resp, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    let v = json(r);
    assert_eq!(v["error"]["status"], status.as_u16(), "{}", r.body);
    assert_eq!(v["error"]["code"], code, "{}", r.body);
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert!(v["error"]["fields"].is_array());
}

const CHECKIN: &str = r#"{"pain_now": 2, "morning_pain": 1, "stiffness": 1, "swelling": "none", "walks_normally": true, "full_range": true, "sleep_hours": 7.5}"#;

/// Who sends an API request in [`REFUSALS`].
#[derive(Clone, Copy, Debug)]
enum Caller {
    Nobody,
    WrongToken,
    /// The patient's web session cookie, which is not an API credential.
    Session,
    Read,
    Write,
    /// A clinician's token: the API serves a patient's own record.
    Clinician,
}

/// The body of a request: none, JSON, or other text with its type.
#[derive(Clone, Copy, Debug)]
enum Body {
    None,
    Json(&'static str),
    Typed(&'static str, &'static str),
    /// JSON over the size limit.
    Huge,
}

/// (method, path, caller, body, status, error code; "" for a success).
/// Nothing here may change the record: the test checks it stays empty.
const REFUSALS: &[(&str, &str, Caller, Body, u16, &str)] = &[
    (
        "GET",
        "/api/v1/me",
        Caller::Nobody,
        Body::None,
        401,
        "unauthorized",
    ),
    (
        "GET",
        "/api/v1/me",
        Caller::WrongToken,
        Body::None,
        401,
        "unauthorized",
    ),
    (
        "GET",
        "/api/v1/me",
        Caller::Session,
        Body::None,
        401,
        "unauthorized",
    ),
    (
        "GET",
        "/api/v1/me",
        Caller::Clinician,
        Body::None,
        403,
        "patients_only",
    ),
    ("GET", "/api/v1/me", Caller::Read, Body::None, 200, ""),
    ("GET", "/api/v1/plan", Caller::Read, Body::None, 200, ""),
    ("GET", "/api/v1/checkins", Caller::Read, Body::None, 200, ""),
    (
        "GET",
        "/api/v1/fhir/Bundle",
        Caller::Read,
        Body::None,
        200,
        "",
    ),
    (
        "GET",
        "/api/v1/nothing",
        Caller::Write,
        Body::None,
        404,
        "not_found",
    ),
    (
        "POST",
        "/api/v1/checkins",
        Caller::Nobody,
        Body::Json(CHECKIN),
        401,
        "unauthorized",
    ),
    (
        "POST",
        "/api/v1/checkins",
        Caller::Read,
        Body::Json(CHECKIN),
        403,
        "read_only_token",
    ),
    (
        "POST",
        "/api/v1/checkins",
        Caller::Clinician,
        Body::Json(CHECKIN),
        403,
        "patients_only",
    ),
    (
        "POST",
        "/api/v1/checkins",
        Caller::Write,
        Body::Typed("text/plain", CHECKIN),
        415,
        "unsupported_media_type",
    ),
    (
        "POST",
        "/api/v1/checkins",
        Caller::Write,
        Body::Huge,
        413,
        "too_large",
    ),
    (
        "POST",
        "/api/v1/checkins",
        Caller::Write,
        Body::Json("{not json"),
        400,
        "bad_json",
    ),
    (
        "POST",
        "/api/v1/checkins",
        Caller::Write,
        Body::Json(r#"{"pain_now": "high"}"#),
        422,
        "invalid_input",
    ),
    (
        "POST",
        "/api/v1/checkins",
        Caller::Write,
        Body::Json(r#"{"pain_now": 12, "stiffness": 1}"#),
        422,
        "invalid_input",
    ),
    (
        "POST",
        "/api/v1/checkins",
        Caller::Write,
        Body::Json(r#"{"pain_now": 2, "stiffness": 1, "swelling": "huge"}"#),
        422,
        "invalid_input",
    ),
    (
        "POST",
        "/api/v1/checkins",
        Caller::Write,
        Body::Json(r#"{"pain_now": 2, "stiffness": 1, "effort": 11}"#),
        422,
        "invalid_input",
    ),
    (
        "POST",
        "/api/v1/assessments",
        Caller::Write,
        Body::Json(r#"{"facts": {"age": 250, "shoe_size": 42}}"#),
        422,
        "invalid_input",
    ),
    (
        "POST",
        "/api/v1/outcomes/lefs",
        Caller::Write,
        Body::Json(r#"{"answers": {"L1": 4}}"#),
        422,
        "invalid_input",
    ),
];

#[tokio::test]
async fn the_api_answers_each_caller_and_input_as_the_table_says() {
    let app = app().await;
    let (cookie, csrf) = app.patient("api-table").await;
    app.assess(&cookie, &csrf).await;
    let me = app.user_of(&cookie).await;
    let (read, write) = app.tokens(&me.id).await;
    let clin = app
        .state
        .store
        .create_user(
            &app.email("api-table-clin"),
            "C",
            "a long enough password",
            Role::Clinician,
        )
        .await
        .expect("clinician");
    let clin_token = app
        .state
        .store
        .create_api_token(&clin.id, "c", "read", None)
        .await
        .expect("token");
    let huge = format!(r#"{{"pad": "{}"}}"#, "x".repeat(70 * 1024));
    for (method, path, caller, body, status, code) in REFUSALS {
        let method: Method = method.parse().expect("method");
        let token = match caller {
            Caller::Nobody | Caller::Session => None,
            Caller::WrongToken => Some("kp_nope"),
            Caller::Read => Some(read.as_str()),
            Caller::Write => Some(write.as_str()),
            Caller::Clinician => Some(clin_token.as_str()),
        };
        let body = match body {
            Body::None => None,
            Body::Json(b) => Some(("application/json", *b)),
            Body::Typed(t, b) => Some((*t, *b)),
            Body::Huge => Some(("application/json", huge.as_str())),
        };
        let r = match caller {
            Caller::Session => app.get(path, Some(&cookie)).await,
            _ => app.api(method.clone(), path, token, body).await,
        };
        let what = format!("{method} {path} by {caller:?}");
        if code.is_empty() {
            assert_eq!(r.status.as_u16(), *status, "{what}: {}", r.body);
        } else {
            let status = StatusCode::from_u16(*status).expect("status");
            assert_eq!(r.status, status, "{what}: {}", r.body);
            assert_error(&r, status, code);
        }
    }
    assert_eq!(app.checkins(&cookie).await, 0, "nothing was stored");
}

#[tokio::test]
async fn tokens_scopes_errors_and_writes() {
    let app = app().await;
    let (cookie, csrf) = app.patient("api").await;
    app.assess(&cookie, &csrf).await;
    let me = app.user_of(&cookie).await;
    let store = &app.state.store;
    let (read, write) = app.tokens(&me.id).await;

    // Who may call what, and the refusals: `REFUSALS`.
    let r = app.api(Method::GET, "/api/v1/me", Some(&read), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(json(&r)["email"], me.email);
    let plan = json(
        &app.api(Method::GET, "/api/v1/plan", Some(&read), None)
            .await,
    );
    assert_eq!(plan["home_plan"], true);
    assert!(plan["exercises"].as_array().is_some_and(|e| !e.is_empty()));

    // Values are checked like the web form's, each problem named.
    let bad = CHECKIN.replace(r#""pain_now": 2"#, r#""pain_now": 12"#);
    let r = app
        .api(
            Method::POST,
            "/api/v1/checkins",
            Some(&write),
            Some(("application/json", &bad)),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    assert_eq!(json(&r)["error"]["fields"][0]["field"], "pain_now");
    assert_eq!(app.checkins(&cookie).await, 0, "bad input changed nothing");

    // A good check-in, then the same day again.
    let r = app
        .api(
            Method::POST,
            "/api/v1/checkins",
            Some(&write),
            Some(("application/json", CHECKIN)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(json(&r)["outcome"], "stayed");
    let r = app
        .api(
            Method::POST,
            "/api/v1/checkins",
            Some(&write),
            Some(("application/json", CHECKIN)),
        )
        .await;
    assert_error(&r, StatusCode::CONFLICT, "already_checked_in");
    assert_eq!(app.checkins(&cookie).await, 1);
    let list = json(
        &app.api(Method::GET, "/api/v1/checkins", Some(&read), None)
            .await,
    );
    assert_eq!(list.as_array().map(Vec::len), Some(1));

    // Assessments: facts checked, each problem named.
    let r = app
        .api(
            Method::POST,
            "/api/v1/assessments",
            Some(&write),
            Some((
                "application/json",
                r#"{"facts": {"age": 250, "shoe_size": 42}}"#,
            )),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    let fields = json(&r)["error"]["fields"].to_string();
    assert!(
        fields.contains("age") && fields.contains("shoe_size"),
        "{fields}"
    );
    let r = app
        .api(
            Method::POST,
            "/api/v1/assessments",
            Some(&write),
            Some(("application/json", r#"{"facts": {"age": 30, "onset": "sudden", "pop_at_injury": true, "mechanism": "sprint", "days_since_onset": 1}}"#)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let created = json(&r);
    assert_eq!(created["level"], "urgent");
    let id = created["id"].as_str().expect("id").to_string();
    let one = json(
        &app.api(
            Method::GET,
            &format!("/api/v1/assessments/{id}"),
            Some(&read),
            None,
        )
        .await,
    );
    assert_eq!(one["report"]["level"], "urgent");

    // Another patient's token cannot read this assessment.
    let (other, _) = app.patient("api-other").await;
    let other_user = app.user_of(&other).await;
    let other_token = store
        .create_api_token(&other_user.id, "o", "read", None)
        .await
        .expect("t");
    assert_error(
        &app.api(
            Method::GET,
            &format!("/api/v1/assessments/{id}"),
            Some(&other_token),
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // Questionnaires: NPRS scored (an incomplete LEFS: `REFUSALS`).
    let r = app
        .api(
            Method::POST,
            "/api/v1/outcomes/nprs",
            Some(&write),
            Some(("application/json", r#"{"answers": {"N1": 4}}"#)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(json(&r)["scores"][0]["value"], 4.0);

    // FHIR: a questionnaire, the bundle, an import and a rejected one.
    let q = app
        .api(
            Method::GET,
            "/api/v1/fhir/Questionnaire/koos",
            Some(&read),
            None,
        )
        .await;
    assert_eq!(
        q.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/fhir+json")
    );
    assert_eq!(json(&q)["resourceType"], "Questionnaire");
    let b = json(
        &app.api(Method::GET, "/api/v1/fhir/Bundle", Some(&read), None)
            .await,
    );
    assert_eq!(b["type"], "collection");
    let facts = app
        .state
        .kb
        .facts_from_toml_str("age = 29\nonset = \"gradual\"\npain_now = 2")
        .expect("f");
    let qr = kneepath_fhir::facts_to_response(&app.state.kb, &facts).to_string();
    let r = app
        .api(
            Method::POST,
            "/api/v1/fhir/QuestionnaireResponse",
            Some(&write),
            Some(("application/fhir+json", &qr)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(json(&r)["assessments"][0]["level"], "self_care");
    let wrong = qr.replace("\"age\"", "\"agee\"");
    let r = app
        .api(
            Method::POST,
            "/api/v1/fhir/QuestionnaireResponse",
            Some(&write),
            Some(("application/fhir+json", &wrong)),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(&r)["resourceType"], "OperationOutcome");
    assert!(r.body.contains("agee"));

    // Revoked: 401 at once.
    let tokens = store.api_tokens(&me.id).await.expect("tokens");
    let reader = tokens.iter().find(|t| t.name == "reader").expect("reader");
    assert!(
        store
            .revoke_api_token(&me.id, &reader.id, None)
            .await
            .expect("revoke")
    );
    assert_error(
        &app.api(Method::GET, "/api/v1/me", Some(&read), None).await,
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    );

    // Every read and write through the API is audited.
    let log = store
        .audit_entries(Some(&me.id), 1000)
        .await
        .expect("audit");
    for entity in [
        "plan",
        "checkin",
        "checkins",
        "assessment",
        "outcome",
        "fhir_bundle",
    ] {
        assert!(
            log.iter().any(|e| e.entity == entity),
            "no audit row for {entity}"
        );
    }
}

#[tokio::test]
async fn tokens_are_made_and_stopped_on_the_account_page() {
    let app = app().await;
    let (cookie, csrf) = app.patient("tok").await;
    let r = app
        .post(
            "/account/tokens",
            Some(&cookie),
            &format!("csrf={csrf}&name=My+app&scope=write&password=a+long+enough+password"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let marker = "id=\"new-token\">";
    let start = r.body.find(marker).expect("token shown") + marker.len();
    let token: String = r.body[start..].chars().take_while(|c| *c != '<').collect();
    assert!(token.starts_with("kp_") && token.len() == 67, "{token}");
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", Some(&token), None)
            .await
            .status,
        StatusCode::OK
    );
    // Shown once: the page does not show it again.
    assert!(
        !app.get("/account", Some(&cookie))
            .await
            .body
            .contains(&token)
    );
    let me = app.user_of(&cookie).await;
    let id = app.state.store.api_tokens(&me.id).await.expect("t")[0]
        .id
        .clone();
    let r = app
        .post(
            &format!("/account/tokens/{id}/revoke"),
            Some(&cookie),
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.api(Method::GET, "/api/v1/me", Some(&token), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Only the owner can stop a token.
    let (other, other_csrf) = app.patient("tok-other").await;
    let r = app
        .post(
            &format!("/account/tokens/{id}/revoke"),
            Some(&other),
            &format!("csrf={other_csrf}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[test]
fn the_openapi_document_is_3_1_and_describes_every_api_route() {
    let kb = kneepath_core::KnowledgeBase::bundled().expect("kb");
    let doc = kneepath_web::api::openapi(&kb).expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let source = include_str!("../../src/api/mod.rs");
    let routes: Vec<&str> = source
        .split(".route(")
        .skip(1)
        .filter_map(|c| c.split('"').nth(1))
        .collect();
    assert!(routes.len() >= 12);
    for r in routes {
        let full = format!("/api/v1{r}");
        assert!(
            paths.contains_key(&full),
            "{full} is not in the OpenAPI document"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
    // Every reference resolves.
    fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(|r| r.as_str()) {
                    out.push(r.to_string());
                }
                m.values().for_each(|x| refs(x, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "unresolved reference {r}"
        );
    }
}

#[tokio::test]
async fn a_program_can_set_the_persons_time_zone() {
    let app = super::app_with(kneepath_web::Clock::At(
        "2026-11-02T20:00:00Z".parse().expect("instant"),
    ))
    .await;
    let (cookie, _) = app.patient("api-tz").await;
    let me = app.user_of(&cookie).await;
    let store = &app.state.store;
    let (read, write) = app.tokens(&me.id).await;
    let put = |token: &str, body: &str| {
        let app = &app;
        let token = token.to_string();
        let body = body.to_string();
        async move {
            app.api(
                Method::PUT,
                "/api/v1/me/time-zone",
                Some(&token),
                Some(("application/json", &body)),
            )
            .await
        }
    };
    let zone = || async { app.user_of(&cookie).await.time_zone };
    let r = app.api(Method::GET, "/api/v1/me", Some(&read), None).await;
    assert_eq!(json(&r)["time_zone"], serde_json::Value::Null);
    assert_eq!(json(&r)["today"], "2026-11-02");
    // A read-only token may not; bad names and shapes change nothing.
    assert_error(
        &put(&read, r#"{"time_zone": "Pacific/Auckland"}"#).await,
        StatusCode::FORBIDDEN,
        "read_only_token",
    );
    for body in [
        r#"{"time_zone": "Mars/Olympus_Mons"}"#,
        r#"{"time_zone": 13}"#,
        r#"{}"#,
        r#"{"time_zone": "UTC", "extra": 1}"#,
    ] {
        let r = put(&write, body).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.body
        );
        assert_eq!(zone().await, None, "{body}");
    }
    let r = put(&write, r#"{"time_zone": "Pacific/Auckland"}"#).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(json(&r)["time_zone"], "Pacific/Auckland");
    assert_eq!(json(&r)["today"], "2026-11-03");
    assert_eq!(zone().await.as_deref(), Some("Pacific/Auckland"));
    // The web session sees it at once.
    assert!(
        app.get("/account", Some(&cookie))
            .await
            .body
            .contains("<strong>Pacific/Auckland</strong>, where today is 2026-11-03")
    );
    let r = put(&write, r#"{"time_zone": null}"#).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(json(&r)["today"], "2026-11-02");
    assert_eq!(zone().await, None);
    let log = store.audit_entries(Some(&me.id), 100).await.expect("audit");
    assert_eq!(
        log.iter()
            .filter(|e| e.action == "update"
                && e.entity == "time_zone"
                && e.detail.as_deref() == Some("api"))
            .count(),
        2
    );
}

/// The API's check-ins take the same per-person lock as the web form's:
/// two at once move the phase once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_api_check_ins_move_the_phase_once() {
    api_check_ins_at_once(false).await;
}

/// And on two instances sharing the database, where the store refuses the
/// write decided from a plan the other changed, and it is decided again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_api_check_ins_on_two_instances_move_the_phase_once() {
    api_check_ins_at_once(true).await;
}

async fn api_check_ins_at_once(two_instances: bool) {
    let app = app().await;
    let second = if two_instances {
        Some(app.instance().await)
    } else {
        None
    };
    let other = second.as_ref().unwrap_or(&app);
    let (cookie, csrf) = app.patient("apitwice").await;
    app.assess(&cookie, &csrf).await;
    let (uid, days) = app.four_exercise_days(&cookie).await;
    let (_, write) = app.tokens(&uid).await;
    let body = |(day, done): &(kneepath_core::Day, Vec<String>)| {
        serde_json::json!({
            "day": day.to_string(), "pain_now": 2, "morning_pain": 1, "exercise_pain": 2,
            "stiffness": 1, "swelling": "none", "walks_normally": true, "full_range": true,
            "sleep_hours": 7.5, "done": done,
        })
        .to_string()
    };
    let bodies: Vec<String> = days.iter().map(body).collect();
    let post = |on: &'static str, b: &str| {
        let (write, b) = (&write, b.to_string());
        let app = if on == "other" { other } else { &app };
        async move {
            app.api(
                Method::POST,
                "/api/v1/checkins",
                Some(write),
                Some(("application/json", &b)),
            )
            .await
        }
    };
    for b in &bodies[..2] {
        let r = post("this", b).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    assert_eq!(app.phase_moves(&uid).await, 0);
    let (a, b) = tokio::join!(post("this", &bodies[2]), post("other", &bodies[3]));
    assert_eq!(app.phase_moves(&uid).await, 1, "{}\n{}", a.body, b.body);
    // The second either was stored, or read the moved plan and was refused
    // for the old phase's exercises.
    let mut saved = 0;
    for r in [&a, &b] {
        if r.status == StatusCode::CREATED {
            saved += 1;
        } else {
            assert_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
            assert!(r.body.contains("is not one of today"), "{}", r.body);
        }
    }
    assert!(saved >= 1);
    assert_eq!(other.checkins(&cookie).await, 2 + saved);
}

/// The facts schema in the document is the one the server checks: a value
/// at each edge the schema allows is taken, one step past it is refused
/// with that fact named, and the check-in's ids are the knowledge base's.
#[tokio::test]
async fn the_documented_facts_are_the_ones_the_server_takes() {
    let app = app().await;
    let (cookie, _) = app.patient("api-schema").await;
    let me = app.user_of(&cookie).await;
    let (_, write) = app.tokens(&me.id).await;
    let doc = kneepath_web::api::openapi(&app.state.kb).expect("json");
    let schemas = &doc["components"]["schemas"];
    let facts = &schemas["NewAssessmentBody"]["properties"]["facts"];
    let props = facts["properties"]
        .as_object()
        .expect("one property per fact");
    assert_eq!(props.len(), app.state.kb.questions.len());
    assert_eq!(facts["additionalProperties"], false);
    let required: Vec<&str> = facts["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(|r| r.as_str())
        .collect();
    let kb_required: Vec<&str> = app
        .state
        .kb
        .questions
        .iter()
        .filter(|q| q.required)
        .map(|q| q.id.as_str())
        .collect();
    assert_eq!(required, kb_required);

    // The lowest value the schema allows for every fact, then the highest.
    let edge = |high: bool| -> serde_json::Map<String, serde_json::Value> {
        props
            .iter()
            .map(|(name, s)| {
                let pick = |list: &serde_json::Value| {
                    let all = list.as_array().expect("enum");
                    let i = if high { all.len() - 1 } else { 0 };
                    all[i].clone()
                };
                let v = match s["type"].as_str().expect("type") {
                    "boolean" => serde_json::Value::Bool(high),
                    "integer" | "number" => s[if high { "maximum" } else { "minimum" }].clone(),
                    "string" => pick(&s["enum"]),
                    "array" if s["items"]["enum"].is_array() => {
                        serde_json::json!([pick(&s["items"]["enum"])])
                    }
                    "array" => serde_json::json!(["ultimate frisbee"]),
                    other => panic!("{name}: type {other}"),
                };
                (name.clone(), v)
            })
            .collect()
    };
    let post = |facts: serde_json::Value| {
        let body = serde_json::json!({ "facts": facts }).to_string();
        let write = write.clone();
        let app = &app;
        async move {
            app.api(
                Method::POST,
                "/api/v1/assessments",
                Some(&write),
                Some(("application/json", &body)),
            )
            .await
        }
    };
    for high in [false, true] {
        let r = post(serde_json::Value::Object(edge(high))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }

    // One step outside the schema, fact by fact: refused, naming the fact.
    let low = edge(false);
    for (name, s) in props {
        let outside = match s["type"].as_str().expect("type") {
            "integer" => serde_json::json!(s["minimum"].as_i64().expect("min") - 1),
            "number" => serde_json::json!(s["minimum"].as_f64().expect("min") - 0.5),
            "string" => serde_json::json!("not-an-option"),
            "array" if s["items"]["enum"].is_array() => serde_json::json!(["not-an-option"]),
            "array" => serde_json::json!(["no;semicolons"]),
            _ => serde_json::json!("yes"),
        };
        let mut facts = low.clone();
        facts.insert(name.clone(), outside);
        let r = post(serde_json::Value::Object(facts)).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
        assert!(
            json(&r)["error"]["fields"]
                .as_array()
                .is_some_and(|f| f.iter().any(|p| p["field"] == *name)),
            "{name}: {}",
            r.body
        );
    }
    let mut facts = low.clone();
    facts.insert("shoe_size".into(), serde_json::json!(42));
    let r = post(serde_json::Value::Object(facts)).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    for name in &required {
        let mut facts = low.clone();
        facts.remove(*name);
        let r = post(serde_json::Value::Object(facts)).await;
        assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    }

    // The check-in names the knowledge base's warning signs and exercises.
    let checkin = &schemas["NewCheckIn"]["properties"];
    let ids = |field: &str| -> Vec<String> {
        checkin[field]["items"]["enum"]
            .as_array()
            .expect("enum")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    let kb = &app.state.kb;
    let signs: Vec<String> = kb.warning_signs().map(|(_, q)| q.id.clone()).collect();
    assert_eq!(ids("warning_signs"), signs);
    let exercises: Vec<String> = kb.exercises.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids("done"), exercises);
}

/// A warning sign sent with an API check-in re-runs triage at once, as on
/// the web form; an unknown one is refused under the API's field name.
#[tokio::test]
async fn a_warning_sign_in_an_api_check_in_re_triages() {
    let app = app().await;
    let (cookie, csrf) = app.patient("api-sign").await;
    app.assess(&cookie, &csrf).await;
    let me = app.user_of(&cookie).await;
    let (read, write) = app.tokens(&me.id).await;
    let with = |signs: &str| CHECKIN.replace('}', &format!(r#", "warning_signs": [{signs}]}}"#));
    let r = app
        .api(
            Method::POST,
            "/api/v1/checkins",
            Some(&write),
            Some(("application/json", &with(r#""not_a_sign""#))),
        )
        .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_input");
    assert_eq!(
        json(&r)["error"]["fields"][0]["field"],
        "warning_signs",
        "{}",
        r.body
    );
    assert_eq!(app.checkins(&cookie).await, 0);
    let r = app
        .api(
            Method::POST,
            "/api/v1/checkins",
            Some(&write),
            Some(("application/json", &with(r#""calf_swelling_tenderness""#))),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(json(&r)["outcome"], "retriaged", "{}", r.body);
    let plan = json(
        &app.api(Method::GET, "/api/v1/plan", Some(&read), None)
            .await,
    );
    assert_eq!(plan["home_plan"], false, "{plan}");
}

/// `PUT /api/v1/checkins/{day}` corrects that day's check-in in place,
/// keeping the old answers; it needs a write token and an existing check-in,
/// and bad input changes nothing.
#[tokio::test]
async fn a_check_in_is_corrected_through_the_api() {
    let app = app().await;
    let (cookie, csrf) = app.patient("api-fix").await;
    app.assess(&cookie, &csrf).await;
    let me = app.user_of(&cookie).await;
    let (read, write) = app.tokens(&me.id).await;
    let put = |token: &str, day: &str, body: &str| {
        let (token, path, body) = (
            token.to_string(),
            format!("/api/v1/checkins/{day}"),
            body.to_string(),
        );
        let app = &app;
        async move {
            app.api(
                Method::PUT,
                &path,
                Some(&token),
                Some(("application/json", &body)),
            )
            .await
        }
    };
    let r = put(&write, super::TODAY, CHECKIN).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = app
        .api(
            Method::POST,
            "/api/v1/checkins",
            Some(&write),
            Some(("application/json", CHECKIN)),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let fixed = CHECKIN.replace(r#""pain_now": 2"#, r#""pain_now": 4"#);
    assert_error(
        &put(&read, super::TODAY, &fixed).await,
        StatusCode::FORBIDDEN,
        "read_only_token",
    );
    let bad = CHECKIN.replace(r#""pain_now": 2"#, r#""pain_now": 14"#);
    assert_error(
        &put(&write, super::TODAY, &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    let elsewhere = fixed.replace('}', r#", "day": "2026-10-30"}"#);
    assert_error(
        &put(&write, super::TODAY, &elsewhere).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    assert_error(
        &put(&write, "yesterday", &fixed).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_input",
    );
    let pain = |app: &super::App| {
        let uid = me.id.clone();
        let store = app.state.store.clone();
        async move {
            let now = store.checkins(&uid).await.expect("db");
            let old = store.checkin_revisions(&uid).await.expect("db");
            (
                now.iter().map(|c| c.checkin.pain_now).collect::<Vec<_>>(),
                old.len(),
            )
        }
    };
    assert_eq!(pain(&app).await, (vec![2], 0), "refusals changed nothing");

    let r = put(&write, super::TODAY, &fixed).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(json(&r)["day"], super::TODAY);
    assert_eq!(pain(&app).await, (vec![4], 1));
    let list = json(
        &app.api(Method::GET, "/api/v1/checkins", Some(&read), None)
            .await,
    );
    assert_eq!(list[0]["pain_now"], 4, "{list}");
    assert_eq!(list[0]["corrections"], 1, "{list}");
    // In FHIR the corrected answers are an amended QuestionnaireResponse.
    let bundle = json(
        &app.api(Method::GET, "/api/v1/fhir/Bundle", Some(&read), None)
            .await,
    );
    let statuses: Vec<&str> = bundle["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| &e["resource"])
        .filter(|r| {
            r["questionnaire"]
                .as_str()
                .is_some_and(|q| q.ends_with("checkin"))
        })
        .filter_map(|r| r["status"].as_str())
        .collect();
    assert_eq!(statuses, ["amended"], "{bundle}");
}

/// KOOS through the API, scored as the KOOS guide says: the first option
/// on every item (S4 and S5 included, "Always" able to straighten and
/// bend) is 100 on all five subscales, the middle one 50, the last 0.
#[tokio::test]
async fn koos_through_the_api_scores_100_50_and_0_on_every_subscale() {
    let app = app().await;
    let (cookie, csrf) = app.patient("koos-api").await;
    app.assess(&cookie, &csrf).await;
    let me = app.user_of(&cookie).await;
    let (_, write) = app.tokens(&me.id).await;
    let items = kneepath_core::outcomes::koos_items();
    for (option, want) in [(0, 100.0), (2, 50.0), (4, 0.0)] {
        let answers: serde_json::Map<String, serde_json::Value> = items
            .iter()
            .map(|i| (i.clone(), serde_json::Value::from(option)))
            .collect();
        let body = serde_json::json!({ "answers": answers }).to_string();
        let r = app
            .api(
                Method::POST,
                "/api/v1/outcomes/koos",
                Some(&write),
                Some(("application/json", &body)),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let scores = json(&r)["scores"].as_array().cloned().unwrap_or_default();
        assert_eq!(scores.len(), 5, "{}", r.body);
        for s in scores {
            assert_eq!(
                s["value"], want,
                "{} with option {option}: {}",
                s["key"], r.body
            );
        }
    }
}
