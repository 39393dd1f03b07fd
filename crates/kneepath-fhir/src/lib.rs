//! HL7 FHIR R4 mapping for kneepath, pure (JSON values in and out, no I/O).
//!
//! - [`assessment_questionnaire`]: the assessment questionnaire of the
//!   knowledge base as a FHIR `Questionnaire`: one group per section, one
//!   item per fact (`linkId` = fact name; a group's is `section-<id>`, so
//!   every linkId is unique), answer options as codings in
//!   `urn:kneepath:fact:<fact>`, ranges as `minValue`/`maxValue`
//!   extensions, and `show_if` as `enableWhen` (with `enableBehavior` for
//!   `any`/`all`). A `show_if` that `enableWhen` cannot express (nested
//!   `all`/`any`, "or unknown") gives no `enableWhen`: the question is
//!   always asked, which never hides a rule's question. Yes/no questions
//!   are choices of Yes, No and Not sure, coded in HL7's expanded yes/no
//!   indicator (v2-0532: `Y`, `N`, `ASKU` "asked but unknown");
//!   `valueBoolean` answers are still read.
//! - [`response_to_facts`]: a `QuestionnaireResponse` to that questionnaire
//!   as checked facts, or every problem found as an [`Issue`];
//!   [`operation_outcome`] turns the issues into an `OperationOutcome`.
//! - [`facts_to_response`]: facts as a `QuestionnaireResponse`.
//! - [`export`]: the rest of a record (Patient, outcome questionnaires and
//!   responses, Observations, RiskAssessment, CarePlan, the daily check-in
//!   questionnaire) and a whole record as a `Bundle`.
//!
//! Every dev case round-trips through a `QuestionnaireResponse` to the
//! same assessment (test
//! `every_dev_case_round_trips_through_a_questionnaire_response`), and the
//! test command validates the output against the `fhir.resources` models
//! (`scripts/fhir-validate.py`).

pub mod export;

use kneepath_core::condition::Condition;
use kneepath_core::facts::RawValue;
use kneepath_core::kb::{KnowledgeBase, Question, QuestionKind};
use kneepath_core::{Facts, Value};
use serde_json::{Map, Value as Json, json};

/// The canonical URL of the assessment questionnaire (a URN: kneepath has
/// no fixed host).
pub const ASSESSMENT_URL: &str = "urn:kneepath:questionnaire:assessment";
const MIN_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/minValue";
const MAX_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/maxValue";

/// The linkId of a section's group: prefixed, because linkIds must be
/// unique in a Questionnaire and a section may share its id with a fact
/// (`onset`).
pub fn group_link(section: &str) -> String {
    format!("section-{section}")
}

/// The code system of a fact's answer options.
pub fn option_system(fact: &str) -> String {
    format!("urn:kneepath:fact:{fact}")
}

/// The code system of yes/no answers: HL7 v2 table 0532, "expanded yes/no
/// indicator", whose `ASKU` ("asked but unknown") is kneepath's "not sure".
pub const YES_NO_SYSTEM: &str = "http://terminology.hl7.org/CodeSystem/v2-0532";

/// The three answers of a yes/no question: (code, display, value).
fn yes_no_options() -> [(&'static str, &'static str, RawValue); 3] {
    [
        ("Y", "Yes", RawValue::Bool(true)),
        ("N", "No", RawValue::Bool(false)),
        (
            "ASKU",
            "Not sure",
            RawValue::Str(kneepath_core::facts::UNSURE.to_string()),
        ),
    ]
}

fn yes_no_coding(v: &Value) -> Option<Json> {
    let code = match v {
        Value::Bool(true) => "Y",
        Value::Bool(false) => "N",
        Value::Unsure => "ASKU",
        _ => return None,
    };
    let (_, display, _) = yes_no_options().into_iter().find(|(c, _, _)| *c == code)?;
    Some(json!({"system": YES_NO_SYSTEM, "code": code, "display": display}))
}

/// One problem with an imported resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// Where: a FHIRPath-like location, e.g. `QuestionnaireResponse.item[2].item[0]`.
    pub location: String,
    pub message: String,
}

