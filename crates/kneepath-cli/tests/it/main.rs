//! Integration tests of the `kneepath` binary: run it as a user would.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kneepath"))
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared clinical cases, beside the repository (CI clones it there).
fn dev_cases() -> PathBuf {
    repo().join("../shared/cases/dev")
}

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = bin();
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().expect("spawn kneepath");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    child.wait_with_output().expect("wait")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A fresh, empty folder under the target directory.
fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "kneepath-it-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

#[test]
fn dev_cases_all_pass_with_no_under_triage() {
    let dir = dev_cases();
    assert!(dir.is_dir(), "shared cases not found at {}", dir.display());
    let out = run(&["cases", dir.to_str().expect("utf-8 path")], None);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("under-triage: 0"), "{stdout}");
    let last = stdout.lines().last().unwrap_or_default();
    let n = std::fs::read_dir(&dir)
        .expect("dir")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "toml"))
        })
        .count();
    assert_eq!(last, format!("{n} passed, 0 failed"));
}

#[test]
fn failing_and_broken_cases_fail_the_run() {
    let dir = scratch("cases");
    // Expects self_care but the facts give ambulance: an over-triage failure.
    std::fs::write(
        dir.join("over.toml"),
        "id = \"over\"\nsummary = \"x\"\n[facts]\nage = 30\nleg_cold_pale_numb = true\n[expect]\ntriage = \"self_care\"\n",
    )
    .expect("write");
    // Expects urgent but nothing fires: an under-triage.
    std::fs::write(
        dir.join("under.toml"),
        "id = \"under\"\nsummary = \"x\"\n[facts]\nage = 30\n[expect]\ntriage = \"urgent\"\nflags = [\"severe_pain\"]\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("broken.toml"),
        "id = \"broken\"\n[facts]\nage = 300\n[expect]\ntriage = \"urgent\"\n",
    )
    .expect("write");
    let out = run(&["cases", dir.to_str().expect("path")], None);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("under-triage: 1"), "{stdout}");
    assert!(
        stdout.contains("UNDER-TRIAGE: level self_care instead of urgent"),
        "{stdout}"
    );
    assert!(stdout.contains("flags not raised: severe_pain"), "{stdout}");
    assert!(
        stdout.contains("fact `age`: 300 is out of range"),
        "{stdout}"
    );
    assert!(stdout.ends_with("0 passed, 3 failed\n"), "{stdout}");

    let out = run(&["cases", dir.to_str().expect("path"), "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["failed"], 3);
    assert_eq!(v["under_triage"], 1);
}

#[test]
fn assess_a_facts_file_as_text_and_json() {
    let case = dev_cases().join("dev-001.toml");
    let out = run(&["assess", "--facts", case.to_str().expect("path")], None);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.lines().nth(1).is_some_and(|l| l.contains("URGENT")),
        "level first:\n{stdout}"
    );
    assert!(stdout.contains("rule U6"), "{stdout}");
    assert!(stdout.contains("not a diagnosis"), "{stdout}");
    assert!(
        !stdout.contains("Your plan"),
        "urgent must not get an exercise plan"
    );

    let out = run(
        &["assess", "--facts", case.to_str().expect("path"), "--json"],
        None,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["level"], "urgent");
    assert_eq!(v["plan"]["kind"], "seek_care");
}

