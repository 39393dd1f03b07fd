//! The plan: starting phase, contributor additions, and the policy invariant
//! that urgent and above never get exercises.

use kneepath_core::plan::{Because, Plan, StartReason};

use super::{kb, run};

fn phase_of(toml: &str) -> String {
    match run(toml).plan {
        Plan::Home(h) => kb().phases[h.phase].id.clone(),
        Plan::SeekCare { .. } => "seek_care".into(),
    }
}

#[test]
fn starting_phase_follows_the_assessment() {
    assert_eq!(
        phase_of("age = 25\nonset = \"sudden\"\ndays_since_onset = 2\npain_now = 4"),
        "protect"
    );
    assert_eq!(
        phase_of("age = 25\nonset = \"sudden\"\ndays_since_onset = 6\npain_now = 4"),
        "mobilise"
    );
    assert_eq!(
        phase_of("age = 25\nonset = \"gradual\"\nweight_bearing = \"limping\""),
        "mobilise"
    );
    assert_eq!(
        phase_of("age = 25\nonset = \"gradual\"\npain_now = 3"),
        "strengthen"
    );
    assert_eq!(
        phase_of(
            "age = 25\nonset = \"gradual\"\npain_now = 1\npain_trend = \"improving\"\nweight_bearing = \"normal\""
        ),
        "return"
    );
}

#[test]
fn urgent_and_above_get_no_exercises() {
    for facts in [
        "age = 30\npain_now = 9",
        "age = 30\ndeformity = true",
        "age = 30\nleg_cold_pale_numb = true",
    ] {
        let a = run(facts);
        assert!(!a.level.allows_home_plan());
        let Plan::SeekCare { advice } = &a.plan else {
            panic!("{facts:?} must not get a home plan");
        };
        assert!(
            !advice.is_empty(),
            "advice on protecting the knee until seen"
        );
    }
}

#[test]
fn contributing_factors_add_their_part() {
    // warm_up adds the warm-up routine in the return phase ...
    let a = run(
        "age = 25\nonset = \"gradual\"\npain_now = 1\npain_trend = \"improving\"\nweight_bearing = \"normal\"\nsports = [\"football\"]\nwarm_up = \"never\"\nmechanism = \"overuse\"",
    );
    let Plan::Home(h) = &a.plan else {
        panic!("home plan")
    };
    assert!(h.items.iter().any(|i| i.exercise.id == "standing_warm_up"));
    // ... and overuse adds load-management advice, attributed to it.
    let load = h
        .advice
        .iter()
        .find(|a| a.advice.id == "manage_training_load")
        .expect("load advice");
    assert!(matches!(load.because, Because::Contributor(c) if c.id == "overuse"));
}

#[test]
fn factor_exercises_only_in_phases_they_suit() {
    // Protect phase: the strength factor's Nordic curls must wait.
    let a = run("age = 25\nonset = \"sudden\"\ndays_since_onset = 1\nhq_ratio = 0.4");
    let Plan::Home(h) = &a.plan else {
        panic!("home plan")
    };
    assert_eq!(kb().phases[h.phase].id, "protect");
    assert!(!h.items.iter().any(|i| i.exercise.id == "nordic_curl"));
    assert!(
        h.advice
            .iter()
            .any(|a| a.advice.id == "balance_your_training")
    );
    assert!(matches!(h.start, StartReason::Matched(_)));
}

#[test]
fn report_round_trips_through_json() {
    let r = run("age = 34\nonset = \"sudden\"\ndays_since_onset = 1\nmechanism = \"sprint\"\npop_at_injury = true").report();
    let json = serde_json::to_string(&r).expect("serialize");
    let back: kneepath_core::report::AssessmentReport =
        serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, r);
    assert_eq!(r.kb_version, kb().version);
    assert!(r.flags.contains(&"possible_hamstring_tear".to_string()));
}

#[test]
fn clinician_edits_add_remove_swap_and_change_dosage() {
    use kneepath_core::plan::{EditKind, PlanEdit, StartReason, home_plan};
    let kb = kb();
    let a = run("age = 25\nonset = \"gradual\"\npain_now = 3\nsports = [\"running\"]");
    let Plan::Home(home) = &a.plan else {
        panic!("expected a home plan");
    };
    let ids = |h: &kneepath_core::plan::HomePlan<'_>| -> Vec<String> {
        h.items.iter().map(|i| i.exercise.id.clone()).collect()
    };
    let before = ids(home);
    let first = kb.exercise_by_id(&before[0]).expect("first");
    let second = kb.exercise_by_id(&before[1]).expect("second");
    let outside = (0..kb.exercises.len())
        .find(|&e| !before.contains(&kb.exercises[e].id) && kb.exercises[e].properties.is_empty())
        .expect("an exercise not in the plan that no plan rule acts on");
    let edit = |kind, exercise, replacement, dosage| PlanEdit {
        kind,
        exercise,
        replacement,
        dosage,
        reason: "clinical judgement",
    };
    let edits = [
        edit(EditKind::Dosage, second, None, Some("2 x 8, slowly")),
        edit(EditKind::Remove, first, None, None),
        // Removing twice changes nothing more.
        edit(EditKind::Remove, first, None, None),
        edit(EditKind::Add, first, None, None),
        edit(EditKind::Swap, first, Some(outside), None),
    ];
    let home = home_plan(
        kb,
        a.level,
        home.phase,
        StartReason::Chosen,
        &a.contributors,
        &a.plan_rules,
        &edits,
    );
    let after = ids(&home);
    assert!(after.contains(&kb.exercises[outside].id));
    assert!(!after.contains(&before[0]));
    assert_eq!(after.len(), before.len());
    let s = home
        .items
        .iter()
        .find(|i| i.exercise.id == before[1])
        .expect("second kept");
    assert_eq!(
        s.dosage,
        Some(("2 x 8, slowly".into(), "clinical judgement".into()))
    );
    let swapped = home.items.last().expect("last");
    assert_eq!(swapped.because, Because::Clinician);
}
