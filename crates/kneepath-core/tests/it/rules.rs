//! One test per policy rule: it fires just inside its boundary and does not
//! fire just outside it. `every_rule_has_a_boundary_test` keeps this list in
//! step with the knowledge base.

use super::run;

fn fired(toml: &str) -> Vec<String> {
    run(toml).fired.iter().map(|f| f.rule.id.clone()).collect()
}

/// `fires` and `quiet` are fact sets (TOML) that differ only at the boundary.
fn check(rule: &str, fires: &[&str], quiet: &[&str]) {
    for f in fires {
        let got = fired(f);
        assert!(
            got.iter().any(|r| r == rule),
            "{rule} should fire on {f:?}; fired: {got:?}"
        );
    }
    for q in quiet {
        let got = fired(q);
        assert!(
            !got.iter().any(|r| r == rule),
            "{rule} should not fire on {q:?}; fired: {got:?}"
        );
    }
}

const RULE_TESTS: &[&str] = &[
    "A1", "A2", "A3", "E1", "E3", "E4", "E5", "E6", "U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8",
    "U9", "U10", "U11", "U12", "U13", "U14", "U15", "U16", "R1", "R2", "R3", "R4", "R5", "R6",
    "R7", "R8", "R9", "R11", "R12",
];

#[test]
fn every_rule_has_a_boundary_test() {
    for r in &super::kb().rules {
        assert!(
            RULE_TESTS.contains(&r.id.as_str()),
            "rule {} has no boundary test",
            r.id
        );
    }
    assert_eq!(RULE_TESTS.len(), super::kb().rules.len());
}

#[test]
fn a1_vascular() {
    check(
        "A1",
        &["age = 30\nleg_cold_pale_numb = true"],
        &["age = 30\nleg_cold_pale_numb = false", "age = 30"],
    );
}

#[test]
fn a2_pulmonary_embolism() {
    check(
        "A2",
        // v2: chest symptoms alone, with or without calf signs.
        &[
            "age = 40\ncalf_swelling_tenderness = true\nchest_symptoms = true",
            "age = 40\nchest_symptoms = true",
        ],
        &[
            "age = 40\ncalf_swelling_tenderness = true",
            "age = 40\nchest_symptoms = false",
        ],
    );
}

#[test]
fn e1_septic_arthritis() {
    check(
        "E1",
        &[
            "age = 50\nfever = true\nredness_warmth = true",
            "age = 50\nfever = true\nswelling = \"mild\"",
        ],
        &[
            "age = 50\nfever = true\nswelling = \"none\"",
            "age = 50\nfever = true",
            "age = 50\nredness_warmth = true\nswelling = \"significant\"",
        ],
    );
}

#[test]
fn a3_deformity_unless_longstanding() {
    let slow = "onset = \"gradual\"\nmechanism = \"none\"";
    check(
        "A3",
        &[
            // Nothing known about how it started: A3 fires.
            "age = 20\ndeformity = true",
            "age = 30\ndeformity = true\nonset = \"sudden\"\nmechanism = \"fall\"",
            // Gradual, but the mechanism is unknown or traumatic.
            "age = 70\ndeformity = true\nonset = \"gradual\"",
            "age = 70\ndeformity = true\nonset = \"gradual\"\nmechanism = [\"overuse\", \"twist\"]",
            // Gradual without injury, but a high-energy accident (or not sure).
            &format!("age = 70\ndeformity = true\n{slow}\nhigh_energy_trauma = true"),
            &format!("age = 70\ndeformity = true\n{slow}\nhigh_energy_trauma = \"unsure\""),
        ],
        &[
            "age = 20\ndeformity = false",
            &format!("age = 70\ndeformity = true\n{slow}"),
            &format!("age = 70\ndeformity = true\n{slow}\nhigh_energy_trauma = false"),
        ],
    );
}

