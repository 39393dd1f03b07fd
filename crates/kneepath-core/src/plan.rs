//! The home plan: which phase a person starts in, which exercises and advice
//! they get, why each item is there, and what the plan rules (P1 ... P8 of
//! the policy's "What the plan must leave out") leave out and why.
//!
//! Policy invariants:
//! - `urgent` and above never get exercises from the assessment, only advice
//!   to protect the knee until seen ([`Plan::SeekCare`]); a plan then comes
//!   only from a clinician.
//! - The plan rules are evaluated at every level ([`plan_rules`]) and apply
//!   to every plan, whoever gives it: [`home_plan`] enforces them after a
//!   clinician's edits, so an edit cannot bring back what they leave out.
//!   Only a rule marked `liftable` (P2) can be lifted, by a clinician's edit
//!   that records who cleared the person.
//!
//! How a plan is built: the starting phase is the first whose `start_when`
//! holds, else the default, then no later than any plan rule allows
//! ([`start_phase`]). [`home_plan`] then takes the phase's exercises, adds
//! those the contributing factors bring when they suit the phase, and the
//! advice of the level, the phase and the factors (each once), every item
//! with its [`Because`]; applies a clinician's add/remove/swap/dosage edits,
//! oldest first; and last applies the plan rules, each item they leave out
//! recorded as an [`Exclusion`] with its reason.

use crate::condition::Reading;
use crate::engine::{Evidence, Finding, evidence};
use crate::facts::Facts;
use crate::kb::{
    Advice, Contributor, Exercise, ExerciseId, Flag, FlagId, KnowledgeBase, PhaseId, PlanRule,
    Treatment,
};
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
    /// A plan rule gives it instead of something it leaves out.
    PlanRule(&'k PlanRule),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanItem<'k> {
    pub exercise: &'k Exercise,
    pub because: Because<'k>,
    /// A clinician's dosage, replacing the knowledge base's, with the reason.
    pub dosage: Option<(String, String)>,
    /// The plan rule that asks for the supported version (P3), if any.
    pub supported: Option<&'k PlanRule>,
}

impl PlanItem<'_> {
    /// The dosage to follow, in words: the clinician's when they set one,
    /// else the knowledge base's.
    pub fn dosage_text(&self) -> String {
        self.dosage
            .as_ref()
            .map_or_else(|| self.exercise.dosage.summary(), |(d, _)| d.clone())
    }
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
    /// A plan rule kept the start at or before this phase (P1, P6).
    Limited(&'k PlanRule),
}

/// A plan rule that applies to a person.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedPlanRule<'k> {
    pub rule: &'k PlanRule,
    /// The facts that made its condition hold ("not sure" counting as the
    /// warning answer).
    pub evidence: Vec<Evidence<'k>>,
    /// The flags raised that it applies for.
    pub flags: Vec<&'k Flag>,
    /// Lifted by a clinician: the reason recorded (who cleared the person).
    pub lifted: Option<String>,
}

/// What one plan rule left out of (or changed in) a particular plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Exclusion<'k> {
    pub rule: &'k PlanRule,
    /// Lifted by a clinician, with the reason recorded: nothing is left out.
    pub lifted: Option<String>,
    /// Exercises this plan would otherwise hold.
    pub exercises: Vec<&'k Exercise>,
    /// Exercises shown in their supported version.
    pub supported: Vec<&'k Exercise>,
    /// Advice replaced by another.
    pub advice: Vec<&'k Advice>,
    pub treatments: Vec<&'k Treatment>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HomePlan<'k> {
    pub phase: PhaseId,
    pub start: StartReason<'k>,
    pub items: Vec<PlanItem<'k>>,
    pub advice: Vec<PlanAdvice<'k>>,
    /// The treatment options to list (those no plan rule leaves out).
    pub treatments: Vec<&'k Treatment>,
    /// Every plan rule that applies, with what it left out of this plan.
    pub exclusions: Vec<Exclusion<'k>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Plan<'k> {
    /// `urgent` and above: what to do until seen, no exercises.
    SeekCare {
        advice: Vec<&'k Advice>,
    },
    Home(HomePlan<'k>),
}

/// The plan rules that apply to a person with these facts and raised
/// flags, in policy order. "Not sure" counts as the warning answer.
pub fn plan_rules<'k>(
    kb: &'k KnowledgeBase,
    facts: &Facts,
    flags: &[FlagId],
) -> Vec<AppliedPlanRule<'k>> {
    let mut out = Vec::new();
    for rule in &kb.plan_rules {
        let by_facts = rule
            .when
            .as_ref()
            .filter(|c| c.eval_in(facts, Reading::Warning).is_true());
        let by_flags: Vec<&Flag> = rule
            .flags
            .iter()
            .filter(|f| flags.contains(f))
            .map(|&f| &kb.flags[f])
            .collect();
        if by_facts.is_none() && by_flags.is_empty() {
            continue;
        }
        out.push(AppliedPlanRule {
            rule,
            evidence: by_facts.map_or_else(Vec::new, |c| evidence(kb, c, facts, Reading::Warning)),
            flags: by_flags,
            lifted: None,
        });
    }
    out
}

