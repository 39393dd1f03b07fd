//! The home plan: which phase a person starts in, which exercises and advice
//! they get, and why each item is there.
//!
//! Policy invariant: `urgent` and above never get exercises, only advice to
//! protect the knee until seen ([`Plan::SeekCare`]).

use crate::engine::{Evidence, Finding, evidence};
use crate::facts::Facts;
use crate::kb::{Advice, Contributor, Exercise, ExerciseId, KnowledgeBase, PhaseId};
use crate::level::TriageLevel;

/// Why an item is in the plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Because<'k> {
    /// It comes with the triage level.
    Level,
    /// It is part of the current phase.
    Phase,
    /// A contributing factor added it.
    Contributor(&'k Contributor),
    /// A clinician added it (or swapped it in), for this reason.
    Clinician,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanItem<'k> {
    pub exercise: &'k Exercise,
    pub because: Because<'k>,
    /// A clinician's dosage, replacing the knowledge base's, with the reason.
    pub dosage: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanAdvice<'k> {
    pub advice: &'k Advice,
    pub because: Because<'k>,
}

/// Why the plan starts in its phase.
#[derive(Debug, Clone, PartialEq)]
pub enum StartReason<'k> {
    /// The phase's `start_when` held on these facts.
    Matched(Vec<Evidence<'k>>),
    /// No phase's `start_when` held: the knowledge base's default.
    Default,
    /// Chosen by the progression rules or a clinician, not at assessment.
    Chosen,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HomePlan<'k> {
    pub phase: PhaseId,
    pub start: StartReason<'k>,
    pub items: Vec<PlanItem<'k>>,
    pub advice: Vec<PlanAdvice<'k>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Plan<'k> {
    /// `urgent` and above: what to do until seen, no exercises.
    SeekCare {
        advice: Vec<&'k Advice>,
    },
    Home(HomePlan<'k>),
}

/// The plan for an assessment's level, facts and contributing factors.
pub fn build_plan<'k>(
    kb: &'k KnowledgeBase,
    level: TriageLevel,
    facts: &Facts,
    contributors: &[Finding<'k>],
) -> Plan<'k> {
    let level_info = kb.level(level);
    if !level.allows_home_plan() {
        return Plan::SeekCare {
            advice: level_info.advice.iter().map(|&a| &kb.advice[a]).collect(),
        };
    }
    let (phase, start) = kb
        .phases
        .iter()
        .enumerate()
        .find_map(|(i, p)| {
            let c = p.start_when.as_ref()?;
            c.eval(facts)
                .is_true()
                .then(|| (i, StartReason::Matched(evidence(kb, c, facts))))
        })
        .unwrap_or((kb.default_start, StartReason::Default));
    Plan::Home(home_plan(kb, level, phase, start, contributors))
}

/// The home plan for a given phase: the phase's exercises, then those the
/// contributing factors add that suit the phase; the level's, the phase's
/// and the factors' advice, each once.
pub fn home_plan<'k>(
    kb: &'k KnowledgeBase,
    level: TriageLevel,
    phase: PhaseId,
    start: StartReason<'k>,
    contributors: &[Finding<'k>],
) -> HomePlan<'k> {
    let p = &kb.phases[phase];
    let mut items: Vec<PlanItem<'k>> = p
        .exercises
        .iter()
        .map(|&e| PlanItem {
            exercise: &kb.exercises[e],
            because: Because::Phase,
            dosage: None,
        })
        .collect();
    let mut advice: Vec<PlanAdvice<'k>> = Vec::new();
    let mut add_advice = |a: usize, because: Because<'k>| {
        let a = &kb.advice[a];
        if !advice.iter().any(|x| std::ptr::eq(x.advice, a)) {
            advice.push(PlanAdvice { advice: a, because });
        }
    };
    for &a in &kb.level(level).advice {
        add_advice(a, Because::Level);
    }
    for &a in &p.advice {
        add_advice(a, Because::Phase);
    }
    for f in contributors {
        let c = f.contributor;
        for &e in &c.plan_exercises {
            let ex = &kb.exercises[e];
            if ex.phases.contains(&phase) && !items.iter().any(|i| std::ptr::eq(i.exercise, ex)) {
                items.push(PlanItem {
                    exercise: ex,
                    because: Because::Contributor(c),
                    dosage: None,
                });
            }
        }
        for &a in &c.plan_advice {
            add_advice(a, Because::Contributor(c));
        }
    }
    HomePlan {
        phase,
        start,
        items,
        advice,
    }
}

/// What a clinician changed in a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditKind {
    Add,
    Remove,
    Swap,
    Dosage,
}

impl EditKind {
    pub const ALL: [EditKind; 4] = [
        EditKind::Add,
        EditKind::Remove,
        EditKind::Swap,
        EditKind::Dosage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EditKind::Add => "add",
            EditKind::Remove => "remove",
            EditKind::Swap => "swap",
            EditKind::Dosage => "dosage",
        }
    }

    pub fn parse(s: &str) -> Option<EditKind> {
        EditKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One stored plan edit, resolved against the knowledge base.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanEdit<'a> {
    pub kind: EditKind,
    pub exercise: ExerciseId,
    /// The exercise swapped in (`Swap`).
    pub replacement: Option<ExerciseId>,
    /// The new dosage (`Dosage`).
    pub dosage: Option<&'a str>,
    pub reason: &'a str,
}

/// Apply a clinician's edits, oldest first, to a home plan. An edit that no
/// longer fits (removing an exercise that is not there) changes nothing.
pub fn apply_edits<'k>(kb: &'k KnowledgeBase, plan: &mut HomePlan<'k>, edits: &[PlanEdit<'_>]) {
    let has = |plan: &HomePlan<'k>, e: ExerciseId| {
        plan.items
            .iter()
            .position(|i| std::ptr::eq(i.exercise, &kb.exercises[e]))
    };
    for edit in edits {
        match edit.kind {
            EditKind::Add => {
                if has(plan, edit.exercise).is_none() {
                    plan.items.push(PlanItem {
                        exercise: &kb.exercises[edit.exercise],
                        because: Because::Clinician,
                        dosage: None,
                    });
                }
            }
            EditKind::Remove => {
                if let Some(i) = has(plan, edit.exercise) {
                    plan.items.remove(i);
                }
            }
            EditKind::Swap => {
                if let (Some(i), Some(r)) = (has(plan, edit.exercise), edit.replacement) {
                    if has(plan, r).is_some() {
                        plan.items.remove(i);
                    } else {
                        plan.items[i] = PlanItem {
                            exercise: &kb.exercises[r],
                            because: Because::Clinician,
                            dosage: None,
                        };
                    }
                }
            }
            EditKind::Dosage => {
                if let (Some(i), Some(d)) = (has(plan, edit.exercise), edit.dosage) {
                    plan.items[i].dosage = Some((d.to_string(), edit.reason.to_string()));
                }
            }
        }
    }
}
