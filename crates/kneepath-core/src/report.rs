//! The owned, serializable form of an assessment: what `--json` prints and
//! what storage keeps. It carries the texts as they were shown, the rule ids
//! and the knowledge-base version, so a stored result can be explained
//! exactly as it was given even after the knowledge base changes.

use serde::{Deserialize, Serialize};

use crate::engine::{Assessment, Evidence, FiredRule, Grade, fired_rules};
use crate::facts::{Facts, Value};
use crate::kb::{Dosage, KnowledgeBase};
use crate::level::TriageLevel;
use crate::plan::{AppliedPlanRule, Because, Exclusion, Plan, StartReason};

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
    /// The plan rules (P1 ... P8) that apply, at every level, with what
    /// they leave out of this plan. Empty in results stored before policy
    /// v2.
    #[serde(default)]
    pub plan_rules: Vec<PlanRuleReport>,
    /// The warning-sign texts to watch for (signs already reported left
    /// out). Before policy v2 every sign, with one heading.
    pub warning_signs: Vec<String>,
    /// The same signs, each with the level it would give and what to do
    /// then. Empty in results stored before policy v2.
    #[serde(default)]
    pub watch_for: Vec<WatchReport>,
    pub disclaimer: String,
}

/// A warning sign to watch for, with the action of its own level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchReport {
    pub fact: String,
    pub sign: String,
    pub level: TriageLevel,
    /// What to do if it appears ("call your emergency number now").
    pub action: String,
}

/// A plan rule that applies, and what it did to the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRuleReport {
    /// The policy's id (P1 ... P8).
    pub id: String,
    pub leaves_out: String,
    pub because: String,
    pub facts: Vec<FactReport>,
    pub flags: Vec<String>,
    /// Exercises this plan would otherwise hold (names).
    pub exercises: Vec<String>,
    /// Exercises shown in their supported version (names).
    pub supported: Vec<String>,
    /// Advice replaced by another (titles).
    pub advice: Vec<String>,
    /// Treatment options left out (names).
    pub treatments: Vec<String>,
    /// Lifted by a clinician: who cleared the person.
    pub lifted: Option<String>,
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
    /// The level it gives: one less than the rule's own for an ambulance or
    /// emergency rule that fired only because of "not sure" answers.
    pub level: TriageLevel,
    /// The rule's own level (results stored before policy v2: absent).
    #[serde(default)]
    pub rule_level: Option<TriageLevel>,
    /// The facts answered "not sure" that it fired only because of.
    #[serde(default)]
    pub unsure: Vec<String>,
    /// What the person was not sure of, how to check it and what to do
    /// if it is so; `None` unless it fired only because of "not sure".
    #[serde(default)]
    pub unsure_text: Option<String>,
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
    /// The supported version to do instead (a plan rule asks for it).
    #[serde(default)]
    pub supported: Option<String>,
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
        Because::PlanRule(r) => r.id.clone(),
    }
}

/// What a "not sure" answer means for a rule that fired only because of
/// it: what was not sure, how to check, and what to do if it is so.
fn unsure_text(kb: &KnowledgeBase, f: &FiredRule<'_>) -> Option<String> {
    if !f.only_unsure() {
        return None;
    }
    let what: Vec<&str> = f.unsure.iter().map(|q| q.label.as_str()).collect();
    let how: Vec<&str> = f
        .unsure
        .iter()
        .filter_map(|q| q.how_to_check.as_deref())
        .collect();
    let action = &kb.level(f.rule.level).sign_action;
    let mut t = format!("You were not sure about: {}.", what.join("; "));
    if !how.is_empty() {
        t.push(' ');
        t.push_str(&how.join(" "));
    }
    t.push_str(&format!(" If it is so, {action}."));
    Some(t)
}

