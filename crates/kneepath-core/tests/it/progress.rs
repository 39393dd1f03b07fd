//! The progression and escalation rules, each at its boundary.

use kneepath_core::checkin::{CheckIn, Swelling, facts_after, parse_checkin};
use kneepath_core::progress::{Decision, Escalation, PhaseState, escalation, review, scheduled_on};
use kneepath_core::{Day, Facts};

use super::{facts, kb};

/// A check-in on `day` with exercise pain `ep`, morning pain `mp`, and
/// `done` of 5 planned exercises done.
fn ci(day: i32, pain: u8, ep: u8, mp: u8, done: usize) -> CheckIn {
    let planned: Vec<String> = (0..5).map(|i| format!("e{i}")).collect();
    CheckIn {
        day: Day(day),
        pain_now: pain,
        exercise_pain: Some(ep),
        morning_pain: Some(mp),
        stiffness: 2,
        swelling: Some(Swelling::None),
        walks_normally: Some(true),
        full_range: Some(true),
        done: planned[..done].to_vec(),
        planned,
        training_minutes: 0,
        effort: 0,
        sleep_hours: Some(8.0),
        warning_signs: vec![],
    }
}

fn phase(id: &str) -> usize {
    kb().phase_by_id(id).expect("phase")
}

/// Review in `phase_id` (since day 0) with facts after the latest check-in.
fn decide(phase_id: &str, checkins: &[CheckIn]) -> Decision {
    let base = facts("age = 25\nonset = \"sudden\"\ndays_since_onset = 1");
    let f: Facts = facts_after(kb(), &base, checkins.last().expect("a check-in"));
    review(
        kb(),
        PhaseState {
            phase: phase(phase_id),
            since: Day(0),
        },
        checkins,
        &f,
    )
}

fn advances(d: &Decision) -> bool {
    matches!(d, Decision::Advance { .. })
}

#[test]
fn advance_after_three_good_check_ins() {
    let good = [ci(0, 3, 3, 2, 5), ci(1, 3, 3, 2, 5), ci(2, 3, 3, 2, 5)];
    let d = decide("protect", &good);
    assert!(
        matches!(d, Decision::Advance { to, .. } if to == phase("mobilise")),
        "{d:?}"
    );
}

#[test]
fn two_check_ins_are_not_enough() {
    let d = decide("protect", &[ci(0, 3, 3, 2, 5), ci(1, 3, 3, 2, 5)]);
    assert!(
        matches!(&d, Decision::Stay { waiting_for } if waiting_for[0].contains("1 more check-in")),
        "{d:?}"
    );
}

#[test]
fn exercise_pain_limit_is_three() {
    assert!(advances(&decide(
        "protect",
        &[ci(0, 3, 3, 2, 5), ci(1, 3, 3, 2, 5), ci(2, 3, 3, 2, 5)]
    )));
    assert!(!advances(&decide(
        "protect",
        &[ci(0, 3, 3, 2, 5), ci(1, 3, 4, 2, 5), ci(2, 3, 3, 2, 5)]
    )));
}

#[test]
fn adherence_limit_is_eighty_percent() {
    // 12 of 15 = 80%: advance. 11 of 15 = 73%: stay.
    assert!(advances(&decide(
        "protect",
        &[ci(0, 3, 3, 2, 4), ci(1, 3, 3, 2, 4), ci(2, 3, 3, 2, 4)]
    )));
    let d = decide(
        "protect",
        &[ci(0, 3, 3, 2, 4), ci(1, 3, 3, 2, 4), ci(2, 3, 3, 2, 3)],
    );
    assert!(
        matches!(&d, Decision::Stay { waiting_for } if waiting_for.iter().any(|w| w.contains("80%"))),
        "{d:?}"
    );
}

#[test]
fn morning_pain_must_not_exceed_baseline() {
    let earlier = [ci(0, 3, 3, 2, 5), ci(1, 3, 3, 2, 5), ci(2, 3, 3, 2, 5)];
    let mut ok = earlier.to_vec();
    ok.extend([ci(3, 3, 3, 2, 5), ci(4, 3, 3, 2, 5), ci(5, 3, 3, 2, 5)]);
    // Already advanced after day 2 in real life; review the later window in
    // a phase that started on day 3.
    let review_from_3 = |cs: &[CheckIn]| {
        let base = facts("age = 25");
        let f = facts_after(kb(), &base, cs.last().expect("check-in"));
        review(
            kb(),
            PhaseState {
                phase: phase("protect"),
                since: Day(3),
            },
            cs,
            &f,
        )
    };
    assert!(advances(&review_from_3(&ok)));
    let mut high = earlier.to_vec();
    high.extend([ci(3, 3, 3, 2, 5), ci(4, 3, 3, 3, 5), ci(5, 3, 3, 2, 5)]);
    assert!(!advances(&review_from_3(&high)));
}

