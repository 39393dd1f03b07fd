//! Property tests over generated facts (every fact absent or any valid value).

use kneepath_core::kb::QuestionKind;
use kneepath_core::plan::Plan;
use kneepath_core::{Facts, Value, assess};
use proptest::prelude::*;

use super::kb;

fn value_strategy(kind: &QuestionKind) -> BoxedStrategy<Value> {
    match kind.clone() {
        QuestionKind::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        QuestionKind::Integer { min, max } => (min..=max).prop_map(Value::Int).boxed(),
        QuestionKind::Number { min, max } => (min..=max).prop_map(Value::Num).boxed(),
        QuestionKind::Choice { options } => {
            (0..options.len() as u16).prop_map(Value::Choice).boxed()
        }
        QuestionKind::Multi { options, .. } => {
            let values: Vec<String> = options.into_iter().map(|o| o.value).collect();
            proptest::sample::subsequence(values.clone(), 0..=values.len())
                .prop_map(Value::List)
                .boxed()
        }
    }
}

/// Any facts the questionnaire allows; required facts always present.
fn arb_facts() -> impl Strategy<Value = Facts> {
    let per_question: Vec<BoxedStrategy<Option<Value>>> = kb()
        .questions
        .iter()
        .map(|q| {
            let v = value_strategy(&q.kind);
            if q.required {
                v.prop_map(Some).boxed()
            } else {
                prop_oneof![2 => Just(None), 1 => v.prop_map(Some)].boxed()
            }
        })
        .collect();
    per_question.prop_map(|values| {
        let mut f = Facts::empty(kb());
        for (i, v) in values.into_iter().enumerate() {
            f.set(i, v);
        }
        f
    })
}

/// Yes/no facts whose absence means "not present": the warning signs and
/// the other signs a person may report.
fn signs() -> Vec<usize> {
    kb().questions
        .iter()
        .enumerate()
        .filter(|(_, q)| q.kind == QuestionKind::Bool && q.absent_false)
        .map(|(i, _)| i)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn adding_a_warning_sign_never_lowers_urgency(facts in arb_facts(), pick in any::<proptest::sample::Index>()) {
        let signs = signs();
        let sign = signs[pick.index(signs.len())];
        let before = assess(kb(), &facts).level;
        let mut more = facts.clone();
        more.set(sign, Some(Value::Bool(true)));
        let after = assess(kb(), &more).level;
        prop_assert!(after <= before, "{} raised: {before} -> {after}", kb().questions[sign].id);
    }

    #[test]
    fn result_does_not_depend_on_the_order_of_facts(
        facts in arb_facts(),
        order in Just((0..kb().questions.len()).collect::<Vec<_>>()).prop_shuffle(),
    ) {
        let json = kb().facts_to_json(&facts);
        // Write the object by hand, keys in the shuffled order.
        let mut text = String::from("{");
        for i in order {
            let id = &kb().questions[i].id;
            if let Some(v) = json.get(id) {
                if text.len() > 1 { text.push(','); }
                text.push_str(&format!("{}:{}", serde_json::Value::from(id.as_str()), v));
            }
        }
        text.push('}');
        let reread = kb().facts_from_json_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&reread, &facts);
        prop_assert_eq!(assess(kb(), &reread).report(), assess(kb(), &facts).report());
    }

    #[test]
    fn fired_rules_only_cite_facts_that_were_given(facts in arb_facts()) {
        let a = assess(kb(), &facts);
        for f in &a.fired {
            prop_assert!(!f.evidence.is_empty() || f.rule.id.is_empty(), "rule {} fired with no facts", f.rule.id);
            for e in &f.evidence {
                prop_assert_eq!(facts.get(e.fact), Some(&e.value), "rule {} cites {}", f.rule.id, e.question.id);
            }
        }
        for c in &a.contributors {
            for e in &c.evidence {
                prop_assert_eq!(facts.get(e.fact), Some(&e.value));
            }
        }
    }

    #[test]
    fn level_is_the_minimum_of_fired_levels_and_plan_follows_it(facts in arb_facts()) {
        let a = assess(kb(), &facts);
        let expected = a.fired.iter().map(|f| f.rule.level).min().unwrap_or(kneepath_core::TriageLevel::SelfCare);
        prop_assert_eq!(a.level, expected);
        match &a.plan {
            Plan::Home(h) => {
                prop_assert!(a.level.allows_home_plan());
                prop_assert!(!h.items.is_empty());
            }
            Plan::SeekCare { .. } => prop_assert!(!a.level.allows_home_plan()),
        }
    }

    #[test]
    fn assessment_is_deterministic(facts in arb_facts()) {
        prop_assert_eq!(assess(kb(), &facts).report(), assess(kb(), &facts).report());
    }
}

/// Any check-in the form accepts, for a day in the week before 2026-11-24.
fn arb_checkin() -> impl Strategy<Value = kneepath_core::checkin::CheckIn> {
    use kneepath_core::checkin::{CheckIn, Swelling};
    let planned: Vec<String> = ["nordic_curl", "bridge", "squat"]
        .map(String::from)
        .to_vec();
    let sign_ids: Vec<String> = kb().warning_signs().map(|(_, q)| q.id.clone()).collect();
    let scales = (
        0u8..=10,
        proptest::option::of(0u8..=10),
        proptest::option::of(0u8..=10),
        0u8..=10,
    );
    // Blank answers (None) included: a blank reads back as blank.
    let rest = (
        proptest::option::of(0..3usize),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        proptest::sample::subsequence(planned.clone(), 0..=planned.len()),
        prop_oneof![Just(0u16), 1u16..=600],
        0u8..=10,
        proptest::option::of(0.0f64..=24.0),
        proptest::sample::subsequence(sign_ids.clone(), 0..=2.min(sign_ids.len())),
        -7i32..=0,
    );
    (scales, rest).prop_map(
        move |(
            (pain_now, ep, morning_pain, stiffness),
            (sw, walks, full, done, minutes, effort, sleep, signs, back),
        )| {
            CheckIn {
                day: "2026-11-24"
                    .parse::<kneepath_core::Day>()
                    .expect("day")
                    .plus(back),
                pain_now,
                // The form asks for exercise pain whenever exercises were
                // done, and takes none when none was.
                exercise_pain: if done.is_empty() {
                    None
                } else {
                    Some(ep.unwrap_or(3))
                },
                morning_pain,
                stiffness,
                swelling: sw.map(|i| [Swelling::None, Swelling::Mild, Swelling::Significant][i]),
                walks_normally: walks,
                full_range: full,
                planned: planned.clone(),
                done,
                training_minutes: minutes,
                effort,
                sleep_hours: sleep,
                warning_signs: signs,
            }
        },
    )
}

proptest! {
    #[test]
    fn a_stored_check_in_shown_again_reads_back_the_same(c in arb_checkin()) {
        use kneepath_core::checkin::{checkin_fields, parse_checkin};
        let today: kneepath_core::Day = "2026-11-24".parse().expect("day");
        let back = parse_checkin(kb(), &checkin_fields(&c), &c.planned, today.plus(-14), today);
        prop_assert_eq!(back, Ok(c));
    }
}
