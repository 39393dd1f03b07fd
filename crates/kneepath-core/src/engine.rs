//! The triage engine: `assess(knowledge, facts) -> Assessment`.
//!
//! Pure and deterministic: the same knowledge base and facts always give the
//! same assessment, with no clock, randomness or I/O. The assessment borrows
//! its texts from the knowledge base (no copying on the hot path); turn it
//! into an owned, serializable [`crate::report::AssessmentReport`] to store
//! or print it.

use crate::condition::Condition;
use crate::facts::{FactId, Facts, Value};
use crate::kb::{Contributor, KnowledgeBase, Question, Rule};
use crate::level::TriageLevel;
use crate::plan::{Plan, build_plan};

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
    pub evidence: Vec<Evidence<'k>>,
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
    /// The most urgent level among the fired rules; `self_care` if none fired.
    pub level: TriageLevel,
    /// Every rule that fired, in knowledge-base order.
    pub fired: Vec<FiredRule<'k>>,
    /// Every contributing factor that applies, in knowledge-base order.
    pub contributors: Vec<Finding<'k>>,
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
    let mut fired = Vec::new();
    let mut level = TriageLevel::SelfCare;
    for rule in &kb.rules {
        if rule.when.eval(facts).is_true() {
            level = level.min(rule.level);
            fired.push(FiredRule {
                rule,
                evidence: evidence(kb, &rule.when, facts),
            });
        }
    }
    let contributors = contributing_factors(kb, facts);
    let plan = build_plan(kb, level, facts, &contributors);
    Assessment {
        kb,
        level,
        fired,
        contributors,
        plan,
    }
}

/// The contributing factors that apply; `measured` wins over `reported`.
pub fn contributing_factors<'k>(kb: &'k KnowledgeBase, facts: &Facts) -> Vec<Finding<'k>> {
    let mut out = Vec::new();
    for contributor in &kb.contributors {
        let holds = |c: &'k Option<Condition>| c.as_ref().filter(|c| c.eval(facts).is_true());
        let found = holds(&contributor.measured)
            .map(|c| (Grade::Measured, c))
            .or_else(|| holds(&contributor.reported).map(|c| (Grade::Reported, c)));
        if let Some((grade, cond)) = found {
            out.push(Finding {
                contributor,
                grade,
                evidence: evidence(kb, cond, facts),
            });
        }
    }
    out
}

/// The reported facts behind a condition that holds.
pub(crate) fn evidence<'k>(
    kb: &'k KnowledgeBase,
    cond: &Condition,
    facts: &Facts,
) -> Vec<Evidence<'k>> {
    let mut ids = Vec::new();
    cond.evidence(facts, &mut ids);
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
