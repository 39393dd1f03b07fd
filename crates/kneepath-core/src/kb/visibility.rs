//! The questionnaire as part of the safety case: no question a rule reads
//! may be hidden where that rule could otherwise fire.
//!
//! A rule that cannot be asked about cannot fire (policy v2, "What the
//! questionnaire must do"). A question is hidden by its `show_if` (when that
//! is definitely false) or by its section's gate (answered "no"); a hidden
//! question is never answered, so its fact stays unknown or "not present".
//! For every triage rule and plan rule, and every fact it reads, this module
//! proves that there is no state of the other answers in which the question
//! is hidden *and* the rule's firing depends on it: for each combination of
//! representative values of the facts the `show_if` reads (every option,
//! yes/no/not sure, the thresholds the conditions use and either side of
//! them, not reported) that hides the question, it checks that no answer to
//! the question could make the rule fire where leaving it unanswered might
//! not. The other facts are left free, and an abstract evaluation finds
//! which truth values the rule could take over all of them: it may report a
//! dependency that no single person could show (it ignores that two tests
//! of one free fact are related), never miss one.

use std::collections::BTreeSet;

use crate::condition::{Condition, Operand, Reading, Tri};
use crate::facts::{FactId, Facts, Value};

use super::{KnowledgeBase, Problem, QuestionKind};

/// A set of possible truth values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Can(u8);

const F: u8 = 1;
const U: u8 = 2;
const T: u8 = 4;

impl Can {
    const ALL: Can = Can(F | U | T);

    fn of(t: Tri) -> Can {
        Can(match t {
            Tri::False => F,
            Tri::Unknown => U,
            Tri::True => T,
        })
    }

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

/// The truth values `c` could take when the facts marked `free` may be
/// anything (any value, or not reported) and the others are as in `facts`.
fn possible(c: &Condition, facts: &Facts, free: &[bool]) -> Can {
    match c {
        Condition::All(parts) => {
            let cans: Vec<Can> = parts.iter().map(|p| possible(p, facts, free)).collect();
            let mut out = 0;
            if cans.iter().all(|c| c.has(T)) {
                out |= T;
            }
            if cans.iter().any(|c| c.has(F)) {
                out |= F;
            }
            if cans.iter().all(|c| c.has(T) || c.has(U)) && cans.iter().any(|c| c.has(U)) {
                out |= U;
            }
            Can(out)
        }
        Condition::Any(parts) => {
            let cans: Vec<Can> = parts.iter().map(|p| possible(p, facts, free)).collect();
            let mut out = 0;
            if cans.iter().any(|c| c.has(T)) {
                out |= T;
            }
            if cans.iter().all(|c| c.has(F)) {
                out |= F;
            }
            if cans.iter().all(|c| c.has(F) || c.has(U)) && cans.iter().any(|c| c.has(U)) {
                out |= U;
            }
            Can(out)
        }
        Condition::Not(inner) => {
            let i = possible(inner, facts, free);
            let mut out = 0;
            if i.has(T) {
                out |= F;
            }
            if i.has(F) {
                out |= T;
            }
            if i.has(U) {
                out |= U;
            }
            Can(out)
        }
        Condition::Unless(inner) => {
            let i = possible(inner, facts, free);
            let mut out = 0;
            if i.has(T) {
                out |= F;
            }
            if i.has(F) || i.has(U) {
                out |= T;
            }
            Can(out)
        }
        leaf => {
            let mut is_free = false;
            leaf.each_fact(&mut |f| is_free |= free[f]);
            if is_free {
                Can::ALL
            } else {
                Can::of(leaf.eval_in(facts, Reading::Warning))
            }
        }
    }
}

/// Representative values of one fact for the conditions in `conds`: every
/// option, yes/no/not sure, each threshold and either side of it, and the
/// values list tests name. "Not reported" is added by the caller.
fn representatives(kb: &KnowledgeBase, fact: FactId, conds: &[&Condition]) -> Vec<Value> {
    let q = &kb.questions[fact];
    match &q.kind {
        QuestionKind::Bool => vec![Value::Bool(true), Value::Bool(false), Value::Unsure],
        QuestionKind::Choice { options } => (0..options.len() as u16).map(Value::Choice).collect(),
        QuestionKind::Integer { min, max } => {
            let mut xs = BTreeSet::new();
            xs.insert(*min);
            xs.insert(*max);
            each_threshold(conds, fact, &mut |t| {
                let t = t.floor() as i64;
                for x in [t - 1, t, t + 1] {
                    xs.insert(x.clamp(*min, *max));
                }
            });
            xs.into_iter().map(Value::Int).collect()
        }
        QuestionKind::Number { min, max } => {
            let mut xs = vec![*min, *max];
            each_threshold(conds, fact, &mut |t| {
                for x in [t - 0.01, t, t + 0.01] {
                    xs.push(x.clamp(*min, *max));
                }
            });
            xs.sort_by(f64::total_cmp);
            xs.dedup();
            xs.into_iter().map(Value::Num).collect()
        }
        QuestionKind::Multi { options, .. } => {
            let mut named: BTreeSet<String> = BTreeSet::new();
            for c in conds {
                c.each_leaf(&mut |leaf| {
                    if let Condition::ContainsAny {
                        fact: f, values, ..
                    }
                    | Condition::ContainsOther {
                        fact: f, values, ..
                    } = leaf
                        && *f == fact
                    {
                        named.extend(values.iter().cloned());
                    }
                });
            }
            // One value no test names, if the question has one.
            let other = options
                .iter()
                .map(|o| o.value.clone())
                .find(|v| !named.contains(v))
                .unwrap_or_else(|| "other".to_string());
            let named: Vec<String> = named.into_iter().collect();
            // Every combination of the named values, with and without the
            // other one: the hiding condition and the rule may test several.
            let mut out = Vec::new();
            let n = named.len().min(10);
            for mask in 0u32..(1 << n) {
                let set: Vec<String> = (0..n)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| named[i].clone())
                    .collect();
                let mut with_other = set.clone();
                with_other.push(other.clone());
                out.push(Value::List(set));
                out.push(Value::List(with_other));
            }
            out
        }
    }
}

