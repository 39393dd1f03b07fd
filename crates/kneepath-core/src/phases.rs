//! A plan's phase history: how each phase began (a [`PhaseMove`]), and
//! which moves a check-in made. The store keeps the history as rows; what
//! they mean is decided here.
//!
//! A plan starts with a change without a phase it came from: the triage
//! started it, or a clinician did after seeing a person the triage sent to
//! a doctor. Every later change moves it on from a phase: the progression
//! rules did, on a check-in, or a clinician did by hand.

use serde::Serialize;

use crate::day::Day;

/// How a plan came to a phase. `A` names a clinician (the store's user id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum PhaseMove<A> {
    /// A plan started: by the triage (`by: None`) or by a clinician.
    Start { by: Option<A> },
    /// The progression rules moved it on from `from`, on a check-in.
    Rules { from: String },
    /// A clinician moved it on from `from`.
    Clinician { from: String, author: A },
}

impl<A> PhaseMove<A> {
    /// The move a stored change records: the phase it came from (none: a
    /// start) and the clinician who made it (none: the rules or triage).
    pub fn of(from: Option<String>, author: Option<A>) -> PhaseMove<A> {
        match (from, author) {
            (None, by) => PhaseMove::Start { by },
            (Some(from), None) => PhaseMove::Rules { from },
            (Some(from), Some(author)) => PhaseMove::Clinician { from, author },
        }
    }

    /// The phase it came from; none for a start.
    pub fn from(&self) -> Option<&str> {
        match self {
            PhaseMove::Start { .. } => None,
            PhaseMove::Rules { from } | PhaseMove::Clinician { from, .. } => Some(from),
        }
    }

    /// The clinician who made it, if one did.
    pub fn author(&self) -> Option<&A> {
        match self {
            PhaseMove::Start { by } => by.as_ref(),
            PhaseMove::Rules { .. } => None,
            PhaseMove::Clinician { author, .. } => Some(author),
        }
    }

    pub fn is_start(&self) -> bool {
        matches!(self, PhaseMove::Start { .. })
    }

    /// A clinician started this plan by hand.
    pub fn is_start_by_clinician(&self) -> bool {
        matches!(self, PhaseMove::Start { by: Some(_) })
    }

    /// The progression rules made it (not a start, not a clinician).
    pub fn by_the_rules(&self) -> bool {
        matches!(self, PhaseMove::Rules { .. })
    }
}

/// One change of a plan's phase, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseChange<A> {
    /// Its row id; ids grow in the order rows are made.
    pub id: String,
    /// The assessment whose plan it belongs to.
    pub assessment_id: String,
    /// First day whose check-ins count for `to_phase`.
    pub day: Day,
    pub to_phase: String,
    pub reason: String,
    pub created_at: String,
    pub how: PhaseMove<A>,
}

/// Where the current plan begins in a person's whole phase history (oldest
/// first): at its newest start, or at the first change when none is one.
pub fn current_plan_start<A>(all: &[PhaseChange<A>]) -> usize {
    all.iter().rposition(|p| p.how.is_start()).unwrap_or(0)
}

/// Whether the rules may have made phase change `p` on the check-in of
/// `day` (or on a correction of it), for the page that says what a check-in
/// did: a move starts the day after the newest check-in
/// (`progress::move_starts`), so the day after this one when it was the
/// newest; or any move made after it was logged, while it is the check-in
/// logged last (`last_logged`: its day and row id).
pub fn made_on_checkin<A>(
    p: &PhaseChange<A>,
    day: Day,
    last_logged: Option<&(Day, String)>,
) -> bool {
    p.how.by_the_rules()
        && (p.day == day.plus(1) || last_logged.is_some_and(|(d, id)| *d == day && p.id > *id))
}

/// The phase (its id) and the day it began, before the check-in of `day`
/// moved the plan, when the plan's latest changes were all made on it (by
/// the rules on that check-in and on earlier corrections of it, under
/// `assessment_id`). Only while it is the check-in logged last: then every
/// other check-in was made before those moves, in the phase the rules
/// count it in. Once another is logged (in the phase it moved to), its
/// moves stand and a correction runs the rules from the phase the plan is
/// in, so no check-in made in one phase counts for another. None
/// otherwise. `plan_start` is the day the plan began.
pub fn before_moves_of_checkin<'h, A>(
    history: &'h [PhaseChange<A>],
    assessment_id: &str,
    last_logged: Option<&(Day, String)>,
    day: Day,
    plan_start: Day,
) -> Option<(&'h str, Day)> {
    let (last_day, last_id) = last_logged?;
    if *last_day != day {
        return None;
    }
    let made_by_it = |p: &PhaseChange<A>| {
        p.assessment_id == assessment_id && p.how.by_the_rules() && p.id > *last_id
    };
    let first = history.len() - history.iter().rev().take_while(|p| made_by_it(p)).count();
    let from = history.get(first)?.how.from()?;
    let since = first
        .checked_sub(1)
        .and_then(|i| history.get(i))
        .map_or(plan_start, |p| p.day);
    Some((from, since))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(
        id: &str,
        day: i32,
        from: Option<&str>,
        to: &str,
        author: Option<&str>,
    ) -> PhaseChange<String> {
        PhaseChange {
            id: id.into(),
            assessment_id: "a".into(),
            day: Day(day),
            to_phase: to.into(),
            reason: String::new(),
            created_at: String::new(),
            how: PhaseMove::of(from.map(str::to_string), author.map(str::to_string)),
        }
    }

    #[test]
    fn a_stored_change_reads_as_its_move() {
        assert_eq!(
            change("1", 0, None, "p1", None).how,
            PhaseMove::Start { by: None }
        );
        assert!(
            change("1", 0, None, "p1", Some("c"))
                .how
                .is_start_by_clinician()
        );
        assert!(change("2", 5, Some("p1"), "p2", None).how.by_the_rules());
        let by_hand = change("3", 6, Some("p2"), "p1", Some("c")).how;
        assert_eq!(
            (by_hand.from(), by_hand.author().map(String::as_str)),
            (Some("p2"), Some("c"))
        );
        assert!(!by_hand.by_the_rules());
    }

    #[test]
    fn the_moves_a_check_in_made_and_the_phase_before_them() {
        let history = vec![
            change("1", 0, None, "p1", None),
            change("5", 10, Some("p1"), "p2", None),
            change("7", 21, Some("p2"), "p3", None),
        ];
        // The check-in of day 20 (row "6") was logged last: the move after
        // it is its own; before it, the plan was in p2 since day 10.
        let last = (Day(20), "6".to_string());
        assert!(made_on_checkin(&history[2], Day(20), Some(&last)));
        assert!(!made_on_checkin(&history[1], Day(20), Some(&last)));
        assert_eq!(
            before_moves_of_checkin(&history, "a", Some(&last), Day(20), Day(0)),
            Some(("p2", Day(10)))
        );
        // Another day's check-in logged last: its moves stand.
        assert_eq!(
            before_moves_of_checkin(&history, "a", Some(&last), Day(19), Day(0)),
            None
        );
        // A clinician's move is never a check-in's.
        let mut by_hand = history.clone();
        by_hand[2].how = PhaseMove::of(Some("p2".into()), Some("c".into()));
        assert!(!made_on_checkin(&by_hand[2], Day(20), Some(&last)));
        assert_eq!(
            before_moves_of_checkin(&by_hand, "a", Some(&last), Day(20), Day(0)),
            None
        );
    }
}
