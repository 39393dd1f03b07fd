//! FHIR mapping tests: the questionnaire's shape and enableWhen logic, the
//! response round trip on every dev case, and bad input.

use kneepath_core::{KnowledgeBase, assess};
use kneepath_fhir::{
    assessment_questionnaire, facts_to_response, operation_outcome, response_to_facts,
};
use serde_json::{Value, json};

fn kb() -> KnowledgeBase {
    KnowledgeBase::bundled().expect("kb")
}

fn find<'a>(q: &'a Value, link: &str) -> &'a Value {
    q["item"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["item"].as_array().into_iter().flatten())
        .find(|i| i["linkId"] == link)
        .unwrap_or_else(|| panic!("no item {link}"))
}

#[test]
fn questionnaire_has_every_fact_with_types_ranges_and_enable_when() {
    let kb = kb();
    let q = assessment_questionnaire(&kb);
    assert_eq!(q["resourceType"], "Questionnaire");
    assert_eq!(q["version"], kb.version.as_str());
    for question in &kb.questions {
        find(&q, &question.id);
    }
    let age = find(&q, "age");
    assert_eq!(age["type"], "integer");
    assert_eq!(age["required"], true);
    assert_eq!(age["extension"][1]["valueInteger"], 120);
    assert_eq!(find(&q, "pain_location")["repeats"], true);
    assert_eq!(find(&q, "sports")["type"], "open-choice");
    // Policy v2: the pop question is asked whatever the onset (R8 reads it
    // at any time), so it has no enableWhen.
    assert!(find(&q, "pop_at_injury").get("enableWhen").is_none());
    // `injury` (nested any/all, unknown answers counting as an injury)
    // cannot be written as enableWhen: the Ottawa questions are always
    // asked, which never hides a rule's question.
    assert!(
        find(&q, "fibular_head_tenderness")
            .get("enableWhen")
            .is_none()
    );
    // A simple show_if still becomes enableWhen: the swelling timing after
    // mild or significant swelling.
    let hours = find(&q, "swelling_within_hours");
    assert_eq!(hours["enableBehavior"], "any");
    assert_eq!(hours["enableWhen"].as_array().map(Vec::len), Some(2));
    // Yes/no questions offer Yes, No and Not sure (HL7 v2-0532 Y/N/ASKU).
    let fever = find(&q, "fever");
    assert_eq!(fever["type"], "choice");
    let codes: Vec<&str> = fever["answerOption"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["valueCoding"]["code"].as_str())
        .collect();
    assert_eq!(codes, ["Y", "N", "ASKU"]);
    // Self-examination questions carry how to check.
    let knee = find(&q, "knee_flex_90");
    assert!(
        knee["item"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("chair"))
    );
}

#[test]
fn every_dev_case_round_trips_through_a_questionnaire_response() {
    let kb = kb();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/cases/dev");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        let facts = kb.facts_from_toml_str(&text).expect("facts");
        let response = facts_to_response(&kb, &facts);
        // Through text, as it would arrive.
        let parsed: Value = serde_json::from_str(&response.to_string()).expect("json");
        let back =
            response_to_facts(&kb, &parsed).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
        assert_eq!(back, facts, "{}", path.display());
        assert_eq!(assess(&kb, &back).report(), assess(&kb, &facts).report());
        n += 1;
    }
    assert!(n >= 59, "{n} cases");
}