#[test]
fn exit_criteria_must_hold() {
    // Protect's exit: pain at rest 3/10 or less.
    let d = decide(
        "protect",
        &[ci(0, 4, 3, 2, 5), ci(1, 4, 3, 2, 5), ci(2, 4, 3, 2, 5)],
    );
    assert!(
        matches!(&d, Decision::Stay { waiting_for } if waiting_for.iter().any(|w| w.contains("pain at rest"))),
        "{d:?}"
    );
}

#[test]
fn unmeasured_strength_does_not_block_the_strengthen_phase() {
    let cs = [ci(0, 1, 2, 1, 5), ci(1, 1, 2, 1, 5), ci(2, 1, 2, 1, 5)];
    let d = decide("strengthen", &cs);
    assert!(
        matches!(d, Decision::Advance { to, .. } if to == phase("return")),
        "{d:?}"
    );
    // Measured and below 90%: blocks.
    let base = facts("age = 25\nstrength_lsi_pct = 85");
    let f = facts_after(kb(), &base, &cs[2]);
    let d = review(
        kb(),
        PhaseState {
            phase: phase("strengthen"),
            since: Day(0),
        },
        &cs,
        &f,
    );
    assert!(!advances(&d), "{d:?}");
}

#[test]
fn step_back_when_exercise_pain_above_five() {
    let d = decide("mobilise", &[ci(0, 3, 3, 2, 5), ci(1, 3, 6, 2, 5)]);
    assert!(
        matches!(d, Decision::StepBack { to, .. } if to == phase("protect")),
        "{d:?}"
    );
    let d = decide("mobilise", &[ci(0, 3, 3, 2, 5), ci(1, 3, 5, 2, 5)]);
    assert!(!matches!(d, Decision::StepBack { .. }), "{d:?}");
}

#[test]
fn step_back_when_morning_pain_rises_two_on_two_days() {
    let base = [ci(0, 3, 3, 2, 5), ci(1, 3, 3, 2, 5), ci(2, 3, 3, 2, 5)];
    let mut two_days = base.to_vec();
    two_days.extend([ci(3, 3, 3, 4, 5), ci(4, 3, 3, 4, 5)]);
    assert!(matches!(
        decide("strengthen", &two_days),
        Decision::StepBack { .. }
    ));
    let mut one_day = base.to_vec();
    one_day.extend([ci(3, 3, 3, 3, 5), ci(4, 3, 3, 4, 5)]);
    assert!(!matches!(
        decide("strengthen", &one_day),
        Decision::StepBack { .. }
    ));
}

#[test]
fn a_move_starts_after_the_newest_check_in() {
    use kneepath_core::progress::move_starts;
    let others = [ci(1, 1, 1, 1, 3), ci(3, 1, 1, 1, 3)];
    // On the newest check-in: the next day.
    assert_eq!(move_starts(&others, &ci(4, 1, 1, 1, 3)), Day(5));
    // On one logged late, for day 2: after day 3, the newest.
    assert_eq!(move_starts(&others, &ci(2, 1, 1, 1, 3)), Day(4));
    // On a corrected one (its old values among the others): as for the newest.
    assert_eq!(move_starts(&others, &ci(3, 2, 1, 1, 3)), Day(4));
    assert_eq!(move_starts(&[], &ci(7, 1, 1, 1, 3)), Day(8));
}

#[test]
fn a_phase_counts_no_check_in_logged_before_it_began() {
    use kneepath_core::progress::starts_after;
    // A plan started again on day 5 after that day's check-in: from day 6.
    assert_eq!(starts_after(Some(Day(5)), Day(5)), Day(6));
    // Check-ins of earlier days do not move it.
    assert_eq!(starts_after(Some(Day(4)), Day(5)), Day(5));
    assert_eq!(starts_after(Some(Day(2)), Day(5)), Day(5));
    assert_eq!(starts_after(None, Day(5)), Day(5));
}