/// enableWhen entries and the behaviour joining them.
fn enable_when(kb: &KnowledgeBase, c: &Condition, out: &mut Vec<Json>) -> Option<&'static str> {
    let leaf = |c: &Condition, out: &mut Vec<Json>| -> bool {
        match c {
            Condition::Bool { fact, value, .. } => {
                let code = if *value { "Y" } else { "N" };
                out.push(json!({"question": kb.questions[*fact].id, "operator": "=",
                    "answerCoding": {"system": YES_NO_SYSTEM, "code": code}}));
                true
            }
            Condition::Choice {
                fact,
                options,
                or_unknown: false,
            } => {
                let q = &kb.questions[*fact];
                if let QuestionKind::Choice { options: all } = &q.kind {
                    for &o in options {
                        out.push(json!({
                            "question": q.id, "operator": "=",
                            "answerCoding": {"system": option_system(&q.id), "code": all[o as usize].value},
                        }));
                    }
                }
                options.len() == 1
            }
            Condition::NotEmpty { fact, expect, .. } => {
                out.push(json!({"question": kb.questions[*fact].id, "operator": "exists", "answerBoolean": expect}));
                true
            }
            _ => false,
        }
    };
    match c {
        Condition::Any(parts) => {
            for p in parts {
                if !matches!(
                    p,
                    Condition::Bool { .. }
                        | Condition::Choice {
                            or_unknown: false,
                            ..
                        }
                        | Condition::NotEmpty { .. }
                ) {
                    return None;
                }
                leaf(p, out);
            }
            Some("any")
        }
        Condition::All(parts) => {
            for p in parts {
                if !leaf(p, out) {
                    return None;
                }
            }
            Some("all")
        }
        // A choice among several options is an "any" of equalities.
        Condition::Choice {
            options,
            or_unknown: false,
            ..
        } if options.len() > 1 => {
            leaf(c, out);
            Some("any")
        }
        other => leaf(other, out).then_some("all"),
    }
}

fn range_extensions(q: &Question) -> Vec<Json> {
    match q.kind {
        QuestionKind::Integer { min, max } => vec![
            json!({"url": MIN_VALUE, "valueInteger": min}),
            json!({"url": MAX_VALUE, "valueInteger": max}),
        ],
        QuestionKind::Number { min, max } => vec![
            json!({"url": MIN_VALUE, "valueDecimal": min}),
            json!({"url": MAX_VALUE, "valueDecimal": max}),
        ],
        _ => Vec::new(),
    }
}

fn item(kb: &KnowledgeBase, q: &Question) -> Json {
    let mut it = Map::new();
    it.insert("linkId".into(), json!(q.id));
    it.insert("text".into(), json!(q.prompt));
    let (ty, repeats) = match &q.kind {
        QuestionKind::Bool => ("choice", false),
        QuestionKind::Integer { .. } => ("integer", false),
        QuestionKind::Number { .. } => ("decimal", false),
        QuestionKind::Choice { .. } => ("choice", false),
        QuestionKind::Multi { open: false, .. } => ("choice", true),
        QuestionKind::Multi { open: true, .. } => ("open-choice", true),
    };
    it.insert("type".into(), json!(ty));
    if q.required {
        it.insert("required".into(), json!(true));
    }
    if q.kind == QuestionKind::Bool {
        let opts: Vec<Json> = yes_no_options()
            .iter()
            .map(|(code, display, _)| {
                json!({"valueCoding": {"system": YES_NO_SYSTEM, "code": code, "display": display}})
            })
            .collect();
        it.insert("answerOption".into(), json!(opts));
    }
    if repeats {
        it.insert("repeats".into(), json!(true));
    }
    if let QuestionKind::Choice { options } | QuestionKind::Multi { options, .. } = &q.kind {
        let opts: Vec<Json> = options
            .iter()
            .map(|o| json!({"valueCoding": {"system": option_system(&q.id), "code": o.value, "display": o.label}}))
            .collect();
        it.insert("answerOption".into(), json!(opts));
    }
    let ext = range_extensions(q);
    if !ext.is_empty() {
        it.insert("extension".into(), json!(ext));
    }
    if let Some(c) = &q.show_if {
        let mut ew = Vec::new();
        // Not expressible: no enableWhen, the question is always asked.
        if let Some(behavior) = enable_when(kb, c, &mut ew) {
            it.insert("enableWhen".into(), json!(ew));
            if ew.len() > 1 {
                it.insert("enableBehavior".into(), json!(behavior));
            }
        }
    }
    // Help and how to check as display child items, as FHIR R4 forms show
    // them.
    let notes: Vec<Json> = [("help", &q.help), ("how", &q.how_to_check)]
        .into_iter()
        .filter_map(|(k, t)| {
            t.as_ref()
                .map(|t| json!({"linkId": format!("{}-{k}", q.id), "text": t, "type": "display"}))
        })
        .collect();
    if !notes.is_empty() {
        it.insert("item".into(), json!(notes));
    }
    Json::Object(it)
}