#[test]
fn e4_neurovascular_after_injury() {
    check(
        "E4",
        &[
            "age = 29\nonset = \"sudden\"\ndays_since_onset = 0\nmechanism = \"landing\"\nnumbness_tingling = true",
            // Unknown onset and time count as acute.
            "age = 29\nmechanism = \"twist\"\nnumbness_tingling = true",
        ],
        &[
            "age = 29\nonset = \"gradual\"\nmechanism = \"landing\"\nnumbness_tingling = true",
            "age = 29\nonset = \"sudden\"\ndays_since_onset = 15\nmechanism = \"twist\"\nnumbness_tingling = true",
            "age = 29\nonset = \"sudden\"\nmechanism = \"sprint\"\nnumbness_tingling = true",
            "age = 29\nonset = \"sudden\"\nmechanism = \"twist\"",
        ],
    );
}

#[test]
fn e5_cauda_equina() {
    check(
        "E5",
        &[
            "age = 52\nsaddle_numbness_or_bladder_change = true\nback_pain = true",
            "age = 52\nsaddle_numbness_or_bladder_change = true\npain_location = [\"lower_back\", \"back_of_knee\"]",
        ],
        &[
            "age = 52\nsaddle_numbness_or_bladder_change = true",
            "age = 52\nback_pain = true\npain_location = [\"lower_back\"]",
        ],
    );
}

#[test]
fn e6_extensor_rupture_after_any_injury() {
    check(
        "E6",
        &[
            "age = 63\nonset = \"sudden\"\nmechanism = \"fall\"\ncannot_lift_straight_leg = true",
            // At any time since the injury.
            "age = 63\nonset = \"sudden\"\ndays_since_onset = 60\nmechanism = \"landing\"\ncannot_lift_straight_leg = true",
            "age = 40\nonset = \"sudden\"\nmechanism = \"sprint\"\ncannot_lift_straight_leg = true",
            // Onset and mechanism unknown: an injury.
            "age = 40\ncannot_lift_straight_leg = true",
        ],
        &[
            "age = 63\nonset = \"gradual\"\nmechanism = \"overuse\"\ncannot_lift_straight_leg = true",
            "age = 63\nonset = \"sudden\"\nmechanism = \"fall\"",
        ],
    );
}

#[test]
fn e3_high_energy_unable() {
    check(
        "E3",
        &["age = 20\nhigh_energy_trauma = true\nweight_bearing = \"unable\""],
        &[
            "age = 20\nhigh_energy_trauma = true\nweight_bearing = \"limping\"",
            "age = 20\nweight_bearing = \"unable\"",
        ],
    );
}

#[test]
fn u1_ottawa() {
    let base = "mechanism = \"fall\"\ndays_since_onset = 7";
    check(
        "U1",
        &[
            &format!("age = 55\n{base}"),
            &format!("age = 30\n{base}\npatella_tenderness_isolated = true"),
            &format!("age = 30\n{base}\nfibular_head_tenderness = true"),
            &format!("age = 30\n{base}\nknee_flex_90 = false"),
            &format!(
                "age = 30\n{base}\nweight_bearing_immediately = \"unable\"\nweight_bearing = \"unable\""
            ),
            "age = 60\nhigh_energy_trauma = true\nmechanism = \"none\"\ndays_since_onset = 2",
            // v2: unknown time since onset counts as recent.
            "age = 55\nmechanism = \"fall\"",
            // v2: after a sprint too (not for age alone), and with the
            // mechanism unknown after a sudden onset.
            "age = 30\nonset = \"sudden\"\nmechanism = \"sprint\"\ndays_since_onset = 1\nfibular_head_tenderness = true",
            "age = 60\nonset = \"sudden\"\ndays_since_onset = 1",
            "age = 24\nonset = \"sudden\"\ndays_since_onset = 1\nmechanism = [\"sprint\", \"direct_blow\"]\npatella_tenderness_isolated = true",
        ],
        &[
            &format!("age = 54\n{base}"),
            "age = 55\nmechanism = \"fall\"\ndays_since_onset = 8",
            "age = 60\nonset = \"sudden\"\nmechanism = \"sprint\"\ndays_since_onset = 1",
            "age = 30\nonset = \"gradual\"\nmechanism = \"overuse\"\nfibular_head_tenderness = true",
            &format!("age = 30\n{base}\nknee_flex_90 = true"),
            &format!("age = 30\n{base}"),
            &format!(
                "age = 30\n{base}\nweight_bearing_immediately = \"unable\"\nweight_bearing = \"limping\""
            ),
        ],
    );
}

