//! The owned, serializable form of an assessment: what `--json` prints and
//! what storage keeps. It carries the texts as they were shown, the rule ids
//! and the knowledge-base version, so a stored result can be explained
//! exactly as it was given even after the knowledge base changes.

use serde::{Deserialize, Serialize};

use crate::engine::{Assessment, Evidence, Grade};
use crate::kb::Dosage;
use crate::level::TriageLevel;
use crate::plan::{Because, Plan, StartReason};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessmentReport {
    pub kb_version: String,
    pub policy_version: String,
    pub policy_date: String,
    pub level: TriageLevel,
    pub level_title: String,
    pub do_now: String,
    pub fired: Vec<FiredReport>,
    pub flags: Vec<String>,
    pub contributors: Vec<ContributorReport>,
    pub plan: PlanReport,
    pub warning_signs: Vec<String>,
    pub disclaimer: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactReport {
    pub fact: String,
    pub value: serde_json::Value,
    /// The fact's label and the answer in words: "Pain now (0-10): 8".
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiredReport {
    pub rule: String,
    pub level: TriageLevel,
    pub flag: String,
    pub flag_title: String,
    pub reason: String,
    pub meaning: String,
    pub do_now: String,
    pub facts: Vec<FactReport>,
    pub citations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContributorReport {
    pub id: String,
    pub rule: String,
    pub title: String,
    pub grade: Grade,
    pub facts: Vec<FactReport>,
    pub what: String,
    pub mechanism: String,
    pub evidence: String,
    pub helps: String,
    pub citations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExerciseReport {
    pub id: String,
    pub name: String,
    pub purpose: String,
    pub steps: Vec<String>,
    pub dosage: Dosage,
    pub dosage_text: String,
    pub easier: String,
    pub harder: String,
    pub stop_if: String,
    /// `phase` or the id of the contributing factor that added it.
    pub because: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdviceReport {
    pub id: String,
    pub title: String,
    pub text: String,
    /// `level`, `phase` or the id of a contributing factor.
    pub because: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlanReport {
    SeekCare {
        advice: Vec<AdviceReport>,
    },
    Home {
        phase: String,
        phase_title: String,
        phase_goal: String,
        /// Why this phase: the facts that matched, or "default".
        phase_reason: Vec<FactReport>,
        exercises: Vec<ExerciseReport>,
        advice: Vec<AdviceReport>,
    },
}

fn facts(ev: &[Evidence<'_>]) -> Vec<FactReport> {
    ev.iter()
        .map(|e| FactReport {
            fact: e.question.id.clone(),
            value: e.question.value_to_json(&e.value),
            text: format!(
                "{}: {}",
                e.question.label,
                e.question.display_value(&e.value)
            ),
        })
        .collect()
}

fn because(b: Because<'_>) -> String {
    match b {
        Because::Level => "level".into(),
        Because::Phase => "phase".into(),
        Because::Contributor(c) => c.id.clone(),
        Because::Clinician => "clinician".into(),
    }
}

impl Assessment<'_> {
    /// The owned report of this assessment.
    pub fn report(&self) -> AssessmentReport {
        let kb = self.kb;
        let level = kb.level(self.level);
        let fired = self
            .fired
            .iter()
            .map(|f| {
                let flag = kb.flag_of(f.rule);
                FiredReport {
                    rule: f.rule.id.clone(),
                    level: f.rule.level,
                    flag: flag.id.clone(),
                    flag_title: flag.title.clone(),
                    reason: f.rule.reason.clone(),
                    meaning: flag.meaning.clone(),
                    do_now: flag.do_now.clone(),
                    facts: facts(&f.evidence),
                    citations: kb.citation_ids(&f.rule.citations),
                }
            })
            .collect();
        let contributors = self
            .contributors
            .iter()
            .map(|f| {
                let c = f.contributor;
                ContributorReport {
                    id: c.id.clone(),
                    rule: c.rule.clone(),
                    title: c.title.clone(),
                    grade: f.grade,
                    facts: facts(&f.evidence),
                    what: c.what.clone(),
                    mechanism: c.mechanism.clone(),
                    evidence: c.evidence.clone(),
                    helps: c.helps.clone(),
                    citations: kb.citation_ids(&c.citations),
                }
            })
            .collect();
        let plan = match &self.plan {
            Plan::SeekCare { advice } => PlanReport::SeekCare {
                advice: advice
                    .iter()
                    .map(|a| AdviceReport {
                        id: a.id.clone(),
                        title: a.title.clone(),
                        text: a.text.clone(),
                        because: "level".into(),
                    })
                    .collect(),
            },
            Plan::Home(home) => {
                let phase = &kb.phases[home.phase];
                PlanReport::Home {
                    phase: phase.id.clone(),
                    phase_title: phase.title.clone(),
                    phase_goal: phase.goal.clone(),
                    phase_reason: match &home.start {
                        StartReason::Matched(ev) => facts(ev),
                        StartReason::Default | StartReason::Chosen => Vec::new(),
                    },
                    exercises: home
                        .items
                        .iter()
                        .map(|i| {
                            let e = i.exercise;
                            ExerciseReport {
                                id: e.id.clone(),
                                name: e.name.clone(),
                                purpose: e.purpose.clone(),
                                steps: e.steps.clone(),
                                dosage: e.dosage.clone(),
                                dosage_text: e.dosage.summary(),
                                easier: e.easier.clone(),
                                harder: e.harder.clone(),
                                stop_if: e.stop_if.clone(),
                                because: because(i.because),
                            }
                        })
                        .collect(),
                    advice: home
                        .advice
                        .iter()
                        .map(|a| AdviceReport {
                            id: a.advice.id.clone(),
                            title: a.advice.title.clone(),
                            text: a.advice.text.clone(),
                            because: because(a.because),
                        })
                        .collect(),
                }
            }
        };
        AssessmentReport {
            kb_version: kb.version.clone(),
            policy_version: kb.meta.policy_version.clone(),
            policy_date: kb.meta.policy_date.clone(),
            level: self.level,
            level_title: level.title.clone(),
            do_now: level.do_now.clone(),
            fired,
            flags: self.flags().into_iter().map(String::from).collect(),
            contributors,
            plan,
            warning_signs: kb
                .warning_signs()
                .filter_map(|(_, q)| q.warning_sign.clone())
                .collect(),
            disclaimer: kb.meta.disclaimer.clone(),
        }
    }
}
