//! Policy v2 beyond the rule table: "not sure" answers, the plan rules
//! (P1 ... P8) on every plan, the warning signs with their own level, and
//! a sign that appears new.

use kneepath_core::TriageLevel;
use kneepath_core::checkin::CheckIn;
use kneepath_core::plan::{EditKind, Plan, PlanEdit, StartReason, home_plan, lift};

use super::{facts, kb, run};

fn ids(a: &kneepath_core::Assessment<'_>) -> Vec<String> {
    match &a.plan {
        Plan::Home(h) => h.items.iter().map(|i| i.exercise.id.clone()).collect(),
        Plan::SeekCare { .. } => Vec::new(),
    }
}

fn plan_rules(a: &kneepath_core::Assessment<'_>) -> Vec<String> {
    a.plan_rules.iter().map(|r| r.rule.id.clone()).collect()
}

// --- "not sure" -----------------------------------------------------------------

#[test]
fn an_ambulance_rule_on_an_unsure_answer_gives_emergency_and_says_how_to_check() {
    let a =
        run("age = 52\nonset = \"gradual\"\nmechanism = \"none\"\nleg_cold_pale_numb = \"unsure\"");
    assert_eq!(a.level, TriageLevel::Emergency);
    let a1 = a
        .fired
        .iter()
        .find(|f| f.rule.id == "A1")
        .expect("A1 fires");
    assert_eq!(a1.level, TriageLevel::Emergency);
    assert!(a1.only_unsure());
    let r = a.report();
    let text = r.fired[0].unsure_text.as_deref().expect("unsure text");
    assert!(text.contains("Foot or leg cold, pale or blue"), "{text}");
    assert!(text.contains("Compare both feet"), "{text}");
    assert!(text.contains("call your emergency number now"), "{text}");
    // An emergency rule on "not sure" gives urgent.
    let a = run("age = 52\nsaddle_numbness_or_bladder_change = \"unsure\"\nback_pain = true");
    assert_eq!(a.level, TriageLevel::Urgent);
    // The same answers with "yes" keep the rule's own level.
    let a = run("age = 52\nonset = \"gradual\"\nmechanism = \"none\"\nleg_cold_pale_numb = true");
    assert_eq!(a.level, TriageLevel::Ambulance);
    assert!(!a.fired[0].only_unsure());
}

#[test]
fn a_rule_that_fires_anyway_is_not_lowered_by_an_unsure_answer() {
    // A3 on a definite deformity with a high-energy accident answered "not
    // sure": R12 needs "no" there, so A3 fires in both readings.
    let a = run(
        "age = 70\nonset = \"gradual\"\nmechanism = \"none\"\ndeformity = true\nhigh_energy_trauma = \"unsure\"",
    );
    assert_eq!(a.level, TriageLevel::Ambulance);
    let a3 = a.fired.iter().find(|f| f.rule.id == "A3").expect("A3");
    assert!(!a3.only_unsure());
    // Not sure about the deformity itself: A3 gives emergency.
    let a = run("age = 26\ndeformity = \"unsure\"");
    assert_eq!(a.level, TriageLevel::Emergency);
    // An urgent rule on "not sure" stays urgent.
    let a = run("age = 38\ncalf_swelling_tenderness = \"unsure\"");
    assert_eq!(a.level, TriageLevel::Urgent);
}

#[test]
fn contributing_factors_ignore_unsure_answers() {
    let a = run(
        "age = 45\nhamstrings_feel_tight = \"unsure\"\nquad_focused_training = \"unsure\"\nhamstring_training = \"none\"\nsports = [\"running\"]",
    );
    assert!(a.contributors.is_empty(), "{:?}", a.contributors.len());
    let a = run("age = 45\nhamstrings_feel_tight = true");
    assert_eq!(a.contributors.len(), 1);
}

// --- plan rules ------------------------------------------------------------------

