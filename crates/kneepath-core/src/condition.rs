//! The condition language of the knowledge base, and its one evaluator.
//!
//! Conditions are structured data (never strings such as `">= 75"`), parsed
//! and type-checked against the questionnaire when the knowledge base loads
//! (see `kb::load`), so evaluation cannot meet an unknown fact or a type
//! mismatch.
//!
//! Evaluation is three-valued ([`Tri`]): a fact that was not reported is
//! *unknown*, and unknowns propagate with Kleene logic (`all` is false if any
//! part is false, unknown if any is unknown; `any` is true if any part is true;
//! `not unknown` is unknown). A rule fires only when its condition is
//! definitely [`Tri::True`]. This is the policy's "a rule that needs it does
//! not fire", with refinements from the questionnaire and the policy:
//! - a yes/no fact marked `absent = "false"` (every warning sign) counts as
//!   *not present* when not reported; a list counts as empty unless its
//!   question says `absent = "unknown"` (`mechanism`);
//! - a leaf marked `or_unknown` holds when its fact is unknown (policy v2:
//!   an unknown time since onset counts as recent, an unknown onset as
//!   sudden);
//! - `unless` holds when its part is not *known* to hold (A3 fires unless
//!   every condition of R12 is known to hold).
//!
//! **"Not sure" answers.** A yes/no fact may be [`Value::Unsure`]. How it
//! counts depends on the [`Reading`]: for triage and the plan rules it is the
//! warning answer (`Reading::Warning`); to find out whether a rule fired
//! *only* because of it, the rule is evaluated again with it read as the
//! reassuring answer (`Reading::Reassuring`); for the contributing factors it
//! counts as not reported (`Reading::NotReported`). In every reading an
//! unsure answer never satisfies a test *for* the reassuring answer (R12's
//! "no high-energy trauma"): it is never taken as absent. The loader refuses
//! a yes/no test inside `not`, where that could not hold.

use crate::facts::{FactId, Facts, Value};

/// How "not sure" answers count (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// As the warning answer: triage, the plan rules, which questions to ask.
    Warning,
    /// As the reassuring answer, except that it never counts as absent.
    Reassuring,
    /// As if not reported: the contributing factors.
    NotReported,
}

/// A three-valued truth value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    False,
    Unknown,
    True,
}

impl Tri {
    fn of(b: bool) -> Tri {
        if b { Tri::True } else { Tri::False }
    }

    pub fn is_true(self) -> bool {
        self == Tri::True
    }
}

/// Comparison of a number with a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn apply(self, x: f64, threshold: f64) -> bool {
        match self {
            CmpOp::Lt => x < threshold,
            CmpOp::Le => x <= threshold,
            CmpOp::Gt => x > threshold,
            CmpOp::Ge => x >= threshold,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// The left side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Fact(FactId),
    /// `a - b`, for side-to-side differences.
    Difference(FactId, FactId),
}

/// A compiled condition. Fact ids and option indices were resolved at load.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
    /// Holds unless the part is known to hold (false or unknown: true).
    Unless(Box<Condition>),
    /// A yes/no fact equals `value`. `absent_false`: not reported means no.
    /// `warning`: the fact's warning answer (`false` for `knee_flex_90`),
    /// which is what a "not sure" answer counts as in [`Reading::Warning`].
    Bool {
        fact: FactId,
        value: bool,
        absent_false: bool,
        warning: bool,
    },
    /// A choice fact is one of `options` (indices into the question's
    /// options). `or_unknown`: an unknown fact counts as one of them.
    Choice {
        fact: FactId,
        options: Vec<u16>,
        or_unknown: bool,
    },
    /// `or_unknown`: an unknown operand counts as meeting the threshold.
    Compare {
        left: Operand,
        op: CmpOp,
        threshold: f64,
        or_unknown: bool,
    },
    /// A list fact contains at least one of `values`. Absent means empty,
    /// unless `absent_unknown` (then it is unknown, and `or_unknown` makes
    /// an unknown list count as containing one of them).
    ContainsAny {
        fact: FactId,
        values: Vec<String>,
        absent_unknown: bool,
        or_unknown: bool,
    },
    /// A list fact contains a value that is not one of `values` (`sports`
    /// naming a sport other than "none"). Absent as for `ContainsAny`.
    ContainsOther {
        fact: FactId,
        values: Vec<String>,
        absent_unknown: bool,
    },
    /// A list fact is non-empty (`expect = true`) or empty.
    NotEmpty {
        fact: FactId,
        expect: bool,
        absent_unknown: bool,
    },
    /// The fact was reported (`expect = true`) or was not.
    Known {
        fact: FactId,
        expect: bool,
    },
}

impl Condition {
    /// Evaluate against a person's facts, a "not sure" answer counting as
    /// the warning answer (triage, plan rules, questionnaire).
    pub fn eval(&self, facts: &Facts) -> Tri {
        self.eval_in(facts, Reading::Warning)
    }

