//! `checkin.toml`, the one definition of the check-in's questions: the
//! loader refuses a file that words them other than the check-in stores
//! them, and the check reads its names and ranges from it.

use kneepath_core::Day;
use kneepath_core::KnowledgeBase;
use kneepath_core::checkin::{CheckinForm, FieldKind, RawCheckIn};
use kneepath_core::kb::{Problem, bundled_sources};

/// Replace the first `from` in checkin.toml with `to` and load.
fn load_with(from: &str, to: &str) -> Result<KnowledgeBase, Vec<Problem>> {
    let mut sources = bundled_sources();
    let src = sources
        .iter_mut()
        .find(|s| s.name == "checkin.toml")
        .expect("checkin.toml is bundled");
    assert!(
        src.text.contains(from),
        "test setup: {from:?} not in checkin.toml"
    );
    src.text = src.text.replacen(from, to, 1);
    KnowledgeBase::from_sources(&sources).map_err(|e| e.problems)
}

fn problem(from: &str, to: &str, entry: Option<&str>, contains: &str) {
    let problems = match load_with(from, to) {
        Ok(_) => panic!("{from:?} -> {to:?} should be refused"),
        Err(p) => p,
    };
    assert!(
        problems.iter().any(|p| p.file == "checkin.toml"
            && p.entry.as_deref() == entry
            && p.message.contains(contains)),
        "expected checkin.toml: {entry:?}: ...{contains}...; got {problems:?}"
    );
}

#[test]
fn every_stored_field_is_worded_once_in_the_form_order() {
    let form = &super::kb().checkin;
    let ids: Vec<&str> = form.fields.iter().map(|f| f.id.as_str()).collect();
    let mut expected: Vec<&str> = CheckinForm::expected().iter().map(|e| e.0).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    expected.sort_unstable();
    assert_eq!(sorted, expected);
    assert_eq!(ids.first(), Some(&"day"));
    let pain = form.field("pain_now").expect("pain now");
    assert_eq!((pain.kind, pain.required), (FieldKind::Scale, true));
}

#[test]
fn a_form_other_than_the_check_in_stores_is_refused() {
    problem(
        "id = \"stiffness\"\nkind = \"scale\"",
        "id = \"stiffness\"\nkind = \"integer\"",
        Some("field stiffness"),
        "stores this field as `scale`",
    );
    problem(
        "id = \"effort\"",
        "id = \"efort\"",
        Some("field efort"),
        "not a field of the check-in",
    );
    problem(
        "id = \"effort\"",
        "id = \"effort_x\"",
        None,
        "`effort` has no entry",
    );
    problem(
        "{ value = \"none\", label = \"None\" },\n  { value = \"mild\", label = \"Mild\" },",
        "{ value = \"mild\", label = \"Mild\" },\n  { value = \"none\", label = \"None\" },",
        Some("field swelling"),
        "must be, in this order: none, mild, significant",
    );
    problem("max = 10\n", "max = 11\n", Some("field effort"), "up to 10");
    problem(
        "max = 24",
        "max = 25",
        Some("field sleep_hours"),
        "at most 24",
    );
    problem(
        "short = \"Pain now\"\nhint = \"How the knee feels right now.\"\nrequired = true",
        "short = \"Pain now\"\nhint = \"How the knee feels right now.\"",
        Some("field pain_now"),
        "`required` must be true",
    );
    problem(
        "short = \"Stiffness\"",
        "short = \" \"",
        Some("field stiffness"),
        "`short` is empty",
    );
}

#[test]
fn the_check_reads_its_names_and_ranges_from_the_file() {
    let mut sources = bundled_sources();
    for s in sources.iter_mut().filter(|s| s.name == "checkin.toml") {
        s.text = s.text.replacen("max = 600", "max = 300", 1).replacen(
            "short = \"Pain now\"",
            "short = \"Knee pain now\"",
            1,
        );
    }
    let kb = KnowledgeBase::from_sources(&sources).expect("a valid form");
    let raw = RawCheckIn {
        pain_now: Some("11".into()),
        stiffness: Some("2".into()),
        training_minutes: Some("400".into()),
        effort: Some("5".into()),
        ..RawCheckIn::default()
    };
    let errors = raw
        .validate(&kb, &[], Day(0), Day(10))
        .expect_err("out of range");
    let said: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert!(
        said.contains(&"Knee pain now: \"11\" is not a whole number from 0 to 10."),
        "{said:?}"
    );
    assert!(
        said.contains(&"Training minutes: \"400\" is not a whole number from 0 to 300."),
        "{said:?}"
    );
}

#[test]
fn the_forms_any_new_sign_answer_must_agree_with_the_ticks() {
    let kb = KnowledgeBase::bundled().expect("kb");
    let (_, q) = kb.warning_signs().next().expect("a warning sign");
    let sign = q.id.clone();
    let check = |gate: Option<&str>, ticked: bool| {
        RawCheckIn {
            pain_now: Some("3".into()),
            stiffness: Some("2".into()),
            warning_signs: if ticked { vec![sign.clone()] } else { vec![] },
            any_new_sign: gate.map(str::to_string),
            ..RawCheckIn::default()
        }
        .validate(&kb, &[], Day(0), Day(10))
    };
    let message = |gate, ticked| {
        let errors = check(gate, ticked).expect_err("asked about");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].field, "warning_signs");
        errors[0].message.clone()
    };
    // Agreeing answers, and the API's list alone, pass.
    for (gate, ticked) in [
        (Some("no"), false),
        (Some("yes"), true),
        (None, true),
        (None, false),
    ] {
        let c = check(gate, ticked).expect("valid");
        assert_eq!(c.warning_signs.len(), usize::from(ticked), "{gate:?}");
    }
    // "Yes" with nothing ticked is asked about, not stored as no sign.
    assert!(message(Some("yes"), false).contains("tick which"));
    // "No" with a sign still ticked names the sign and stores nothing.
    let said = message(Some("no"), true);
    assert!(
        said.contains(q.warning_sign.as_deref().expect("worded")),
        "{said}"
    );
    assert!(message(Some("maybe"), false).contains("yes or no"));
}

#[test]
fn pain_during_exercises_none_of_which_was_done_is_asked_about_not_stored() {
    let kb = KnowledgeBase::bundled().expect("kb");
    let raw = RawCheckIn {
        pain_now: Some("2".into()),
        stiffness: Some("1".into()),
        exercise_pain: Some("7".into()),
        ..RawCheckIn::default()
    };
    let errors = raw
        .validate(&kb, &["heel_slides".to_string()], Day(0), Day(10))
        .expect_err("no exercise was done");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, "exercise_pain");
    assert!(errors[0].message.contains("tick the exercises you did"));
    let done = RawCheckIn {
        done: vec!["heel_slides".into()],
        ..raw
    };
    let c = done
        .validate(&kb, &["heel_slides".to_string()], Day(0), Day(10))
        .expect("with the exercise ticked");
    assert_eq!(c.exercise_pain, Some(7));
}