#[test]
fn p1_after_surgery_keeps_gentle_range_work_only_and_the_first_phases() {
    let a = run(
        "age = 40\nonset = \"gradual\"\nmechanism = \"none\"\nrecent_surgery_or_immobilisation = true\npain_location = [\"back_of_thigh\"]\nsports = [\"running\"]",
    );
    assert!(plan_rules(&a).contains(&"P1".to_string()));
    let Plan::Home(h) = &a.plan else {
        panic!("routine: a home plan")
    };
    assert!(h.phase <= kb().phase_by_id("mobilise").expect("mobilise"));
    assert!(matches!(h.start, StartReason::Limited(r) if r.id == "P1"));
    for i in &h.items {
        assert!(
            i.exercise
                .properties
                .contains(&kneepath_core::kb::ExerciseProperty::GentleRange),
            "{} is not gentle range work",
            i.exercise.id
        );
    }
    assert!(!ids(&a).is_empty());
}

#[test]
fn p2_leaves_out_nordics_sprints_and_drills_until_lifted() {
    // A pop with a gradual onset: R8 (possible tear), routine.
    let a = run(
        "age = 31\nonset = \"gradual\"\ndays_since_onset = 10\nmechanism = \"overuse\"\npop_at_injury = true\nsports = [\"running\"]\npain_trend = \"improving\"",
    );
    assert!(plan_rules(&a).contains(&"P2".to_string()));
    let Plan::Home(h) = &a.plan else {
        panic!("a home plan")
    };
    let strengthen = kb().phase_by_id("strengthen").expect("phase");
    let nordic = kb().exercise_by_id("nordic_curl").expect("nordic");
    let add = PlanEdit {
        kind: EditKind::Add,
        exercise: nordic,
        replacement: None,
        dosage: None,
        reason: "clinical judgement",
    };
    // A clinician's edit cannot bring it back while P2 stands ...
    let plan = home_plan(
        kb(),
        a.level,
        strengthen,
        StartReason::Chosen,
        &a.contributors,
        &a.plan_rules,
        std::slice::from_ref(&add),
    );
    assert!(!plan.items.iter().any(|i| i.exercise.id == "nordic_curl"));
    let p2 = plan
        .exclusions
        .iter()
        .find(|x| x.rule.id == "P2")
        .expect("P2 recorded");
    assert!(
        p2.exercises.iter().any(|e| e.id == "nordic_curl"),
        "left out and named"
    );
    // ... until a clinician lifts it.
    let mut rules = a.plan_rules.clone();
    lift(&mut rules, &[("P2", "Dr Lee, MRI 3 Dec: no tear")]);
    let plan = home_plan(
        kb(),
        a.level,
        strengthen,
        StartReason::Chosen,
        &a.contributors,
        &rules,
        &[add],
    );
    assert!(plan.items.iter().any(|i| i.exercise.id == "nordic_curl"));
    assert!(h.items.iter().all(|i| i.exercise.id != "nordic_curl"));
    // P1 cannot be lifted.
    let a = run(
        "age = 40\nrecent_surgery_or_immobilisation = true\nonset = \"gradual\"\nmechanism = \"none\"",
    );
    let mut rules = a.plan_rules.clone();
    lift(&mut rules, &[("P1", "no")]);
    assert!(rules.iter().all(|r| r.lifted.is_none()));
}

#[test]
fn p3_supported_versions_and_no_partner_kneeling_for_older_people() {
    let a = run(
        "age = 70\nonset = \"gradual\"\nmechanism = \"none\"\npain_trend = \"improving\"\npain_now = 2",
    );
    assert!(plan_rules(&a).contains(&"P3".to_string()));
    let strengthen = kb().phase_by_id("strengthen").expect("phase");
    let plan = home_plan(
        kb(),
        a.level,
        strengthen,
        StartReason::Chosen,
        &a.contributors,
        &a.plan_rules,
        &[],
    );
    assert!(!plan.items.iter().any(|i| i.exercise.id == "nordic_curl"));
    let split = plan
        .items
        .iter()
        .find(|i| i.exercise.id == "split_squat")
        .expect("split squat");
    assert!(split.supported.is_some_and(|r| r.id == "P3"));
}

