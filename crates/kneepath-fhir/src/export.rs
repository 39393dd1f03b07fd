//! FHIR R4 resources for a patient's record: `Patient`, the outcome
//! questionnaires and their responses, scores and measurements as
//! `Observation`, the triage result as `RiskAssessment`, the plan as
//! `CarePlan`, and a whole record as a `Bundle` of type `collection`.
//!
//! Resources inside a bundle refer to each other by `urn:uuid:` full URLs,
//! made deterministically from kneepath's ids ([`uuid_for`]), so the same
//! record always exports to the same bundle.
//!
//! Codes: LOINC where a score has one (the KOOS subscales, the 0-10 pain
//! scale), else kneepath's own; UCUM units for measurements; the
//! `RiskAssessment`'s `reasonCode`s are the fired rule ids. A daily
//! check-in its owner corrected is exported with status `amended`.

use std::collections::BTreeMap;

use kneepath_core::kb::{Instrument, InstrumentKind};
use kneepath_core::outcomes::Score;
use kneepath_core::report::AssessmentReport;
use kneepath_core::{Day, TriageLevel};
use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const OBS_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const RISK_PROBABILITY: &str = "http://terminology.hl7.org/CodeSystem/risk-probability";
/// kneepath's own codes where no standard code exists.
pub const KNEEPATH_CODES: &str = "urn:kneepath:code";
pub const RULE_SYSTEM: &str = "urn:kneepath:rule";
pub const LEVEL_SYSTEM: &str = "urn:kneepath:triage-level";

