//! The triage engine: `assess(knowledge, facts) -> Assessment`.
//!
//! Pure and deterministic: the same knowledge base and facts always give the
//! same assessment, with no clock, randomness or I/O. The assessment borrows
//! its texts from the knowledge base (no copying on the hot path); turn it
//! into an owned, serializable [`crate::report::AssessmentReport`] to store
//! or print it.
//!
//! - **Hit policy**: every rule is evaluated, "not sure" read as the
//!   warning answer; the level is the most urgent level any fired rule
//!   gives (`self_care` when none fires), and every fired rule is reported
//!   with the facts that made it hold. An `ambulance` or `emergency` rule
//!   that fired *only* because of "not sure" answers (it would not fire
//!   with them read as the reassuring answer) gives one level less.
//! - **Contributing factors** are graded `measured` (from a clinician's test
//!   results) before `reported` (from the person's answers); "not sure"
//!   counts as not reported. They never change the level.
//! - Then the plan rules (at every level) and the plan (`crate::plan`).

use crate::condition::{Condition, Reading};
use crate::facts::{FactId, Facts, Value};
use crate::kb::{Contributor, FlagId, KnowledgeBase, Question, Rule};
use crate::level::TriageLevel;
use crate::plan::{AppliedPlanRule, Plan, build_plan, plan_rules};

/// A fact that made a rule or a factor hold, with its reported value.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence<'k> {
    pub fact: FactId,
    pub question: &'k Question,
    pub value: Value,
}

/// A rule whose condition held.
#[derive(Debug, Clone, PartialEq)]
pub struct FiredRule<'k> {
    pub rule: &'k Rule,
    /// The level it gives: the rule's own, or one less for an `ambulance`
    /// or `emergency` rule that fired only because of "not sure" answers.
    pub level: TriageLevel,
    pub evidence: Vec<Evidence<'k>>,
    /// The "not sure" answers it fired on, when it fired only because of
    /// them (it would not fire with them read as the reassuring answer);
    /// empty otherwise.
    pub unsure: Vec<&'k Question>,
}

impl FiredRule<'_> {
    /// Fired only because of "not sure" answers.
    pub fn only_unsure(&self) -> bool {
        !self.unsure.is_empty()
    }
}

/// How a contributing factor is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// From a test result (a clinician's measurement).
    Measured,
    /// From the person's own answers.
    Reported,
}

impl Grade {
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Measured => "measured",
            Grade::Reported => "reported",
        }
    }
}

/// A contributing factor that applies to this person.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding<'k> {
    pub contributor: &'k Contributor,
    pub grade: Grade,
    pub evidence: Vec<Evidence<'k>>,
}

/// The engine's full answer for one person.
#[derive(Debug, Clone)]
pub struct Assessment<'k> {
    pub kb: &'k KnowledgeBase,
    /// The facts assessed.
    pub facts: Facts,
    /// The most urgent level among the fired rules; `self_care` if none fired.
    pub level: TriageLevel,
    /// Every rule that fired, in knowledge-base order.
    pub fired: Vec<FiredRule<'k>>,
    /// Every contributing factor that applies, in knowledge-base order.
    pub contributors: Vec<Finding<'k>>,
    /// Every plan rule (P1 ... P8) that applies, at any level.
    pub plan_rules: Vec<AppliedPlanRule<'k>>,
    pub plan: Plan<'k>,
}

impl Assessment<'_> {
    /// The flags raised, without duplicates, in rule order.
    pub fn flags(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for f in &self.fired {
            let id = self.kb.flag_of(f.rule).id.as_str();
            if !out.contains(&id) {
                out.push(id);
            }
        }
        out
    }
}