/// The warning signs a person should watch for: every sign of the
/// knowledge base they have not already reported (yes or not sure), each
/// with the level it would add to their answers and that level's action.
pub fn watch_for(kb: &KnowledgeBase, facts: &Facts) -> Vec<WatchReport> {
    let now: Vec<(&str, TriageLevel)> = fired_rules(kb, facts)
        .iter()
        .map(|f| (f.rule.id.as_str(), f.level))
        .collect();
    let mut out = Vec::new();
    for (id, q) in kb.warning_signs() {
        if matches!(facts.get(id), Some(Value::Bool(true) | Value::Unsure)) {
            continue;
        }
        let Some(sign) = &q.warning_sign else {
            continue;
        };
        let with = crate::facts::with_new_sign(kb, facts, id);
        // The level of the rules the sign would make fire anew; a sign that
        // adds none (already covered) still gets the most urgent level of
        // the rules that read it.
        let new = fired_rules(kb, &with)
            .iter()
            .filter(|f| !now.contains(&(f.rule.id.as_str(), f.level)))
            .map(|f| f.level)
            .min();
        let level = new.or_else(|| {
            kb.rules
                .iter()
                .filter(|r| {
                    let mut reads = false;
                    r.when.each_fact(&mut |f| reads |= f == id);
                    reads
                })
                .map(|r| r.level)
                .min()
        });
        let Some(level) = level else {
            continue;
        };
        out.push(WatchReport {
            fact: q.id.clone(),
            sign: sign.clone(),
            level,
            action: kb.level(level).sign_action.clone(),
        });
    }
    out.sort_by_key(|w| w.level);
    out
}

fn plan_rule_report(r: &AppliedPlanRule<'_>, x: Option<&Exclusion<'_>>) -> PlanRuleReport {
    let names = |v: Option<Vec<String>>| v.unwrap_or_default();
    PlanRuleReport {
        id: r.rule.id.clone(),
        leaves_out: r.rule.leaves_out.clone(),
        because: r.rule.because.clone(),
        facts: facts(&r.evidence),
        flags: r.flags.iter().map(|f| f.id.clone()).collect(),
        exercises: names(x.map(|x| x.exercises.iter().map(|e| e.name.clone()).collect())),
        supported: names(x.map(|x| x.supported.iter().map(|e| e.name.clone()).collect())),
        advice: names(x.map(|x| x.advice.iter().map(|a| a.title.clone()).collect())),
        treatments: names(x.map(|x| x.treatments.iter().map(|t| t.name.clone()).collect())),
        lifted: x
            .and_then(|x| x.lifted.clone())
            .or_else(|| r.lifted.clone()),
    }
}

/// The plan rules' reports for a home plan: every rule that applies, with
/// what it left out of `plan`.
pub fn plan_rule_reports(
    rules: &[AppliedPlanRule<'_>],
    exclusions: &[Exclusion<'_>],
) -> Vec<PlanRuleReport> {
    rules
        .iter()
        .map(|r| {
            let x = exclusions.iter().find(|x| std::ptr::eq(x.rule, r.rule));
            plan_rule_report(r, x)
        })
        .collect()
}

impl Assessment<'_> {
    /// The owned report of this assessment.
    pub fn report(&self) -> AssessmentReport {
        let kb = self.kb;
        let level = kb.level(self.level);
        let watch = watch_for(kb, &self.facts);
        let fired = self
            .fired
            .iter()
            .map(|f| {
                let flag = kb.flag_of(f.rule);
                FiredReport {
                    rule: f.rule.id.clone(),
                    level: f.level,
                    rule_level: Some(f.rule.level),
                    unsure: f.unsure.iter().map(|q| q.id.clone()).collect(),
                    unsure_text: unsure_text(kb, f),
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
                        StartReason::Limited(rule) => self
                            .plan_rules
                            .iter()
                            .find(|r| std::ptr::eq(r.rule, *rule))
                            .map(|r| facts(&r.evidence))
                            .unwrap_or_default(),
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
                                supported: i.supported.and(e.supported.clone()),
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
            plan_rules: match &self.plan {
                Plan::Home(home) => plan_rule_reports(&self.plan_rules, &home.exclusions),
                Plan::SeekCare { .. } => plan_rule_reports(&self.plan_rules, &[]),
            },
            plan,
            warning_signs: watch.iter().map(|w| w.sign.clone()).collect(),
            watch_for: watch,
            disclaimer: kb.meta.disclaimer.clone(),
        }
    }
}
