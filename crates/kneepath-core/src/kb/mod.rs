//! The knowledge base: the clinical policy, its explanations and the home
//! programme, as validated data.
//!
//! The files live in `knowledge/` at the repository root. [`load`] parses and
//! validates them from text into the types below, in which every reference
//! (a rule's flag, a phase's exercises, a condition's facts, a citation) is
//! already resolved to an index, so nothing downstream can meet a dangling
//! name. [`bundled`] holds the repository's own files, compiled in.

mod bundled;
mod load;
mod visibility;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::condition::Condition;
use crate::facts::{FactId, Facts};
use crate::level::TriageLevel;

pub use bundled::{BUNDLED_FILES, bundled_sources};
pub use load::{KbError, Problem, Source};

/// Index into [`KnowledgeBase::flags`].
pub type FlagId = usize;
/// Index into [`KnowledgeBase::exercises`].
pub type ExerciseId = usize;
/// Index into [`KnowledgeBase::advice`].
pub type AdviceId = usize;
/// Index into [`KnowledgeBase::phases`]; phases are in programme order.
pub type PhaseId = usize;
/// Index into [`KnowledgeBase::citations`].
pub type CitationId = usize;
/// Index into [`KnowledgeBase::contributors`].
pub type ContributorId = usize;

/// A loaded, validated knowledge base.
#[derive(Debug, Clone)]
pub struct KnowledgeBase {
    pub meta: Meta,
    /// Content hash of all files: `sha256:` and 16 hex digits.
    pub version: String,
    pub sections: Vec<Section>,
    /// One question per fact; a [`FactId`] indexes this list.
    pub questions: Vec<Question>,
    pub definitions: Vec<Definition>,
    /// The five levels, indexed by `TriageLevel as usize`.
    pub levels: Vec<Level>,
    pub flags: Vec<Flag>,
    pub rules: Vec<Rule>,
    /// What the plan must leave out (P1 ... P8), in policy order.
    pub plan_rules: Vec<PlanRule>,
    pub contributors: Vec<Contributor>,
    /// The phases, in programme order (protect first).
    pub phases: Vec<Phase>,
    pub default_start: PhaseId,
    pub exercises: Vec<Exercise>,
    /// Stick-figure poses for the exercise illustrations.
    pub poses: Vec<Pose>,
    pub advice: Vec<Advice>,
    pub treatments: Vec<Treatment>,
    /// The outcome questionnaires (KOOS, LEFS, NPRS).
    pub instruments: Vec<Instrument>,
    pub citations: Vec<Citation>,
    pub progression: Progression,
    /// The daily check-in's questions (`checkin.toml`).
    pub checkin: crate::checkin::CheckinForm,
    fact_index: HashMap<String, FactId>,
}

impl KnowledgeBase {
    /// The knowledge base of this repository, compiled into the binary.
    pub fn bundled() -> Result<KnowledgeBase, KbError> {
        KnowledgeBase::from_sources(&bundled_sources())
    }

    pub fn instrument(&self, kind: InstrumentKind) -> Option<&Instrument> {
        self.instruments.iter().find(|i| i.kind == kind)
    }

    pub fn fact_id(&self, name: &str) -> Option<FactId> {
        self.fact_index.get(name).copied()
    }

    pub fn level(&self, level: TriageLevel) -> &Level {
        &self.levels[level as usize]
    }

    pub fn flag_of(&self, rule: &Rule) -> &Flag {
        &self.flags[rule.flag]
    }

    pub fn phase_by_id(&self, id: &str) -> Option<PhaseId> {
        self.phases.iter().position(|p| p.id == id)
    }

    pub fn exercise_by_id(&self, id: &str) -> Option<ExerciseId> {
        self.exercises.iter().position(|e| e.id == id)
    }

    pub fn citation_ids(&self, ids: &[CitationId]) -> Vec<String> {
        ids.iter().map(|&c| self.citations[c].id.clone()).collect()
    }