/// The assessment questionnaire as a FHIR R4 `Questionnaire`.
pub fn assessment_questionnaire(kb: &KnowledgeBase) -> Json {
    let mut groups = Vec::new();
    for (s, section) in kb.sections.iter().enumerate() {
        let items: Vec<Json> = kb
            .questions
            .iter()
            .filter(|q| q.section == s)
            .map(|q| item(kb, q))
            .collect();
        if items.is_empty() {
            continue;
        }
        groups.push(
            json!({"linkId": group_link(&section.id), "text": section.title, "type": "group", "item": items}),
        );
    }
    json!({
        "resourceType": "Questionnaire",
        "id": "kneepath-assessment",
        "url": ASSESSMENT_URL,
        "version": kb.version,
        "name": "KneepathAssessment",
        "title": "Hamstring-related knee pain: assessment",
        "status": "active",
        "subjectType": ["Patient"],
        "description": kb.meta.disclaimer,
        "item": groups,
    })
}

fn answer_to_raw(q: &Question, a: &Map<String, Json>) -> Result<RawValue, String> {
    let keys: Vec<&String> = a.keys().filter(|k| k.starts_with("value")).collect();
    let [key] = keys[..] else {
        return Err("an answer needs exactly one value[x]".into());
    };
    let v = &a[key.as_str()];
    Ok(match key.as_str() {
        "valueBoolean" => v
            .as_bool()
            .map(RawValue::Bool)
            .ok_or("valueBoolean is not a boolean")?,
        "valueInteger" => v
            .as_i64()
            .map(RawValue::Int)
            .ok_or("valueInteger is not an integer")?,
        "valueDecimal" => v
            .as_f64()
            .map(RawValue::Float)
            .ok_or("valueDecimal is not a number")?,
        "valueString" => v
            .as_str()
            .map(|s| RawValue::Str(s.to_string()))
            .ok_or("valueString is not text")?,
        "valueCoding" if q.kind == QuestionKind::Bool => {
            let system = v.get("system").and_then(Json::as_str);
            if system.is_some_and(|s| s != YES_NO_SYSTEM) {
                return Err(format!(
                    "a yes/no answer is coded in {YES_NO_SYSTEM} (Y, N or ASKU), not {}",
                    system.unwrap_or_default()
                ));
            }
            let code = v
                .get("code")
                .and_then(Json::as_str)
                .ok_or("valueCoding has no code")?;
            yes_no_options()
                .into_iter()
                .find(|(c, _, _)| *c == code)
                .map(|(_, _, raw)| raw)
                .ok_or_else(|| format!("\"{code}\" is not a yes/no answer (Y, N or ASKU)"))?
        }
        "valueCoding" => {
            let system = v.get("system").and_then(Json::as_str);
            if system.is_some_and(|s| s != option_system(&q.id)) {
                return Err(format!(
                    "valueCoding from another code system ({})",
                    system.unwrap_or_default()
                ));
            }
            v.get("code")
                .and_then(Json::as_str)
                .map(|s| RawValue::Str(s.to_string()))
                .ok_or("valueCoding has no code")?
        }
        other => return Err(format!("{other} is not used by this questionnaire")),
    })
}

fn walk(
    kb: &KnowledgeBase,
    items: &[Json],
    path: &str,
    out: &mut Vec<(String, RawValue)>,
    issues: &mut Vec<Issue>,
) {
    for (i, it) in items.iter().enumerate() {
        let loc = format!("{path}.item[{i}]");
        let Some(link) = it.get("linkId").and_then(Json::as_str) else {
            issues.push(Issue {
                location: loc,
                message: "item without a linkId".into(),
            });
            continue;
        };
        if let Some(children) = it.get("item").and_then(Json::as_array) {
            walk(kb, children, &loc, out, issues);
        }
        let Some(answers) = it.get("answer").and_then(Json::as_array) else {
            continue;
        };
        let Some(id) = kb.fact_id(link) else {
            issues.push(Issue {
                location: loc,
                message: format!("unknown linkId \"{link}\""),
            });
            continue;
        };
        let q = &kb.questions[id];
        let mut values = Vec::new();
        for (j, a) in answers.iter().enumerate() {
            match a
                .as_object()
                .ok_or("an answer must be an object".to_string())
                .and_then(|a| answer_to_raw(q, a))
            {
                Ok(v) => values.push(v),
                Err(m) => issues.push(Issue {
                    location: format!("{loc}.answer[{j}]"),
                    message: format!("{link}: {m}"),
                }),
            }
        }
        let raw = match (&q.kind, values.len()) {
            (QuestionKind::Multi { .. }, _) => RawValue::List(values),
            (_, 1) => values.remove(0),
            (_, 0) => continue,
            _ => {
                issues.push(Issue {
                    location: loc,
                    message: format!("{link}: only one answer is allowed"),
                });
                continue;
            }
        };
        out.push((link.to_string(), raw));
    }
}