#[test]
fn u2_locked() {
    check(
        "U2",
        &["age = 30\nknee_locked = true"],
        &["age = 30\nknee_locked = false"],
    );
}

#[test]
fn u3_dvt() {
    check(
        "U3",
        &["age = 30\ncalf_swelling_tenderness = true"],
        &["age = 30"],
    );
}

#[test]
fn u4_hot_joint() {
    check(
        "U4",
        &["age = 30\nredness_warmth = true"],
        &["age = 30\nredness_warmth = false"],
    );
}

#[test]
fn u5_severe_pain() {
    check(
        "U5",
        &[
            "age = 30\npain_now = 8",
            "age = 30\npain_limits_walking = true",
            "age = 30\nweight_bearing = \"unable\"",
        ],
        &[
            "age = 30\npain_now = 7",
            "age = 30\nweight_bearing = \"limping\"",
        ],
    );
}

#[test]
fn u6_hamstring_tear() {
    let acute = "onset = \"sudden\"\npop_at_injury = true";
    check(
        "U6",
        &[
            &format!("age = 25\n{acute}\ndays_since_onset = 14\nmechanism = \"sprint\""),
            &format!("age = 25\n{acute}\ndays_since_onset = 0\nmechanism = \"overstretch\""),
        ],
        &[
            &format!("age = 25\n{acute}\ndays_since_onset = 15\nmechanism = \"sprint\""),
            &format!("age = 25\n{acute}\ndays_since_onset = 3\nmechanism = \"twist\""),
            "age = 25\nonset = \"gradual\"\npop_at_injury = true\ndays_since_onset = 3\nmechanism = \"sprint\"",
            "age = 25\nonset = \"sudden\"\ndays_since_onset = 3\nmechanism = \"sprint\"",
        ],
    );
}

#[test]
fn u7_ligament() {
    let acute = "onset = \"sudden\"";
    check(
        "U7",
        &[
            &format!(
                "age = 25\n{acute}\ndays_since_onset = 14\nmechanism = \"twist\"\ngiving_way = true"
            ),
            &format!(
                "age = 25\n{acute}\ndays_since_onset = 2\nmechanism = \"landing\"\npop_at_injury = true"
            ),
            &format!(
                "age = 25\n{acute}\ndays_since_onset = 2\nmechanism = \"none\"\nhigh_energy_trauma = true\ngiving_way = true"
            ),
        ],
        &[
            &format!(
                "age = 25\n{acute}\ndays_since_onset = 15\nmechanism = \"twist\"\ngiving_way = true"
            ),
            &format!(
                "age = 25\n{acute}\ndays_since_onset = 2\nmechanism = \"sprint\"\npop_at_injury = true"
            ),
            &format!("age = 25\n{acute}\ndays_since_onset = 2\nmechanism = \"twist\""),
        ],
    );
}

#[test]
fn u8_rapid_swelling() {
    check(
        "U8",
        &[
            "age = 25\nswelling_within_hours = 12\nswelling = \"mild\"",
            "age = 25\nswelling_within_hours = 0\nswelling = \"significant\"",
            "age = 45\nonset = \"sudden\"\ndays_since_onset = 0\nmechanism = \"twist\"\nswelling = \"significant\"",
            "age = 45\nonset = \"sudden\"\nmechanism = \"fall\"\nswelling = \"mild\"",
        ],
        &[
            "age = 25\nswelling_within_hours = 13\nswelling = \"mild\"",
            "age = 25\nswelling_within_hours = 2\nswelling = \"none\"",
            "age = 25\nswelling = \"mild\"",
            // Unknown timing counts only within 2 days of an acute
            // traumatic injury.
            "age = 45\nonset = \"sudden\"\ndays_since_onset = 3\nmechanism = \"twist\"\nswelling = \"significant\"",
            "age = 45\nonset = \"gradual\"\nmechanism = \"twist\"\nswelling = \"significant\"",
        ],
    );
}

