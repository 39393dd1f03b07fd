//! What the questionnaire must do (policy v2), for every way of asking it:
//! the web wizard, the terminal interview, a FHIR form.
//!
//! - Which questions a step shows ([`visible`]): a question is asked unless
//!   its `show_if` is definitely false on the answers so far (the knowledge
//!   base's validation proves that this never hides a rule's question).
//! - Which must be answered ([`Question::must_answer`]), and what an answer
//!   left blank means: "not reported", never "no".
//! - When to stop at once ([`stop`]): as soon as the answers make an
//!   `ambulance` rule fire; for an `emergency` rule, after the questions the
//!   `ambulance` rules read that are still unanswered.
//!
//! [`Question::must_answer`]: crate::kb::Question::must_answer

use crate::condition::Tri;
use crate::engine::fired_rules;
use crate::facts::{FactId, Facts};
use crate::kb::KnowledgeBase;
use crate::level::TriageLevel;

/// The questions of `section` to ask given the answers so far, in order.
pub fn visible(kb: &KnowledgeBase, section: usize, facts: &Facts) -> Vec<FactId> {
    (0..kb.questions.len())
        .filter(|&q| kb.questions[q].section == section)
        .filter(|&q| {
            kb.questions[q]
                .show_if
                .as_ref()
                .is_none_or(|c| c.eval(facts) != Tri::False)
        })
        .collect()
}

/// Whether the questionnaire goes on after the answers so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// No `ambulance` or `emergency` rule fires: go on.
    GoOn,
    /// Stop now and show this level's action first; the rest of the
    /// questions can be answered later.
    Now(TriageLevel),
    /// An `emergency` rule fires: ask these questions (the ones the
    /// `ambulance` rules read, not answered yet) first, then stop.
    AskFirst(Vec<FactId>),
}

/// Whether to stop now. `answered` says which facts the person has answered
/// (yes, no, not sure or a value); the others are not reported.
pub fn stop(kb: &KnowledgeBase, facts: &Facts, answered: &dyn Fn(FactId) -> bool) -> Stop {
    let level = fired_rules(kb, facts)
        .iter()
        .map(|f| f.level)
        .min()
        .unwrap_or(TriageLevel::SelfCare);
    match level {
        TriageLevel::Ambulance => Stop::Now(level),
        TriageLevel::Emergency => {
            let mut ask: Vec<FactId> = Vec::new();
            for r in kb
                .rules
                .iter()
                .filter(|r| r.level == TriageLevel::Ambulance)
            {
                r.when.each_fact(&mut |f| {
                    if !answered(f) && !ask.contains(&f) {
                        ask.push(f);
                    }
                });
            }
            ask.sort_unstable();
            if ask.is_empty() {
                Stop::Now(level)
            } else {
                Stop::AskFirst(ask)
            }
        }
        _ => Stop::GoOn,
    }
}