#[test]
fn never_step_back_below_the_first_phase() {
    let d = decide("protect", &[ci(0, 3, 9, 2, 5)]);
    assert!(!matches!(d, Decision::StepBack { .. }), "{d:?}");
}

#[test]
fn the_last_phase_stays() {
    let cs = [ci(0, 0, 0, 0, 5), ci(1, 0, 0, 0, 5), ci(2, 0, 0, 0, 5)];
    assert!(matches!(decide("return", &cs), Decision::Stay { .. }));
}

#[test]
fn the_last_phase_waits_only_for_its_own_criteria() {
    // One check-in with some pain during the exercises: no advance window to
    // speak of, since there is no next phase; only the unmet exit criteria.
    let Decision::Stay { waiting_for } = decide("return", &[ci(0, 0, 4, 0, 2)]) else {
        panic!("the last phase stays");
    };
    let exit: Vec<String> = kb().phases[phase("return")]
        .exit
        .iter()
        .map(|c| c.text.to_lowercase())
        .collect();
    assert!(!waiting_for.is_empty());
    assert!(
        waiting_for.iter().all(|w| exit.contains(w)),
        "{waiting_for:?}"
    );
}

fn week(from: i32, pain: &[u8]) -> Vec<CheckIn> {
    pain.iter()
        .enumerate()
        .map(|(i, p)| ci(from + i as i32, *p, 2, 2, 5))
        .collect()
}

#[test]
fn no_improvement_after_three_weeks() {
    // A meaningful fall is 2 points or 30% of the first week, whichever is
    // smaller. First week 8: 2 points. Last week 6.14 (fall 1.86 < 2).
    let mut cs = week(0, &[8, 8, 8, 8, 8, 8, 8]);
    cs.extend(week(15, &[6, 6, 6, 6, 6, 6, 7]));
    assert_eq!(
        escalation(kb(), Day(0), Day(21), &cs),
        Some(Escalation::NoImprovement)
    );
    assert_eq!(
        escalation(kb(), Day(0), Day(20), &cs[..13]),
        None,
        "not before 21 days"
    );
    // Last week 6.0: a fall of exactly 2 is meaningful.
    let mut better = week(0, &[8, 8, 8, 8, 8, 8, 8]);
    better.extend(week(15, &[6, 6, 6, 6, 6, 6, 6]));
    assert_eq!(escalation(kb(), Day(0), Day(21), &better), None);
    // First week 5: 30% is 1.5, smaller than 2. A fall to 3.71 (1.29) is
    // not meaningful; to 3.43 (1.57) is.
    let mut low = week(0, &[5, 5, 5, 5, 5, 5, 5]);
    low.extend(week(15, &[4, 4, 4, 4, 4, 3, 3]));
    assert_eq!(
        escalation(kb(), Day(0), Day(21), &low),
        Some(Escalation::NoImprovement)
    );
    let mut low_better = week(0, &[5, 5, 5, 5, 5, 5, 5]);
    low_better.extend(week(15, &[4, 4, 4, 3, 3, 3, 3]));
    assert_eq!(escalation(kb(), Day(0), Day(21), &low_better), None);
    // No pain in the first week: nothing to improve, no escalation.
    let mut none = week(0, &[0, 0, 0, 0, 0, 0, 0]);
    none.extend(week(15, &[0, 0, 0, 0, 0, 0, 0]));
    assert_eq!(escalation(kb(), Day(0), Day(21), &none), None);
}

#[test]
fn worsening_week_on_week() {
    // The same size of change for worsening: from 8, 2 points.
    let mut cs = week(0, &[6, 6, 6, 6, 6, 6, 6]);
    cs.extend(week(7, &[8, 8, 8, 8, 8, 8, 8]));
    assert_eq!(
        escalation(kb(), Day(0), Day(13), &cs),
        Some(Escalation::Worsening)
    );
    let mut less = week(0, &[7, 7, 7, 7, 7, 7, 7]);
    less.extend(week(7, &[9, 9, 9, 9, 9, 9, 8]));
    assert_eq!(
        escalation(kb(), Day(0), Day(13), &less),
        None,
        "rise 1.86 < 2"
    );
    // From 3, 30% is 0.9: a rise to 4 is worsening.
    let mut low = week(0, &[3, 3, 3, 3, 3, 3, 3]);
    low.extend(week(7, &[4, 4, 4, 4, 4, 4, 4]));
    assert_eq!(
        escalation(kb(), Day(0), Day(13), &low),
        Some(Escalation::Worsening)
    );
}