    /// Questions with a warning-sign text: the "watch for" list and the daily
    /// check-in checklist.
    pub fn warning_signs(&self) -> impl Iterator<Item = (FactId, &Question)> {
        self.questions
            .iter()
            .enumerate()
            .filter(|(_, q)| q.warning_sign.is_some())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub name: String,
    pub policy: String,
    pub policy_version: String,
    pub policy_date: String,
    pub disclaimer: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub intro: String,
    /// A yes/no question asked before the section; "no" skips it.
    pub gate: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceOption {
    pub value: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QuestionKind {
    Bool,
    Integer {
        min: i64,
        max: i64,
    },
    Number {
        min: f64,
        max: f64,
    },
    Choice {
        options: Vec<ChoiceOption>,
    },
    /// A list of options; `open` allows other words (e.g. any sport).
    Multi {
        options: Vec<ChoiceOption>,
        open: bool,
    },
}

impl QuestionKind {
    pub fn name(&self) -> &'static str {
        match self {
            QuestionKind::Bool => "yes/no",
            QuestionKind::Integer { .. } => "integer",
            QuestionKind::Number { .. } => "number",
            QuestionKind::Choice { .. } => "choice",
            QuestionKind::Multi { .. } => "list",
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            QuestionKind::Integer { .. } | QuestionKind::Number { .. }
        )
    }
}

/// One question = one fact of the case vocabulary.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    /// The fact name.
    pub id: String,
    /// Index into [`KnowledgeBase::sections`].
    pub section: usize,
    pub kind: QuestionKind,
    /// A short name for explanations ("Pain now (0-10)").
    pub label: String,
    pub prompt: String,
    pub help: Option<String>,
    pub unit: Option<String>,
    pub required: bool,
    /// The questionnaire must have an answer (yes, no or not sure for a
    /// yes/no question) whenever it shows the question: `onset`,
    /// `mechanism`, and every yes/no fact an `urgent` or more urgent rule
    /// reads (computed at load). Facts files may still leave it out.
    pub must_answer: bool,
    /// For yes/no facts: not reported means "no" (true) or "unknown"
    /// (false); for lists: not reported means empty (true) or unknown.
    pub absent_false: bool,
    /// For yes/no facts: the answer that is the warning sign (`true` for
    /// every red flag, `false` for `knee_flex_90`); a "not sure" answer
    /// counts as it for triage and the plan rules.
    pub warning_answer: bool,
    /// For questions a person checks on themselves: how to check, shown
    /// with the question and in the reason of a rule that fired only
    /// because the answer was "not sure".
    pub how_to_check: Option<String>,
    /// Ask the question unless this is definitely false.
    pub show_if: Option<Condition>,
    /// The sign in plain words, if this fact is a warning sign to watch for.
    pub warning_sign: Option<String>,
    /// Facts that become unknown when this sign appears new (ticked in a
    /// check-in, or in the warning-signs box): a knee that changes shape
    /// now is not the long-standing deformity of R12, so its onset is not
    /// known to be gradual.
    pub when_new_unknown: Vec<FactId>,
}

/// A named condition (`acute`, `traumatic` ...) that rules refer to.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub id: String,
    pub description: String,
    pub when: Condition,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    pub level: TriageLevel,
    pub title: String,
    pub do_now: String,
    /// What to do when a warning sign of this level appears, completing
    /// "if it appears, ..." ("call your emergency number now").
    pub sign_action: String,
    pub advice: Vec<AdviceId>,
    pub citations: Vec<CitationId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Flag {
    pub id: String,
    pub title: String,
    pub meaning: String,
    pub do_now: String,
    pub citations: Vec<CitationId>,
}

/// A triage rule of the policy (A1 ... R10).
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub level: TriageLevel,
    pub flag: FlagId,
    pub when: Condition,
    pub reason: String,
    pub citations: Vec<CitationId>,
    pub examples: RuleExamples,
}

/// A rule's examples (`[rule.examples]` in rules.toml): fact sets just
/// inside and just outside its boundary. Loading checks that each is a valid
/// fact set and that there is at least one of each kind; whether the rule
/// really fires on them is for the tests to check, so a knowledge base with
/// a changed threshold still loads.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleExamples {
    /// Fact sets on which the rule fires.
    pub fires: Vec<Facts>,
    /// Fact sets on which it does not.
    pub quiet: Vec<Facts>,
}

