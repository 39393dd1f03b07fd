//! Correcting a check-in: the form shows the day's answers, the corrected
//! ones replace them with the old kept, the rules run again (undoing a phase
//! move the wrong answers caused), and every refusal changes nothing.

use axum::http::StatusCode;
use kneepath_core::Day;

use super::{App, app};
use kneepath_store::UserId;

/// A check-in form for `day` with these exercises done and this exercise
/// pain, plus `extra` fields.
fn form(csrf: &str, day: Day, done: &[String], exercise_pain: u8, extra: &str) -> String {
    // Pain during exercises goes with the exercises done, as the form asks.
    let pain = if done.is_empty() {
        String::new()
    } else {
        format!("&exercise_pain={exercise_pain}")
    };
    let done: String = done.iter().map(|id| format!("&done={id}")).collect();
    format!(
        "csrf={csrf}&day={day}&pain_now=2&morning_pain=1{pain}&stiffness=1&swelling=none&walks_normally=yes&full_range=yes&sleep_hours=7.5{done}{extra}"
    )
}

impl App {
    /// The stored check-in of `day` and the values it replaced, oldest first.
    async fn stored(
        &self,
        uid: &UserId,
        day: Day,
    ) -> (
        kneepath_core::checkin::CheckIn,
        Vec<kneepath_core::checkin::CheckIn>,
    ) {
        let store = &self.state.store;
        let now = store
            .checkins(uid)
            .await
            .expect("db")
            .into_iter()
            .find(|c| c.checkin.day == day)
            .expect("a check-in");
        let old = store
            .checkin_revisions(uid)
            .await
            .expect("db")
            .into_iter()
            .filter(|r| r.checkin_id == now.id)
            .map(|r| r.checkin)
            .collect();
        (now.checkin, old)
    }
}

