//! Waiting to be seen: after an urgent result (no home plan) a person can
//! still log how they are, on the web and through the API; a warning sign
//! logged while waiting is triaged at once. At emergency and ambulance the
//! check-in stays closed: the plan page says to act now.

use axum::http::{Method, StatusCode};
use kneepath_core::TriageLevel;
use kneepath_store::{AssessmentSource, UserId};

use super::{App, app};

/// Record an assessment of `facts` (TOML) for the person, today, as the
/// API would, and check its level.
async fn assessed(app: &App, user: &UserId, facts: &str, level: TriageLevel) {
    let facts = app.state.kb.facts_from_toml_str(facts).expect("facts");
    app.state
        .app
        .record_assessment(
            user,
            &facts,
            AssessmentSource::Api,
            app.state.clock.today(),
            None,
        )
        .await
        .expect("assessed");
    let ctx = app
        .state
        .app
        .plan_context(user)
        .await
        .expect("db")
        .expect("a result");
    assert_eq!(ctx.assessment.level, level);
}

/// A JSON body sent to the API with a token.
async fn send(app: &App, method: Method, path: &str, token: &str, body: &str) -> super::Resp {
    app.api(method, path, Some(token), Some(("application/json", body)))
        .await
}

/// A locked knee: urgent (U2), nothing more.
const LOCKED: &str = "age = 40\nonset = \"sudden\"\ndays_since_onset = 3\nknee_locked = true";

