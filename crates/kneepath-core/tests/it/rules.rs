//! The policy's rules on their own examples, and what the engine makes of
//! the rules that fire.
//!
//! Each rule's boundary tests are data beside the rule (`[rule.examples]` in
//! `knowledge/rules.toml`): fact sets just inside its boundary, on which it
//! fires, and just outside it, on which it does not. Loading refuses a rule
//! without both kinds, so one test here covers every rule.

use kneepath_core::{Facts, assess};

use super::{kb, run};

/// `{ age = 30, fever = true }`: the facts as a rules.toml example writes
/// them, for messages.
fn show(facts: &Facts) -> String {
    let pairs: Vec<String> = kb()
        .facts_to_json(facts)
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    format!("{{ {} }}", pairs.join(", "))
}

/// Run the examples of every rule, or of the one named, through the engine:
/// each `fires` example must fire the rule, each `quiet` one must not.
/// Panics naming every example that went wrong.
fn check_examples(only: Option<&str>) {
    let kb = kb();
    let mut wrong = Vec::new();
    let mut count = 0;
    for rule in kb.rules.iter().filter(|r| only.is_none_or(|id| r.id == id)) {
        for (field, examples, should_fire) in [
            ("fires", &rule.examples.fires, true),
            ("quiet", &rule.examples.quiet, false),
        ] {
            for (i, facts) in examples.iter().enumerate() {
                count += 1;
                let a = assess(kb, facts);
                let fired: Vec<&str> = a.fired.iter().map(|f| f.rule.id.as_str()).collect();
                if fired.contains(&rule.id.as_str()) != should_fire {
                    wrong.push(format!(
                        "rule {}: `examples.{field}` #{} {}: {}; fired: {fired:?}",
                        rule.id,
                        i + 1,
                        show(facts),
                        if should_fire {
                            "does not fire it"
                        } else {
                            "fires it"
                        },
                    ));
                }
            }
        }
    }
    assert!(count > 0, "no examples for {only:?}");
    assert!(
        wrong.is_empty(),
        "{} of {count} rule examples in knowledge/rules.toml went wrong:\n  {}",
        wrong.len(),
        wrong.join("\n  ")
    );
}

#[test]
fn every_rule_fires_on_its_fires_examples_and_not_on_its_quiet_ones() {
    check_examples(None);
}

// SAFETY.md (hazard H1, under-triage) names the three tests below as
// verifying its controls. Loading already refuses a rule without examples of
// both kinds, and the test above runs them all; these keep the hazard log's
// references true until it names the test above instead.

#[test]
fn every_rule_has_a_boundary_test() {
    for r in &kb().rules {
        assert!(
            !r.examples.fires.is_empty() && !r.examples.quiet.is_empty(),
            "rule {} has no boundary test",
            r.id
        );
    }
}

/// Age 55 against 54, day 7 against 8.
#[test]
fn u1_ottawa() {
    check_examples(Some("U1"));
}

/// Day 42 against 41.
#[test]
fn r7_persistent() {
    check_examples(Some("R7"));
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