    /// Evaluate with "not sure" answers read as `reading` says.
    pub fn eval_in(&self, facts: &Facts, reading: Reading) -> Tri {
        match self {
            Condition::All(parts) => {
                let mut out = Tri::True;
                for p in parts {
                    match p.eval_in(facts, reading) {
                        Tri::False => return Tri::False,
                        Tri::Unknown => out = Tri::Unknown,
                        Tri::True => {}
                    }
                }
                out
            }
            Condition::Any(parts) => {
                let mut out = Tri::False;
                for p in parts {
                    match p.eval_in(facts, reading) {
                        Tri::True => return Tri::True,
                        Tri::Unknown => out = Tri::Unknown,
                        Tri::False => {}
                    }
                }
                out
            }
            Condition::Not(inner) => match inner.eval_in(facts, reading) {
                Tri::True => Tri::False,
                Tri::False => Tri::True,
                Tri::Unknown => Tri::Unknown,
            },
            Condition::Unless(inner) => Tri::of(!inner.eval_in(facts, reading).is_true()),
            Condition::Bool {
                fact,
                value,
                absent_false,
                warning,
            } => match facts.get(*fact) {
                Some(Value::Bool(b)) => Tri::of(b == value),
                Some(Value::Unsure) => match reading {
                    Reading::Warning => Tri::of(value == warning),
                    Reading::Reassuring => Tri::False,
                    Reading::NotReported if *absent_false => Tri::of(!*value),
                    Reading::NotReported => Tri::Unknown,
                },
                None if *absent_false => Tri::of(!*value),
                _ => Tri::Unknown,
            },
            Condition::Choice {
                fact,
                options,
                or_unknown,
            } => match facts.get(*fact) {
                Some(Value::Choice(c)) => Tri::of(options.contains(c)),
                _ if *or_unknown => Tri::True,
                _ => Tri::Unknown,
            },
            Condition::Compare {
                left,
                op,
                threshold,
                or_unknown,
            } => match operand_value(left, facts) {
                Some(x) => Tri::of(op.apply(x, *threshold)),
                None if *or_unknown => Tri::True,
                None => Tri::Unknown,
            },
            Condition::ContainsAny {
                fact,
                values,
                absent_unknown,
                or_unknown,
            } => match facts.get(*fact) {
                Some(Value::List(items)) => Tri::of(items.iter().any(|i| values.contains(i))),
                _ if !*absent_unknown => Tri::False,
                _ if *or_unknown => Tri::True,
                _ => Tri::Unknown,
            },
            Condition::ContainsOther {
                fact,
                values,
                absent_unknown,
            } => match facts.get(*fact) {
                Some(Value::List(items)) => Tri::of(items.iter().any(|i| !values.contains(i))),
                _ if *absent_unknown => Tri::Unknown,
                _ => Tri::False,
            },
            Condition::NotEmpty {
                fact,
                expect,
                absent_unknown,
            } => match facts.get(*fact) {
                Some(Value::List(items)) => Tri::of(items.is_empty() != *expect),
                _ if *absent_unknown => Tri::Unknown,
                _ => Tri::of(!*expect),
            },
            Condition::Known { fact, expect } => Tri::of(facts.get(*fact).is_some() == *expect),
        }
    }

    /// The reported facts that make this (true) condition true, appended to
    /// `out` without duplicates. For `any`, only the parts that hold (in
    /// `reading`) count; for `all`, every part. Facts that were not reported
    /// are never listed.
    pub fn evidence(&self, facts: &Facts, reading: Reading, out: &mut Vec<FactId>) {
        match self {
            Condition::All(parts) => parts.iter().for_each(|p| p.evidence(facts, reading, out)),
            Condition::Any(parts) => {
                for p in parts {
                    if p.eval_in(facts, reading).is_true() {
                        p.evidence(facts, reading, out);
                    }
                }
            }
            Condition::Not(inner) | Condition::Unless(inner) => {
                inner.each_fact(&mut |f| push_present(facts, f, out))
            }
            leaf => leaf.each_fact(&mut |f| push_present(facts, f, out)),
        }
    }

    /// Visit every fact this condition refers to.
    pub fn each_fact(&self, visit: &mut dyn FnMut(FactId)) {
        match self {
            Condition::All(parts) | Condition::Any(parts) => {
                parts.iter().for_each(|p| p.each_fact(visit))
            }
            Condition::Not(inner) | Condition::Unless(inner) => inner.each_fact(visit),
            Condition::Bool { fact, .. }
            | Condition::Choice { fact, .. }
            | Condition::ContainsAny { fact, .. }
            | Condition::ContainsOther { fact, .. }
            | Condition::NotEmpty { fact, .. }
            | Condition::Known { fact, .. } => visit(*fact),
            Condition::Compare { left, .. } => match left {
                Operand::Fact(f) => visit(*f),
                Operand::Difference(a, b) => {
                    visit(*a);
                    visit(*b);
                }
            },
        }
    }

    /// Visit every leaf of this condition (not `all`, `any`, `not`, `unless`).
    pub fn each_leaf<'a>(&'a self, visit: &mut dyn FnMut(&'a Condition)) {
        match self {
            Condition::All(parts) | Condition::Any(parts) => {
                parts.iter().for_each(|p| p.each_leaf(visit))
            }
            Condition::Not(inner) | Condition::Unless(inner) => inner.each_leaf(visit),
            leaf => visit(leaf),
        }
    }
}

fn operand_value(op: &Operand, facts: &Facts) -> Option<f64> {
    match op {
        Operand::Fact(f) => facts.get(*f)?.as_f64(),
        Operand::Difference(a, b) => Some(facts.get(*a)?.as_f64()? - facts.get(*b)?.as_f64()?),
    }
}

fn push_present(facts: &Facts, fact: FactId, out: &mut Vec<FactId>) {
    if facts.get(fact).is_some() && !out.contains(&fact) {
        out.push(fact);
    }
}
