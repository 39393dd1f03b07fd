//! A check-in logged late (for a day before the newest one): the rules count
//! it where its day falls, and a phase it moves the plan to starts after the
//! newest check-in, so no check-in made in the old phase counts in the new.

use axum::http::StatusCode;

use super::{Rng, app, exercise_ids, only_later_check_ins};

fn form(
    csrf: &str,
    day: kneepath_core::Day,
    done: &[String],
    exercise_pain: u8,
    extra: &str,
) -> String {
    // Pain during exercises goes with the exercises done, as the form asks.
    let pain = if done.is_empty() {
        String::new()
    } else {
        format!("&exercise_pain={exercise_pain}")
    };
    let done: String = done.iter().map(|id| format!("&done={id}")).collect();
    format!(
        "csrf={csrf}&day={day}&pain_now=1&morning_pain=0{pain}&stiffness=1&swelling=none&walks_normally=yes&full_range=yes&sleep_hours=8{done}{extra}"
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
    let done3 = exercise_ids(&page.body);
    let r = app
        .post("/checkin", Some(&cookie), &form(&csrf, *d3, &done3, 1, ""))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let since = app
        .state
        .store
        .phase_changes(&uid)
        .await
        .expect("db")
        .last()
        .expect("a phase")
        .day;
    let in_phase: Vec<_> = app
        .state
        .store
        .checkins(&uid)
        .await
        .expect("db")
        .into_iter()
        .map(|c| c.checkin.day)
        .filter(|d| *d >= since)
        .collect();
    assert_eq!(
        in_phase,
        [*d3],
        "no check-in of the old phase counts in the new"
    );
}

/// A re-assessment made after the day's check-in starts the new plan that
/// day, but that check-in was done on the old plan: the new plan's first
/// phase needs three check-ins of its own.
#[tokio::test]
async fn a_re_assessment_after_the_days_check_in_leaves_it_to_the_old_plan() {
    let app = app().await;
    let (cookie, csrf) = app.patient("reassessed").await;
    app.assess(&cookie, &csrf).await;
    let (uid, days) = app.four_exercise_days(&cookie).await;
    let [(d0, done0), (d1, done1), ..] = &days[..] else {
        panic!("four days");
    };
    for (day, done) in [(d0, done0), (d1, done1)] {
        let r = app
            .post("/checkin", Some(&cookie), &form(&csrf, *day, done, 1, ""))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    // The same answers again, given on d1 after its check-in.
    let head = app
        .state
        .store
        .latest_assessment_head(&uid)
        .await
        .expect("db")
        .expect("assessment");
    let facts = kneepath_app::plan::facts_from_map(&app.state.kb, &head.facts);
    app.state
        .app
        .record_assessment(
            &uid,
            &facts,
            kneepath_store::AssessmentSource::Wizard,
            *d1,
            None,
        )
        .await
        .expect("assessment");
    let today: kneepath_core::Day = super::TODAY.parse().expect("day");
    let mut next = Vec::new();
    for back in (0..today.days_since(*d1)).rev() {
        let day = today.plus(-back);
        let page = app.get(&format!("/checkin?day={day}"), Some(&cookie)).await;
        let done = exercise_ids(&page.body);
        if !done.is_empty() && next.len() < 3 {
            next.push((day, done));
        }
    }
    assert_eq!(next.len(), 3, "three days with exercises on the new plan");
    for (i, (day, done)) in next.iter().enumerate() {
        let r = app
            .post("/checkin", Some(&cookie), &form(&csrf, *day, done, 1, ""))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let moved = app.phase_moves(&uid).await;
        if i < 2 {
            assert_eq!(moved, 0, "{} good check-ins on the new plan", i + 1);
        } else {
            assert_eq!(moved, 1, "three good check-ins on the new plan");
        }
    }
}

/// Check-ins logged on time, late and corrected, and re-assessments, in
/// random order: after each check-in, the phase has moved by at most one
/// step, and every check-in the current phase counts was logged after the
/// phase began.
#[tokio::test]
async fn random_late_and_corrected_check_ins_keep_each_phase_its_own_check_ins() {
    let app = app().await;
    let today: kneepath_core::Day = super::TODAY.parse().expect("day");
    let (mut moves, mut late, mut reassessed) = (0, 0, 0);
    for seed in 1..=12_u64 {
        let seed = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut rng = Rng(seed);
        let (cookie, csrf) = app.patient(&format!("random-{seed}")).await;
        app.assess(&cookie, &csrf).await;
        let (uid, _) = app.four_exercise_days(&cookie).await;
        let store = &app.state.store;
        let phases = &app.state.kb.phases;
        let index = |id: &str| phases.iter().position(|p| p.id == id).expect("phase");
        let mut logged: Vec<kneepath_core::Day> = Vec::new();
        // The first day of the current plan: days before it belong to an
        // earlier plan and can no longer be logged or corrected.
        let mut plan_from = today.plus(-13);
        for step in 0..24 {
            if let Some(&newest) = logged.iter().max()
                && rng.below(10) == 0
            {
                // The same answers again, on the day of the newest check-in
                // and after it.
                let head = store
                    .latest_assessment_head(&uid)
                    .await
                    .expect("db")
                    .expect("assessment");
                let facts = kneepath_app::plan::facts_from_map(&app.state.kb, &head.facts);
                app.state
                    .app
                    .record_assessment(
                        &uid,
                        &facts,
                        kneepath_store::AssessmentSource::Wizard,
                        newest,
                        None,
                    )
                    .await
                    .expect("assessment");
                plan_from = newest;
                reassessed += 1;
            }
            let before = index(&app.phase_now(&uid).await);
            let in_plan: Vec<_> = logged.iter().copied().filter(|d| *d >= plan_from).collect();
            let correct = !in_plan.is_empty() && rng.below(4) == 0;
            let day = if correct {
                in_plan[rng.below(in_plan.len() as u64) as usize]
            } else {
                // Mostly the next day on from the newest, sometimes a missed one.
                let open: Vec<_> = (0..14)
                    .map(|back| today.plus(-back))
                    .filter(|d| *d >= plan_from && !logged.contains(d))
                    .collect();
                let Some(&d) = open.iter().min() else { break };
                if rng.below(3) == 0 {
                    open[rng.below(open.len() as u64) as usize]
                } else {
                    d
                }
            };
            let page = app.get(&format!("/checkin?day={day}"), Some(&cookie)).await;
            let planned = exercise_ids(&page.body);
            let skip = usize::from(rng.below(4) == 0).min(planned.len());
            let done = &planned[..planned.len() - skip];
            let pain = [0, 1, 1, 2, 2, 3, 4, 6][rng.below(8) as usize];
            let extra = if correct {
                format!("&correct={day}")
            } else {
                String::new()
            };
            let r = app
                .post(
                    "/checkin",
                    Some(&cookie),
                    &form(&csrf, day, done, pain, &extra),
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::SEE_OTHER,
                "seed {seed} step {step}: {}",
                r.body
            );
            // What the check-in did is shown, and the progress page renders.
            for path in [r.location(), "/progress", "/plan"] {
                let page = app.get(path, Some(&cookie)).await;
                assert_eq!(
                    page.status,
                    StatusCode::OK,
                    "seed {seed} step {step}: {path}"
                );
            }
            if !correct {
                late += usize::from(logged.iter().any(|d| *d > day));
                logged.push(day);
            }
            let ctx = app
                .state
                .app
                .plan_context(&uid)
                .await
                .expect("db")
                .expect("a plan");
            let now = ctx.phase_history.last().expect("a phase");
            let since = ctx.phase.expect("a home plan").since;
            // A correction of the check-in logged last may undo its move and
            // make another (two steps); anything else moves one at most.
            let moved = index(&now.to_phase).abs_diff(before);
            let undo = correct && logged.last() == Some(&day);
            assert!(
                moved <= 1 || undo,
                "seed {seed} step {step}: moved {moved} phases"
            );
            only_later_check_ins(
                &store.checkins(&uid).await.expect("db"),
                now,
                since,
                &format!("seed {seed} step {step}"),
            );
        }
        moves += app.phase_moves(&uid).await;
    }
    // The sequences do what they are for.
    assert!(
        moves >= 10 && late >= 10 && reassessed >= 5,
        "{moves} moves, {late} late check-ins, {reassessed} re-assessments"
    );
}