/// A contributing factor (C1 ... C5).
#[derive(Debug, Clone, PartialEq)]
pub struct Contributor {
    pub id: String,
    /// The policy's rule id (C1 ... C5).
    pub rule: String,
    pub title: String,
    pub what: String,
    pub mechanism: String,
    pub evidence: String,
    pub helps: String,
    pub measured: Option<Condition>,
    pub reported: Option<Condition>,
    pub plan_exercises: Vec<ExerciseId>,
    pub plan_advice: Vec<AdviceId>,
    pub citations: Vec<CitationId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExitCriterion {
    pub text: String,
    pub when: Condition,
    /// Met when the facts it needs were never reported.
    pub unless_unknown: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub id: String,
    pub title: String,
    pub goal: String,
    pub typical_days: String,
    pub start_when: Option<Condition>,
    pub exercises: Vec<ExerciseId>,
    pub advice: Vec<AdviceId>,
    pub exit: Vec<ExitCriterion>,
    pub citations: Vec<CitationId>,
}

/// How much of an exercise, how often. At least one of `reps`,
/// `hold_seconds` and `minutes` is set; `days_per_week` is 1 to 7.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dosage {
    pub sets: Option<u32>,
    pub reps: Option<u32>,
    pub hold_seconds: Option<u32>,
    pub minutes: Option<u32>,
    pub per_day: u32,
    pub days_per_week: u32,
    pub note: Option<String>,
}

impl Dosage {
    /// Seconds one repetition takes, besides any hold.
    pub const SECONDS_PER_REP: u32 = 4;
    /// Rest between two sets, in seconds.
    pub const REST_BETWEEN_SETS: u32 = 45;

    /// Minutes one session takes (not the day's: `per_day` sessions make
    /// a day's): the dosage's own minutes when it gives them, else its
    /// sets of repetitions (each [`Self::SECONDS_PER_REP`] plus its hold)
    /// with [`Self::REST_BETWEEN_SETS`] between sets; rounded up, at
    /// least one.
    pub fn session_minutes(&self) -> u32 {
        if let Some(m) = self.minutes {
            return m.max(1);
        }
        let sets = self.sets.unwrap_or(1).max(1);
        let per_set = self.reps.unwrap_or(1).max(1)
            * (Self::SECONDS_PER_REP * u32::from(self.reps.is_some())
                + self.hold_seconds.unwrap_or(0));
        let seconds = sets * per_set + (sets - 1) * Self::REST_BETWEEN_SETS;
        seconds.div_ceil(60).max(1)
    }

    /// "3 x 12 reps, 2 times a day, 7 days a week".
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        let mut amount = String::new();
        if let Some(s) = self.sets {
            amount.push_str(&format!("{s} x "));
        }
        match (self.reps, self.hold_seconds, self.minutes) {
            (Some(r), Some(h), _) => amount.push_str(&format!("{r} reps, hold {h} s")),
            (Some(r), None, _) => amount.push_str(&format!("{r} reps")),
            (None, Some(h), _) => amount.push_str(&format!("{h} s hold")),
            (None, None, Some(m)) => amount = format!("{m} min"),
            (None, None, None) => {}
        }
        parts.push(amount);
        match self.per_day {
            1 => {}
            2 => parts.push("twice a day".to_string()),
            n => parts.push(format!("{n} times a day")),
        }
        parts.push(match self.days_per_week {
            7 => "every day".to_string(),
            1 => "once a week".to_string(),
            n => format!("{n} days a week"),
        });
        parts.join(", ")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Exercise {
    pub id: String,
    pub name: String,
    /// Phases this exercise suits.
    pub phases: Vec<PhaseId>,
    pub purpose: String,
    pub steps: Vec<String>,
    pub dosage: Dosage,
    pub easier: String,
    pub harder: String,
    pub stop_if: String,
    /// What the plan rules need to know about it.
    pub properties: Vec<ExerciseProperty>,
    /// The supported version (holding on to a chair or wall), for an
    /// exercise that demands balance; required with `Balance`.
    pub supported: Option<String>,
    /// A sport-return session (running, sprints, a sport's drills and its
    /// warm-up), shown and timed apart from the daily exercises.
    pub sport_session: bool,
    /// Start and end pose of the illustration (indices into `poses`).
    pub figure: (usize, usize),
    pub citations: Vec<CitationId>,
}

impl Exercise {
    /// Minutes a day it takes on a day it is scheduled: its sessions
    /// ([`Dosage::session_minutes`]) times sessions a day.
    pub fn minutes_a_day(&self) -> u32 {
        self.dosage.session_minutes() * self.dosage.per_day.max(1)
    }
}

/// A property of an exercise that a plan rule (P1 ... P8) acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExerciseProperty {
    /// Maximal slow-lowering (eccentric) hamstring work: Nordic curls.
    MaxEccentric,
    /// Running at or near top speed.
    Sprint,
    /// Cutting, kicking and jumping drills of a sport.
    SportDrill,
    /// Demands balance on one leg or in a stride.
    Balance,
    /// Done kneeling with a partner holding the ankles.
    KneelingPartner,
    /// Gentle range-of-motion or circulation work, safe in the first weeks
    /// after surgery or a cast.
    GentleRange,
}