#[test]
fn schedule_spreads_n_days_over_the_week() {
    for n in 0..=7 {
        assert_eq!((0..7).filter(|&d| scheduled_on(n, d)).count() as u32, n);
    }
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn check_in_form_is_validated_field_by_field() {
    let planned = vec!["heel_slides".to_string()];
    let ok = form(&[
        ("day", "2026-11-24"),
        ("pain_now", "3"),
        ("exercise_pain", "2"),
        ("morning_pain", "2"),
        ("stiffness", "1"),
        ("swelling", "none"),
        ("walks_normally", "yes"),
        ("full_range", "no"),
        ("done", "heel_slides"),
        ("training_minutes", "30"),
        ("effort", "5"),
        ("sleep_hours", "7.5"),
        ("sign", "giving_way"),
    ]);
    let today: Day = "2026-11-24".parse().expect("day");
    let c = parse_checkin(kb(), &ok, &planned, today.plus(-7), today).expect("valid");
    assert_eq!(c.adherence(), 1.0);
    assert_eq!(c.warning_signs, ["giving_way"]);

    let bad = form(&[
        ("day", "2026-11-25"),
        ("pain_now", "11"),
        ("stiffness", ""),
        ("swelling", "huge"),
        ("walks_normally", "maybe"),
        ("full_range", "yes"),
        ("done", "nordic_curl"),
        ("sleep_hours", "25"),
        ("sign", "fake"),
        ("training_minutes", "20"),
    ]);
    let errors = parse_checkin(kb(), &bad, &planned, today.plus(-7), today).expect_err("invalid");
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    for f in [
        "day",
        "pain_now",
        "stiffness",
        "swelling",
        "walks_normally",
        "sleep_hours",
        "sign",
        "effort",
    ] {
        assert!(fields.contains(&f), "{f} should be reported: {errors:?}");
    }
    // The exercises are checked against the plan of the day asked for: a
    // refused day is what to fix, not what was ticked for it.
    assert!(!fields.contains(&"done"), "{errors:?}");

    // On a day that is right, an exercise not planned on it is named.
    let mut wrong = ok.clone();
    wrong.retain(|(k, _)| k != "done");
    wrong.push(("done".into(), "nordic_curl".into()));
    wrong.push(("done".into(), "no_such_exercise".into()));
    let errors = parse_checkin(kb(), &wrong, &planned, today.plus(-7), today).expect_err("invalid");
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "Nordic hamstring curl is not one of today's exercises.",
            "\"no_such_exercise\" is not one of today's exercises."
        ]
    );
}

#[test]
fn a_ticked_warning_sign_re_triages_as_urgent() {
    let base = facts("age = 30\nonset = \"gradual\"\npain_now = 3");
    let mut c = ci(0, 3, 2, 2, 5);
    c.warning_signs = vec!["calf_swelling_tenderness".into()];
    let a = kneepath_core::assess(kb(), &facts_after(kb(), &base, &c));
    assert_eq!(a.level, kneepath_core::TriageLevel::Urgent);
}

mod window {
    use kneepath_core::checkin::{CheckIn, Swelling};
    use kneepath_core::progress::{PhaseState, after_checkin, rules_window};
    use kneepath_core::{Day, Facts};
    use proptest::prelude::*;