/// Mark the rules a clinician lifted: `cleared` holds (rule id, the reason
/// recorded), oldest first. Only a `liftable` rule can be lifted.
pub fn lift(rules: &mut [AppliedPlanRule<'_>], cleared: &[(&str, &str)]) {
    for r in rules.iter_mut().filter(|r| r.rule.liftable) {
        if let Some((_, why)) = cleared.iter().rev().find(|(id, _)| *id == r.rule.id) {
            r.lifted = Some((*why).to_string());
        }
    }
}

/// The last phase the plan may reach under these rules (P1), if any.
pub fn phase_cap(rules: &[AppliedPlanRule<'_>]) -> Option<PhaseId> {
    rules
        .iter()
        .filter(|r| r.lifted.is_none())
        .filter_map(|r| r.rule.max_phase)
        .min()
}

/// The plan for an assessment's level, facts, raised flags and
/// contributing factors.
pub fn build_plan<'k>(
    kb: &'k KnowledgeBase,
    level: TriageLevel,
    facts: &Facts,
    rules: &[AppliedPlanRule<'k>],
    contributors: &[Finding<'k>],
) -> Plan<'k> {
    let level_info = kb.level(level);
    if !level.allows_home_plan() {
        return Plan::SeekCare {
            advice: level_info.advice.iter().map(|&a| &kb.advice[a]).collect(),
        };
    }
    let (phase, start) = start_phase(kb, facts, rules);
    Plan::Home(home_plan(kb, level, phase, start, contributors, rules, &[]))
}

/// The starting phase: the first whose `start_when` holds, else the
/// default; then no later than any plan rule allows.
pub fn start_phase<'k>(
    kb: &'k KnowledgeBase,
    facts: &Facts,
    rules: &[AppliedPlanRule<'k>],
) -> (PhaseId, StartReason<'k>) {
    let (mut phase, mut start) = kb
        .phases
        .iter()
        .enumerate()
        .find_map(|(i, p)| {
            let c = p.start_when.as_ref()?;
            c.eval(facts).is_true().then(|| {
                (
                    i,
                    StartReason::Matched(evidence(kb, c, facts, Reading::Warning)),
                )
            })
        })
        .unwrap_or((kb.default_start, StartReason::Default));
    for r in rules.iter().filter(|r| r.lifted.is_none()) {
        for cap in [r.rule.max_phase, r.rule.max_start_phase]
            .into_iter()
            .flatten()
        {
            if cap < phase {
                phase = cap;
                start = StartReason::Limited(r.rule);
            }
        }
    }
    (phase, start)
}

/// The home plan for a given phase: the phase's exercises, then those the
/// contributing factors add that suit the phase; the level's, the phase's
/// and the factors' advice, each once; a clinician's `edits`, oldest
/// first; and last the plan rules, which nothing overrides but a lift.
pub fn home_plan<'k>(
    kb: &'k KnowledgeBase,
    level: TriageLevel,
    phase: PhaseId,
    start: StartReason<'k>,
    contributors: &[Finding<'k>],
    rules: &[AppliedPlanRule<'k>],
    edits: &[PlanEdit<'_>],
) -> HomePlan<'k> {
    let p = &kb.phases[phase];
    let mut items: Vec<PlanItem<'k>> = p
        .exercises
        .iter()
        .map(|&e| PlanItem {
            exercise: &kb.exercises[e],
            because: Because::Phase,
            dosage: None,
            supported: None,
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
                    supported: None,
                });
            }
        }
        for &a in &c.plan_advice {
            add_advice(a, Because::Contributor(c));
        }
    }
    let mut plan = HomePlan {
        phase,
        start,
        items,
        advice,
        treatments: kb.treatments.iter().collect(),
        exclusions: Vec::new(),
    };
    apply_edits(kb, &mut plan, edits);
    enforce(kb, &mut plan, rules);
    plan
}