#[test]
fn bad_facts_file_is_one_line_on_stderr() {
    let dir = scratch("facts");
    let f = dir.join("f.json");
    std::fs::write(&f, r#"{"age": 30, "pain_now": 11}"#).expect("write");
    let out = run(&["assess", "--facts", f.to_str().expect("path")], None);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("fact `pain_now`: 11 is out of range"), "{err}");
    assert!(out.stdout.is_empty());

    let out = run(
        &[
            "assess",
            "--facts",
            dir.join("missing.toml").to_str().expect("path"),
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("cannot read"));
}

/// Answers for the interview, one per asked question, in order.
fn interview(answers: &[&str]) -> Output {
    let mut input = answers.join("\n");
    input.push('\n');
    run(&["assess"], Some(&input))
}

#[test]
fn interactive_assessment_reaches_a_result_and_reasks_bad_answers() {
    // age (first "abc" is rejected, then 34), sex, sports, onset, days,
    // mechanism, high-energy, pop, could continue, then Enter (skip) for the rest.
    let mut answers = vec!["abc", "34", "2", "football", "1", "1", "1", "n", "y", "n"];
    // pain now: 11 is rejected, then 6
    answers.extend(["11", "6"]);
    answers.extend(std::iter::repeat_n("", 80));
    let out = interview(&answers);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("That answer does not fit: expected a whole number, got \"abc\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("That answer does not fit: 11 is out of range"),
        "{stdout}"
    );
    // sudden sprint with a pop yesterday: possible hamstring tear, urgent.
    assert!(stdout.contains("URGENT: See a doctor today"), "{stdout}");
    assert!(stdout.contains("rule U6"), "{stdout}");
}

#[test]
fn interactive_hides_questions_that_do_not_apply() {
    // age, sex, no sport, gradual onset, 30 days, overuse, no high energy.
    let mut answers = vec!["40", "", "", "2", "30", "7", "n"];
    answers.extend(std::iter::repeat_n("", 80));
    let out = interview(&answers);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Gradual onset: no pop question; no trauma: no Ottawa questions; no
    // sport: no training questions.
    assert!(!stdout.contains("Did you feel or hear a pop"), "{stdout}");
    assert!(!stdout.contains("head of the fibula"), "{stdout}");
    assert!(!stdout.contains("warm up before sport"), "{stdout}");
    assert!(stdout.contains("SELF CARE"), "{stdout}");
}

#[test]
fn interactive_input_ending_early_is_an_error() {
    let out = interview(&["34"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("input ended before the questionnaire was finished"));
}

fn copy_kb(name: &str) -> PathBuf {
    let dir = scratch(name);
    for entry in std::fs::read_dir(repo().join("knowledge")).expect("knowledge dir") {
        let p = entry.expect("entry").path();
        std::fs::copy(&p, dir.join(p.file_name().expect("name"))).expect("copy");
    }
    dir
}

#[test]
fn kb_check_accepts_the_repository_and_names_problems_in_a_broken_copy() {
    let out = run(
        &[
            "kb",
            "check",
            repo().join("knowledge").to_str().expect("path"),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("knowledge base OK"));

    let dir = copy_kb("kb");
    let rules = dir.join("rules.toml");
    let t = std::fs::read_to_string(&rules).expect("read");
    std::fs::write(
        &rules,
        t.replacen("fact = \"foot_weakness\"", "fact = \"foot_weak\"", 1),
    )
    .expect("write");
    std::fs::write(dir.join("extra.toml"), "x = 1").expect("write");
    let out = run(&["kb", "check", dir.to_str().expect("path")], None);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("rules.toml: rule U9: `when`: unknown fact `foot_weak`"),
        "{err}"
    );
    assert!(
        err.contains("extra.toml: not a knowledge-base file"),
        "{err}"
    );
}

#[test]
fn a_changed_knowledge_base_is_used_by_cases() {
    // Raising U5's threshold above the pain in a case must fail that case:
    // the engine reads thresholds from data.
    let dir = copy_kb("kb-threshold");
    let rules = dir.join("rules.toml");
    let t = std::fs::read_to_string(&rules).expect("read");
    std::fs::write(
        &rules,
        t.replacen(
            "{ fact = \"pain_now\", ge = 8 }",
            "{ fact = \"pain_now\", ge = 11 }",
            1,
        ),
    )
    .expect("write");
    let cases = scratch("u5case");
    std::fs::write(
        cases.join("c.toml"),
        "id = \"c\"\nsummary = \"x\"\n[facts]\nage = 30\npain_now = 9\n[expect]\ntriage = \"urgent\"\n",
    )
    .expect("write");
    let ok = run(&["cases", cases.to_str().expect("path")], None);
    assert!(ok.status.success(), "{}", text(&ok.stdout));
    let changed = run(
        &[
            "--knowledge",
            dir.to_str().expect("path"),
            "cases",
            cases.to_str().expect("path"),
        ],
        None,
    );
    assert_eq!(changed.status.code(), Some(1), "{}", text(&changed.stdout));
}

#[test]
fn seed_backup_and_restore_round_trip() {
    let dir = scratch("backup");
    let db = |name: &str| format!("sqlite://{}", dir.join(name).display());
    let out = run(
        &[
            "seed",
            "--database",
            &db("a.db"),
            "--patients",
            "3",
            "--days",
            "7",
            "--today",
            "2026-11-24",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = dir.join("backup.jsonl");
    let out = run(
        &[
            "backup",
            "--database",
            &db("a.db"),
            "--out",
            file.to_str().expect("path"),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let backed = text(&out.stdout);
    let rows: u64 = backed
        .split_whitespace()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .expect("row count");
    // At least each patient, their assessment and its audit row.
    assert!(rows >= 9, "{backed}");
    let out = run(
        &[
            "restore",
            "--database",
            &db("b.db"),
            "--in",
            file.to_str().expect("path"),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with(&format!("restored {rows} rows")));
    // A second restore into the now full database is refused with one line.
    let out = run(
        &[
            "restore",
            "--database",
            &db("b.db"),
            "--in",
            file.to_str().expect("path"),
        ],
        None,
    );
    assert!(!out.status.success());
    assert_eq!(text(&out.stderr).lines().count(), 1);
    assert!(text(&out.stderr).contains("restore into an empty database"));
}

#[test]
fn output_into_a_closed_pipe_is_not_an_error() {
    // `kneepath ... | head -c 1` once `head` has gone: every write fails with
    // EPIPE. The reading end is closed before the program starts, so the
    // first write already fails.
    for args in [
        vec!["fhir", "questionnaire"],
        vec!["kb", "check", "--json"],
        vec!["cases", dev_cases().to_str().expect("utf-8 path"), "--json"],
        vec!["assess", "--facts", "../shared/cases/dev/dev-001.toml"],
    ] {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let done = bin()
            .current_dir(repo())
            .args(&args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .expect("run kneepath");
        assert!(done.status.success(), "{args:?}: {:?}", done.status);
        assert_eq!(String::from_utf8_lossy(&done.stderr), "", "{args:?}");
    }
}

#[test]
fn a_database_that_cannot_be_opened_is_one_clear_line_and_stays_as_it_was() {
    let dir = scratch("baddb");
    let junk = dir.join("notes.db");
    std::fs::write(&junk, "my notes, not a database\n").expect("write");
    let url = format!("sqlite://{}", junk.display());
    let out_file = dir.join("out.jsonl");
    let backup = |database: &str| {
        run(
            &[
                "backup",
                "--database",
                database,
                "--out",
                out_file.to_str().expect("path"),
            ],
            None,
        )
    };
    let out = backup(&url);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("file is not a database"), "{err}");
    assert_eq!(err.matches("file is not a database").count(), 1, "{err}");
    assert_eq!(
        std::fs::read_to_string(&junk).expect("read"),
        "my notes, not a database\n"
    );

    // A password in a database URL never reaches the terminal.
    let out = backup("postgres://kp:hunter2secret@127.0.0.1:1/kneepath");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("hunter2secret"), "{err}");
    assert!(
        err.contains("postgres://kp:***@127.0.0.1:1/kneepath"),
        "{err}"
    );
}
