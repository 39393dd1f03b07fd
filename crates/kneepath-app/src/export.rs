//! A person's record out (as JSON, and as a FHIR R4 `Bundle` read from the
//! store and mapped by `kneepath-fhir`), FHIR in (`QuestionnaireResponse`s
//! to the assessment questionnaire become stored assessments, exactly as if
//! the same answers had been given in the wizard; every response of a file
//! is checked before any is stored, so a rejected file stores nothing), and
//! deleting an account.
//! Used by the web pages, the JSON API and the `kneepath export`/`import`
//! commands.

use kneepath_core::Day;
use kneepath_core::kb::InstrumentKind;
use kneepath_fhir::export::{self, Activity, Measured, uuid_for};
use kneepath_store::{User, UserId};
use serde_json::{Value as Json, json};

use crate::plan::{facts_from_map, plan_items};
use crate::{App, AppError};

fn day_of(ts: &str) -> String {
    ts.get(..10).unwrap_or(ts).to_string()
}

/// The measured values of a stored measurement's JSON (inputs and the
/// derived ratios), with their UCUM units.
fn measured(data: &Json) -> Vec<(String, String, f64, &'static str)> {
    let mut out = Vec::new();
    let inputs = &data["inputs"];
    for (key, label, unit) in [
        ("hamstring_left_nm", "Hamstring peak torque, left", "N.m"),
        ("hamstring_right_nm", "Hamstring peak torque, right", "N.m"),
        ("quadriceps_left_nm", "Quadriceps peak torque, left", "N.m"),
        (
            "quadriceps_right_nm",
            "Quadriceps peak torque, right",
            "N.m",
        ),
        ("slr_left_deg", "Straight-leg raise, left", "deg"),
        ("slr_right_deg", "Straight-leg raise, right", "deg"),
        (
            "ake_deg",
            "Active knee extension deficit, painful side",
            "deg",
        ),
    ] {
        if let Some(v) = inputs.get(key).and_then(Json::as_f64) {
            out.push((key.to_string(), label.to_string(), v, unit));
        }
    }
    let derived = &data["derived"];
    for (key, label, unit) in [
        (
            "hq_ratio",
            "Hamstring:quadriceps torque ratio, painful side",
            "1",
        ),
        (
            "hq_ratio_other",
            "Hamstring:quadriceps torque ratio, other side",
            "1",
        ),
        ("hamstring_lsi_pct", "Hamstring limb symmetry index", "%"),
        ("quadriceps_lsi_pct", "Quadriceps limb symmetry index", "%"),
    ] {
        if let Some(v) = derived.get(key).and_then(Json::as_f64) {
            out.push((key.to_string(), label.to_string(), v, unit));
        }
    }
    out
}

impl App {
    /// Everything stored about a patient as one FHIR `Bundle` (collection).
    pub async fn fhir_bundle(&self, user: &User) -> Result<Json, AppError> {
        let kb = &self.kb;
        let store = &self.store;
        let subject = uuid_for("Patient", &user.id);
        let mut entries: Vec<(String, Json)> = vec![(
            subject.clone(),
            export::patient(&user.id, &user.display_name, &user.email),
        )];
        for a in store.assessments(&user.id).await? {
            let facts = facts_from_map(kb, &a.facts);
            let qr_url = uuid_for("QuestionnaireResponse", &a.id);
            let mut qr = kneepath_fhir::facts_to_response(kb, &facts);
            qr["id"] = json!(a.id);
            qr["subject"] = json!({"reference": subject});
            // The clinical day, so an import gives the assessment its day back.
            qr["authored"] = json!(a.day.to_string());
            entries.push((qr_url.clone(), qr));
            entries.push((
                uuid_for("RiskAssessment", &a.id),
                export::risk_assessment(&a.id, &a.report, a.day, &subject, Some(&qr_url)),
            ));
        }
        let corrected: std::collections::HashSet<String> = store
            .checkin_revisions(&user.id)
            .await?
            .into_iter()
            .map(|r| r.checkin_id)
            .collect();
        for c in store.checkins(&user.id).await? {
            let amended = corrected.contains(&c.id);
            entries.push((
                uuid_for("QuestionnaireResponse", &c.id),
                export::checkin_response(kb, &c.id, &c.checkin, &subject, amended),
            ));
        }
        for o in store.outcomes(&user.id).await? {
            let Some(ins) = kb.instruments.iter().find(|i| i.id == o.instrument) else {
                continue;
            };
            let qr_url = uuid_for("QuestionnaireResponse", &o.id);
            entries.push((
                qr_url.clone(),
                export::instrument_response(ins, &o.id, &o.answers, &o.created_at, &subject),
            ));
            for obs in export::score_observations(
                ins,
                &o.id,
                &o.scores,
                &o.day.to_string(),
                &subject,
                &qr_url,
            ) {
                let id = obs["id"].as_str().unwrap_or_default().to_string();
                entries.push((uuid_for("Observation", &id), obs));
            }
        }
        for m in store.measurements(&user.id).await? {
            let values = measured(&m.data);
            let refs: Vec<Measured<'_>> = values
                .iter()
                .map(|(k, l, v, u)| (k.as_str(), l.as_str(), *v, *u))
                .collect();
            for obs in export::measurement_observations(&m.id, &refs, &m.day.to_string(), &subject)
            {
                let id = obs["id"].as_str().unwrap_or_default().to_string();
                entries.push((uuid_for("Observation", &id), obs));
            }
        }
        if let Some(ctx) = self.plan_context(&user.id).await?
            && let Some(phase) = ctx.phase
        {
            let home = plan_items(kb, &ctx, phase);
            let doses: Vec<(String, String, u32)> = home
                .items
                .iter()
                .map(|i| {
                    (
                        i.exercise.name.clone(),
                        i.dosage_text(),
                        i.exercise.dosage.days_per_week,
                    )
                })
                .collect();
            let acts: Vec<Activity<'_>> = doses
                .iter()
                .map(|(n, d, w)| (n.as_str(), d.as_str(), *w))
                .collect();
            let p = &kb.phases[phase.phase];
            entries.push((
                uuid_for("CarePlan", &ctx.assessment.id),
                export::care_plan(
                    &format!("{}-plan", ctx.assessment.id),
                    &format!("Home plan: {} phase", p.title),
                    &p.goal,
                    ctx.plan_start,
                    &acts,
                    &subject,
                ),
            ));
        }
        Ok(export::bundle(
            &format!("{}-record", user.id),
            &kneepath_store::now_rfc3339(),
            entries,
        ))
    }
}

