//! What a clinician does to a linked patient's plan: measurements (which
//! re-run the assessment), plan edits and lifting a plan rule, phase moves
//! (and giving a home plan after the triage sent the patient to a doctor).
//! Each is checked field by field ([`AppError::Invalid`], the ids those of
//! its input) and stored against the plan as it is now
//! ([`App::deciding_on_plan`]). Whether the clinician may act for the
//! patient (a care link) is the caller's check.
//!
//! A measurement adds the facts it sets (`clinic::Measurements::facts` in
//! the core: H:Q ratio, limb symmetry, straight-leg raise, ...) to the
//! newest assessment's and assesses them again; the contributing factors
//! now graded `measured` are compared with before and the change is put in
//! words for the timeline. The new assessment continues the plan rather
//! than starting one, so the phase history carries on.

use kneepath_core::clinic::{Measurements, Side};
use kneepath_core::facts::RawValue;
use kneepath_core::plan::EditKind;
use kneepath_core::{Day, KnowledgeBase, assess};
use kneepath_store::{NewAssessment, NewPlanEdit, User, UserId};

use crate::plan::{applied_plan_rules, facts_from_map, plan_items};
use crate::{App, AppError, FieldError};

/// Who acts: a logged-in clinician, or the command line acting for one.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub id: &'a UserId,
    pub name: &'a str,
    pub ip: Option<&'a str>,
}

/// Measurements as entered (text; blank: not measured). The field ids of
/// their errors are these names.
#[derive(Debug, Clone, Copy, Default)]
pub struct RawMeasurements<'a> {
    /// `left` or `right`.
    pub painful_side: &'a str,
    pub ham_left: &'a str,
    pub ham_right: &'a str,
    pub quad_left: &'a str,
    pub quad_right: &'a str,
    pub slr_left: &'a str,
    pub slr_right: &'a str,
    pub ake: &'a str,
}

/// A number field: empty is none; else it must parse and lie in range.
fn number(
    errors: &mut Vec<FieldError>,
    raw: &str,
    name: &str,
    max: f64,
    what: &str,
) -> Option<f64> {
    if raw.is_empty() {
        return None;
    }
    match raw.replace(',', ".").parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=max).contains(&v) => Some(v),
        _ => {
            errors.push(FieldError::new(
                name,
                format!("{what}: enter a number from 0 to {max}."),
            ));
            None
        }
    }
}

/// The facts computed from measurements that the assessment cannot take
/// (a ratio out of its range), each with the fact's id and a message naming
/// it as the clinician knows it.
pub fn measurement_problems(kb: &KnowledgeBase, m: &Measurements) -> Vec<(&'static str, String)> {
    m.facts()
        .into_iter()
        .filter_map(|(name, value)| {
            let q = &kb.questions[kb.fact_id(name)?];
            let e = q.accept(&RawValue::from(&value)).err()?;
            let unit = q.unit.as_ref().map_or(String::new(), |u| format!(" ({u})"));
            Some((
                name,
                format!(
                    "{}{unit}: {e} (computed from the values entered). Check them and which side is painful.",
                    q.label
                ),
            ))
        })
        .collect()
}

/// What the clinician asked of a plan edit, as sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanEditInput<'a> {
    /// `add`, `remove`, `swap`, `dosage`, or `clear` (lift a plan rule).
    pub kind: &'a str,
    pub exercise: &'a str,
    /// The exercise swapped in.
    pub replacement: &'a str,
    pub dosage: &'a str,
    /// The plan rule lifted (`clear`).
    pub rule: &'a str,
    pub reason: &'a str,
}

/// What a plan edit stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanEdited {
    /// An exercise added, removed, swapped or dosed.
    Edited,
    /// A plan rule lifted.
    Lifted,
}

/// What a phase move stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseMoved {
    /// The plan moved to another phase.
    Moved,
    /// A home plan given where the triage sent the patient to a doctor.
    Started,
}

