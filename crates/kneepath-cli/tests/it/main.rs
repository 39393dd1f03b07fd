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

/// Run the terminal interview as a person would: read each question as it
/// comes and answer it from `answers` (fact name -> the answers to give in
/// turn, so a refused answer can be followed by a good one). A question
/// not in `answers` gets the reassuring answer when it must be answered,
/// else Enter. Returns everything printed and the questions asked, in order.
fn drive_interview(answers: &[(&str, &[&str])]) -> (String, Vec<String>) {
    use std::io::Read;
    let kb = kneepath_core::KnowledgeBase::bundled().expect("kb");
    let mut child = bin()
        .arg("assess")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kneepath");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut seen = String::new();
    let mut asked: Vec<String> = Vec::new();
    let mut used: std::collections::HashMap<String, usize> = Default::default();
    let mut from = 0;
    let mut byte = [0u8; 1];
    loop {
        match stdout.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => seen.push(byte[0] as char),
            Err(e) => panic!("reading the interview: {e}"),
        }
        if !seen.ends_with("] > ") {
            continue;
        }
        let since = &seen[from..];
        from = seen.len();
        // The question is the last prompt printed since the last answer;
        // a prompt printed again is the same question asked again.
        let question = kb
            .questions
            .iter()
            .filter_map(|q| since.rfind(&q.prompt).map(|at| (at, q)))
            .max_by_key(|(at, _)| *at)
            .map(|(_, q)| q);
        let answer = match question {
            None if since.contains("[y/n] > ") => "n".to_string(),
            None => asked
                .last()
                .and_then(|id| kb.fact_id(id))
                .map(|f| &kb.questions[f])
                .map(|q| next_answer(q, answers, &mut used))
                .unwrap_or_default(),
            Some(q) => {
                asked.push(q.id.clone());
                next_answer(q, answers, &mut used)
            }
        };
        writeln!(stdin, "{answer}").expect("answer");
    }
    drop(stdin);
    let status = child.wait().expect("wait");
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    assert!(status.success(), "{seen}\n{err}");
    (seen, asked)
}

fn next_answer(
    q: &kneepath_core::kb::Question,
    answers: &[(&str, &[&str])],
    used: &mut std::collections::HashMap<String, usize>,
) -> String {
    if let Some((_, list)) = answers.iter().find(|(f, _)| *f == q.id) {
        let n = used.entry(q.id.clone()).or_insert(0);
        let a = list.get(*n).or(list.last()).copied().unwrap_or("");
        *n += 1;
        return a.to_string();
    }
    match (&q.kind, q.must_answer) {
        (kneepath_core::kb::QuestionKind::Bool, true) => {
            if q.warning_answer { "n" } else { "y" }.to_string()
        }
        (_, true) => panic!(
            "the test gives no answer to the must-answer question {}",
            q.id
        ),
        _ => String::new(),
    }
}

#[test]
fn interactive_assessment_reaches_a_result_and_reasks_bad_answers() {
    let (out, _) = drive_interview(&[
        ("age", &["abc", "34"]),
        ("sports", &["football"]),
        ("onset", &["1"]),
        ("days_since_onset", &["1"]),
        ("mechanism", &["1"]),
        ("pop_at_injury", &["y"]),
        ("pain_now", &["11", "6"]),
        // A must-answer question left blank is asked again.
        ("fever", &["", "n"]),
    ]);
    assert!(
        out.contains("That answer does not fit: expected a whole number, got \"abc\""),
        "{out}"
    );
    assert!(
        out.contains("That answer does not fit: 11 is out of range"),
        "{out}"
    );
    assert!(
        out.contains("An answer is needed here: y, n, or ? if you are not sure."),
        "{out}"
    );
    // A sudden sprint with a pop yesterday: possible hamstring tear, urgent.
    assert!(out.contains("URGENT: See a doctor today"), "{out}");
    assert!(out.contains("rule U6"), "{out}");
}

#[test]
fn interactive_asks_what_the_rules_need_and_hides_the_rest() {
    // Gradual onset, overuse, no sport.
    let (out, asked) = drive_interview(&[
        ("age", &["40"]),
        ("onset", &["2"]),
        ("days_since_onset", &["30"]),
        ("mechanism", &["7"]),
    ]);
    // Policy v2: R8 reads the pop at any time, so it is asked after a
    // gradual onset too; the Ottawa questions only after an injury; the
    // training questions only with a sport.
    assert!(asked.iter().any(|q| q == "pop_at_injury"), "{asked:?}");
    assert!(
        !asked.iter().any(|q| q == "fibular_head_tenderness"),
        "{asked:?}"
    );
    assert!(!asked.iter().any(|q| q == "warm_up"), "{asked:?}");
    // Self-examination questions say how to check.
    assert!(out.contains("How to check: Sit on a chair"), "{out}");
    assert!(out.contains("SELF CARE"), "{out}");
}