/// A FHIR resource or bundle that could not be imported: the
/// `OperationOutcome` to answer with.
#[derive(Debug)]
pub struct Rejected(pub Json);

/// Read the assessment `QuestionnaireResponse`s of a resource (one
/// response, or every such response in a `Bundle`), checking all of them
/// before anything is stored: (day, facts) in the order given.
pub fn read_responses(
    kb: &kneepath_core::KnowledgeBase,
    resource: &Json,
    default_day: Day,
) -> Result<Vec<(Day, kneepath_core::Facts)>, Rejected> {
    let responses: Vec<&Json> = match resource.get("resourceType").and_then(Json::as_str) {
        Some("Bundle") => resource
            .get("entry")
            .and_then(Json::as_array)
            .map(|es| {
                es.iter()
                    .filter_map(|e| e.get("resource"))
                    .filter(|r| {
                        r.get("resourceType").and_then(Json::as_str)
                            == Some("QuestionnaireResponse")
                            && r.get("questionnaire").and_then(Json::as_str)
                                == Some(kneepath_fhir::ASSESSMENT_URL)
                    })
                    .collect()
            })
            .unwrap_or_default(),
        _ => vec![resource],
    };
    if responses.is_empty() {
        return Err(Rejected(kneepath_fhir::operation_outcome(&[
            kneepath_fhir::Issue {
                location: "Bundle".into(),
                message: format!(
                    "no QuestionnaireResponse to {} found",
                    kneepath_fhir::ASSESSMENT_URL
                ),
            },
        ])));
    }
    let mut out = Vec::new();
    let mut issues = Vec::new();
    for (n, r) in responses.iter().enumerate() {
        let day = r
            .get("authored")
            .and_then(Json::as_str)
            .map(day_of)
            .and_then(|d| d.parse::<Day>().ok())
            .unwrap_or(default_day);
        match kneepath_fhir::response_to_facts(kb, r) {
            Ok(f) => out.push((day, f)),
            Err(mut is) => {
                if responses.len() > 1 {
                    for i in &mut is {
                        i.location = format!("Bundle.entry[{n}].{}", i.location);
                    }
                }
                issues.extend(is);
            }
        }
    }
    if issues.is_empty() {
        Ok(out)
    } else {
        Err(Rejected(kneepath_fhir::operation_outcome(&issues)))
    }
}

impl App {
    /// Store imported assessments for a patient (read by
    /// [`read_responses`], all checked first), each as if the same answers
    /// had been given in the wizard; returns their ids.
    pub async fn import_fhir(
        &self,
        patient_id: &UserId,
        responses: &[(Day, kneepath_core::Facts)],
        ip: Option<&str>,
    ) -> Result<Vec<String>, AppError> {
        let mut ids = Vec::new();
        for (day, facts) in responses {
            ids.push(
                self.record_assessment(
                    patient_id,
                    facts,
                    kneepath_store::AssessmentSource::Import,
                    *day,
                    ip,
                )
                .await?,
            );
        }
        Ok(ids)
    }

    /// A person's whole record as JSON (`/account/export.json`), the export
    /// audited first.
    pub async fn export_record(
        &self,
        user_id: &UserId,
        ip: Option<&str>,
    ) -> Result<Json, AppError> {
        self.store
            .audit(&kneepath_store::NewAudit {
                actor_id: Some(user_id),
                subject_id: Some(user_id),
                action: kneepath_store::AuditAction::Export,
                entity: kneepath_store::AuditEntity::Account,
                entity_id: None,
                ip,
                detail: None,
            })
            .await?;
        Ok(self.store.export_user(user_id).await?)
    }

    /// Delete a person's account and everything stored about them (the
    /// audit log keeps a pseudonymised trail). Whether they may (their
    /// password) is the caller's check.
    pub async fn delete_account(&self, user_id: &UserId) -> Result<(), AppError> {
        Ok(self.store.delete_user(user_id).await?)
    }
}

/// The questionnaires kneepath answers with, by name: `assessment`,
/// `checkin`, `koos`, `lefs`, `nprs`.
pub fn questionnaire(kb: &kneepath_core::KnowledgeBase, name: &str) -> Option<Json> {
    match name {
        "assessment" => Some(kneepath_fhir::assessment_questionnaire(kb)),
        "checkin" => Some(export::checkin_questionnaire(kb)),
        other => InstrumentKind::parse(other)
            .and_then(|k| kb.instrument(k))
            .map(export::instrument_questionnaire),
    }
}