impl ExerciseProperty {
    pub const ALL: [ExerciseProperty; 6] = [
        ExerciseProperty::MaxEccentric,
        ExerciseProperty::Sprint,
        ExerciseProperty::SportDrill,
        ExerciseProperty::Balance,
        ExerciseProperty::KneelingPartner,
        ExerciseProperty::GentleRange,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExerciseProperty::MaxEccentric => "max_eccentric",
            ExerciseProperty::Sprint => "sprint",
            ExerciseProperty::SportDrill => "sport_drill",
            ExerciseProperty::Balance => "balance",
            ExerciseProperty::KneelingPartner => "kneeling_partner",
            ExerciseProperty::GentleRange => "gentle_range",
        }
    }

    pub fn parse(s: &str) -> Option<ExerciseProperty> {
        ExerciseProperty::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A rule of the policy's "What the plan must leave out" (P1 ... P8): when
/// it applies (its condition on the facts holds, or one of its flags was
/// raised) and what it does to any plan, whoever gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRule {
    /// The policy's id (P1 ... P8).
    pub id: String,
    /// What the plan leaves out or changes, in words.
    pub leaves_out: String,
    /// Why, in words, completing "left out because ...".
    pub because: String,
    pub when: Option<Condition>,
    /// Applies when any of these flags was raised.
    pub flags: Vec<FlagId>,
    /// No exercise at all.
    pub no_exercise: bool,
    /// Only exercises with one of these properties.
    pub only: Vec<ExerciseProperty>,
    /// No exercise with any of these properties.
    pub exclude: Vec<ExerciseProperty>,
    /// Exercises with these properties in their supported version.
    pub supported: Vec<ExerciseProperty>,
    /// The plan never goes beyond this phase (start and progression).
    pub max_phase: Option<PhaseId>,
    /// The plan starts no later than this phase.
    pub max_start_phase: Option<PhaseId>,
    /// Advice replaced: (the one left out, the one given instead).
    pub swap_advice: Vec<(AdviceId, AdviceId)>,
    /// Treatment options left out (indices into `treatments`).
    pub exclude_treatments: Vec<usize>,
    /// A clinician may lift it with a plan edit recording who cleared the
    /// person (P2). Only rules that merely exclude exercises may be lifted.
    pub liftable: bool,
    pub citations: Vec<CitationId>,
}

/// Something drawn with a pose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prop {
    Cushion,
    Towel,
    Bike,
    Partner,
    Support,
    Weight,
    Step,
}

