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
    let q = assessment_questionnaire(&kb).expect("every show_if is expressible");
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
    // Simple show_if: asked only after a sudden onset.
    let pop = find(&q, "pop_at_injury");
    assert_eq!(
        pop["enableWhen"],
        json!([{"question": "onset", "operator": "=", "answerCoding": {"system": "urn:kneepath:fact:onset", "code": "sudden"}}])
    );
    // `traumatic`: any of four mechanisms or a high-energy injury.
    let ottawa = find(&q, "fibular_head_tenderness");
    assert_eq!(ottawa["enableBehavior"], "any");
    assert_eq!(ottawa["enableWhen"].as_array().map(Vec::len), Some(5));
    // Sport questions: only when a sport is named.
    assert_eq!(find(&q, "warm_up")["enableWhen"][0]["operator"], "exists");
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
    assert!(n >= 28);
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
        kneepath_fhir::assessment_questionnaire(&kb).expect("q"),
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