#[tokio::test]
async fn a_check_in_is_corrected_with_its_old_answers_kept() {
    let app = app().await;
    let (cookie, csrf) = app.patient("fix").await;
    app.assess(&cookie, &csrf).await;
    let (uid, days) = app.four_exercise_days(&cookie).await;
    let (day, done) = &days[0];
    let r = app
        .post(
            "/checkin",
            Some(&cookie),
            &form(&csrf, *day, &done[..1], 2, ""),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // The day's form now shows its answers, for correction.
    let page = app.get(&format!("/checkin?day={day}"), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Correct your check-in"), "{}", page.body);
    assert!(
        page.body
            .contains(&format!("name=\"correct\" value=\"{day}\""))
    );
    assert!(page.body.contains("name=\"pain_now\" value=\"2\" checked"));
    assert!(
        page.body
            .contains(&format!("name=\"done\" value=\"{}\" checked", done[0]))
    );

    // Bad answers: inline messages, nothing changed.
    let fixed = form(&csrf, *day, done, 2, &format!("&correct={day}"));
    let r = app
        .post(
            "/checkin",
            Some(&cookie),
            &fixed.replace("pain_now=2", "pain_now=11"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("is not a whole number from 0 to 10"),
        "{}",
        r.body
    );
    // A form for a new check-in, or one whose date was changed to this day,
    // does not replace it.
    for other in ["", "&correct=2026-01-01"] {
        let r = app
            .post(
                "/checkin",
                Some(&cookie),
                &form(&csrf, *day, done, 2, other),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("already checked in"), "{}", r.body);
    }
    // No or a wrong CSRF token.
    for token in ["", "wrong"] {
        let r = app
            .post(
                "/checkin",
                Some(&cookie),
                &fixed.replacen(&format!("csrf={csrf}"), &format!("csrf={token}"), 1),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    // Another person's session with their own token touches only their own
    // (empty) record.
    let (other, other_csrf) = app.patient("fix-other").await;
    let r = app
        .post(
            "/checkin",
            Some(&other),
            &fixed.replacen(&format!("csrf={csrf}"), &format!("csrf={other_csrf}"), 1),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/plan");
    let (now, old) = app.stored(&uid, *day).await;
    assert_eq!((now.done.len(), old.len()), (1, 0), "nothing changed yet");
    let mark = format!("{day}</a> <span class=\"tag\">corrected</span>");
    let progress = app.get("/progress", Some(&cookie)).await;
    assert!(!progress.body.contains(&mark), "not corrected yet");

    // The correction: all exercises were done.
    let r = app.post("/checkin", Some(&cookie), &fixed).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.location(),
        format!("/checkin/saved?day={day}&corrected=yes")
    );
    let saved = app.get(r.location(), Some(&cookie)).await;
    assert!(saved.body.contains("correction is saved"), "{}", saved.body);
    let (now, old) = app.stored(&uid, *day).await;
    assert_eq!(now.done, *done);
    assert_eq!(old.len(), 1);
    assert_eq!(old[0].done, done[..1]);
    assert_eq!(app.checkins(&cookie).await, 1, "corrected in place");
    // The person's own table marks the day as corrected.
    let progress = app.get("/progress", Some(&cookie)).await;
    assert!(progress.body.contains(&mark), "{}", progress.body);
    let audit = app
        .state
        .store
        .audit_entries(Some(&uid), 100)
        .await
        .expect("db");
    assert!(
        audit
            .iter()
            .any(|e| e.action == "correct" && e.entity == "checkin")
    );
    // Their clinician's timeline shows the correction and what it replaced.
    let (clinician, clinic_cookie, _) = app
        .account("fix-clinician", kneepath_store::Role::Clinician)
        .await;
    app.state
        .store
        .link(&clinician.id, &uid)
        .await
        .expect("link");
    let timeline = app
        .get(&format!("/clinic/patients/{uid}"), Some(&clinic_cookie))
        .await;
    assert_eq!(timeline.status, StatusCode::OK);
    assert!(
        timeline.body.contains("Check-in corrected by the patient"),
        "{}",
        timeline.body
    );
    assert!(timeline.body.contains("Check-in (corrected since)"));
    assert!(
        timeline
            .body
            .contains(&format!("1 of {} exercises done", done.len())),
        "the replaced answers"
    );
    // The old answers are in the person's download, and go with the account.
    let export = app.get("/account/export.json", Some(&cookie)).await;
    assert!(
        export.body.contains("\"checkin_revisions\""),
        "{}",
        export.body
    );
    app.delete_account_leaving_nothing(&cookie, &csrf, &[&uid])
        .await;
}

#[tokio::test]
async fn correcting_the_answer_that_stepped_the_plan_back_puts_it_back() {
    let app = app().await;
    let (cookie, csrf) = app.patient("typo").await;
    app.assess(&cookie, &csrf).await;
    let (uid, days) = app.four_exercise_days(&cookie).await;
    let start = app.phase_now(&uid).await;
    let (day, done) = &days[0];
    // A 7 typed for a 2: more than 5 during the exercises steps back.
    let r = app
        .post("/checkin", Some(&cookie), &form(&csrf, *day, done, 7, ""))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(app.phase_moves(&uid).await, 1, "stepped back from {start}");
    assert_ne!(app.phase_now(&uid).await, start);

    let fixed = form(&csrf, *day, done, 2, &format!("&correct={day}"));
    let r = app.post("/checkin", Some(&cookie), &fixed).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(app.phase_now(&uid).await, start, "back where it was");
    let changes = app.state.store.phase_changes(&uid).await.expect("db");
    let back = changes.last().expect("a change");
    assert!(back.reason.contains("was corrected"), "{}", back.reason);
    assert_eq!(back.day, day.plus(1));
    let saved = app.get(r.location(), Some(&cookie)).await;
    assert!(saved.body.contains("Correction saved"), "{}", saved.body);
    // The progress page's timeline says so, and links the day to correct.
    let progress = app.get("/progress", Some(&cookie)).await;
    assert!(progress.body.contains("was corrected"));
    assert!(
        progress
            .body
            .contains(&format!("href=\"/checkin?day={day}\""))
    );

    // Corrected again, to answers that call for no move: nothing more.
    let r = app
        .post(
            "/checkin",
            Some(&cookie),
            &fixed.replace("exercise_pain=2", "exercise_pain=3"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(app.phase_moves(&uid).await, 2);
    assert_eq!(app.phase_now(&uid).await, start);
    let (now, old) = app.stored(&uid, *day).await;
    assert_eq!(now.exercise_pain, Some(3));
    assert_eq!(
        old.iter().map(|c| c.exercise_pain).collect::<Vec<_>>(),
        [Some(7), Some(2)]
    );
}

/// An optional answer given by mistake can be taken back: each optional
/// question (folded under "More about today") offers "No answer", never
/// preselected, and a correction with it stores the answer as not given.
#[tokio::test]
async fn an_optional_answer_can_be_taken_back() {
    let app = app().await;
    let (cookie, csrf) = app.patient("unsay").await;
    app.assess(&cookie, &csrf).await;
    let uid = app.user_of(&cookie).await.id;
    let day: Day = super::TODAY.parse().expect("day");
    let r = app
        .post("/checkin", Some(&cookie), &form(&csrf, day, &[], 0, ""))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (stored, _) = app.stored(&uid, day).await;
    assert_eq!(stored.morning_pain, Some(1));
    assert!(stored.swelling.is_some());

    let page = app.get(&format!("/checkin?day={day}"), Some(&cookie)).await;
    for name in ["morning_pain", "swelling", "walks_normally", "full_range"] {
        assert!(
            page.body
                .contains(&format!(r#"name="{name}" value=""> No answer"#)),
            "{name}"
        );
    }
    assert!(
        !page.body.contains(r#"value="" checked"#),
        "never preselected"
    );
    // Not for the required scales, nor for pain during the exercises.
    for name in ["pain_now", "stiffness", "exercise_pain"] {
        assert!(
            !page.body.contains(&format!(r#"name="{name}" value="""#)),
            "{name}"
        );
    }

    let corrected = form(&csrf, day, &[], 0, &format!("&correct={day}"))
        .replace("morning_pain=1", "morning_pain=")
        .replace("swelling=none", "swelling=");
    let r = app.post("/checkin", Some(&cookie), &corrected).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (stored, old) = app.stored(&uid, day).await;
    assert_eq!(stored.morning_pain, None);
    assert_eq!(stored.swelling, None);
    assert_eq!(old.len(), 1, "the answers it replaced are kept");
    assert_eq!(old[0].morning_pain, Some(1));
}