/// A "not sure" answer comes in as ASKU and goes out the same way; an old
/// valueBoolean answer is still read; a yes/no answer in another code
/// system or with another code is refused, naming the question.
#[test]
fn yes_no_answers_in_and_out() {
    let kb = kb();
    let facts = kb
        .facts_from_toml_str("age = 52\nleg_cold_pale_numb = \"unsure\"\nfever = false")
        .expect("facts");
    let r = facts_to_response(&kb, &facts);
    let text = r.to_string();
    assert!(text.contains("\"ASKU\""), "{text}");
    assert_eq!(response_to_facts(&kb, &r).expect("back"), facts);
    let old = json!({"resourceType": "QuestionnaireResponse", "item": [
        {"linkId": "age", "answer": [{"valueInteger": 40}]},
        {"linkId": "fever", "answer": [{"valueBoolean": true}]}
    ]});
    let f = response_to_facts(&kb, &old).expect("valueBoolean");
    assert_eq!(assess(&kb, &f).level, kneepath_core::TriageLevel::Urgent);
    let bad = json!({"resourceType": "QuestionnaireResponse", "item": [
        {"linkId": "age", "answer": [{"valueInteger": 40}]},
        {"linkId": "fever", "answer": [{"valueCoding": {"system": "http://terminology.hl7.org/CodeSystem/v2-0532", "code": "MAYBE"}}]},
        {"linkId": "deformity", "answer": [{"valueCoding": {"system": "http://snomed.info/sct", "code": "Y"}}]}
    ]});
    let issues = response_to_facts(&kb, &bad).expect_err("bad codes");
    let all: Vec<String> = issues.iter().map(|i| i.message.clone()).collect();
    assert!(
        all.iter()
            .any(|m| m.contains("fever") && m.contains("MAYBE")),
        "{all:?}"
    );
    assert!(
        all.iter()
            .any(|m| m.contains("deformity") && m.contains("v2-0532")),
        "{all:?}"
    );
}

#[test]
fn bad_responses_are_rejected_with_every_problem_named() {
    let kb = kb();
    let wrong_type = json!({"resourceType": "Patient"});
    let e = response_to_facts(&kb, &wrong_type).expect_err("not a response");
    assert!(e[0].message.contains("resourceType"));

    let bad = json!({
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "urn:kneepath:questionnaire:assessment",
        "status": "completed",
        "item": [{"linkId": "about", "item": [
            {"linkId": "age", "answer": [{"valueString": "thirty"}]},
            {"linkId": "shoe_size", "answer": [{"valueInteger": 42}]},
            {"linkId": "pain_now", "answer": [{"valueInteger": 11}]},
            {"linkId": "onset", "answer": [{"valueCoding": {"system": "http://snomed.info/sct", "code": "x"}}]}
        ]}]
    });
    let issues = response_to_facts(&kb, &bad).expect_err("bad");
    let text: Vec<String> = issues
        .iter()
        .map(|i| format!("{}: {}", i.location, i.message))
        .collect();
    assert!(
        text.iter()
            .any(|t| t.contains("unknown linkId \"shoe_size\"")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|t| t.contains("onset: valueCoding from another code system")),
        "{text:?}"
    );
    let oo = operation_outcome(&issues);
    assert_eq!(oo["resourceType"], "OperationOutcome");
    assert_eq!(oo["issue"].as_array().map(Vec::len), Some(issues.len()));

    // Type and range problems are found once the structure is right.
    let range = json!({"resourceType": "QuestionnaireResponse", "item": [
        {"linkId": "age", "answer": [{"valueString": "thirty"}]},
        {"linkId": "pain_now", "answer": [{"valueInteger": 11}]}
    ]});
    let issues = response_to_facts(&kb, &range).expect_err("bad values");
    let all: String = issues
        .iter()
        .map(|i| i.message.clone())
        .collect::<Vec<_>>()
        .join(" | ");
    assert!(
        all.contains("fact `age`") && all.contains("fact `pain_now`: 11 is out of range"),
        "{all}"
    );
}

#[test]
fn link_ids_are_unique_in_every_questionnaire() {
    fn links(v: &Value, out: &mut Vec<String>) {
        if let Some(items) = v.get("item").and_then(Value::as_array) {
            for i in items {
                if let Some(l) = i.get("linkId").and_then(Value::as_str) {
                    out.push(l.to_string());
                }
                links(i, out);
            }
        }
    }
    let kb = kb();
    let mut all = vec![
        kneepath_fhir::assessment_questionnaire(&kb),
        kneepath_fhir::export::checkin_questionnaire(&kb),
    ];
    all.extend(
        kb.instruments
            .iter()
            .map(kneepath_fhir::export::instrument_questionnaire),
    );
    for q in all {
        let mut ids = Vec::new();
        links(&q, &mut ids);
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate linkIds in {}", q["url"]);
    }
}