#[test]
fn p4_no_sprints_or_drills_without_a_sport_and_return_advice_not_about_sport() {
    let a = run("age = 78\nonset = \"gradual\"\nmechanism = \"none\"\nsports = [\"none\"]");
    assert!(plan_rules(&a).contains(&"P4".to_string()));
    let ret = kb().phase_by_id("return").expect("phase");
    let plan = home_plan(
        kb(),
        a.level,
        ret,
        StartReason::Chosen,
        &a.contributors,
        &a.plan_rules,
        &[],
    );
    for id in ["sprint_buildups", "sport_drills"] {
        assert!(!plan.items.iter().any(|i| i.exercise.id == id), "{id}");
    }
    assert!(
        plan.advice
            .iter()
            .any(|x| x.advice.id == "return_criteria_no_sport")
    );
    assert!(!plan.advice.iter().any(|x| x.advice.id == "return_criteria"));
    // With a sport, the sprints stay.
    let a = run("age = 25\nonset = \"gradual\"\nmechanism = \"none\"\nsports = [\"football\"]");
    assert!(!plan_rules(&a).contains(&"P4".to_string()));
}

#[test]
fn p5_fever_leaves_every_exercise_out_of_any_plan() {
    let a = run("age = 29\nfever = true\nonset = \"gradual\"\nmechanism = \"none\"");
    assert_eq!(a.level, TriageLevel::Urgent);
    assert!(plan_rules(&a).contains(&"P5".to_string()));
    // A clinician's plan at urgent still gets none.
    let plan = home_plan(
        kb(),
        a.level,
        2,
        StartReason::Chosen,
        &a.contributors,
        &a.plan_rules,
        &[],
    );
    assert!(plan.items.is_empty());
}

#[test]
fn p6_a_knee_that_does_not_bend_starts_no_later_than_mobilise() {
    let a = run(
        "age = 36\nonset = \"gradual\"\nmechanism = \"none\"\nknee_flex_90 = false\nsports = [\"cycling\"]",
    );
    assert!(plan_rules(&a).contains(&"P6".to_string()));
    let Plan::Home(h) = &a.plan else {
        panic!("routine: a home plan")
    };
    assert_eq!(kb().phases[h.phase].id, "mobilise");
}

#[test]
fn p7_children_get_childrens_medicine_advice() {
    // A sudden strain three days ago: the Protect phase, with medicine
    // advice.
    let a = run(
        "age = 12\nonset = \"sudden\"\ndays_since_onset = 2\nmechanism = \"overuse\"\npain_now = 3\nsports = [\"football\"]",
    );
    assert!(plan_rules(&a).contains(&"P7".to_string()));
    let Plan::Home(h) = &a.plan else {
        panic!("a home plan")
    };
    assert_eq!(kb().phases[h.phase].id, "protect");
    let advice: Vec<&str> = h.advice.iter().map(|x| x.advice.id.as_str()).collect();
    assert!(advice.contains(&"paracetamol_child"), "{advice:?}");
    assert!(!advice.contains(&"paracetamol"), "{advice:?}");
    assert!(!h.advice.iter().any(|x| x.advice.text.contains("500 mg")));
}

#[test]
fn p8_no_massage_or_heat_where_a_clot_is_possible() {
    let a = run("age = 50\nrecent_surgery_or_immobilisation = true\npain_location = [\"calf\"]");
    assert!(plan_rules(&a).contains(&"P8".to_string()));
    let plan = home_plan(
        kb(),
        a.level,
        1,
        StartReason::Chosen,
        &a.contributors,
        &a.plan_rules,
        &[],
    );
    assert!(
        !plan
            .treatments
            .iter()
            .any(|t| t.id == "massage" || t.id == "heat")
    );
}

// --- warning signs ------------------------------------------------------------

#[test]
fn warning_signs_carry_their_own_level_and_leave_out_what_was_reported() {
    let f = facts(
        "age = 29\nonset = \"gradual\"\nmechanism = \"none\"\nfever = true\nswelling = \"none\"",
    );
    let w = kneepath_core::report::watch_for(kb(), &f);
    let level = |fact: &str| w.iter().find(|x| x.fact == fact).map(|x| x.level);
    assert_eq!(level("fever"), None, "already reported");
    assert_eq!(level("leg_cold_pale_numb"), Some(TriageLevel::Ambulance));
    assert_eq!(
        level("redness_warmth"),
        Some(TriageLevel::Emergency),
        "with the fever: E1"
    );
    assert_eq!(level("giving_way"), Some(TriageLevel::Routine));
    // Most urgent first.
    assert!(w.windows(2).all(|p| p[0].level <= p[1].level));
}