/// Read a `QuestionnaireResponse` to the assessment questionnaire as facts.
/// Nothing is guessed: every problem comes back as an issue.
pub fn response_to_facts(kb: &KnowledgeBase, resource: &Json) -> Result<Facts, Vec<Issue>> {
    let at = |m: &str| {
        vec![Issue {
            location: "QuestionnaireResponse".into(),
            message: m.into(),
        }]
    };
    if resource.get("resourceType").and_then(Json::as_str) != Some("QuestionnaireResponse") {
        return Err(at("resourceType must be QuestionnaireResponse"));
    }
    if let Some(q) = resource.get("questionnaire").and_then(Json::as_str)
        && !q.starts_with(ASSESSMENT_URL)
    {
        return Err(at(&format!(
            "answers questionnaire {q}, not {ASSESSMENT_URL}"
        )));
    }
    let items = resource
        .get("item")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default();
    let mut pairs = Vec::new();
    let mut issues = Vec::new();
    walk(kb, &items, "QuestionnaireResponse", &mut pairs, &mut issues);
    // The answers that were readable are checked too, so every problem is
    // reported at once.
    match kb.facts_from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.clone()))) {
        Ok(facts) if issues.is_empty() => Ok(facts),
        Ok(_) => Err(issues),
        Err(e) => {
            issues.extend(e.problems().iter().map(|p| Issue {
                location: format!("QuestionnaireResponse item {}", p.fact),
                message: p.to_string(),
            }));
            Err(issues)
        }
    }
}

fn answer(q: &Question, v: &Value) -> Vec<Json> {
    match (v, &q.kind) {
        (Value::Bool(_) | Value::Unsure, _) => yes_no_coding(v)
            .map(|c| vec![json!({ "valueCoding": c })])
            .unwrap_or_default(),
        (Value::Int(i), _) => vec![json!({"valueInteger": i})],
        (Value::Num(n), _) => vec![json!({"valueDecimal": n})],
        (Value::Choice(i), QuestionKind::Choice { options }) => {
            let o = &options[*i as usize];
            vec![json!({"valueCoding": {"system": option_system(&q.id), "code": o.value, "display": o.label}})]
        }
        (Value::List(items), QuestionKind::Multi { options, .. }) => items
            .iter()
            .map(|code| match options.iter().find(|o| o.value == *code) {
                Some(o) => json!({"valueCoding": {"system": option_system(&q.id), "code": o.value, "display": o.label}}),
                None => json!({"valueString": code}),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Facts as a completed `QuestionnaireResponse` (grouped like the form).
pub fn facts_to_response(kb: &KnowledgeBase, facts: &Facts) -> Json {
    let mut groups = Vec::new();
    for (s, section) in kb.sections.iter().enumerate() {
        let items: Vec<Json> = facts
            .present()
            .filter(|(id, _)| kb.questions[*id].section == s)
            .map(|(id, v)| {
                let q = &kb.questions[id];
                json!({"linkId": q.id, "answer": answer(q, v)})
            })
            .collect();
        if !items.is_empty() {
            groups.push(json!({"linkId": group_link(&section.id), "item": items}));
        }
    }
    json!({
        "resourceType": "QuestionnaireResponse",
        "questionnaire": ASSESSMENT_URL,
        "status": "completed",
        "item": groups,
    })
}

/// Issues as an R4 `OperationOutcome` (severity error, code invalid).
pub fn operation_outcome(issues: &[Issue]) -> Json {
    json!({
        "resourceType": "OperationOutcome",
        "issue": issues.iter().map(|i| json!({
            "severity": "error",
            "code": "invalid",
            "diagnostics": i.message,
            "expression": [i.location],
        })).collect::<Vec<_>>(),
    })
}
