//! People already on a plan when the policy changes (issue: policy v2,
//! item 8): a database made under v1, with a patient after surgery with
//! calf pain (v1's R10, routine, a home plan), opened under v2: the re-run
//! makes them urgent (U15), stores it as a new assessment beside the old
//! one, tells the patient and puts them at the top of their clinician's
//! list. A second re-run changes nothing.

use axum::http::StatusCode;
use kneepath_core::TriageLevel;
use kneepath_store::{NewAssessment, Role};

use super::app;

#[tokio::test]
async fn a_v1_post_operative_patient_with_calf_pain_is_flagged_urgent_under_v2() {
    let app = app().await;
    let (cookie, _) = app.patient("v1-postop").await;
    let patient = app.user_of(&cookie).await;
    // The v1 result as v1 stored it: its report (without v2's fields), its
    // knowledge-base version, and the plan it started.
    let report: kneepath_core::report::AssessmentReport =
        serde_json::from_str(include_str!("fixtures/v1-postop-report.json"))
            .expect("a v1 report still reads");
    let facts = app
        .state
        .kb
        .facts_from_toml_str(
            "age = 50\nonset = \"gradual\"\ndays_since_onset = 10\nmechanism = \"none\"\nrecent_surgery_or_immobilisation = true\npain_location = [\"calf\", \"back_of_knee\"]\npain_now = 3",
        )
        .expect("facts");
    let facts_json = app.state.kb.facts_to_json(&facts);
    let today = app.state.clock.today();
    let v1_id = app
        .state
        .store
        .insert_assessment(
            &NewAssessment {
                user_id: &patient.id,
                day: today,
                source: kneepath_store::AssessmentSource::Wizard,
                facts: &facts_json,
                report: &report,
                start_phase: Some(("strengthen", "v1 start")),
            },
            None,
        )
        .await
        .expect("stored");
    let clinician = app
        .state
        .store
        .create_user(
            &app.email("v1-clin"),
            "Dr V",
            "a long enough password",
            Role::Clinician,
        )
        .await
        .expect("clinician");
    app.state
        .store
        .link(&clinician.id, &patient.id)
        .await
        .expect("link");
    // Before: a home plan.
    let plan = app.get("/plan", Some(&cookie)).await;
    assert!(plan.body.contains("Strengthen"), "{}", plan.body);

    let done = app.state.app.reassess_all(today).await.expect("re-run");
    assert_eq!((done.checked, done.changed), (1, 1), "{done:?}");

    // The old result stays as it was, with its version; the re-run is new.
    let all = app.state.store.assessments(&patient.id).await.expect("db");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].id, v1_id);
    assert_eq!(all[0].kb_version, "sha256:1c5e130584ca7822");
    assert_eq!(all[0].level, TriageLevel::Routine);
    let new = &all[1];
    assert_eq!(new.source, kneepath_store::AssessmentSource::Reassess);
    assert_eq!(new.level, TriageLevel::Urgent);
    assert_eq!(new.kb_version, app.state.kb.version);
    assert!(new.report.flags.iter().any(|f| f == "possible_dvt_risk"));
    assert!(new.report.fired.iter().any(|f| f.rule == "U15"));

    // The patient: a banner with the reason, and the advice to be seen,
    // no exercises.
    let plan = app.get("/plan", Some(&cookie)).await;
    assert_eq!(plan.status, StatusCode::OK);
    assert!(
        plan.body.contains("clinical rules have been updated"),
        "{}",
        plan.body
    );
    assert!(
        plan.body.contains("No exercise plan for now"),
        "{}",
        plan.body
    );
    assert!(
        plan.body.contains(&format!("/assessments/{}", new.id)),
        "{}",
        plan.body
    );

    // The clinician: at the top of the list.
    let (c_cookie, _) = {
        let page = app.get("/login", None).await;
        let anon = page.cookie("kp_csrf").expect("csrf");
        let r = app
            .post(
                "/login",
                Some(&anon),
                &format!(
                    "csrf={}&email={}&password=a+long+enough+password",
                    page.csrf(),
                    app.email("v1-clin")
                ),
            )
            .await;
        (r.cookie("kp_session").expect("session"), ())
    };
    let caseload = app.get("/clinic", Some(&c_cookie)).await;
    assert!(
        caseload.body.contains("Result changed by a new policy"),
        "{}",
        caseload.body
    );

    // The audit log says kneepath did it.
    let audit = app
        .state
        .store
        .audit_search(
            &kneepath_store::AuditFilter {
                subject_id: Some(patient.id.to_string()),
                ..Default::default()
            },
            100,
        )
        .await
        .expect("db");
    assert!(
        audit.iter().any(|a| a.actor_id.is_none()
            && a.entity == "assessment"
            && a.detail
                .as_deref()
                .is_some_and(|d| d.contains("re-run under knowledge base"))),
        "{audit:?}"
    );

    // Run again: nothing more to do.
    let again = app.state.app.reassess_all(today).await.expect("re-run");
    assert_eq!(again.changed, 0);
    assert_eq!(
        app.state
            .store
            .assessments(&patient.id)
            .await
            .expect("db")
            .len(),
        2
    );
}