/// A knee that changes shape now is not R12's long-standing deformity,
/// even for a person whose pain came on gradually without an injury: as a
/// new sign (the watch box, a check-in) it is A3, an ambulance.
#[test]
fn a_new_deformity_is_an_ambulance_even_after_a_gradual_onset() {
    let f = facts("age = 52\nonset = \"gradual\"\nmechanism = \"none\"\npain_now = 3");
    let w = kneepath_core::report::watch_for(kb(), &f);
    assert_eq!(
        w.iter().find(|x| x.fact == "deformity").map(|x| x.level),
        Some(TriageLevel::Ambulance)
    );
    let c = CheckIn {
        day: "2026-11-24".parse().expect("day"),
        pain_now: 3,
        exercise_pain: None,
        morning_pain: None,
        stiffness: 2,
        swelling: None,
        walks_normally: None,
        full_range: None,
        planned: Vec::new(),
        done: Vec::new(),
        training_minutes: 0,
        effort: 0,
        sleep_hours: None,
        warning_signs: vec!["deformity".into()],
    };
    let after = kneepath_core::checkin::facts_after(kb(), &f, &c);
    assert_eq!(
        kneepath_core::assess(kb(), &after).level,
        TriageLevel::Ambulance
    );
    // Reported at the assessment with its slow history, it is R12.
    let a = run("age = 71\nonset = \"gradual\"\nmechanism = \"none\"\ndeformity = true");
    assert_eq!(a.level, TriageLevel::Routine);
}

/// A check-in answer left blank tells nothing: the facts keep what the
/// assessment said, and no rule fires on it.
#[test]
fn a_blank_check_in_answer_changes_no_fact() {
    let f = facts(
        "age = 30\nonset = \"gradual\"\nmechanism = \"none\"\nswelling = \"mild\"\nweight_bearing = \"normal\"",
    );
    let c = CheckIn {
        day: "2026-11-24".parse().expect("day"),
        pain_now: 2,
        exercise_pain: None,
        morning_pain: None,
        stiffness: 1,
        swelling: None,
        walks_normally: None,
        full_range: None,
        planned: Vec::new(),
        done: Vec::new(),
        training_minutes: 0,
        effort: 0,
        sleep_hours: None,
        warning_signs: Vec::new(),
    };
    let after = kneepath_core::checkin::facts_after(kb(), &f, &c);
    for fact in ["swelling", "weight_bearing", "rom_reduced"] {
        let id = kb().fact_id(fact).expect("fact");
        assert_eq!(after.get(id), f.get(id), "{fact}");
    }
}

/// Answers in a check-in that reach urgent or above re-run triage even
/// without a warning sign ticked: a 12-year-old whose pain came on
/// gradually and who now limps may have a slipped growth plate at the hip
/// (U16).
#[test]
fn a_check_in_that_reaches_urgent_re_runs_triage() {
    use kneepath_core::progress::{PhaseState, after_checkin};
    let f = facts(
        "age = 12\nonset = \"gradual\"\nmechanism = \"none\"\nweight_bearing = \"normal\"\nsports = [\"football\"]",
    );
    assert_eq!(kneepath_core::assess(kb(), &f).level, TriageLevel::SelfCare);
    let c = CheckIn {
        day: "2026-11-24".parse().expect("day"),
        pain_now: 3,
        exercise_pain: None,
        morning_pain: None,
        stiffness: 2,
        swelling: None,
        walks_normally: Some(false),
        full_range: None,
        planned: Vec::new(),
        done: Vec::new(),
        training_minutes: 0,
        effort: 0,
        sleep_hours: None,
        warning_signs: Vec::new(),
    };
    let state = PhaseState {
        phase: 2,
        since: "2026-11-20".parse().expect("day"),
    };
    let out = after_checkin(
        kb(),
        &f,
        state,
        "2026-11-20".parse().expect("day"),
        std::slice::from_ref(&c),
        &c,
    );
    let re = out.retriage.expect("triage re-run");
    assert_eq!(re.level, TriageLevel::Urgent);
    assert!(re.fired.iter().any(|r| r.rule.id == "U16"));
}
