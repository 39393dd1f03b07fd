//! Corrupt a copy of the bundled knowledge base in each way the validator
//! must catch, and check that the message names the file and the entry.

use kneepath_core::KnowledgeBase;
use kneepath_core::kb::{Problem, Source, bundled_sources};

/// Replace the first `from` in `file` with `to` and load.
fn corrupt(file: &str, from: &str, to: &str) -> Vec<Problem> {
    let mut sources = bundled_sources();
    let src = sources
        .iter_mut()
        .find(|s| s.name == file)
        .expect("file exists");
    assert!(
        src.text.contains(from),
        "test setup: {from:?} not in {file}"
    );
    src.text = src.text.replacen(from, to, 1);
    load(&sources)
}

fn load(sources: &[Source]) -> Vec<Problem> {
    match KnowledgeBase::from_sources(sources) {
        Ok(_) => Vec::new(),
        Err(e) => e.problems,
    }
}

fn expect(problems: &[Problem], file: &str, entry: Option<&str>, contains: &str) {
    assert!(
        problems
            .iter()
            .any(|p| p.file == file && p.entry.as_deref() == entry && p.message.contains(contains)),
        "expected {file}: {entry:?}: ...{contains}...; got:\n{}",
        problems
            .iter()
            .map(|p| format!("  {p}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn bundled_knowledge_base_is_valid() {
    assert_eq!(load(&bundled_sources()), Vec::new());
}

#[test]
fn unknown_fact_name() {
    let p = corrupt(
        "rules.toml",
        "fact = \"leg_cold_pale_numb\"",
        "fact = \"leg_cold\"",
    );
    expect(&p, "rules.toml", Some("rule A1"), "unknown fact `leg_cold`");
}

#[test]
fn choice_compared_with_a_number() {
    let p = corrupt(
        "rules.toml",
        "{ fact = \"pain_trend\", eq = \"worse\" }",
        "{ fact = \"pain_trend\", ge = 3 }",
    );
    expect(
        &p,
        "rules.toml",
        Some("rule R2"),
        "`pain_trend` is a choice fact and cannot be compared with a number",
    );
}

#[test]
fn number_compared_with_text() {
    let p = corrupt(
        "rules.toml",
        "{ fact = \"pain_now\", ge = 8 }",
        "{ fact = \"pain_now\", ge = \"8\" }",
    );
    expect(
        &p,
        "rules.toml",
        Some("rule U5"),
        "with a number, got the text \"8\"",
    );
}

#[test]
fn not_an_option_of_a_choice() {
    let p = corrupt(
        "rules.toml",
        "any_of = [\"sprint\", \"overstretch\"] }",
        "any_of = [\"sprint\", \"kick\"] }",
    );
    expect(
        &p,
        "rules.toml",
        Some("rule U6"),
        "\"kick\" is not an option of `mechanism`",
    );
}

#[test]
fn yes_no_fact_used_as_a_choice() {
    let p = corrupt(
        "rules.toml",
        "{ fact = \"deformity\", is = true }",
        "{ fact = \"deformity\", eq = \"yes\" }",
    );
    expect(
        &p,
        "rules.toml",
        Some("rule A3"),
        "`deformity` is a yes/no fact",
    );
}

#[test]
fn unknown_flag() {
    let p = corrupt(
        "rules.toml",
        "flag = \"possible_locked_knee\"",
        "flag = \"locked\"",
    );
    expect(
        &p,
        "rules.toml",
        Some("rule U2"),
        "raises flag `locked`, which flags.toml does not define",
    );
    // ...and the flag that lost its rule is reported as unused.
    expect(
        &p,
        "flags.toml",
        Some("flag possible_locked_knee"),
        "no rule raises this flag",
    );
}

#[test]
fn rule_id_used_twice() {
    let p = corrupt("rules.toml", "id = \"R9\"", "id = \"R8\"");
    expect(&p, "rules.toml", Some("rule R8"), "id `R8` is used twice");
}

#[test]
fn exercise_named_by_a_phase_but_not_defined() {
    let p = corrupt("phases.toml", "\"ankle_pumps\"", "\"ankle_pump\"");
    expect(
        &p,
        "phases.toml",
        Some("phase protect"),
        "names exercise `ankle_pump`, which exercises.toml does not define",
    );
}

#[test]
fn exercise_in_a_phase_it_does_not_suit() {
    let p = corrupt(
        "phases.toml",
        "exercises = [\"ice_compress_elevate\",",
        "exercises = [\"nordic_curl\", \"ice_compress_elevate\",",
    );
    expect(
        &p,
        "phases.toml",
        Some("phase protect"),
        "whose `phases` do not include `protect`",
    );
}

#[test]
fn text_missing() {
    let p = corrupt("flags.toml", "title = \"Locked knee\"", "title = \"  \"");
    expect(
        &p,
        "flags.toml",
        Some("flag possible_locked_knee"),
        "text missing: `title` is empty",
    );
}

#[test]
fn required_field_missing() {
    let p = corrupt(
        "rules.toml",
        "reason = \"One swollen, tender or warm calf can be a blood clot in a leg vein, which needs a scan the same day.\"",
        "",
    );
    expect(&p, "rules.toml", Some("rule U3"), "missing field `reason`");
}

#[test]
fn unknown_field_is_rejected() {
    let p = corrupt(
        "exercises.toml",
        "id = \"heel_slides\"",
        "id = \"heel_slides\"\nrepeats = 3",
    );
    expect(
        &p,
        "exercises.toml",
        Some("exercise heel_slides"),
        "unknown field `repeats`",
    );
}

#[test]
fn dangling_citation() {
    let p = corrupt(
        "rules.toml",
        "citations = [\"policy_v2\", \"stiell1996\", \"bachmann2004\"]",
        "citations = [\"policy_v2\", \"stiell1997\", \"bachmann2004\"]",
    );
    expect(
        &p,
        "rules.toml",
        Some("rule U1"),
        "cites `stiell1997`, which citations.toml does not define",
    );
}

#[test]
fn unused_citation() {
    let p = corrupt(
        "citations.toml",
        "[[citation]]\nid = \"policy_v2\"",
        "[[citation]]\nid = \"orphan\"\ntext = \"Nobody cites me.\"\n\n[[citation]]\nid = \"policy_v2\"",
    );
    expect(
        &p,
        "citations.toml",
        Some("citation orphan"),
        "nothing cites this source",
    );
}

#[test]
fn unknown_definition_reference() {
    let p = corrupt(
        "rules.toml",
        "{ ref = \"traumatic\" }",
        "{ ref = \"traumatc\" }",
    );
    expect(&p, "rules.toml", Some("rule E4"), "definition `traumatc`");
}

#[test]
fn unknown_level() {
    let p = corrupt(
        "rules.toml",
        "level = \"urgent\"\nflag = \"possible_dvt\"",
        "level = \"soon\"\nflag = \"possible_dvt\"",
    );
    expect(&p, "rules.toml", Some("rule U3"), "unknown level `soon`");
}

#[test]
fn dosage_without_an_amount() {
    let p = corrupt(
        "exercises.toml",
        "dosage = { sets = 2, reps = 10, per_day = 2, days_per_week = 7 }",
        "dosage = { sets = 2, per_day = 2, days_per_week = 7 }",
    );
    expect(
        &p,
        "exercises.toml",
        Some("exercise heel_slides"),
        "dosage needs `reps`, `hold_seconds` or `minutes`",
    );
}

#[test]
fn missing_file() {
    let sources: Vec<Source> = bundled_sources()
        .into_iter()
        .filter(|s| s.name != "progression.toml")
        .collect();
    expect(&load(&sources), "progression.toml", None, "file is missing");
}

#[test]
fn invalid_toml_names_the_file() {
    let p = corrupt(
        "levels.toml",
        "[[level]]\nid = \"urgent\"",
        "[[level]\nid = \"urgent\"",
    );
    expect(&p, "levels.toml", None, "invalid TOML");
}

#[test]
fn every_problem_is_reported() {
    let mut sources = bundled_sources();
    for s in &mut sources {
        if s.name == "rules.toml" {
            s.text = s
                .text
                .replacen("fact = \"leg_cold_pale_numb\"", "fact = \"x1\"", 1);
            s.text = s
                .text
                .replacen("fact = \"knee_locked\"", "fact = \"x2\"", 1);
        }
    }
    let p = load(&sources);
    expect(&p, "rules.toml", Some("rule A1"), "unknown fact `x1`");
    expect(&p, "rules.toml", Some("rule U2"), "unknown fact `x2`");
}

#[test]
fn version_is_a_content_hash() {
    let a = KnowledgeBase::from_sources(&bundled_sources()).expect("valid");
    let mut changed = bundled_sources();
    changed[0].text.push_str("\n# a comment\n");
    let b = KnowledgeBase::from_sources(&changed).expect("still valid");
    assert!(
        a.version.starts_with("sha256:") && a.version.len() == 23,
        "{}",
        a.version
    );
    assert_ne!(a.version, b.version);
}

#[test]
fn instrument_item_missing_or_unknown() {
    let p = corrupt("instruments.toml", "id = \"L20\"", "id = \"L21\"");
    expect(
        &p,
        "instruments.toml",
        Some("instrument lefs"),
        "items missing that the scoring needs: L20",
    );
    expect(
        &p,
        "instruments.toml",
        Some("instrument lefs"),
        "items the scoring does not know: L21",
    );
}

#[test]
fn instrument_scale_unknown_or_wrong_length() {
    let p = corrupt(
        "instruments.toml",
        "options = \"frequency_reversed\"",
        "options = \"reversed\"",
    );
    expect(
        &p,
        "instruments.toml",
        Some("instrument koos"),
        "item `S4` uses scale `reversed`, which is not defined",
    );
    let p = corrupt(
        "instruments.toml",
        "\"No difficulty\"]",
        "\"No difficulty\", \"Other\"]",
    );
    expect(
        &p,
        "instruments.toml",
        Some("instrument lefs"),
        "scale `difficulty` has 6 options",
    );
}

#[test]
fn instrument_missing_altogether() {
    let p = corrupt("instruments.toml", "id = \"nprs\"", "id = \"vas\"");
    expect(
        &p,
        "instruments.toml",
        Some("instrument vas"),
        "unknown instrument",
    );
    expect(&p, "instruments.toml", None, "instrument `nprs` is missing");
}

/// Policy v2, "What the questionnaire must do": a knowledge base that hides
/// a rule's question where the rule could fire is refused, naming the rule,
/// the question and the condition that hides it.
#[test]
fn a_question_hidden_where_its_rule_fires_is_refused() {
    // The v1 mistake: the pop question only after a sudden onset, while R8
    // fires on a pop at any time.
    let p = corrupt(
        "questionnaire.toml",
        "label = \"Pop at the moment of injury\"",
        "label = \"Pop at the moment of injury\"\nshow_if = { fact = \"onset\", eq = \"sudden\" }",
    );
    expect(&p, "rules.toml", Some("rule R8"), "reads `pop_at_injury`");
    expect(&p, "rules.toml", Some("rule R8"), "`onset` is \"gradual\"");
    // The other v1 mistake: the Ottawa questions only after a traumatic
    // mechanism, hidden after a sprint although U1 applies to it.
    let p = corrupt(
        "questionnaire.toml",
        "label = \"Head of the fibula tender\"\nhow_to_check = \"Find the bony bump on the outer side of the leg, about a thumb's width below the knee joint, and press it gently; compare with the other leg.\"\nshow_if = { ref = \"injury\" }",
        "label = \"Head of the fibula tender\"\nhow_to_check = \"Find the bony bump on the outer side of the leg, about a thumb's width below the knee joint, and press it gently; compare with the other leg.\"\nshow_if = { ref = \"traumatic\" }",
    );
    expect(
        &p,
        "rules.toml",
        Some("rule U1"),
        "reads `fibular_head_tenderness`",
    );
    // A question behind a section gate that can be answered no.
    let p = corrupt(
        "questionnaire.toml",
        "id = \"chest_symptoms\"\nsection = \"warning\"",
        "id = \"chest_symptoms\"\nsection = \"measurements\"",
    );
    expect(&p, "rules.toml", Some("rule A2"), "skips when");
    // Hidden only where the rule cannot fire is fine: the swelling timing
    // question after no swelling (U8 needs swelling).
    assert_eq!(load(&bundled_sources()), Vec::new());
}

/// A yes/no test under `not` would let "not sure" count as absent in one
/// of the two readings; the loader refuses it and says what to write.
#[test]
fn yes_no_test_under_not_is_refused() {
    let p = corrupt(
        "definitions.toml",
        "{ fact = \"high_energy_trauma\", is = false },",
        "{ not = { fact = \"high_energy_trauma\", is = true } },",
    );
    expect(
        &p,
        "definitions.toml",
        Some("definition longstanding"),
        "`not` may not contain the yes/no test of `high_energy_trauma`",
    );
}

/// Every yes/no question an ambulance or emergency rule reads says how to
/// check it, for the person who answers "not sure".
#[test]
fn emergency_question_without_how_to_check_is_refused() {
    let p = corrupt(
        "questionnaire.toml",
        "how_to_check = \"Compare both feet: feel them with the back of your hand, and look at the colour of the skin and of the toenails.\"\n",
        "",
    );
    expect(
        &p,
        "questionnaire.toml",
        Some("question leg_cold_pale_numb"),
        "give `how_to_check`",
    );
}

#[test]
fn plan_rule_with_an_unknown_property_or_phase() {
    let p = corrupt(
        "plan_rules.toml",
        "only = [\"gentle_range\"]",
        "only = [\"gentle\"]",
    );
    expect(
        &p,
        "plan_rules.toml",
        Some("plan rule P1"),
        "unknown exercise property `gentle`",
    );
    let p = corrupt(
        "plan_rules.toml",
        "max_phase = \"mobilise\"",
        "max_phase = \"mobilize\"",
    );
    expect(
        &p,
        "plan_rules.toml",
        Some("plan rule P1"),
        "phase `mobilize`",
    );
    let p = corrupt(
        "plan_rules.toml",
        "exclude_treatments = [\"massage\", \"heat\"]\ncitations",
        "liftable = true\nexclude_treatments = [\"massage\", \"heat\"]\ncitations",
    );
    expect(
        &p,
        "plan_rules.toml",
        Some("plan rule P8"),
        "only a rule that merely excludes",
    );
}

#[test]
fn balance_exercise_without_a_supported_version() {
    let p = corrupt(
        "exercises.toml",
        "supported = \"Stand beside a worktop or a chair back and hold it with one hand; take a shorter stride and lower only part of the way.\"\n",
        "",
    );
    expect(
        &p,
        "exercises.toml",
        Some("exercise split_squat"),
        "needs `supported`",
    );
}

/// Every rule carries its boundary tests as data (`[rule.examples]`): at
/// least one fact set on which it fires and one on which it does not.
#[test]
fn rule_without_examples_is_refused() {
    let a1 = "[rule.examples]\nfires = [\n  { age = 30, leg_cold_pale_numb = true },\n]\nquiet = [\n  { age = 30, leg_cold_pale_numb = false },\n  { age = 30 },\n]\n";
    let p = corrupt("rules.toml", a1, "");
    expect(&p, "rules.toml", Some("rule A1"), "has no examples");
    assert_eq!(p.len(), 1, "only the missing examples: {p:?}");
    let p = corrupt(
        "rules.toml",
        "quiet = [\n  { age = 30, leg_cold_pale_numb = false },\n  { age = 30 },\n]",
        "quiet = []",
    );
    expect(
        &p,
        "rules.toml",
        Some("rule A1"),
        "`examples.quiet` is empty: give at least one fact set on which the rule does not fire",
    );
    let p = corrupt(
        "rules.toml",
        "[rule.examples]\nfires = [",
        "[rule.examples]\nfire = [",
    );
    expect(&p, "rules.toml", Some("rule A1"), "unknown field `fire`");
}

/// An example is read as a facts file is, against the questionnaire; the
/// problem names the rule, the example and the fact.
#[test]
fn rule_example_that_is_not_a_valid_fact_set_is_refused() {
    let p = corrupt(
        "rules.toml",
        "{ age = 30, leg_cold_pale_numb = true }",
        "{ age = 30, leg_cold = true }",
    );
    expect(
        &p,
        "rules.toml",
        Some("rule A1"),
        "`examples.fires` #1: fact `leg_cold`: is not a fact of the questionnaire",
    );
    let p = corrupt(
        "rules.toml",
        "{ age = 30, pain_now = 7 }",
        "{ age = 30, pain_now = 11 }",
    );
    expect(
        &p,
        "rules.toml",
        Some("rule U5"),
        "`examples.quiet` #1: fact `pain_now`: 11 is out of range",
    );
    let p = corrupt(
        "rules.toml",
        "{ age = 60, foot_weakness = true }",
        "{ foot_weakness = \"yes\" }",
    );
    expect(
        &p,
        "rules.toml",
        Some("rule U9"),
        "`examples.fires` #1: fact `foot_weakness`: expected true, false or \"unsure\", got the text \"yes\"; fact `age`: is required",
    );
}