/// A side view of a person, as the direction of each body segment in
/// degrees (0 = forward/right, 90 = up, 180 = back/left, 270 = down). Leg 1
/// and arm are the near (sore) side, leg 2 the far side. The renderer puts
/// the lowest point on the ground.
#[derive(Debug, Clone, PartialEq)]
pub struct Pose {
    pub id: String,
    pub trunk: f64,
    pub thigh: f64,
    pub shin: f64,
    pub thigh2: f64,
    pub shin2: f64,
    pub arm: f64,
    pub forearm: f64,
    /// Foot direction; default square to the shin.
    pub foot: Option<f64>,
    pub prop: Option<Prop>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Advice {
    pub id: String,
    pub title: String,
    pub text: String,
    pub citations: Vec<CitationId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceLevel {
    Strong,
    Moderate,
    Limited,
    Insufficient,
}

impl EvidenceLevel {
    pub fn label(self) -> &'static str {
        match self {
            EvidenceLevel::Strong => "strong evidence",
            EvidenceLevel::Moderate => "moderate evidence",
            EvidenceLevel::Limited => "limited evidence",
            EvidenceLevel::Insufficient => "insufficient evidence",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Treatment {
    pub id: String,
    pub name: String,
    pub evidence: EvidenceLevel,
    pub summary: String,
    pub who: String,
    pub citations: Vec<CitationId>,
}

/// Which scoring an outcome questionnaire uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstrumentKind {
    Koos,
    Lefs,
    Nprs,
}

impl InstrumentKind {
    pub const ALL: [InstrumentKind; 3] = [
        InstrumentKind::Koos,
        InstrumentKind::Lefs,
        InstrumentKind::Nprs,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InstrumentKind::Koos => "koos",
            InstrumentKind::Lefs => "lefs",
            InstrumentKind::Nprs => "nprs",
        }
    }

    pub fn parse(s: &str) -> Option<InstrumentKind> {
        InstrumentKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The item ids the scoring expects.
    pub fn item_ids(self) -> Vec<String> {
        match self {
            InstrumentKind::Koos => crate::outcomes::koos_items(),
            InstrumentKind::Lefs => crate::outcomes::lefs_items(),
            InstrumentKind::Nprs => vec![crate::outcomes::NPRS_ITEM.to_string()],
        }
    }

    pub fn options_per_item(self) -> usize {
        match self {
            InstrumentKind::Koos | InstrumentKind::Lefs => 5,
            InstrumentKind::Nprs => 11,
        }
    }
}

/// An outcome questionnaire, in its published wording.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Instrument {
    pub id: String,
    pub kind: InstrumentKind,
    pub title: String,
    pub short: String,
    pub intro: String,
    pub attribution: String,
    pub higher_is_better: bool,
    /// Minimal important change, in score points.
    pub mic: f64,
    pub citations: Vec<CitationId>,
    pub sections: Vec<InstrumentSection>,
    /// Items in form order.
    pub items: Vec<InstrumentItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstrumentSection {
    pub id: String,
    pub title: String,
    pub prompt: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstrumentItem {
    pub id: String,
    /// Index into the instrument's sections.
    pub section: usize,
    pub text: String,
    /// The answer options in form order; the answer is the index.
    pub options: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Citation {
    pub id: String,
    pub text: String,
    pub url: Option<String>,
    pub doi: Option<String>,
}

/// Thresholds of the progression and escalation rules (progression.toml).
#[derive(Debug, Clone, PartialEq)]
pub struct Progression {
    pub advance_checkins: usize,
    pub advance_max_exercise_pain: u8,
    pub advance_min_adherence_pct: u8,
    pub step_back_morning_rise: u8,
    pub step_back_days: usize,
    pub step_back_max_exercise_pain: u8,
    pub escalate_days_in_plan: u32,
    pub escalate_meaningful_change: f64,
    pub citations: Vec<CitationId>,
}

#[cfg(test)]
mod tests {
    use super::Dosage;

    fn dosage(
        sets: Option<u32>,
        reps: Option<u32>,
        hold: Option<u32>,
        minutes: Option<u32>,
    ) -> Dosage {
        Dosage {
            sets,
            reps,
            hold_seconds: hold,
            minutes,
            per_day: 1,
            days_per_week: 7,
            note: None,
        }
    }

    #[test]
    fn a_session_lasts_its_minutes_or_its_sets_with_rests() {
        // Given minutes are the session's.
        assert_eq!(dosage(None, None, None, Some(20)).session_minutes(), 20);
        // 3 x 12 reps: 36 x 4 s + 2 rests of 45 s = 234 s -> 4 min.
        assert_eq!(dosage(Some(3), Some(12), None, None).session_minutes(), 4);
        // 3 x 10 reps holding 5 s: 30 x 9 s + 90 s = 360 s -> 6 min.
        assert_eq!(
            dosage(Some(3), Some(10), Some(5), None).session_minutes(),
            6
        );
        // 3 holds of 30 s: 90 s + 90 s = 180 s -> 3 min.
        assert_eq!(dosage(Some(3), None, Some(30), None).session_minutes(), 3);
        // Nothing to count is still a minute.
        assert_eq!(dosage(None, None, None, None).session_minutes(), 1);
    }
}