#[tokio::test]
async fn a_person_waiting_to_be_seen_logs_getting_worse() {
    let app = app().await;
    let (cookie, csrf) = app.patient("waiting").await;
    let me = app.user_of(&cookie).await;
    assessed(&app, &me.id, LOCKED, TriageLevel::Urgent).await;
    let today = app.state.clock.today();

    // The plan page says to be seen, and offers the check-in.
    let plan = app.get("/plan", Some(&cookie)).await;
    assert!(
        plan.body.contains("While you wait to be seen"),
        "{}",
        plan.body
    );
    assert!(plan.body.contains(r#"href="/checkin""#), "{}", plan.body);

    // The form: no exercises to tick, the warning signs and scales kept.
    let form = app.get("/checkin", Some(&cookie)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("How are you while you wait?"));
    assert!(form.body.contains(r#"name="sign" value="chest_symptoms""#));
    assert!(!form.body.contains(r#"name="done""#));
    assert!(!form.body.contains(r#"name="exercise_pain""#));
    // Only from the day of the result on.
    assert!(
        form.body.contains(&format!(r#"min="{today}""#)),
        "{}",
        form.body
    );

    let r = app
        .post(
            "/checkin",
            Some(&cookie),
            &format!(
                "csrf={csrf}&day={today}&pain_now=6&stiffness=5&swelling=mild&walks_normally=no&full_range=no"
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        r.location().starts_with("/checkin/saved"),
        "{}",
        r.location()
    );
    let saved = app.get(r.location(), Some(&cookie)).await;
    assert!(
        saved.body.contains("You still need to be seen"),
        "{}",
        saved.body
    );
    let stored = app.state.store.checkins(&me.id).await.expect("db");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].checkin.pain_now, 6);
    assert!(stored[0].checkin.planned.is_empty());
    // The level stands: nothing more urgent was reported.
    let n = app.state.store.assessments(&me.id).await.expect("db").len();
    assert_eq!(n, 1);

    // A day before the result is not part of the wait.
    let r = app
        .post(
            "/checkin",
            Some(&cookie),
            &format!("csrf={csrf}&day={}&pain_now=6&stiffness=5", today.plus(-1)),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(app.state.store.checkins(&me.id).await.expect("db").len(), 1);

    // Later that day: breathless. The correction of today's check-in
    // re-runs triage, which now calls an ambulance.
    let r = app
        .post(
            "/checkin",
            Some(&cookie),
            &format!(
                "csrf={csrf}&day={today}&correct={today}&pain_now=7&stiffness=5&sign=chest_symptoms"
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let saved = app.get(r.location(), Some(&cookie)).await;
    assert!(
        saved.body.contains("Call an ambulance now"),
        "{}",
        saved.body
    );
    assert!(saved.body.contains("href=\"tel:"), "{}", saved.body);
    let ctx = app
        .state
        .app
        .plan_context(&me.id)
        .await
        .expect("db")
        .expect("a result");
    assert_eq!(ctx.assessment.level, TriageLevel::Ambulance);
    assert_eq!(ctx.assessment.source, AssessmentSource::Checkin);
    // Now the person is to act, not to log: the check-in is closed.
    let form = app.get("/checkin", Some(&cookie)).await;
    assert_eq!(form.status, StatusCode::SEE_OTHER);
    assert_eq!(form.location(), "/plan");
}

#[tokio::test]
async fn the_api_logs_a_check_in_while_waiting_and_refuses_one_at_emergency() {
    let app = app().await;
    let (cookie, _) = app.patient("waiting-api").await;
    let me = app.user_of(&cookie).await;
    assessed(&app, &me.id, LOCKED, TriageLevel::Urgent).await;
    let (_, write) = app.tokens(&me.id).await;
    let body = r#"{"pain_now": 5, "stiffness": 4, "swelling": "mild"}"#;
    let r = send(&app, Method::POST, "/api/v1/checkins", &write, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let out: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(out["outcome"], "waiting", "{out}");
    assert!(
        out["message"]
            .as_str()
            .is_some_and(|m| m.contains("still need to be seen")),
        "{out}"
    );

    // A warning sign through the API: triaged at once.
    let sign = r#"{"pain_now": 5, "stiffness": 4, "warning_signs": ["fever"]}"#;
    let day = app.state.clock.today();
    let r = send(
        &app,
        Method::PUT,
        &format!("/api/v1/checkins/{day}"),
        &write,
        sign,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let out: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(out["outcome"], "retriaged", "{out}");

    // At emergency there is nothing to log: go now.
    let (cookie, _) = app.patient("emergency-api").await;
    let other = app.user_of(&cookie).await;
    assessed(
        &app,
        &other.id,
        "age = 40\nonset = \"sudden\"\ndays_since_onset = 0\ncannot_lift_straight_leg = true",
        TriageLevel::Emergency,
    )
    .await;
    let (_, write) = app.tokens(&other.id).await;
    let r = send(&app, Method::POST, "/api/v1/checkins", &write, body).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let form = app.get("/checkin", Some(&cookie)).await;
    assert_eq!(form.location(), "/plan");
    assert!(
        app.state
            .store
            .checkins(&other.id)
            .await
            .expect("db")
            .is_empty()
    );
}

/// A warning sign that needs care now, sent for a day already logged (a
/// second device, a form left open): acted on at once, as on an incomplete
/// form, not lost behind "you have already checked in".
#[tokio::test]
async fn an_urgent_sign_for_a_day_already_logged_is_triaged_at_once() {
    let app = super::app().await;
    let (cookie, csrf) = app.patient("twice-sign").await;
    app.assess(&cookie, &csrf).await;
    let day = super::TODAY;
    let first = app
        .post(
            "/checkin",
            Some(&cookie),
            &format!("csrf={csrf}&day={day}&any_new_sign=no&pain_now=2&stiffness=1"),
        )
        .await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let again = app
        .post(
            "/checkin",
            Some(&cookie),
            &format!(
                "csrf={csrf}&day={day}&any_new_sign=yes&sign=calf_swelling_tenderness&pain_now=3&stiffness=2"
            ),
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert!(
        again.location().starts_with("/assessments/"),
        "{}",
        again.location()
    );
    let result = app.get(again.location(), Some(&cookie)).await;
    assert!(
        result.body.contains("See a doctor today"),
        "{}",
        result.body
    );
    // The person is told that these answers were not saved.
    assert!(
        result.body.contains("Your check-in itself was not saved"),
        "{}",
        result.body
    );
    // The same result opened later (from the list of results) does not
    // say so, and a wizard's result ignores the mark.
    let plain = again.location().split('?').next().unwrap_or_default();
    assert!(
        !app.get(plain, Some(&cookie))
            .await
            .body
            .contains("not saved")
    );
}