#[test]
fn u9_foot_weakness() {
    check("U9", &["age = 60\nfoot_weakness = true"], &["age = 60"]);
}

#[test]
fn u10_serious_pathology() {
    check(
        "U10",
        // v2: any two of the three.
        &[
            "age = 60\nnight_pain = true\nunexplained_weight_loss = true",
            "age = 60\nnight_pain = true\ncancer_history = true",
            "age = 60\nunexplained_weight_loss = true\ncancer_history = true",
        ],
        &[
            "age = 60\nnight_pain = true",
            "age = 60\ncancer_history = true",
            "age = 60\nunexplained_weight_loss = true",
        ],
    );
}

#[test]
fn r1_not_improving() {
    check(
        "R1",
        &[
            "age = 30\nrice_days = 3\npain_trend = \"same\"",
            "age = 30\nrice_days = 10\npain_trend = \"worse\"",
        ],
        &[
            "age = 30\nrice_days = 2\npain_trend = \"same\"",
            "age = 30\nrice_days = 5\npain_trend = \"improving\"",
            "age = 30\nrice_days = 5",
        ],
    );
}

#[test]
fn r2_worsening() {
    check(
        "R2",
        &["age = 30\npain_trend = \"worse\""],
        &["age = 30\npain_trend = \"same\"", "age = 30"],
    );
}

#[test]
fn r3_significant_swelling() {
    check(
        "R3",
        &["age = 30\nswelling = \"significant\""],
        &["age = 30\nswelling = \"mild\""],
    );
}

#[test]
fn r4_instability() {
    check(
        "R4",
        &["age = 30\ngiving_way = true"],
        &["age = 30\ngiving_way = false"],
    );
}

#[test]
fn r5_reduced_mobility() {
    check(
        "R5",
        &[
            "age = 30\nrom_reduced = true",
            "age = 30\nknee_flex_90 = false",
        ],
        &["age = 30\nknee_flex_90 = true", "age = 30"],
    );
}

#[test]
fn r6_numbness() {
    check("R6", &["age = 30\nnumbness_tingling = true"], &["age = 30"]);
}

#[test]
fn r7_persistent() {
    check(
        "R7",
        &[
            "age = 30\ndays_since_onset = 42\npain_trend = \"same\"",
            "age = 30\ndays_since_onset = 90\npain_trend = \"worse\"",
            // v2: a trend left blank is not "improving".
            "age = 30\ndays_since_onset = 60",
        ],
        &[
            "age = 30\ndays_since_onset = 41\npain_trend = \"same\"",
            "age = 30\ndays_since_onset = 60\npain_trend = \"improving\"",
            "age = 30\npain_trend = \"same\"",
        ],
    );
}

#[test]
fn r8_possible_tear() {
    check(
        "R8",
        &[
            "age = 30\npop_at_injury = true",
            "age = 30\nbruising_back_of_thigh = true",
        ],
        &["age = 30\npop_at_injury = false\nbruising_back_of_thigh = false"],
    );
}

#[test]
fn r9_night_pain() {
    check("R9", &["age = 30\nnight_pain = true"], &["age = 30"]);
}

#[test]
fn u11_fever() {
    check(
        "U11",
        &["age = 29\nfever = true\nswelling = \"none\""],
        &["age = 29\nfever = false", "age = 29"],
    );
}

#[test]
fn u12_high_energy() {
    check(
        "U12",
        &[
            "age = 40\nhigh_energy_trauma = true\ndays_since_onset = 7",
            "age = 40\nhigh_energy_trauma = true",
        ],
        &[
            "age = 40\nhigh_energy_trauma = true\ndays_since_onset = 8",
            "age = 40\ndays_since_onset = 1",
        ],
    );
}

#[test]
fn u13_avulsion_in_the_young() {
    let base = "onset = \"sudden\"\ndays_since_onset = 1\nmechanism = \"sprint\"";
    check(
        "U13",
        &[
            &format!("age = 15\n{base}\npain_location = [\"buttock\"]"),
            &format!("age = 25\n{base}\npain_location = [\"buttock\", \"back_of_thigh\"]"),
            "age = 19\nmechanism = \"overstretch\"\npain_location = [\"buttock\"]",
        ],
        &[
            &format!("age = 26\n{base}\npain_location = [\"buttock\"]"),
            &format!("age = 15\n{base}\npain_location = [\"back_of_thigh\"]"),
            "age = 15\nonset = \"gradual\"\nmechanism = \"sprint\"\npain_location = [\"buttock\"]",
        ],
    );
}

