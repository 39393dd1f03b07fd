//! The request and response bodies of the API, each a schema of the
//! OpenAPI document.

use std::collections::BTreeMap;

use kneepath_app::{AppError, Clock, RawCheckIn};
use kneepath_store::User;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use utoipa::ToSchema;

use super::error::ApiResult;

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub created_at: String,
    /// IANA time zone name the person set (`Europe/Oslo`); null: the
    /// server's zone is used.
    pub time_zone: Option<String>,
    /// Today where the person lives (YYYY-MM-DD): the day a check-in
    /// without a `day` is for, and the latest day one may be for.
    pub today: String,
}

impl Me {
    pub(super) fn of(u: &User, clock: Clock) -> Me {
        Me {
            id: u.id.to_string(),
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            created_at: u.created_at.clone(),
            time_zone: u.time_zone.clone(),
            today: clock.today_in(u.time_zone.as_deref()).to_string(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentSummary {
    pub id: String,
    /// YYYY-MM-DD.
    pub day: String,
    /// `wizard`, `checkin` (re-triage after a warning sign), `measurement`,
    /// `import` or `api`.
    pub source: String,
    /// `ambulance`, `emergency`, `urgent`, `routine` or `self_care`.
    pub level: String,
    pub level_title: String,
    /// The rule ids that fired.
    pub rules: Vec<String>,
    pub kb_version: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentDetail {
    #[serde(flatten)]
    pub summary: AssessmentSummary,
    /// The facts, in the case vocabulary.
    #[schema(value_type = Object)]
    pub facts: Json,
    /// The full report as shown (rules with reasons, factors, plan).
    #[schema(value_type = Object)]
    pub report: Json,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAssessmentBody {
    /// Fact name -> value, in the case vocabulary (see the assessment
    /// Questionnaire); missing facts are unknown.
    #[schema(value_type = Object)]
    pub facts: serde_json::Map<String, Json>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanExercise {
    pub id: String,
    pub name: String,
    pub dosage: String,
    pub days_per_week: u32,
    /// `phase`, `level`, `clinician` or the contributing factor's id.
    pub because: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanOut {
    pub assessment_id: String,
    pub level: String,
    /// False at urgent and above: see a doctor, no exercises.
    pub home_plan: bool,
    pub phase: Option<String>,
    pub phase_title: Option<String>,
    /// First day whose check-ins count for the current phase (the day
    /// after the newest check-in logged before the phase began, when that
    /// is later than the day it began).
    pub phase_since: Option<String>,
    pub exercises: Vec<PlanExercise>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CheckInOut {
    /// YYYY-MM-DD.
    pub day: String,
    #[schema(minimum = 0, maximum = 10)]
    pub pain_now: u8,
    #[schema(minimum = 0, maximum = 10)]
    pub exercise_pain: Option<u8>,
    #[schema(minimum = 0, maximum = 10)]
    pub morning_pain: Option<u8>,
    #[schema(minimum = 0, maximum = 10)]
    pub stiffness: u8,
    /// `none`, `mild` or `significant`; null when not answered.
    pub swelling: Option<String>,
    /// Null when not answered.
    pub walks_normally: Option<bool>,
    /// Null when not answered.
    pub full_range: Option<bool>,
    pub planned: Vec<String>,
    pub done: Vec<String>,
    pub training_minutes: u16,
    #[schema(minimum = 0, maximum = 10)]
    pub effort: u8,
    /// Null when not given.
    pub sleep_hours: Option<f64>,
    pub warning_signs: Vec<String>,
    /// How many times the person corrected this check-in
    /// (`PUT /api/v1/checkins/{day}`); its first answers stay in the record.
    pub corrections: u32,
}

impl From<&kneepath_store::CheckInRow> for CheckInOut {
    fn from(r: &kneepath_store::CheckInRow) -> Self {
        let c = &r.checkin;
        CheckInOut {
            day: c.day.to_string(),
            pain_now: c.pain_now,
            exercise_pain: c.exercise_pain,
            morning_pain: c.morning_pain,
            stiffness: c.stiffness,
            swelling: c.swelling.map(|s| s.as_str().to_string()),
            walks_normally: c.walks_normally,
            full_range: c.full_range,
            planned: c.planned.clone(),
            done: c.done.clone(),
            training_minutes: c.training_minutes,
            effort: c.effort,
            sleep_hours: c.sleep_hours,
            warning_signs: c.warning_signs.clone(),
            corrections: r.corrections.unwrap_or(0),
        }
    }
}

/// A check-in to record. Checked like the web form: pains 0-10, the day
/// from the plan's start (at most 14 days back) to today, one per day.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCheckIn {
    /// YYYY-MM-DD; today when left out.
    #[schema(format = Date)]
    pub day: Option<String>,
    pub pain_now: u32,
    pub exercise_pain: Option<u32>,
    pub morning_pain: Option<u32>,
    pub stiffness: u32,
    /// Left out: not answered (nothing is recorded for the person).
    #[serde(default)]
    pub swelling: Option<String>,
    /// Left out: not answered.
    #[serde(default)]
    pub walks_normally: Option<bool>,
    /// Left out: not answered.
    #[serde(default)]
    pub full_range: Option<bool>,
    /// Exercise ids done (of the day's plan).
    #[serde(default)]
    pub done: Vec<String>,
    #[serde(default)]
    pub training_minutes: u32,
    #[serde(default)]
    pub effort: u32,
    /// Optional.
    #[serde(default)]
    pub sleep_hours: Option<f64>,
    /// Warning-sign fact ids; any of them re-runs triage at once.
    #[serde(default)]
    pub warning_signs: Vec<String>,
}

impl NewCheckIn {
    /// The answers as the one check-in validation takes them.
    pub(super) fn raw(&self) -> RawCheckIn {
        let text = |n: u32| Some(n.to_string());
        RawCheckIn {
            day: self.day.clone(),
            pain_now: text(self.pain_now),
            exercise_pain: self.exercise_pain.and_then(text),
            morning_pain: self.morning_pain.and_then(text),
            stiffness: text(self.stiffness),
            swelling: self.swelling.clone(),
            walks_normally: self.walks_normally.map(kneepath_core::checkin::yes_no),
            full_range: self.full_range.map(kneepath_core::checkin::yes_no),
            training_minutes: text(self.training_minutes),
            effort: text(self.effort),
            sleep_hours: self.sleep_hours.map(|h| h.to_string()),
            done: self.done.clone(),
            warning_signs: self.warning_signs.clone(),
            // The API sends the list of signs itself, without the form's
            // yes/no that opens it.
            any_new_sign: None,
        }
    }
}

/// A questionnaire kneepath answers with.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuestionnaireName {
    Assessment,
    Checkin,
    Koos,
    Lefs,
    Nprs,
}

/// An outcome questionnaire.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InstrumentName {
    Koos,
    Lefs,
    Nprs,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CheckInResult {
    pub day: String,
    /// `stayed`, `phase_changed`, `retriaged`, or `waiting` (logged while
    /// waiting to be seen after an urgent result: no plan to move).
    pub outcome: String,
    /// What it means, in words.
    pub message: String,
    /// The new phase (`phase_changed`) or level (`retriaged`).
    pub now: Option<String>,
    /// A "see a professional" message, when the rules raised one.
    pub escalation: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeasurementOut {
    pub id: String,
    pub day: String,
    pub author: Option<String>,
    /// Inputs, derived ratios and what changed.
    #[schema(value_type = Object)]
    pub data: Json,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreOut {
    pub key: String,
    pub label: String,
    pub value: Option<f64>,
    pub min: f64,
    pub max: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeOut {
    pub id: String,
    /// `koos`, `lefs` or `nprs`.
    pub instrument: String,
    pub day: String,
    /// Item id -> index of the option ticked.
    pub answers: BTreeMap<String, u8>,
    pub scores: Vec<ScoreOut>,
}

impl From<&kneepath_store::OutcomeRow> for OutcomeOut {
    fn from(o: &kneepath_store::OutcomeRow) -> Self {
        OutcomeOut {
            id: o.id.clone(),
            instrument: o.instrument.clone(),
            day: o.day.to_string(),
            answers: o.answers.clone(),
            scores: o
                .scores
                .iter()
                .map(|s| ScoreOut {
                    key: s.key.clone(),
                    label: s.label.clone(),
                    value: s.value,
                    min: s.min,
                    max: s.max,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeZoneBody {
    /// An IANA time zone name (`Europe/Oslo`), or null for the server's.
    /// Required: send null to clear it.
    #[schema(value_type = Option<String>, required = true)]
    pub time_zone: Json,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOutcome {
    /// Item id -> index of the option ticked (0 = first on the form).
    pub answers: BTreeMap<String, u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Imported {
    /// The stored assessments, in the order of the responses.
    pub assessments: Vec<AssessmentSummary>,
}

pub(super) fn summary(a: &kneepath_store::AssessmentRow) -> AssessmentSummary {
    AssessmentSummary {
        id: a.id.clone(),
        day: a.day.to_string(),
        source: a.source.as_str().to_string(),
        level: a.level.as_str().to_string(),
        level_title: a.report.level_title.clone(),
        rules: a.report.fired.iter().map(|f| f.rule.clone()).collect(),
        kb_version: a.kb_version.clone(),
    }
}

pub(super) fn detail(a: &kneepath_store::AssessmentRow) -> ApiResult<AssessmentDetail> {
    Ok(AssessmentDetail {
        summary: summary(a),
        facts: Json::Object(a.facts.clone()),
        report: serde_json::to_value(&a.report).map_err(|e| AppError::Internal(e.to_string()))?,
    })
}