/// Apply the plan rules to a plan, recording what each left out.
fn enforce<'k>(kb: &'k KnowledgeBase, plan: &mut HomePlan<'k>, rules: &[AppliedPlanRule<'k>]) {
    for r in rules {
        let rule = r.rule;
        let mut x = Exclusion {
            rule,
            lifted: r.lifted.clone(),
            exercises: Vec::new(),
            supported: Vec::new(),
            advice: Vec::new(),
            treatments: Vec::new(),
        };
        if r.lifted.is_none() {
            let has = |e: &Exercise, props: &[crate::kb::ExerciseProperty]| {
                e.properties.iter().any(|p| props.contains(p))
            };
            plan.items.retain(|i| {
                let out = rule.no_exercise
                    || (!rule.only.is_empty() && !has(i.exercise, &rule.only))
                    || has(i.exercise, &rule.exclude);
                if out {
                    x.exercises.push(i.exercise);
                }
                !out
            });
            for i in plan.items.iter_mut() {
                if has(i.exercise, &rule.supported) && i.exercise.supported.is_some() {
                    i.supported = Some(rule);
                    x.supported.push(i.exercise);
                }
            }
            for &(from, to) in &rule.swap_advice {
                if let Some(pos) = plan
                    .advice
                    .iter()
                    .position(|a| std::ptr::eq(a.advice, &kb.advice[from]))
                {
                    x.advice.push(plan.advice[pos].advice);
                    if plan
                        .advice
                        .iter()
                        .any(|a| std::ptr::eq(a.advice, &kb.advice[to]))
                    {
                        plan.advice.remove(pos);
                    } else {
                        plan.advice[pos] = PlanAdvice {
                            advice: &kb.advice[to],
                            because: Because::PlanRule(rule),
                        };
                    }
                }
            }
            plan.treatments.retain(|t| {
                let out = rule
                    .exclude_treatments
                    .iter()
                    .any(|&i| std::ptr::eq(*t, &kb.treatments[i]));
                if out {
                    x.treatments.push(*t);
                }
                !out
            });
        }
        plan.exclusions.push(x);
    }
}

/// What a clinician changed in a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EditKind {
    Add,
    Remove,
    Swap,
    Dosage,
    /// Lift a `liftable` plan rule (P2): the edit names the rule where the
    /// others name an exercise, and its reason records who cleared the
    /// person. See [`lift`].
    Clear,
}

impl EditKind {
    pub const ALL: [EditKind; 5] = [
        EditKind::Add,
        EditKind::Remove,
        EditKind::Swap,
        EditKind::Dosage,
        EditKind::Clear,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EditKind::Add => "add",
            EditKind::Remove => "remove",
            EditKind::Swap => "swap",
            EditKind::Dosage => "dosage",
            EditKind::Clear => "clear",
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
/// [`home_plan`] applies them before the plan rules.
fn apply_edits<'k>(kb: &'k KnowledgeBase, plan: &mut HomePlan<'k>, edits: &[PlanEdit<'_>]) {
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
                        supported: None,
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
                            supported: None,
                        };
                    }
                }
            }
            EditKind::Dosage => {
                if let (Some(i), Some(d)) = (has(plan, edit.exercise), edit.dosage) {
                    plan.items[i].dosage = Some((d.to_string(), edit.reason.to_string()));
                }
            }
            // A lift changes the plan rules, not the items: `lift`.
            EditKind::Clear => {}
        }
    }
}
