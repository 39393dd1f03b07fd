//! The wizard walk (policy v2, "What the questionnaire must do"): every
//! clinical case is answered through the web wizard as a person would,
//! answering only the questions each step shows, with the case's facts.
//! The result must have the same level, flags and plan rules as the engine
//! gives on the case's facts directly, so a question hidden where a rule
//! needs it, an answer recorded for the person, or a stop that loses an
//! answer fails here.
//!
//! Where the case leaves a must-answer question out, the walk gives the
//! answer that means the same: "no" for a warning sign (not reported means
//! not present), "not sure" for a choice (unknown), and the reassuring
//! answer for a yes/no whose absence is unknown (no rule fires on either).
//! When the wizard stops at once, the walk checks the stop and then answers
//! the remaining questions, as the result page offers.
//!
//! The cases come from `KNEEPATH_CASES` (the test command's case folder),
//! else `../shared/cases/dev`.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use kneepath_core::kb::{KnowledgeBase, QuestionKind};
use kneepath_core::{Facts, TriageLevel, Value, assess};

use super::{App, app};

fn cases_dir() -> std::path::PathBuf {
    match std::env::var("KNEEPATH_CASES") {
        Ok(d) if !d.is_empty() => {
            let p = std::path::PathBuf::from(d);
            if p.is_absolute() {
                p
            } else {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../..")
                    .join(p)
            }
        }
        _ => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/cases/dev"),
    }
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The names of the answer fields a wizard page shows (each question once).
fn shown(body: &str) -> Vec<String> {
    let form = body
        .split("<form method=\"post\" action=\"/assess")
        .nth(1)
        .and_then(|f| f.split("</form>").next())
        .unwrap_or_default();
    let mut out: Vec<String> = Vec::new();
    for chunk in form.split("name=\"").skip(1) {
        let name = chunk.split('"').next().unwrap_or("");
        if matches!(name, "csrf" | "nav" | "__gate") || name.ends_with("__other") {
            continue;
        }
        if !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    }
    out
}

/// The form answer(s) a person with these facts gives to one question.
fn answer(kb: &KnowledgeBase, facts: &Facts, id: &str) -> Vec<(String, String)> {
    let Some(f) = kb.fact_id(id) else {
        panic!("the wizard shows `{id}`, which is not a fact");
    };
    let q = &kb.questions[f];
    let one = |v: String| vec![(id.to_string(), v)];
    match (facts.get(f), &q.kind) {
        (Some(Value::Bool(b)), _) => one(if *b { "yes" } else { "no" }.into()),
        (Some(Value::Unsure), _) => one("unsure".into()),
        (Some(Value::Int(i)), _) => one(i.to_string()),
        (Some(Value::Num(n)), _) => one(n.to_string()),
        (Some(Value::Choice(c)), QuestionKind::Choice { options }) => {
            one(options[*c as usize].value.clone())
        }
        (Some(Value::List(items)), QuestionKind::Multi { options, .. }) => {
            let mut out = Vec::new();
            let mut other = Vec::new();
            for i in items {
                if options.iter().any(|o| o.value == *i) {
                    out.push((id.to_string(), i.clone()));
                } else {
                    other.push(i.clone());
                }
            }
            if !other.is_empty() {
                out.push((format!("{id}__other"), other.join(", ")));
            }
            out
        }
        // Not reported means not present: "no". Where absence is unknown
        // and "no" is the warning answer (bending to a right angle), the
        // reassuring "yes": no rule fires on either.
        (None, QuestionKind::Bool) if q.must_answer => one(if q.absent_false || q.warning_answer {
            "no"
        } else {
            "yes"
        }
        .into()),
        (None, QuestionKind::Choice { .. } | QuestionKind::Multi { .. }) if q.must_answer => {
            one("__unsure".into())
        }
        (None, _) => Vec::new(),
        (Some(v), k) => panic!("`{id}`: {v:?} does not fit a {} question", k.name()),
    }
}

/// The fields of one step's answers, url-encoded.
fn body(csrf: &str, answers: &[(String, String)], gate: Option<bool>) -> String {
    let mut b = format!("csrf={csrf}&nav=next");
    if let Some(g) = gate {
        b.push_str(if g { "&__gate=yes" } else { "&__gate=no" });
    }
    for (k, v) in answers {
        b.push_str(&format!("&{}={}", enc(k), enc(v)));
    }
    b
}

/// What the walk compares: the level, the flags and the plan rules.
#[derive(Debug, PartialEq)]
struct Outcome {
    level: TriageLevel,
    flags: BTreeSet<String>,
    plan_rules: BTreeSet<String>,
}

/// Walk one case through the wizard from `step`, following a stop into the
/// emergency check and on to the remaining questions. Returns the final
/// result and the results the wizard stopped at on the way.
async fn walk(
    app: &App,
    cookie: &str,
    csrf: &str,
    facts: &Facts,
    case: &str,
) -> (Outcome, Vec<Outcome>) {
    let kb = &app.state.kb;
    let steps = kb.sections.len();
    let mut stops = Vec::new();
    let mut step = 1;
    loop {
        let page = app.get(&format!("/assess/{step}"), Some(cookie)).await;
        assert_eq!(page.status, StatusCode::OK, "{case} step {step}");
        let gate = kb.sections[step - 1].gate.as_ref().map(|_| {
            kb.questions
                .iter()
                .enumerate()
                .any(|(i, q)| q.section == step - 1 && facts.get(i).is_some())
        });
        let answers: Vec<(String, String)> = shown(&page.body)
            .iter()
            .flat_map(|id| answer(kb, facts, id))
            .collect();
        let r = app
            .post(
                &format!("/assess/{step}"),
                Some(cookie),
                &body(csrf, &answers, gate),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::SEE_OTHER,
            "{case} step {step}: {}",
            r.body
        );
        let mut to = r.location().to_string();
        if to.starts_with("/assess/check") {
            let check = app.get(&to, Some(cookie)).await;
            assert_eq!(check.status, StatusCode::OK, "{case}: {to}");
            let answers: Vec<(String, String)> = shown(&check.body)
                .iter()
                .flat_map(|id| answer(kb, facts, id))
                .collect();
            let r = app
                .post(&to, Some(cookie), &body(csrf, &answers, None))
                .await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{case} check: {}", r.body);
            to = r.location().to_string();
        }
        if let Some(rest) = to.strip_prefix("/assessments/") {
            let (id, stopped) = match rest.split_once("?stopped=") {
                Some((id, n)) => (id.to_string(), n.parse::<usize>().ok()),
                None => (rest.to_string(), None),
            };
            let result = outcome(app, &id).await;
            let page = app.get(&to, Some(cookie)).await;
            assert_eq!(page.status, StatusCode::OK, "{case}: {to}");
            match stopped {
                Some(next) => {
                    assert!(
                        page.body.contains(&format!("href=\"/assess/{next}\"")),
                        "{case}: the stopped result offers the remaining questions"
                    );
                    stops.push(result);
                    step = next;
                }
                None => return (result, stops),
            }
        } else {
            step += 1;
            assert!(
                step <= steps,
                "{case}: the wizard went past its last step to {to}"
            );
            assert_eq!(to, format!("/assess/{step}"), "{case}");
        }
    }
}

async fn outcome(app: &App, id: &str) -> Outcome {
    let a = app
        .state
        .store
        .assessment(id)
        .await
        .expect("db")
        .expect("assessment");
    Outcome {
        level: a.level,
        flags: a.report.flags.iter().cloned().collect(),
        plan_rules: a.report.plan_rules.iter().map(|p| p.id.clone()).collect(),
    }
}

#[tokio::test]
async fn every_case_walked_through_the_wizard_gets_the_engines_result() {
    let app = app().await;
    let kb = &app.state.kb;
    let dir = cases_dir();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no cases in {}", dir.display());
    let mut stopped = 0;
    for (n, path) in files.iter().enumerate() {
        let text = std::fs::read_to_string(path).expect("read");
        let case = path.file_name().and_then(|f| f.to_str()).unwrap_or("case");
        let facts = kb
            .facts_from_toml_str(&text)
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        let direct = assess(kb, &facts);
        let want = Outcome {
            level: direct.level,
            flags: direct.flags().into_iter().map(String::from).collect(),
            plan_rules: direct
                .plan_rules
                .iter()
                .map(|r| r.rule.id.clone())
                .collect(),
        };
        let (cookie, csrf) = app.patient(&format!("walk{n}")).await;
        let (got, stops) = walk(&app, &cookie, &csrf, &facts, case).await;
        assert_eq!(
            got, want,
            "{case}: the wizard's result differs from the engine's"
        );
        for s in &stops {
            // A stop shows the most urgent action there is: never less
            // urgent than the final result.
            assert!(
                s.level <= TriageLevel::Emergency && s.level <= want.level,
                "{case}: stopped at {:?}, final {:?}",
                s.level,
                want.level
            );
        }
        stopped += stops.len();
    }
    // The dev cases include ambulance ones, so the walk does meet a stop.
    assert!(
        stopped > 0 || files.len() < 10,
        "no case made the wizard stop"
    );
}

/// A red flag stops the questions at once even when the step still has
/// unanswered questions: the action comes first, the step is what the rest
/// starts with, and going on does not stop again at every step.
#[tokio::test]
async fn a_red_flag_stops_the_step_even_with_questions_unanswered() {
    let app = app().await;
    let (cookie, csrf) = app.patient("redflag").await;
    for (step, body) in [
        (1, "age=45"),
        (
            2,
            "onset=sudden&days_since_onset=0&mechanism=twist&high_energy_trauma=no&pop_at_injury=no",
        ),
        (3, "pain_limits_walking=no&night_pain=no"),
    ] {
        let r = app
            .post(
                &format!("/assess/{step}"),
                Some(&cookie),
                &format!("csrf={csrf}&nav=next&{body}"),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "step {step}: {}", r.body);
    }
    // Step 4: only the cold, pale foot answered.
    let r = app
        .post(
            "/assess/4",
            Some(&cookie),
            &format!("csrf={csrf}&nav=next&leg_cold_pale_numb=yes"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.location().contains("?stopped=4"), "{}", r.location());
    let page = app.get(r.location(), Some(&cookie)).await;
    assert!(page.body.contains("Call an ambulance now"), "{}", page.body);
    assert!(page.body.contains("href=\"tel:"), "{}", page.body);
    // Answering the rest afterwards does not stop again for the same level.
    let r = app
        .post(
            "/assess/4",
            Some(&cookie),
            &format!(
                "csrf={csrf}&nav=next&{}",
                super::calm_answers(&app.state.kb, 4)
                    .replace("leg_cold_pale_numb=no", "leg_cold_pale_numb=yes")
            ),
        )
        .await;
    assert_eq!(r.location(), "/assess/5", "{}", r.body);
}
