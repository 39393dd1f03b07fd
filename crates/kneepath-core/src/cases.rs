//! Clinical case files (`shared/cases/README.md`): parsing one, and checking
//! the engine's result against its expectations.
//!
//! A case passes when the level is exactly the expected one, every expected
//! flag is raised, every expected factor is reported and no factor in
//! `contributors_absent` is, and every plan rule in `plan_exclusions` (P1 ...
//! P8) applies. A result less urgent than expected is an
//! under-triage, counted separately: the one unacceptable error.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::engine::assess;
use crate::facts::{Facts, FactsError};
use crate::kb::KnowledgeBase;
use crate::level::TriageLevel;

/// A parsed, validated case.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub id: String,
    pub summary: String,
    pub facts: Facts,
    pub expect: Expect,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expect {
    pub triage: TriageLevel,
    pub flags: Vec<String>,
    pub contributors: Vec<String>,
    pub contributors_absent: Vec<String>,
    pub plan_exclusions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum CaseError {
    #[error("not valid TOML: {0}")]
    Syntax(String),
    #[error("`{0}` is missing or not text")]
    MissingField(&'static str),
    #[error("[facts]: {0}")]
    Facts(#[from] FactsError),
    #[error("[expect]: {0}")]
    Expect(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    triage: String,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    contributors: Vec<String>,
    #[serde(default)]
    contributors_absent: Vec<String>,
    #[serde(default)]
    plan_exclusions: Vec<String>,
}

impl Case {
    /// Parse a case file's text against a knowledge base.
    pub fn parse(kb: &KnowledgeBase, text: &str) -> Result<Case, CaseError> {
        let doc: toml::Table =
            toml::from_str(text).map_err(|e| CaseError::Syntax(e.message().to_string()))?;
        let str_field = |k: &'static str| {
            doc.get(k)
                .and_then(toml::Value::as_str)
                .map(String::from)
                .ok_or(CaseError::MissingField(k))
        };
        let id = str_field("id")?;
        let summary = str_field("summary").unwrap_or_default();
        let facts = match doc.get("facts") {
            Some(toml::Value::Table(t)) => kb.facts_from_toml_table(t)?,
            _ => return Err(CaseError::MissingField("facts")),
        };
        let raw: RawExpect = doc
            .get("expect")
            .cloned()
            .ok_or(CaseError::MissingField("expect"))?
            .try_into()
            .map_err(|e: toml::de::Error| CaseError::Expect(e.message().to_string()))?;
        let triage = TriageLevel::parse(&raw.triage)
            .ok_or_else(|| CaseError::Expect(format!("unknown triage level \"{}\"", raw.triage)))?;
        for f in &raw.flags {
            if !kb.flags.iter().any(|x| x.id == *f) {
                return Err(CaseError::Expect(format!("unknown flag \"{f}\"")));
            }
        }
        for c in raw.contributors.iter().chain(&raw.contributors_absent) {
            if !kb.contributors.iter().any(|x| x.id == *c) {
                return Err(CaseError::Expect(format!(
                    "unknown contributing factor \"{c}\""
                )));
            }
        }
        for p in &raw.plan_exclusions {
            if !kb.plan_rules.iter().any(|x| x.id == *p) {
                return Err(CaseError::Expect(format!(
                    "unknown plan rule \"{p}\" in plan_exclusions (the knowledge base has: {})",
                    kb.plan_rules
                        .iter()
                        .map(|r| r.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        Ok(Case {
            id,
            summary,
            facts,
            expect: Expect {
                triage,
                flags: raw.flags,
                contributors: raw.contributors,
                contributors_absent: raw.contributors_absent,
                plan_exclusions: raw.plan_exclusions,
            },
        })
    }
}

/// The result of running one case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseOutcome {
    pub id: String,
    pub expected: TriageLevel,
    pub got: TriageLevel,
    pub missing_flags: Vec<String>,
    pub missing_contributors: Vec<String>,
    pub unexpected_contributors: Vec<String>,
    /// Expected plan rules that do not apply.
    pub missing_plan_rules: Vec<String>,
    /// The plan rules that apply (for the table).
    pub plan_rules: Vec<String>,
}

impl CaseOutcome {
    pub fn passed(&self) -> bool {
        self.expected == self.got
            && self.missing_flags.is_empty()
            && self.missing_contributors.is_empty()
            && self.unexpected_contributors.is_empty()
            && self.missing_plan_rules.is_empty()
    }

    pub fn under_triage(&self) -> bool {
        self.got.is_less_urgent_than(self.expected)
    }

    /// What differs, in a few words ("" when it passed).
    pub fn differences(&self) -> String {
        let mut d = Vec::new();
        if self.expected != self.got {
            let kind = if self.under_triage() {
                "UNDER-TRIAGE"
            } else {
                "over-triage"
            };
            d.push(format!(
                "{kind}: level {} instead of {}",
                self.got, self.expected
            ));
        }
        if !self.missing_flags.is_empty() {
            d.push(format!(
                "flags not raised: {}",
                self.missing_flags.join(", ")
            ));
        }
        if !self.missing_contributors.is_empty() {
            d.push(format!(
                "factors not reported: {}",
                self.missing_contributors.join(", ")
            ));
        }
        if !self.unexpected_contributors.is_empty() {
            d.push(format!(
                "factors reported but expected absent: {}",
                self.unexpected_contributors.join(", ")
            ));
        }
        if !self.missing_plan_rules.is_empty() {
            d.push(format!(
                "plan rules not applied: {}",
                self.missing_plan_rules.join(", ")
            ));
        }
        d.join("; ")
    }
}

/// Run one case through the engine.
pub fn check_case(kb: &KnowledgeBase, case: &Case) -> CaseOutcome {
    let a = assess(kb, &case.facts);
    let flags = a.flags();
    let reported: Vec<&str> = a
        .contributors
        .iter()
        .map(|f| f.contributor.id.as_str())
        .collect();
    let plan_rules: Vec<String> = a.plan_rules.iter().map(|r| r.rule.id.clone()).collect();
    CaseOutcome {
        id: case.id.clone(),
        expected: case.expect.triage,
        got: a.level,
        missing_flags: case
            .expect
            .flags
            .iter()
            .filter(|f| !flags.contains(&f.as_str()))
            .cloned()
            .collect(),
        missing_contributors: case
            .expect
            .contributors
            .iter()
            .filter(|c| !reported.contains(&c.as_str()))
            .cloned()
            .collect(),
        unexpected_contributors: case
            .expect
            .contributors_absent
            .iter()
            .filter(|c| reported.contains(&c.as_str()))
            .cloned()
            .collect(),
        missing_plan_rules: case
            .expect
            .plan_exclusions
            .iter()
            .filter(|p| !plan_rules.contains(p))
            .cloned()
            .collect(),
        plan_rules,
    }
}
