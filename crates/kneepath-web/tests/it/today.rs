//! The plan's Today view: today's exercises as a checklist with the day's
//! time, the whole plan one link away, and the ticks carried into the
//! check-in (only exercises planned for the day).

use axum::http::StatusCode;

use super::app;

/// The exercises a check-in form shows ticked, by id.
fn ticked_in(form: &str) -> Vec<&str> {
    form.split(r#"name="done" value=""#)
        .skip(1)
        .filter(|s| s.split('>').next().unwrap_or("").contains("checked"))
        .filter_map(|s| s.split('"').next())
        .collect()
}

#[tokio::test]
async fn the_plan_opens_on_todays_checklist_and_its_ticks_fill_the_check_in() {
    let app = app().await;
    let (cookie, csrf) = app.patient("today").await;
    app.assess(&cookie, &csrf).await;
    let plan = app.get("/plan", Some(&cookie)).await;
    assert_eq!(plan.status, StatusCode::OK);
    assert!(plan.body.contains("Today, Monday"), "{}", plan.body);
    // The counters keep the day's sessions under the person's day.
    assert!(plan.body.contains(
        r#"<form method="get" action="/checkin" class="today-list" data-day="2026-11-02">"#
    ));
    // Sessions a day, for the counter (this phase's are once a day; the
    // browser test does one done twice).
    assert!(plan.body.contains(r#"data-sessions="1""#));
    assert!(
        plan.body
            .contains(r#"<script src="/static/today.js" defer></script>"#)
    );
    assert!(plan.body.contains(r#"href="/plan/full""#));
    assert!(
        !plan.body.contains("Other treatment options"),
        "left to the whole plan"
    );
    // Still on the day's page: what the plan leaves out and the signs.
    assert!(plan.body.contains("Warning signs"));
    let ids = super::exercise_ids(&plan.body);
    assert!(ids.len() >= 2, "{ids:?}");
    let full = app.get("/plan/full", Some(&cookie)).await;
    assert_eq!(full.status, StatusCode::OK);
    assert!(full.body.contains("Other treatment options"));
    assert!(full.body.contains(r#"href="/plan""#));
    let script = app.get("/static/today.js", None).await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(
        script.headers[axum::http::header::CONTENT_TYPE]
            .to_str()
            .unwrap_or("")
            .starts_with("text/javascript")
    );

    // The ticks come into a new day's check-in; an exercise not planned
    // today is not ticked for the person.
    let form = app
        .get(
            &format!("/checkin?done={}&done=nordic_curl&done=nonsense", ids[0]),
            Some(&cookie),
        )
        .await;
    assert_eq!(form.status, StatusCode::OK);
    let ticked = ticked_in(&form.body);
    assert_eq!(ticked, vec![ids[0].as_str()]);
    // Without ticks, nothing is preselected.
    let blank = app.get("/checkin", Some(&cookie)).await;
    assert!(!blank.body.contains(" checked"), "nothing preselected");

    // After checking in, ticks made since come into the day's check-in,
    // opened for correction, beside what it holds.
    let csrf = blank.csrf();
    let r = app
        .post(
            "/checkin",
            Some(&cookie),
            &format!(
                "csrf={csrf}&day=2026-11-02&pain_now=2&stiffness=1&done={}&exercise_pain=1",
                ids[0]
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let plan = app.get("/plan", Some(&cookie)).await;
    assert!(
        plan.body
            .contains("Add the ticked ones to today's check-in")
    );
    let form = app
        .get(
            &format!("/checkin?done={}&done=nonsense", ids[1]),
            Some(&cookie),
        )
        .await;
    assert!(form.body.contains("Correct your check-in"), "{}", form.body);
    let ticked = ticked_in(&form.body);
    assert_eq!(ticked, vec![ids[0].as_str(), ids[1].as_str()]);
}