/// A stable `urn:uuid:` for a kneepath id (name-based, from SHA-256, with
/// the version-5 layout bits set).
pub fn uuid_for(kind: &str, id: &str) -> String {
    let h = Sha256::digest(format!("{kind}/{id}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A FHIR id (64 characters at most, `[A-Za-z0-9.-]`).
fn fhir_id(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
        .take(64)
        .collect()
}

pub fn patient(id: &str, name: &str, email: &str) -> Json {
    json!({
        "resourceType": "Patient",
        "id": fhir_id(id),
        "identifier": [{"system": "urn:kneepath:user", "value": id}],
        "name": [{"text": name}],
        "telecom": [{"system": "email", "value": email}],
    })
}

/// The canonical URL of an outcome questionnaire.
pub fn instrument_url(ins: &Instrument) -> String {
    format!("urn:kneepath:questionnaire:{}", ins.id)
}

fn answer_system(ins: &Instrument) -> String {
    format!("urn:kneepath:answers:{}", ins.id)
}

fn option_coding(ins: &Instrument, index: usize, display: &str) -> Json {
    json!({"system": answer_system(ins), "code": index.to_string(), "display": display})
}

/// An outcome questionnaire (KOOS, LEFS, NPRS) as a FHIR `Questionnaire`:
/// one group per section, one `choice` item per question with its options
/// coded by their position on the form.
pub fn instrument_questionnaire(ins: &Instrument) -> Json {
    let groups: Vec<Json> = ins
        .sections
        .iter()
        .enumerate()
        .map(|(s, section)| {
            let items: Vec<Json> = ins
                .items
                .iter()
                .filter(|i| i.section == s)
                .map(|i| {
                    json!({
                        "linkId": i.id,
                        "prefix": format!("{}.", i.id),
                        "text": i.text,
                        "type": "choice",
                        "required": ins.kind != InstrumentKind::Koos,
                        "answerOption": i.options.iter().enumerate()
                            .map(|(n, o)| json!({"valueCoding": option_coding(ins, n, o)}))
                            .collect::<Vec<_>>(),
                    })
                })
                .collect();
            let mut g = json!({
                "linkId": crate::group_link(&section.id),
                "text": section.title,
                "type": "group",
                "item": items,
            });
            if !section.prompt.is_empty()
                && let Some(items) = g["item"].as_array_mut()
            {
                items.insert(
                    0,
                    json!({"linkId": format!("{}-prompt", section.id), "text": section.prompt, "type": "display"}),
                );
            }
            g
        })
        .collect();
    json!({
        "resourceType": "Questionnaire",
        "id": format!("kneepath-{}", ins.id),
        "url": instrument_url(ins),
        "name": ins.short.chars().filter(char::is_ascii_alphanumeric).collect::<String>(),
        "title": ins.title,
        "status": "active",
        "subjectType": ["Patient"],
        "description": ins.intro,
        "copyright": ins.attribution,
        "item": groups,
    })
}

/// Answers (item -> option index) as a completed `QuestionnaireResponse`.
pub fn instrument_response(
    ins: &Instrument,
    id: &str,
    answers: &BTreeMap<String, u8>,
    authored: &str,
    subject: &str,
) -> Json {
    let groups: Vec<Json> = ins
        .sections
        .iter()
        .enumerate()
        .filter_map(|(s, section)| {
            let items: Vec<Json> = ins
                .items
                .iter()
                .filter(|i| i.section == s)
                .filter_map(|i| {
                    let &o = answers.get(&i.id)?;
                    let text = i.options.get(usize::from(o))?;
                    Some(json!({
                        "linkId": i.id,
                        "answer": [{"valueCoding": option_coding(ins, usize::from(o), text)}],
                    }))
                })
                .collect();
            (!items.is_empty())
                .then(|| json!({"linkId": crate::group_link(&section.id), "item": items}))
        })
        .collect();
    json!({
        "resourceType": "QuestionnaireResponse",
        "id": fhir_id(id),
        "questionnaire": instrument_url(ins),
        "status": "completed",
        "subject": {"reference": subject},
        "authored": authored,
        "item": groups,
    })
}

/// The LOINC code of a score, where one exists.
fn score_loinc(kind: InstrumentKind, key: &str) -> Option<(&'static str, &'static str)> {
    match (kind, key) {
        (InstrumentKind::Koos, "pain") => Some(("72102-7", "KOOS Pain score")),
        (InstrumentKind::Koos, "symptoms") => Some(("72101-9", "KOOS Symptoms score")),
        (InstrumentKind::Koos, "adl") => Some(("72100-1", "KOOS Activities of daily living score")),
        (InstrumentKind::Koos, "sport_rec") => {
            Some(("72099-5", "KOOS Sport and recreation function score"))
        }
        (InstrumentKind::Koos, "qol") => Some(("72098-7", "KOOS Quality of life score")),
        (InstrumentKind::Nprs, "rating") => Some((
            "72514-3",
            "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
        )),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn observation(
    id: &str,
    category: &str,
    codings: Vec<Json>,
    text: &str,
    subject: &str,
    effective: &str,
    value: Json,
    derived_from: Option<&str>,
) -> Json {
    let mut o = json!({
        "resourceType": "Observation",
        "id": fhir_id(id),
        "status": "final",
        "category": [{"coding": [{"system": OBS_CATEGORY, "code": category}]}],
        "code": {"coding": codings, "text": text},
        "subject": {"reference": subject},
        "effectiveDateTime": effective,
        "valueQuantity": value,
    });
    if let Some(d) = derived_from {
        o["derivedFrom"] = json!([{"reference": d}]);
    }
    o
}

/// The scores of one questionnaire response as `Observation`s (survey
/// category; LOINC where it exists, else kneepath's code).
pub fn score_observations(
    ins: &Instrument,
    response_id: &str,
    scores: &[Score],
    effective: &str,
    subject: &str,
    response_ref: &str,
) -> Vec<Json> {
    scores
        .iter()
        .filter_map(|s| {
            let value = s.value?;
            let mut codings = Vec::new();
            if let Some((code, display)) = score_loinc(ins.kind, &s.key) {
                codings.push(json!({"system": LOINC, "code": code, "display": display}));
            }
            codings.push(json!({
                "system": KNEEPATH_CODES,
                "code": format!("{}-{}", ins.id, s.key),
                "display": format!("{} {}", ins.short, s.label),
            }));
            Some(observation(
                &format!("{response_id}-{}", s.key),
                "survey",
                codings,
                &format!("{} {}", ins.short, s.label),
                subject,
                effective,
                json!({"value": value, "unit": "score", "system": UCUM, "code": "{score}"}),
                Some(response_ref),
            ))
        })
        .collect()
}

/// One measured value: (key, label, value, UCUM code).
pub type Measured<'a> = (&'a str, &'a str, f64, &'a str);

/// A clinician's measurements as `Observation`s (exam category; kneepath
/// codes, UCUM units: `N.m`, `deg`, `%`, `1`).
pub fn measurement_observations(
    measurement_id: &str,
    values: &[Measured<'_>],
    effective: &str,
    subject: &str,
) -> Vec<Json> {
    values
        .iter()
        .map(|(key, label, value, unit)| {
            observation(
                &format!("{measurement_id}-{key}"),
                "exam",
                vec![json!({"system": KNEEPATH_CODES, "code": key, "display": label})],
                label,
                subject,
                effective,
                json!({"value": value, "unit": unit, "system": UCUM, "code": unit}),
                None,
            )
        })
        .collect()
}

/// The triage result as a `RiskAssessment`: the level as the predicted
/// outcome, each fired rule as a reason (code = rule id).
pub fn risk_assessment(
    id: &str,
    report: &AssessmentReport,
    day: Day,
    subject: &str,
    basis: Option<&str>,
) -> Json {
    let risk = match report.level {
        TriageLevel::Ambulance | TriageLevel::Emergency => "high",
        TriageLevel::Urgent => "moderate",
        TriageLevel::Routine | TriageLevel::SelfCare => "low",
    };
    let mut r = json!({
        "resourceType": "RiskAssessment",
        "id": fhir_id(id),
        "status": "final",
        "subject": {"reference": subject},
        "occurrenceDateTime": day.to_string(),
        "method": {"coding": [{"system": KNEEPATH_CODES, "code": "triage-policy", "display": format!("kneepath triage policy {} ({})", report.policy_version, report.kb_version)}]},
        "prediction": [{
            "outcome": {
                "coding": [{"system": LEVEL_SYSTEM, "code": report.level.as_str(), "display": report.level_title}],
                "text": report.do_now,
            },
            "qualitativeRisk": {"coding": [{"system": RISK_PROBABILITY, "code": risk}]},
        }],
        "note": [{"text": report.disclaimer}],
    });
    if !report.fired.is_empty() {
        r["reasonCode"] = Json::Array(
            report
                .fired
                .iter()
                .map(|f| {
                    json!({
                        "coding": [{"system": RULE_SYSTEM, "code": f.rule, "display": f.flag_title}],
                        "text": f.reason,
                    })
                })
                .collect(),
        );
    }
    if let Some(b) = basis {
        r["basis"] = json!([{"reference": b}]);
    }
    r
}

/// One activity of a care plan: (name, dosage, days per week).
pub type Activity<'a> = (&'a str, &'a str, u32);

/// The home plan as a `CarePlan` with one activity per exercise.
pub fn care_plan(
    id: &str,
    title: &str,
    description: &str,
    start: Day,
    activities: &[Activity<'_>],
    subject: &str,
) -> Json {
    json!({
        "resourceType": "CarePlan",
        "id": fhir_id(id),
        "status": "active",
        "intent": "plan",
        "title": title,
        "description": description,
        "subject": {"reference": subject},
        "period": {"start": start.to_string()},
        "activity": activities.iter().map(|(name, dosage, days)| json!({
            "detail": {
                "status": "in-progress",
                "code": {"text": name},
                "description": dosage,
                "scheduledTiming": {"repeat": {"frequency": days, "period": 1, "periodUnit": "wk"}},
            }
        })).collect::<Vec<_>>(),
    })
}

/// The canonical URL of the daily check-in questionnaire.
pub const CHECKIN_URL: &str = "urn:kneepath:questionnaire:checkin";
const CHECKIN_SYSTEM: &str = "urn:kneepath:checkin";

fn int_item(link: &str, text: &str, min: i64, max: i64, required: bool) -> Json {
    json!({
        "linkId": link, "text": text, "type": "integer", "required": required,
        "extension": [
            {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": min},
            {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": max},
        ],
    })
}

fn coded(system: &str, code: &str, display: &str) -> Json {
    json!({"valueCoding": {"system": system, "code": code, "display": display}})
}

/// The daily check-in as a FHIR `Questionnaire`: the exercise list offers
/// every exercise of the knowledge base, the warning signs its checklist.
pub fn checkin_questionnaire(kb: &kneepath_core::KnowledgeBase) -> Json {
    let exercises: Vec<Json> = kb
        .exercises
        .iter()
        .map(|e| coded(&format!("{CHECKIN_SYSTEM}:exercise"), &e.id, &e.name))
        .collect();
    let signs: Vec<Json> = kb
        .warning_signs()
        .map(|(_, q)| coded(&format!("{CHECKIN_SYSTEM}:warning-sign"), &q.id, &q.label))
        .collect();
    json!({
        "resourceType": "Questionnaire",
        "id": "kneepath-checkin",
        "url": CHECKIN_URL,
        "name": "KneepathDailyCheckIn",
        "title": "Daily check-in",
        "status": "active",
        "subjectType": ["Patient"],
        "item": checkin_items(kb, &exercises, &signs),
    })
}

/// The check-in's questions as Questionnaire items, in the form's order
/// and words (`checkin.toml`). The day is always given in a response.
fn checkin_items(
    kb: &kneepath_core::KnowledgeBase,
    exercises: &[Json],
    signs: &[Json],
) -> Vec<Json> {
    use kneepath_core::checkin::FieldKind;
    kb.checkin
        .fields
        .iter()
        .map(|f| {
            let (id, label) = (f.id.as_str(), f.label.as_str());
            match f.kind {
                FieldKind::Date => {
                    json!({"linkId": id, "text": label, "type": "date", "required": true})
                }
                FieldKind::Scale => int_item(id, &format!("{label} (0-10)"), 0, 10, f.required),
                FieldKind::Integer { min, max } => {
                    int_item(id, label, i64::from(min), i64::from(max), f.required)
                }
                FieldKind::Decimal { min, max } => json!({
                    "linkId": id, "text": label, "type": "decimal", "required": f.required,
                    "extension": [
                        {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueDecimal": min},
                        {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueDecimal": max},
                    ],
                }),
                FieldKind::Choice => json!({
                    "linkId": id, "text": label, "type": "choice",
                    "answerOption": f.options.iter()
                        .map(|(v, words)| coded(&format!("{CHECKIN_SYSTEM}:{id}"), v, words))
                        .collect::<Vec<_>>(),
                }),
                FieldKind::YesNo => json!({"linkId": id, "text": label, "type": "boolean"}),
                FieldKind::Exercises => json!({
                    "linkId": id, "text": label, "type": "choice", "repeats": true,
                    "answerOption": exercises,
                }),
                FieldKind::WarningSigns => json!({
                    "linkId": id, "text": label, "type": "choice", "repeats": true,
                    "answerOption": signs,
                }),
            }
        })
        .collect()
}

/// A check-in as a `QuestionnaireResponse` to [`checkin_questionnaire`];
/// `amended` when its owner corrected it (FHIR's status for answers changed
/// after they were completed).
pub fn checkin_response(
    kb: &kneepath_core::KnowledgeBase,
    id: &str,
    c: &kneepath_core::checkin::CheckIn,
    subject: &str,
    amended: bool,
) -> Json {
    let int = |link: &str, v: i64| json!({"linkId": link, "answer": [{"valueInteger": v}]});
    let mut items = vec![
        json!({"linkId": "day", "answer": [{"valueDate": c.day.to_string()}]}),
        int("pain_now", i64::from(c.pain_now)),
    ];
    if let Some(v) = c.exercise_pain {
        items.push(int("exercise_pain", i64::from(v)));
    }
    if let Some(v) = c.morning_pain {
        items.push(int("morning_pain", i64::from(v)));
    }
    items.push(int("stiffness", i64::from(c.stiffness)));
    // Questions left blank have no answer (FHIR: the item is left out).
    if let Some(sw) = c.swelling {
        items.push(json!({"linkId": "swelling", "answer": [coded(&format!("{CHECKIN_SYSTEM}:swelling"), sw.as_str(), sw.as_str())]}));
    }
    if let Some(w) = c.walks_normally {
        items.push(json!({"linkId": "walks_normally", "answer": [{"valueBoolean": w}]}));
    }
    if let Some(f) = c.full_range {
        items.push(json!({"linkId": "full_range", "answer": [{"valueBoolean": f}]}));
    }
    let name = |id: &str| {
        kb.exercise_by_id(id)
            .map_or_else(|| id.to_string(), |e| kb.exercises[e].name.clone())
    };
    if !c.done.is_empty() {
        items.push(json!({"linkId": "done", "answer": c.done.iter().map(|d| coded(&format!("{CHECKIN_SYSTEM}:exercise"), d, &name(d))).collect::<Vec<_>>()}));
    }
    items.push(int("training_minutes", i64::from(c.training_minutes)));
    items.push(int("effort", i64::from(c.effort)));
    if let Some(h) = c.sleep_hours {
        items.push(json!({"linkId": "sleep_hours", "answer": [{"valueDecimal": h}]}));
    }
    if !c.warning_signs.is_empty() {
        let label = |w: &str| {
            kb.fact_id(w)
                .map_or_else(|| w.to_string(), |f| kb.questions[f].label.clone())
        };
        items.push(json!({"linkId": "warning_signs", "answer": c.warning_signs.iter().map(|w| coded(&format!("{CHECKIN_SYSTEM}:warning-sign"), w, &label(w))).collect::<Vec<_>>()}));
    }
    json!({
        "resourceType": "QuestionnaireResponse",
        "id": fhir_id(id),
        "questionnaire": CHECKIN_URL,
        "status": if amended { "amended" } else { "completed" },
        "subject": {"reference": subject},
        "authored": c.day.to_string(),
        "item": items,
    })
}

/// A `Bundle` of type `collection`: each resource with its `urn:uuid:`
/// full URL (given with it).
pub fn bundle(id: &str, timestamp: &str, entries: Vec<(String, Json)>) -> Json {
    json!({
        "resourceType": "Bundle",
        "id": fhir_id(id),
        "type": "collection",
        "timestamp": timestamp,
        "entry": entries.into_iter().map(|(url, r)| json!({"fullUrl": url, "resource": r})).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_stable_and_well_formed() {
        let a = uuid_for("Patient", "abc");
        assert_eq!(a, uuid_for("Patient", "abc"));
        assert_ne!(a, uuid_for("Patient", "abd"));
        let u = a.trim_start_matches("urn:uuid:");
        let parts: Vec<usize> = u.split('-').map(str::len).collect();
        assert_eq!(parts, vec![8, 4, 4, 4, 12]);
        assert_eq!(&u[14..15], "5");
    }

    #[test]
    fn fhir_ids_are_cleaned_and_short() {
        assert_eq!(fhir_id("ab_c-1.2"), "abc-1.2");
        assert_eq!(fhir_id(&"x".repeat(80)).len(), 64);
    }
}
