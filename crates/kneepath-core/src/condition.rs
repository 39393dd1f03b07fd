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
//! not fire", with one refinement from the questionnaire: a yes/no fact marked
//! `absent = "false"` (every warning sign) counts as *not present* when not
//! reported, and an absent list counts as empty.

use crate::facts::{FactId, Facts, Value};

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
    /// A yes/no fact equals `value`. `absent_false`: not reported means no.
    Bool {
        fact: FactId,
        value: bool,
        absent_false: bool,
    },
    /// A choice fact is one of `options` (indices into the question's options).
    Choice {
        fact: FactId,
        options: Vec<u16>,
    },
    Compare {
        left: Operand,
        op: CmpOp,
        threshold: f64,
    },
    /// A list fact contains at least one of `values`. Absent means empty.
    ContainsAny {
        fact: FactId,
        values: Vec<String>,
    },
    /// A list fact is non-empty (`expect = true`) or empty.
    NotEmpty {
        fact: FactId,
        expect: bool,
    },
    /// The fact was reported (`expect = true`) or was not.
    Known {
        fact: FactId,
        expect: bool,
    },
}

impl Condition {
    /// Evaluate against a person's facts.
    pub fn eval(&self, facts: &Facts) -> Tri {
        match self {
            Condition::All(parts) => {
                let mut out = Tri::True;
                for p in parts {
                    match p.eval(facts) {
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
                    match p.eval(facts) {
                        Tri::True => return Tri::True,
                        Tri::Unknown => out = Tri::Unknown,
                        Tri::False => {}
                    }
                }
                out
            }
            Condition::Not(inner) => match inner.eval(facts) {
                Tri::True => Tri::False,
                Tri::False => Tri::True,
                Tri::Unknown => Tri::Unknown,
            },
            Condition::Bool {
                fact,
                value,
                absent_false,
            } => match facts.get(*fact) {
                Some(Value::Bool(b)) => Tri::of(b == value),
                None if *absent_false => Tri::of(!*value),
                _ => Tri::Unknown,
            },
            Condition::Choice { fact, options } => match facts.get(*fact) {
                Some(Value::Choice(c)) => Tri::of(options.contains(c)),
                _ => Tri::Unknown,
            },
            Condition::Compare {
                left,
                op,
                threshold,
            } => match operand_value(left, facts) {
                Some(x) => Tri::of(op.apply(x, *threshold)),
                None => Tri::Unknown,
            },
            Condition::ContainsAny { fact, values } => match facts.get(*fact) {
                Some(Value::List(items)) => Tri::of(items.iter().any(|i| values.contains(i))),
                _ => Tri::False,
            },
            Condition::NotEmpty { fact, expect } => match facts.get(*fact) {
                Some(Value::List(items)) => Tri::of(items.is_empty() != *expect),
                _ => Tri::of(!*expect),
            },
            Condition::Known { fact, expect } => Tri::of(facts.get(*fact).is_some() == *expect),
        }
    }

    /// The reported facts that make this (true) condition true, appended to
    /// `out` without duplicates. For `any`, only the parts that hold count;
    /// for `all`, every part. Facts that were not reported are never listed.
    pub fn evidence(&self, facts: &Facts, out: &mut Vec<FactId>) {
        match self {
            Condition::All(parts) => parts.iter().for_each(|p| p.evidence(facts, out)),
            Condition::Any(parts) => {
                for p in parts {
                    if p.eval(facts).is_true() {
                        p.evidence(facts, out);
                    }
                }
            }
            Condition::Not(inner) => inner.each_fact(&mut |f| push_present(facts, f, out)),
            leaf => leaf.each_fact(&mut |f| push_present(facts, f, out)),
        }
    }

    /// Visit every fact this condition refers to.
    pub fn each_fact(&self, visit: &mut dyn FnMut(FactId)) {
        match self {
            Condition::All(parts) | Condition::Any(parts) => {
                parts.iter().for_each(|p| p.each_fact(visit))
            }
            Condition::Not(inner) => inner.each_fact(visit),
            Condition::Bool { fact, .. }
            | Condition::Choice { fact, .. }
            | Condition::ContainsAny { fact, .. }
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