    fn checkin(day: i32, pain: u8, ex: Option<u8>, morning: Option<u8>, done: bool) -> CheckIn {
        CheckIn {
            day: Day(day),
            pain_now: pain,
            exercise_pain: ex,
            morning_pain: morning,
            stiffness: 2,
            swelling: Some(Swelling::None),
            walks_normally: Some(true),
            full_range: Some(true),
            planned: vec!["heel_slides".into(), "quad_sets".into()],
            done: if done {
                vec!["heel_slides".into(), "quad_sets".into()]
            } else {
                vec!["heel_slides".into()]
            },
            training_minutes: 0,
            effort: 0,
            sleep_hours: Some(7.0),
            warning_signs: vec![],
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The rules see the same on the window as on the whole history,
        /// for a check-in on any day it may be dated (up to 14 days late).
        #[test]
        fn rules_give_the_same_result_on_the_window(
            days in proptest::collection::vec((0u8..3, 0u8..=10, proptest::option::of(0u8..=10), proptest::option::of(0u8..=10), any::<bool>()), 1..140),
            phase in 0usize..4,
            since_back in 0i32..100,
            late in 0i32..=14,
        ) {
            let kb = super::super::kb();
            let start = Day(20_000);
            // Check-ins on increasing days with gaps of 0-2 missed days.
            let mut all = Vec::new();
            let mut d = 20_000;
            for (gap, pain, ex, morning, done) in &days {
                d += i32::from(*gap) + 1;
                all.push(checkin(d, *pain, *ex, *morning, *done));
            }
            let today = Day(d);
            // The new check-in: today, or a free day up to 14 days back.
            let new_day = (0..=late).map(|k| today.plus(-k)).find(|day| !all.iter().any(|c| c.day == *day)).unwrap_or(today.plus(1));
            let new = checkin(new_day.0, 4, Some(3), Some(2), true);
            let mut with_new = all.clone();
            let pos = with_new.partition_point(|c| c.day < new.day);
            with_new.insert(pos, new.clone());
            let state = PhaseState { phase, since: today.plus(-since_back).max(start) };
            let facts = Facts::empty(kb);
            let full = after_checkin(kb, &facts, state, start, &with_new, &new);
            let mut window = rules_window(&all, start, today.max(new.day));
            let pos = window.partition_point(|c| c.day < new.day);
            window.insert(pos, new.clone());
            let part = after_checkin(kb, &facts, state, start, &window, &new);
            prop_assert_eq!(full.phase_change, part.phase_change);
            prop_assert_eq!(full.escalation, part.escalation);
            prop_assert_eq!(full.waiting_for, part.waiting_for);
        }
    }
}

/// The rules on a corrected check-in, when the check-in being corrected is
/// the one that moved the plan from `from` (since day 0) to `to` (since the
/// day after it).
fn correct(
    from: &str,
    to: &str,
    all: &[CheckIn],
) -> kneepath_core::progress::CheckinOutcome<'static> {
    let base = facts("age = 25\nonset = \"sudden\"\ndays_since_onset = 1");
    let corrected = all.last().expect("a check-in");
    kneepath_core::progress::after_correction(
        kb(),
        &base,
        PhaseState {
            phase: phase(to),
            since: corrected.day.plus(1),
        },
        Some(PhaseState {
            phase: phase(from),
            since: Day(0),
        }),
        Day(0),
        all,
        corrected,
    )
}

#[test]
fn a_corrected_typo_undoes_the_step_back_it_caused() {
    // Exercise pain 6 stepped the plan back from mobilise; it was a 3.
    let out = correct(
        "mobilise",
        "protect",
        &[ci(0, 3, 3, 2, 5), ci(1, 3, 3, 2, 5)],
    );
    let (to, reason) = out.phase_change.expect("moved back");
    assert_eq!(to, phase("mobilise"));
    assert!(reason.contains("was corrected"), "{reason}");
    // Corrected to a 7, the step back stands and nothing more is recorded.
    let out = correct(
        "mobilise",
        "protect",
        &[ci(0, 3, 3, 2, 5), ci(1, 3, 7, 2, 5)],
    );
    assert_eq!(out.phase_change, None);
}

#[test]
fn a_correction_can_call_for_a_different_move() {
    // The third check-in's exercise pain 6 stepped back to protect; as a 3
    // it is the third good check-in in a row, which moves on instead.
    let good = [ci(0, 3, 3, 2, 5), ci(1, 3, 3, 2, 5), ci(2, 3, 3, 2, 5)];
    let direct = decide("mobilise", &good);
    let out = correct("mobilise", "protect", &good);
    match direct {
        Decision::Advance { to, .. } => assert_eq!(out.phase_change.map(|c| c.0), Some(to)),
        other => panic!("three good check-ins should move on: {other:?}"),
    }
}

#[test]
fn a_warning_sign_added_by_a_correction_re_triages() {
    let mut c = ci(1, 3, 3, 2, 5);
    c.warning_signs = vec!["calf_swelling_tenderness".into()];
    let out = correct("mobilise", "protect", &[ci(0, 3, 3, 2, 5), c]);
    assert!(out.retriage.is_some());
    assert_eq!(out.phase_change, None);
}

