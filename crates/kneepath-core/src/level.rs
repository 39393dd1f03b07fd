//! The five triage levels of the policy, most urgent first.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A triage level. The order of the variants is the order of urgency:
/// `Ambulance < Emergency < ... < SelfCare`, so the most urgent of several
/// levels is their minimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriageLevel {
    Ambulance,
    Emergency,
    Urgent,
    Routine,
    SelfCare,
}

impl TriageLevel {
    pub const ALL: [TriageLevel; 5] = [
        TriageLevel::Ambulance,
        TriageLevel::Emergency,
        TriageLevel::Urgent,
        TriageLevel::Routine,
        TriageLevel::SelfCare,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TriageLevel::Ambulance => "ambulance",
            TriageLevel::Emergency => "emergency",
            TriageLevel::Urgent => "urgent",
            TriageLevel::Routine => "routine",
            TriageLevel::SelfCare => "self_care",
        }
    }

    pub fn parse(s: &str) -> Option<TriageLevel> {
        TriageLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }

    pub(crate) fn names() -> String {
        TriageLevel::ALL.map(TriageLevel::as_str).join(", ")
    }

    /// Policy invariant: only `routine` and `self_care` get a home exercise
    /// plan; `urgent` and above get advice to protect the knee until seen.
    pub fn allows_home_plan(self) -> bool {
        self >= TriageLevel::Routine
    }

    /// The level a rule of this level gives when it fired only because of
    /// "not sure" answers: ambulance becomes emergency, emergency becomes
    /// urgent; other levels stay.
    pub fn one_less_if_emergency(self) -> TriageLevel {
        match self {
            TriageLevel::Ambulance => TriageLevel::Emergency,
            TriageLevel::Emergency => TriageLevel::Urgent,
            other => other,
        }
    }

    /// True when `self` is less urgent than `other` (an under-triage if
    /// `other` was the expected level).
    pub fn is_less_urgent_than(self, other: TriageLevel) -> bool {
        self > other
    }
}

impl fmt::Display for TriageLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
