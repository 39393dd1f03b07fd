//! A check-in logged late (for a day before the newest one): the rules count
//! it where its day falls, and a phase it moves the plan to starts after the
//! newest check-in, so no check-in made in the old phase counts in the new.

use axum::http::StatusCode;

use super::app;

fn form(
    csrf: &str,
    day: kneepath_core::Day,
    done: &[String],
    exercise_pain: u8,
    extra: &str,
) -> String {
    let done: String = done.iter().map(|id| format!("&done={id}")).collect();
    format!(
        "csrf={csrf}&day={day}&pain_now=1&morning_pain=0&exercise_pain={exercise_pain}&stiffness=1&swelling=none&walks_normally=yes&full_range=yes&sleep_hours=8{done}{extra}"
    )
}

#[tokio::test]
async fn a_late_check_in_that_moves_the_plan_starts_the_phase_after_the_newest() {
    let app = app().await;
    let (cookie, csrf) = app.patient("late").await;
    app.assess(&cookie, &csrf).await;
    let (uid, days) = app.four_exercise_days(&cookie).await;
    let start = app.phase_now(&uid).await;
    let [(d0, done0), (d1, done1), (d2, done2), (d3, _)] = &days[..] else {
        panic!("four days");
    };
    for (day, done) in [(d0, done0), (d2, done2)] {
        let r = app
            .post("/checkin", Some(&cookie), &form(&csrf, *day, done, 1, ""))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    assert_eq!(app.phase_moves(&uid).await, 0, "two check-ins in the phase");
    // The missed day, logged late, completes three good check-ins.
    let r = app
        .post("/checkin", Some(&cookie), &form(&csrf, *d1, done1, 1, ""))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(app.phase_moves(&uid).await, 1, "moved on from {start}");
    let saved = app.get(r.location(), Some(&cookie)).await;
    assert!(
        saved.body.contains("Well done: on to the"),
        "the saved page says so: {}",
        saved.body
    );
    let changes = app.state.store.phase_changes(&uid).await.expect("db");
    let moved = changes.last().expect("a change");
    assert_eq!(
        moved.day,
        d2.plus(1),
        "the new phase starts after the newest check-in, not after the late one"
    );

    // Corrected to answers that do not call for the move: it is undone.
    let late_fix = |pain: u8| form(&csrf, *d1, done1, pain, &format!("&correct={d1}"));
    let r = app.post("/checkin", Some(&cookie), &late_fix(5)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(app.phase_now(&uid).await, start, "back where it was");
    // And corrected back: the move again, from after the newest check-in.
    let r = app.post("/checkin", Some(&cookie), &late_fix(1)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_ne!(app.phase_now(&uid).await, start);
    let changes = app.state.store.phase_changes(&uid).await.expect("db");
    assert_eq!(changes.last().map(|c| c.day), Some(d2.plus(1)));

    // The next check-in is the first of the new phase (with its exercises).
    let page = app.get(&format!("/checkin?day={d3}"), Some(&cookie)).await;
    let done3: Vec<String> = page
        .body
        .split("name=\"done\" value=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect();
    let r = app
        .post("/checkin", Some(&cookie), &form(&csrf, *d3, &done3, 1, ""))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let saved = app.get(r.location(), Some(&cookie)).await;
    assert!(
        saved.body.contains("2 more check-ins in this phase"),
        "no check-in of the old phase counts in the new: {}",
        saved.body
    );
}