impl App {
    /// Check measurements as entered: each number in range, the painful
    /// side given when sides are compared, the facts they set acceptable to
    /// the assessment, at least one measurement.
    pub fn check_measurements(&self, raw: &RawMeasurements<'_>) -> Result<Measurements, AppError> {
        let mut errors = Vec::new();
        let e = &mut errors;
        let side = match raw.painful_side {
            "left" => Some(Side::Left),
            "right" => Some(Side::Right),
            _ => None,
        };
        let m = Measurements {
            painful_side: side,
            hamstring_left_nm: number(e, raw.ham_left, "ham_left", 500.0, "Hamstring torque, left"),
            hamstring_right_nm: number(
                e,
                raw.ham_right,
                "ham_right",
                500.0,
                "Hamstring torque, right",
            ),
            quadriceps_left_nm: number(
                e,
                raw.quad_left,
                "quad_left",
                600.0,
                "Quadriceps torque, left",
            ),
            quadriceps_right_nm: number(
                e,
                raw.quad_right,
                "quad_right",
                600.0,
                "Quadriceps torque, right",
            ),
            slr_left_deg: number(
                e,
                raw.slr_left,
                "slr_left",
                180.0,
                "Straight-leg raise, left",
            ),
            slr_right_deg: number(
                e,
                raw.slr_right,
                "slr_right",
                180.0,
                "Straight-leg raise, right",
            ),
            ake_deg: number(e, raw.ake, "ake", 90.0, "Active knee extension deficit"),
        };
        let sided = [
            m.hamstring_left_nm,
            m.hamstring_right_nm,
            m.quadriceps_left_nm,
            m.quadriceps_right_nm,
            m.slr_left_deg,
            m.slr_right_deg,
        ]
        .iter()
        .any(Option::is_some);
        if sided && side.is_none() {
            errors.push(FieldError::new(
                "painful_side",
                "Choose the painful side: the ratios compare it with the other leg.",
            ));
        }
        // A ratio the assessment cannot take, at the field it was computed from.
        let (painful, other) = match side {
            Some(Side::Left) => ("left", "right"),
            _ => ("right", "left"),
        };
        for (fact, message) in measurement_problems(&self.kb, &m) {
            let field = match fact {
                "hq_ratio" | "strength_lsi_pct" => format!("ham_{painful}"),
                "slr_deg" => format!("slr_{painful}"),
                "slr_other_deg" => format!("slr_{other}"),
                "ake_deg" => "ake".into(),
                _ => "ham_left".into(),
            };
            errors.push(FieldError::new(field, message));
        }
        if errors.is_empty() && m.is_empty() {
            errors.push(FieldError::new(
                "ham_left",
                "Enter at least one measurement (torques need both the hamstring and quadriceps of a side).",
            ));
        }
        if errors.is_empty() {
            Ok(m)
        } else {
            Err(AppError::Invalid(errors))
        }
    }

    /// A clinician measures a patient: the measurements checked
    /// ([`App::check_measurements`]) and stored on the patient's day
    /// ([`App::record_measurement`]). Returns the new assessment's id.
    pub async fn measure(
        &self,
        by: Actor<'_>,
        patient: &User,
        raw: &RawMeasurements<'_>,
    ) -> Result<String, AppError> {
        let m = self.check_measurements(raw)?;
        let day = self.clock.today_in(patient.time_zone.as_deref());
        self.record_measurement(by.id, &patient.id, &m, day, by.ip)
            .await
    }

