//! FHIR round trip: a patient's record exported as a Bundle and its
//! assessment responses imported into an empty database give the same
//! assessments and results; a bad resource stores nothing.

use kneepath_core::Day;
use kneepath_store::Role;

use super::app;

const CASES: [&str; 3] = [
    // self-care with tight hamstrings
    "age = 29\nonset = \"gradual\"\ndays_since_onset = 20\npain_now = 3\nhamstrings_feel_tight = true\nweight_bearing = \"normal\"",
    // routine: reduced movement
    "age = 41\nonset = \"gradual\"\npain_now = 5\nrom_reduced = true\nweight_bearing = \"normal\"",
    // urgent: a pop at injury
    "age = 34\nonset = \"sudden\"\ndays_since_onset = 1\nmechanism = \"sprint\"\npop_at_injury = true\npain_now = 6",
];

#[tokio::test]
async fn bundle_export_then_import_into_an_empty_database_gives_equal_assessments() {
    let a = app().await;
    let kb = a.state.kb.clone();
    let tag = kneepath_store::new_id();
    let user = a
        .state
        .store
        .create_user(
            &format!("fhir-a-{tag}@example.org"),
            "Ada",
            "a long enough password",
            Role::Patient,
        )
        .await
        .expect("user");
    for (i, case) in CASES.iter().enumerate() {
        let facts = kb.facts_from_toml_str(case).expect("facts");
        a.state
            .app
            .record_assessment(
                &user.id,
                &facts,
                kneepath_store::AssessmentSource::Wizard,
                Day(20_000 + i as i32),
                None,
            )
            .await
            .expect("assessment");
        if i == 1 {
            // A clinician's measurements re-run the routine assessment.
            let m = kneepath_core::clinic::Measurements {
                painful_side: Some(kneepath_core::clinic::Side::Left),
                hamstring_left_nm: Some(80.0),
                hamstring_right_nm: Some(110.0),
                quadriceps_left_nm: Some(190.0),
                quadriceps_right_nm: Some(200.0),
                ..Default::default()
            };
            a.state
                .app
                .record_measurement(&user.id, &user.id, &m, a.state.clock.today(), None)
                .await
                .expect("measurement");
        }
    }
    let bundle = a.state.app.fhir_bundle(&user).await.expect("bundle");
    assert_eq!(bundle["type"], "collection");

    let b = app().await;
    let user_b = b
        .state
        .store
        .create_user(
            &format!("fhir-b-{tag}@example.org"),
            "Ada",
            "a long enough password",
            Role::Patient,
        )
        .await
        .expect("user");
    let responses =
        kneepath_app::export::read_responses(&kb, &bundle, Day(0)).expect("responses read");
    assert_eq!(responses.len(), CASES.len() + 1);
    b.state
        .app
        .import_fhir(&user_b.id, &responses, None)
        .await
        .expect("import");

    let before = a.state.store.assessments(&user.id).await.expect("a");
    let after = b.state.store.assessments(&user_b.id).await.expect("b");
    assert_eq!(before.len(), after.len());
    for (x, y) in before.iter().zip(&after) {
        assert_eq!(x.facts, y.facts, "facts differ");
        assert_eq!(x.report, y.report, "results differ");
        assert_eq!(x.level, y.level);
        assert_eq!(x.day, y.day, "the day comes from `authored`");
        assert_eq!(y.source, kneepath_store::AssessmentSource::Import);
    }
    // The measured factor survives the trip.
    assert!(after.iter().any(|x| {
        x.report
            .contributors
            .iter()
            .any(|c| c.grade == kneepath_core::Grade::Measured)
    }));
    assert!(after.iter().any(|x| !x.report.fired.is_empty()));
}

#[tokio::test]
async fn a_bad_response_is_rejected_with_an_operation_outcome_and_stores_nothing() {
    let a = app().await;
    let kb = a.state.kb.clone();
    let bad = serde_json::json!({
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": kneepath_fhir::facts_to_response(&kb, &kb.facts_from_toml_str(CASES[0]).expect("f"))},
            {"resource": {
                "resourceType": "QuestionnaireResponse",
                "questionnaire": kneepath_fhir::ASSESSMENT_URL,
                "status": "completed",
                "item": [{"linkId": "about", "item": [
                    {"linkId": "age", "answer": [{"valueString": "old"}]},
                    {"linkId": "shoe_size", "answer": [{"valueInteger": 42}]}
                ]}]
            }}
        ]
    });
    let Err(kneepath_app::export::Rejected(outcome)) =
        kneepath_app::export::read_responses(&kb, &bad, Day(0))
    else {
        panic!("a bad bundle was accepted");
    };
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    let text = outcome.to_string();
    assert!(text.contains("age"), "{text}");
    assert!(text.contains("shoe_size"), "{text}");
    assert!(text.contains("Bundle.entry[1]"), "{text}");
}