#[test]
fn u14_night_pain_in_the_young() {
    check(
        "U14",
        &["age = 24\nnight_pain = true", "age = 9\nnight_pain = true"],
        &["age = 25\nnight_pain = true", "age = 19"],
    );
}

#[test]
fn u15_clot_risk_after_surgery() {
    check(
        "U15",
        &[
            "age = 70\nrecent_surgery_or_immobilisation = true\npain_location = [\"calf\"]",
            "age = 70\nrecent_surgery_or_immobilisation = true\npain_location = [\"front_of_knee\", \"back_of_knee\"]",
        ],
        &[
            "age = 70\nrecent_surgery_or_immobilisation = true\npain_location = [\"front_of_knee\"]",
            "age = 70\nrecent_surgery_or_immobilisation = true",
            "age = 70\npain_location = [\"calf\"]",
        ],
    );
}

#[test]
fn u16_hip_cause_in_children() {
    check(
        "U16",
        &[
            "age = 12\nonset = \"gradual\"\nweight_bearing = \"limping\"",
            "age = 9\nweight_bearing = \"unable\"",
            "age = 16\nonset = \"gradual\"\nweight_bearing = \"limping\"",
        ],
        &[
            "age = 17\nonset = \"gradual\"\nweight_bearing = \"limping\"",
            "age = 8\nonset = \"gradual\"\nweight_bearing = \"limping\"",
            "age = 12\nonset = \"sudden\"\nweight_bearing = \"limping\"",
            "age = 12\nonset = \"gradual\"\nweight_bearing = \"normal\"",
        ],
    );
}

#[test]
fn r11_post_operative() {
    check(
        "R11",
        &["age = 55\nrecent_surgery_or_immobilisation = true"],
        &["age = 55\nrecent_surgery_or_immobilisation = false"],
    );
}

#[test]
fn r12_longstanding_deformity() {
    check(
        "R12",
        &["age = 71\nonset = \"gradual\"\nmechanism = \"none\"\ndeformity = true"],
        &[
            "age = 71\nonset = \"gradual\"\ndeformity = true",
            "age = 71\nonset = \"gradual\"\nmechanism = \"none\"\ndeformity = true\nhigh_energy_trauma = \"unsure\"",
            "age = 71\nonset = \"gradual\"\nmechanism = \"none\"",
        ],
    );
}

#[test]
fn level_is_the_most_urgent_fired_rule() {
    // R9 (routine) + U10 (urgent) + A1 (ambulance)
    let a = run(
        "age = 60\nonset = \"gradual\"\nnight_pain = true\ncancer_history = true\nleg_cold_pale_numb = true",
    );
    assert_eq!(a.level, kneepath_core::TriageLevel::Ambulance);
    let ids: Vec<_> = a.fired.iter().map(|f| f.rule.id.as_str()).collect();
    assert_eq!(
        ids,
        ["A1", "U10", "R9"],
        "every fired rule is reported, not only the winner"
    );
}

#[test]
fn no_rule_fired_is_self_care() {
    let a = run("age = 30");
    assert!(a.fired.is_empty());
    assert_eq!(a.level, kneepath_core::TriageLevel::SelfCare);
}

#[test]
fn evidence_names_the_facts_that_made_a_rule_fire() {
    let a = run("age = 30\npain_now = 9\nweight_bearing = \"limping\"\nsex = \"female\"");
    let u5 = a
        .fired
        .iter()
        .find(|f| f.rule.id == "U5")
        .expect("U5 fires");
    let facts: Vec<_> = u5.evidence.iter().map(|e| e.question.id.as_str()).collect();
    // `any`: only the part that held (pain 9), not the weight-bearing part.
    assert_eq!(facts, ["pain_now"]);
}