    /// Store a clinician's measurements: the facts they set are added to
    /// the newest assessment's, the assessment is re-run (its contributing
    /// factors now `measured`), and the change is described for the
    /// timeline. The plan carries on (no new plan starts). Refused when
    /// there is no assessment.
    pub async fn record_measurement(
        &self,
        author_id: &UserId,
        patient_id: &UserId,
        m: &Measurements,
        day: Day,
        ip: Option<&str>,
    ) -> Result<String, AppError> {
        // Whether the assessment can take them does not depend on the plan.
        let problems = measurement_problems(&self.kb, m);
        if !problems.is_empty() {
            return Err(AppError::Invalid(
                problems
                    .into_iter()
                    .map(|(fact, message)| FieldError::new(fact, message))
                    .collect(),
            ));
        }
        // The assessment read here is the one the new facts are added to.
        self.deciding_on_plan(patient_id, || {
            self.measurement_once(author_id, patient_id, m, day, ip)
        })
        .await
    }

    async fn measurement_once(
        &self,
        author_id: &UserId,
        patient_id: &UserId,
        m: &Measurements,
        day: Day,
        ip: Option<&str>,
    ) -> Result<String, AppError> {
        let kb = &self.kb;
        let Some((head, version)) = self.store.plan_head(patient_id).await? else {
            return Err(AppError::invalid(
                "ham_left",
                "This patient has no assessment yet: measurements are added to an assessment.",
            ));
        };
        let before = assess(kb, &facts_from_map(kb, &head.facts));
        let mut facts = facts_from_map(kb, &head.facts);
        for (name, value) in m.facts() {
            if let Some(fid) = kb.fact_id(name)
                && let Ok(v) = kb.questions[fid].accept(&RawValue::from(&value))
            {
                facts.set(fid, Some(v));
            }
        }
        let after = assess(kb, &facts);
        // What changed in the contributing factors, in words.
        let mut changes = Vec::new();
        for c in &kb.contributors {
            let grade = |a: &kneepath_core::Assessment<'_>| {
                a.contributors
                    .iter()
                    .find(|x| std::ptr::eq(x.contributor, c))
                    .map(|x| x.grade.as_str())
            };
            let (b, a) = (grade(&before), grade(&after));
            if b != a {
                changes.push(format!(
                    "{}: {} → {}",
                    c.title,
                    b.unwrap_or("not present"),
                    a.unwrap_or("not present")
                ));
            }
        }
        let d = m.derived();
        let mut parts = Vec::new();
        if let Some(r) = d.hq_ratio {
            parts.push(format!("H:Q ratio (painful side) {r:.2}"));
        }
        if let Some(r) = d.hq_ratio_other {
            parts.push(format!("H:Q ratio (other side) {r:.2}"));
        }
        if let Some(l) = d.hamstring_lsi_pct {
            parts.push(format!("hamstring symmetry {l:.0}%"));
        }
        if let Some(l) = d.quadriceps_lsi_pct {
            parts.push(format!("quadriceps symmetry {l:.0}%"));
        }
        if let (Some(a), Some(b)) = (m.slr_left_deg, m.slr_right_deg) {
            parts.push(format!("straight-leg raise L {a:.0}° / R {b:.0}°"));
        }
        if let Some(a) = m.ake_deg {
            parts.push(format!("AKE deficit {a:.0}°"));
        }
        let summary = format!(
            "{}. {}",
            parts.join(", "),
            if changes.is_empty() {
                "No contributing factor changed.".to_string()
            } else {
                format!("Changed: {}.", changes.join("; "))
            }
        );
        let data = serde_json::json!({
            "inputs": m,
            "derived": d,
            "facts": m
                .facts()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<serde_json::Map<_, _>>(),
            "changes": changes,
            "summary": summary,
        });
        let report = after.report();
        let facts_json = kb.facts_to_json(&facts);
        Ok(self
            .store
            .insert_measurement(
                author_id,
                &data,
                &NewAssessment {
                    user_id: patient_id,
                    day,
                    source: kneepath_store::AssessmentSource::Measurement,
                    facts: &facts_json,
                    report: &report,
                    start_phase: None,
                },
                version,
                ip,
            )
            .await?)
    }

    /// A clinician edits a patient's home plan (add, remove, swap, dosage)
    /// or lifts a plan rule (`clear`), checked against the plan as it is
    /// now. [`AppError::NoHomePlan`] when there is no home plan to edit.
    pub async fn edit_plan(
        &self,
        by: Actor<'_>,
        patient_id: &UserId,
        input: &PlanEditInput<'_>,
    ) -> Result<PlanEdited, AppError> {
        self.deciding_on_plan(patient_id, || self.edit_plan_once(by, patient_id, input))
            .await
    }

    /// One check-and-store of a plan edit, against the plan as it is now.
    async fn edit_plan_once(
        &self,
        by: Actor<'_>,
        patient_id: &UserId,
        input: &PlanEditInput<'_>,
    ) -> Result<PlanEdited, AppError> {
        let kb = &self.kb;
        let Some(ctx) = self
            .plan_context(patient_id)
            .await?
            .filter(|c| c.phase.is_some())
        else {
            return Err(AppError::NoHomePlan);
        };
        let Some(phase) = ctx.phase else {
            return Err(AppError::NoHomePlan);
        };
        let kind = EditKind::parse(input.kind);
        if kind == Some(EditKind::Clear) {
            return self.lift_rule_once(by, patient_id, input, &ctx).await;
        }
        let in_plan: Vec<String> = plan_items(kb, &ctx, phase)
            .items
            .iter()
            .map(|i| i.exercise.id.clone())
            .collect();
        let PlanEditInput {
            exercise,
            replacement,
            dosage,
            reason,
            ..
        } = *input;
        let mut errors = Vec::new();
        if kind.is_none() {
            errors.push(FieldError::new("kind", "Choose what to change."));
        }
        if kb.exercise_by_id(exercise).is_none() {
            errors.push(FieldError::new("exercise", "Choose an exercise."));
        } else if kind == Some(EditKind::Add) && in_plan.iter().any(|e| e == exercise) {
            errors.push(FieldError::new(
                "exercise",
                "This exercise is already in the plan.",
            ));
        } else if kind.is_some_and(|k| k != EditKind::Add) && !in_plan.iter().any(|e| e == exercise)
        {
            errors.push(FieldError::new(
                "exercise",
                "This exercise is not in the current plan.",
            ));
        }
        if kind == Some(EditKind::Swap)
            && (kb.exercise_by_id(replacement).is_none()
                || in_plan.iter().any(|e| e == replacement))
        {
            errors.push(FieldError::new(
                "replacement",
                "Choose an exercise that is not already in the plan to swap in.",
            ));
        }
        if kind == Some(EditKind::Dosage) && (dosage.is_empty() || dosage.chars().count() > 120) {
            errors.push(FieldError::new(
                "dosage",
                "Write the new dosage, for example “3 x 10, every other day” (up to 120 characters).",
            ));
        }
        if reason.is_empty() || reason.chars().count() > 500 {
            errors.push(FieldError::new(
                "reason",
                "Say why (up to 500 characters): the patient and the timeline show it.",
            ));
        }
        let Some(kind) = kind.filter(|_| errors.is_empty()) else {
            return Err(AppError::Invalid(errors));
        };
        self.store
            .add_plan_edit(
                &NewPlanEdit {
                    patient_id,
                    author_id: by.id,
                    kind,
                    exercise,
                    replacement: (kind == EditKind::Swap).then_some(replacement),
                    dosage: (kind == EditKind::Dosage).then_some(dosage),
                    reason,
                    plan_version: ctx.version,
                },
                by.ip,
            )
            .await?;
        Ok(PlanEdited::Edited)
    }

    /// One check-and-store of a lift of a plan rule (P2): the rule must
    /// apply to the patient, be one a clinician may lift and not be lifted
    /// already; the reason records who cleared the patient.
    async fn lift_rule_once(
        &self,
        by: Actor<'_>,
        patient_id: &UserId,
        input: &PlanEditInput<'_>,
        ctx: &crate::PlanContext,
    ) -> Result<PlanEdited, AppError> {
        let (rule, reason) = (input.rule, input.reason);
        let rules = applied_plan_rules(&self.kb, ctx);
        let mut errors = Vec::new();
        match rules.iter().find(|r| r.rule.id == rule) {
            Some(r) if r.rule.liftable && r.lifted.is_none() => {}
            Some(r) if r.lifted.is_some() => errors.push(FieldError::new(
                "rule",
                format!("Rule {rule} is already lifted for this patient."),
            )),
            Some(_) => errors.push(FieldError::new(
                "rule",
                format!(
                    "Rule {rule} protects the patient whoever gives the plan: it cannot be lifted."
                ),
            )),
            None => errors.push(FieldError::new(
                "rule",
                "Choose a plan rule that applies to this patient.",
            )),
        }
        if reason.chars().count() < 10 || reason.chars().count() > 500 {
            errors.push(FieldError::new(
                "reason",
                "Say who cleared the patient and on what examination (10 to 500 characters): the patient and the timeline show it.",
            ));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let reason = format!("Cleared by {}: {reason}", by.name);
        self.store
            .add_plan_edit(
                &NewPlanEdit {
                    patient_id,
                    author_id: by.id,
                    kind: EditKind::Clear,
                    exercise: rule,
                    replacement: None,
                    dosage: None,
                    reason: &reason,
                    plan_version: ctx.version,
                },
                by.ip,
            )
            .await?;
        Ok(PlanEdited::Lifted)
    }

    /// A clinician moves a patient's plan to phase `to` (from the phase it
    /// is in now), or gives a home plan in it where the triage sent the
    /// patient to a doctor. The move starts after any check-in of the
    /// patient's today.
    pub async fn move_phase(
        &self,
        by: Actor<'_>,
        patient: &User,
        to: &str,
        reason: &str,
    ) -> Result<PhaseMoved, AppError> {
        self.deciding_on_plan(&patient.id, || {
            self.move_phase_once(by, patient, to, reason)
        })
        .await
    }

    /// One check-and-store of a phase move, from the phase the plan is in now.
    async fn move_phase_once(
        &self,
        by: Actor<'_>,
        patient: &User,
        to: &str,
        reason: &str,
    ) -> Result<PhaseMoved, AppError> {
        let kb = &self.kb;
        let Some(ctx) = self.plan_context(&patient.id).await? else {
            return Err(AppError::invalid(
                "to",
                "This patient has no assessment yet: there is no plan to give.",
            ));
        };
        // No phase: the triage sent the patient to a doctor. The policy lets
        // only a clinician give a plan then; this move starts one.
        let from = ctx.phase.map(|phase| kb.phases[phase.phase].id.clone());
        let mut errors = Vec::new();
        if kb.phase_by_id(to).is_none() || from.as_deref() == Some(to) {
            errors.push(FieldError::new(
                "to",
                "Choose a phase other than the current one.",
            ));
        }
        if reason.is_empty() || reason.chars().count() > 500 {
            errors.push(FieldError::new("reason", "Say why (up to 500 characters)."));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let reason = match from {
            Some(_) => format!("Moved by {}: {reason}", by.name),
            None => format!(
                "Home plan given by {} after the triage sent the patient to a doctor: {reason}",
                by.name
            ),
        };
        let starts = kneepath_core::progress::starts_from(
            &ctx.checkins,
            self.clock.today_in(patient.time_zone.as_deref()),
        );
        self.store
            .move_phase(
                &patient.id,
                by.id,
                &ctx.assessment.id,
                starts,
                from.as_deref(),
                to,
                &reason,
                ctx.version,
                by.ip,
            )
            .await?;
        Ok(if from.is_some() {
            PhaseMoved::Moved
        } else {
            PhaseMoved::Started
        })
    }
}