#[test]
fn a_correction_of_a_check_in_that_moved_nothing_is_a_check_in() {
    let base = facts("age = 25\nonset = \"sudden\"\ndays_since_onset = 1");
    let all = [ci(0, 3, 3, 2, 5), ci(1, 3, 6, 2, 5)];
    let state = PhaseState {
        phase: phase("mobilise"),
        since: Day(0),
    };
    let corrected =
        kneepath_core::progress::after_correction(kb(), &base, state, None, Day(0), &all, &all[1]);
    let new = kneepath_core::progress::after_checkin(kb(), &base, state, Day(0), &all, &all[1]);
    assert_eq!(corrected.phase_change, new.phase_change);
    assert!(corrected.phase_change.is_some());
}

#[test]
fn correcting_again_after_the_move_was_undone_records_nothing_more() {
    // The plan went mobilise -> protect -> mobilise on the check-in of day 1
    // and its first correction; a second correction that calls for no move
    // leaves it where it is.
    let base = facts("age = 25\nonset = \"sudden\"\ndays_since_onset = 1");
    let all = [ci(0, 3, 3, 2, 5), ci(1, 3, 2, 2, 5)];
    let mobilise = PhaseState {
        phase: phase("mobilise"),
        since: Day(2),
    };
    let before = PhaseState {
        phase: phase("mobilise"),
        since: Day(0),
    };
    let out = kneepath_core::progress::after_correction(
        kb(),
        &base,
        mobilise,
        Some(before),
        Day(0),
        &all,
        &all[1],
    );
    assert_eq!(out.phase_change, None);
}

// --- waiting to be seen (an urgent result, no plan) ------------------------

/// Facts that reach urgent (U2, a locked knee) and nothing more urgent.
fn waiting_facts() -> Facts {
    let f = facts("age = 40\nonset = \"sudden\"\ndays_since_onset = 3\nknee_locked = true");
    assert_eq!(
        kneepath_core::assess(kb(), &f).level,
        kneepath_core::TriageLevel::Urgent
    );
    f
}

/// A check-in made while waiting: no exercises planned.
fn waiting_ci(pain: u8, signs: &[&str]) -> CheckIn {
    let mut c = ci(0, pain, 0, pain, 0);
    c.planned.clear();
    c.exercise_pain = None;
    c.warning_signs = signs.iter().map(|s| s.to_string()).collect();
    c
}

#[test]
fn a_check_in_while_waiting_moves_nothing_and_says_nothing_more() {
    use kneepath_core::TriageLevel::Urgent;
    let out =
        kneepath_core::progress::while_waiting(kb(), &waiting_facts(), Urgent, &waiting_ci(6, &[]));
    assert!(out.retriage.is_none());
    assert_eq!(out.phase_change, None);
    assert_eq!(out.escalation, None);
    assert!(out.waiting_for.is_empty());
}

#[test]
fn a_warning_sign_while_waiting_re_triages_at_its_level() {
    use kneepath_core::TriageLevel::{Ambulance, Urgent};
    // Same level: still triaged again, so the sign is on record.
    let calf = kneepath_core::progress::while_waiting(
        kb(),
        &waiting_facts(),
        Urgent,
        &waiting_ci(4, &["calf_swelling_tenderness"]),
    );
    assert_eq!(calf.retriage.map(|a| a.level), Some(Urgent));
    // Getting worse while waiting: breathlessness calls the ambulance.
    let chest = kneepath_core::progress::while_waiting(
        kb(),
        &waiting_facts(),
        Urgent,
        &waiting_ci(4, &["chest_symptoms"]),
    );
    assert_eq!(chest.retriage.map(|a| a.level), Some(Ambulance));
}

#[test]
fn answers_alone_re_triage_only_when_more_urgent_than_the_wait() {
    use kneepath_core::TriageLevel::{Routine, Urgent};
    // Pain of 9 reaches urgent (U5): the person already knows to be seen.
    let same =
        kneepath_core::progress::while_waiting(kb(), &waiting_facts(), Urgent, &waiting_ci(9, &[]));
    assert!(same.retriage.is_none());
    // Against a less urgent level the same answers re-triage.
    let more = kneepath_core::progress::while_waiting(
        kb(),
        &waiting_facts(),
        Routine,
        &waiting_ci(9, &[]),
    );
    assert_eq!(more.retriage.map(|a| a.level), Some(Urgent));
}
