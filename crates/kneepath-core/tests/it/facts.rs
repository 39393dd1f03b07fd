//! Reading facts: every bad value is an error that names the fact; nothing
//! is guessed.

use kneepath_core::{FactsError, Value};

use super::kb;

fn problems(toml: &str) -> Vec<String> {
    match kb().facts_from_toml_str(toml) {
        Ok(_) => Vec::new(),
        Err(e) => match e {
            FactsError::Invalid(p) => p.iter().map(ToString::to_string).collect(),
            other => vec![other.to_string()],
        },
    }
}

fn assert_problem(toml: &str, fact: &str, contains: &str) {
    let p = problems(toml);
    assert!(
        p.iter()
            .any(|m| m.contains(&format!("`{fact}`")) && m.contains(contains)),
        "expected a problem naming `{fact}` with {contains:?} for {toml:?}; got {p:?}"
    );
}

#[test]
fn out_of_range_values_name_the_fact() {
    assert_problem("age = 30\npain_now = 11", "pain_now", "out of range");
    assert_problem("age = -3", "age", "out of range");
    assert_problem("age = 30\nhq_ratio = 3.5", "hq_ratio", "out of range");
}

#[test]
fn unknown_fact_is_an_error() {
    assert_problem("age = 30\npain_level = 4", "pain_level", "not a fact");
}

#[test]
fn wrong_types_are_errors() {
    assert_problem("age = 30\npain_now = \"high\"", "pain_now", "whole number");
    assert_problem(
        "age = 30\nfever = \"yes\"",
        "fever",
        "true, false or \"unsure\"",
    );
    assert_problem("age = 30\nfever = 1", "fever", "true, false or \"unsure\"");
    assert_problem(
        "age = 30\nfever = \"Unsure\"",
        "fever",
        "true, false or \"unsure\"",
    );
    assert_problem("age = 30\nonset = 1", "onset", "one of the options");
    assert_problem("age = 30\nsports = 3", "sports", "a list");
    assert_problem("age = 30\npain_now = 6.5", "pain_now", "whole number");
}

#[test]
fn choices_must_be_options() {
    assert_problem("age = 30\nmechanism = \"kick\"", "mechanism", "not one of");
    assert_problem(
        "age = 30\npain_location = [\"shin\"]",
        "pain_location",
        "not one of",
    );
}

#[test]
fn age_is_required() {
    assert_problem("pain_now = 3", "age", "required");
}

#[test]
fn every_problem_is_reported_at_once() {
    let p = problems("age = 300\npain_now = 11\nfoo = 1");
    assert_eq!(p.len(), 3, "{p:?}");
}

#[test]
fn integral_float_is_an_integer() {
    let f = kb()
        .facts_from_toml_str("age = 30.0\nslr_deg = 62.0")
        .expect("valid");
    let id = kb().fact_id("slr_deg").expect("fact");
    assert_eq!(f.get(id), Some(&Value::Int(62)));
}

#[test]
fn json_and_toml_give_the_same_facts() {
    let t = kb()
        .facts_from_toml_str(
            "age = 34\nonset = \"sudden\"\npain_location = [\"calf\"]\nacwr = 1.2\nfever = false",
        )
        .expect("toml");
    let j = kb()
        .facts_from_json_str(r#"{"fever": false, "acwr": 1.2, "pain_location": ["calf"], "onset": "sudden", "age": 34}"#)
        .expect("json");
    assert_eq!(t, j);
}

#[test]
fn syntax_errors_say_which_format() {
    let e = kb().facts_from_json_str("{not json").expect_err("bad json");
    assert!(e.to_string().starts_with("not valid JSON"), "{e}");
    let e = kb().facts_from_toml_str("age = ").expect_err("bad toml");
    assert!(e.to_string().starts_with("not valid TOML"), "{e}");
}

#[test]
fn typed_answers_parse_like_a_person_types_them() {
    let q = |id: &str| &kb().questions[kb().fact_id(id).expect("fact")];
    assert_eq!(q("fever").parse_text("Y"), Ok(Some(Value::Bool(true))));
    assert_eq!(q("fever").parse_text(""), Ok(None));
    assert!(q("fever").parse_text("maybe").is_err());
    assert_eq!(q("onset").parse_text("2"), Ok(Some(Value::Choice(1))));
    assert_eq!(q("onset").parse_text("sudden"), Ok(Some(Value::Choice(0))));
    assert!(q("onset").parse_text("9").is_err());
    assert!(q("pain_now").parse_text("11").is_err());
    assert_eq!(
        q("sports").parse_text("1, padel"),
        Ok(Some(Value::List(vec!["football".into(), "padel".into()])))
    );
    assert!(q("sports").parse_text("<script>").is_err());
}

/// Policy v2: a yes/no fact may be "unsure"; a list fact may be given as
/// one value (`mechanism = "fall"`) or a list.
#[test]
fn unsure_and_one_value_lists_are_read() {
    let f = kb()
        .facts_from_toml_str("age = 30\nfever = \"unsure\"\nmechanism = \"fall\"")
        .expect("valid");
    let fever = kb().fact_id("fever").expect("fever");
    let mechanism = kb().fact_id("mechanism").expect("mechanism");
    assert_eq!(f.get(fever), Some(&Value::Unsure));
    assert_eq!(f.get(mechanism), Some(&Value::List(vec!["fall".into()])));
    let json = kb()
        .facts_from_json_str(
            r#"{"age": 30, "fever": "unsure", "mechanism": ["sprint", "direct_blow"]}"#,
        )
        .expect("valid");
    assert_eq!(json.get(fever), Some(&Value::Unsure));
    assert_eq!(kb().facts_to_json(&json)["fever"], "unsure");
    let q = &kb().questions[fever];
    assert_eq!(q.parse_text("not sure"), Ok(Some(Value::Unsure)));
    assert_eq!(q.parse_text("?"), Ok(Some(Value::Unsure)));
    assert_eq!(q.display_value(&Value::Unsure), "not sure");
}