fn each_threshold(conds: &[&Condition], fact: FactId, visit: &mut dyn FnMut(f64)) {
    for c in conds {
        c.each_leaf(&mut |leaf| {
            if let Condition::Compare {
                left: Operand::Fact(f),
                threshold,
                ..
            } = leaf
                && *f == fact
            {
                visit(*threshold);
            }
        });
    }
}

/// Every assignment of `facts` to their representative values or to "not
/// reported".
fn assignments(
    kb: &KnowledgeBase,
    facts: &[FactId],
    conds: &[&Condition],
) -> Vec<Vec<Option<Value>>> {
    let mut out: Vec<Vec<Option<Value>>> = vec![Vec::new()];
    for &f in facts {
        let mut reps: Vec<Option<Value>> = vec![None];
        reps.extend(representatives(kb, f, conds).into_iter().map(Some));
        out = out
            .into_iter()
            .flat_map(|a| {
                reps.iter().map(move |r| {
                    let mut a = a.clone();
                    a.push(r.clone());
                    a
                })
            })
            .collect();
    }
    out
}

/// A rule of either kind, for the check.
struct Reader<'a> {
    name: String,
    file: &'static str,
    when: &'a Condition,
}

/// Every problem of a question hidden where a rule reads it.
pub(super) fn hidden_question_problems(kb: &KnowledgeBase) -> Vec<Problem> {
    let mut readers: Vec<Reader<'_>> = kb
        .rules
        .iter()
        .map(|r| Reader {
            name: format!("rule {}", r.id),
            file: "rules.toml",
            when: &r.when,
        })
        .collect();
    readers.extend(kb.plan_rules.iter().filter_map(|r| {
        Some(Reader {
            name: format!("plan rule {}", r.id),
            file: "plan_rules.toml",
            when: r.when.as_ref()?,
        })
    }));
    let mut problems = Vec::new();
    for reader in &readers {
        let mut read = BTreeSet::new();
        reader.when.each_fact(&mut |f| {
            read.insert(f);
        });
        for &f in &read {
            let q = &kb.questions[f];
            if let Some(gate) = &kb.sections[q.section].gate {
                problems.push(Problem {
                    file: reader.file.into(),
                    entry: Some(reader.name.clone()),
                    message: format!(
                        "reads `{}`, which the questionnaire skips when \"{gate}\" is answered no; \
                         a rule's question must always be asked",
                        q.id
                    ),
                });
            }
            let Some(show_if) = &q.show_if else {
                continue;
            };
            if let Some(state) = hiding_state(kb, f, show_if, reader.when) {
                problems.push(Problem {
                    file: reader.file.into(),
                    entry: Some(reader.name.clone()),
                    message: format!(
                        "reads `{}`, but its question is hidden by `show_if` when {state}, \
                         where the rule could fire on its answer; change the question's `show_if` \
                         so it is asked wherever the rule needs it",
                        q.id
                    ),
                });
            }
        }
    }
    problems
}

/// A state of the answers in which `show_if` hides `fact` while `rule`
/// could fire through it, in words; `None` when there is none.
fn hiding_state(
    kb: &KnowledgeBase,
    fact: FactId,
    show_if: &Condition,
    rule: &Condition,
) -> Option<String> {
    let mut by: BTreeSet<FactId> = BTreeSet::new();
    show_if.each_fact(&mut |f| {
        by.insert(f);
    });
    by.remove(&fact);
    let by: Vec<FactId> = by.into_iter().collect();
    let conds = [show_if, rule];
    let answers = representatives(kb, fact, &conds);
    for a in assignments(kb, &by, &conds) {
        let mut facts = Facts::empty(kb);
        let mut free = vec![true; kb.questions.len()];
        for (&f, v) in by.iter().zip(&a) {
            facts.set(f, v.clone());
            free[f] = false;
        }
        free[fact] = false;
        if show_if.eval_in(&facts, Reading::Warning) != Tri::False {
            continue;
        }
        // Hidden here: unanswered, could the rule still fail to fire, while
        // some answer would make it fire?
        let unanswered = possible(rule, &facts, &free);
        if !(unanswered.has(F) || unanswered.has(U)) {
            continue;
        }
        let pivotal = answers.iter().any(|v| {
            let mut with = facts.clone();
            with.set(fact, Some(v.clone()));
            possible(rule, &with, &free).has(T)
        });
        if pivotal {
            let words: Vec<String> = by
                .iter()
                .zip(&a)
                .map(|(&f, v)| {
                    let q = &kb.questions[f];
                    match v {
                        None => format!("`{}` is not answered", q.id),
                        Some(v) => format!("`{}` is {}", q.id, q.value_to_json(v)),
                    }
                })
                .collect();
            return Some(words.join(" and "));
        }
    }
    None
}