/// Policy v2, "Stop at once": a cold, pale foot on the warning-sign step
/// gives the ambulance action with no further questions.
#[test]
fn interactive_stops_at_once_on_an_ambulance_sign() {
    let (out, asked) = drive_interview(&[
        ("age", &["52"]),
        ("onset", &["2"]),
        ("mechanism", &["8"]),
        ("leg_cold_pale_numb", &["y"]),
    ]);
    assert!(out.contains("Stopping here"), "{out}");
    assert!(out.contains("AMBULANCE"), "{out}");
    assert_eq!(
        asked.last().map(String::as_str),
        Some("leg_cold_pale_numb"),
        "{asked:?}"
    );
    // "Not sure" about it instead: an emergency, one level less, and the
    // reason says how to check.
    let (out, _) = drive_interview(&[
        ("age", &["52"]),
        ("onset", &["2"]),
        ("mechanism", &["8"]),
        ("leg_cold_pale_numb", &["?"]),
    ]);
    assert!(out.contains("EMERGENCY"), "{out}");
    assert!(out.contains("not sure"), "{out}");
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

    // A refused file leaves no trace: the target is not even created.
    let bad = dir.join("only-the-end.jsonl");
    std::fs::write(
        &bad,
        "{\"end\":true,\"rows\":0,\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}\n",
    )
    .expect("write");
    let out = run(
        &[
            "restore",
            "--database",
            &db("c.db"),
            "--in",
            bad.to_str().expect("path"),
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no header"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.join("c.db").exists(), "the target was created");

    // With a key: the backup carries an HMAC that a restore with the key
    // checks; the wrong key is refused, the right one restores.
    let key = dir.join("backup.key");
    std::fs::write(&key, "a long secret key of the clinic\n").expect("key");
    let other = dir.join("other.key");
    std::fs::write(&other, "another long secret key here").expect("key");
    let keyed = dir.join("keyed.jsonl");
    let out = run(
        &[
            "backup",
            "--database",
            &db("a.db"),
            "--out",
            keyed.to_str().expect("path"),
            "--key-file",
            key.to_str().expect("path"),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(
        &[
            "restore",
            "--database",
            &db("d.db"),
            "--in",
            keyed.to_str().expect("path"),
            "--key-file",
            other.to_str().expect("path"),
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("HMAC"), "{}", text(&out.stderr));
    assert!(!dir.join("d.db").exists());
    let out = run(
        &[
            "restore",
            "--database",
            &db("d.db"),
            "--in",
            keyed.to_str().expect("path"),
            "--key-file",
            key.to_str().expect("path"),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
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

/// A count of rounds that would time nothing is refused by the parser,
/// as one clear message, not a panic.
#[test]
fn bench_caseload_refuses_zero_rounds() {
    let dir = scratch("rounds");
    let url = format!("sqlite://{}", dir.join("k.db").display());
    let out = run(
        &["bench-caseload", "--database", &url, "--rounds", "0"],
        None,
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("--rounds"), "{err}");
}

/// SAFETY.md names the tests that verify each hazard's controls: every one
/// must exist (a Rust test as `file::fn_name`, a browser test as
/// `file::title`, a script as its path), and every hazard names at least
/// one.
#[test]
fn safety_log_names_only_tests_that_exist() {
    let log = std::fs::read_to_string(repo().join("SAFETY.md")).expect("SAFETY.md");
    let mut missing = Vec::new();
    let mut named = 0;
    for hazard in log.split("\n## ").skip(1) {
        let title = hazard.lines().next().unwrap_or("").to_string();
        let Some(verified) = hazard.split("Verified by").nth(1) else {
            if title.starts_with('H') {
                missing.push(format!("{title}: no \"Verified by\""));
            }
            continue;
        };
        let mut in_hazard = 0;
        for line in verified
            .lines()
            .filter(|l| l.trim_start().starts_with("- `"))
        {
            let reference = line.split('`').nth(1).unwrap_or("");
            let (file, name) = reference.split_once("::").unwrap_or((reference, ""));
            let text = match std::fs::read_to_string(repo().join(file)) {
                Ok(t) => t,
                Err(_) => {
                    missing.push(format!("{title}: {file} does not exist"));
                    continue;
                }
            };
            let found = if name.is_empty() {
                true
            } else if file.ends_with(".rs") {
                text.contains(&format!("fn {name}("))
            } else {
                text.contains(name)
            };
            if !found {
                missing.push(format!("{title}: {reference} is not in {file}"));
            }
            in_hazard += 1;
        }
        if in_hazard == 0 {
            missing.push(format!("{title}: names no test"));
        }
        named += in_hazard;
    }
    assert!(named >= 20, "only {named} tests named");
    assert!(missing.is_empty(), "SAFETY.md:\n{}", missing.join("\n"));
}