/// Assess one person's facts.
pub fn assess<'k>(kb: &'k KnowledgeBase, facts: &Facts) -> Assessment<'k> {
    let fired = fired_rules(kb, facts);
    let level = fired
        .iter()
        .map(|f| f.level)
        .min()
        .unwrap_or(TriageLevel::SelfCare);
    let contributors = contributing_factors(kb, facts);
    let plan_rules = plan_rules(kb, facts, &flag_ids(&fired));
    let plan = build_plan(kb, level, facts, &plan_rules, &contributors);
    Assessment {
        kb,
        facts: facts.clone(),
        level,
        fired,
        contributors,
        plan_rules,
        plan,
    }
}

/// Every rule that fires (a "not sure" answer counting as the warning
/// answer), each with the level it gives.
pub fn fired_rules<'k>(kb: &'k KnowledgeBase, facts: &Facts) -> Vec<FiredRule<'k>> {
    let any_unsure = facts.present().any(|(_, v)| *v == Value::Unsure);
    let mut fired = Vec::new();
    for rule in &kb.rules {
        if !rule.when.eval_in(facts, Reading::Warning).is_true() {
            continue;
        }
        let evidence = evidence(kb, &rule.when, facts, Reading::Warning);
        // Fired only because of "not sure": quiet when they are read as
        // the reassuring answer.
        let only_unsure = any_unsure && !rule.when.eval_in(facts, Reading::Reassuring).is_true();
        let unsure: Vec<&Question> = if only_unsure {
            evidence
                .iter()
                .filter(|e| e.value == Value::Unsure)
                .map(|e| e.question)
                .collect()
        } else {
            Vec::new()
        };
        let level = if only_unsure {
            rule.level.one_less_if_emergency()
        } else {
            rule.level
        };
        fired.push(FiredRule {
            rule,
            level,
            evidence,
            unsure,
        });
    }
    fired
}

/// The flags the fired rules raise, without duplicates, in rule order.
pub fn flag_ids(fired: &[FiredRule<'_>]) -> Vec<FlagId> {
    let mut out = Vec::new();
    for f in fired {
        if !out.contains(&f.rule.flag) {
            out.push(f.rule.flag);
        }
    }
    out
}

/// The plan rules that apply to these facts, with the flags the triage
/// rules raise on them (for a plan computed apart from an assessment, such
/// as a plan page or the progression rules).
pub fn plan_rules_for<'k>(kb: &'k KnowledgeBase, facts: &Facts) -> Vec<AppliedPlanRule<'k>> {
    plan_rules(kb, facts, &flag_ids(&fired_rules(kb, facts)))
}

/// The contributing factors that apply; `measured` wins over `reported`.
/// A "not sure" answer counts as not reported here.
pub fn contributing_factors<'k>(kb: &'k KnowledgeBase, facts: &Facts) -> Vec<Finding<'k>> {
    let mut out = Vec::new();
    for contributor in &kb.contributors {
        let holds = |c: &'k Option<Condition>| {
            c.as_ref()
                .filter(|c| c.eval_in(facts, Reading::NotReported).is_true())
        };
        let found = holds(&contributor.measured)
            .map(|c| (Grade::Measured, c))
            .or_else(|| holds(&contributor.reported).map(|c| (Grade::Reported, c)));
        if let Some((grade, cond)) = found {
            out.push(Finding {
                contributor,
                grade,
                evidence: evidence(kb, cond, facts, Reading::NotReported)
                    .into_iter()
                    .filter(|e| e.value != Value::Unsure)
                    .collect(),
            });
        }
    }
    out
}

/// The reported facts behind a condition that holds in `reading`.
pub(crate) fn evidence<'k>(
    kb: &'k KnowledgeBase,
    cond: &Condition,
    facts: &Facts,
    reading: Reading,
) -> Vec<Evidence<'k>> {
    let mut ids = Vec::new();
    cond.evidence(facts, reading, &mut ids);
    ids.into_iter()
        .filter_map(|fact| {
            facts.get(fact).map(|v| Evidence {
                fact,
                question: &kb.questions[fact],
                value: v.clone(),
            })
        })
        .collect()
}
