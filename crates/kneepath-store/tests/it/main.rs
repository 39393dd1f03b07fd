//! Storage story tests. They run against SQLite (a fresh file each) and,
//! when `KNEEPATH_TEST_PG_URL` is set, against PostgreSQL as well.

use kneepath_core::checkin::{CheckIn, Swelling};
use kneepath_core::plan::EditKind;
use kneepath_core::progress::Escalation;
use kneepath_core::{Day, KnowledgeBase, assess};
use kneepath_store::{
    AssessmentSource, CheckinWrite, ConflictKind, NewAssessment, PlanVersion, Role, Store,
    StoreError, UserId,
};

/// A database file no other test uses (not created yet).
fn scratch_db() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("kneepath-store-{}", kneepath_store::new_id()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir.join("t.db")
}

async fn sqlite_store() -> Store {
    Store::connect(&format!("sqlite://{}", scratch_db().display()))
        .await
        .expect("connect")
}

/// Every store the tests should run against.
async fn stores() -> Vec<Store> {
    let mut v = vec![sqlite_store().await];
    if let Ok(url) = std::env::var("KNEEPATH_TEST_PG_URL") {
        v.push(Store::connect(&url).await.expect("connect to postgres"));
    }
    v
}

/// The version of a person's plan as a write decided from it would carry.
/// A check-in write with nothing decided on it (no phase change,
/// escalation or re-triage).
fn plain<'a>(
    user_id: &'a UserId,
    assessment_id: &'a str,
    checkin: &'a CheckIn,
    plan_version: PlanVersion,
) -> CheckinWrite<'a> {
    CheckinWrite {
        user_id,
        assessment_id,
        checkin,
        phase_change: None,
        escalation: None,
        retriage: None,
        ip: None,
        plan_version,
    }
}

/// A new account of `role` under an address no other test uses.
async fn account(store: &Store, name: &str, role: Role) -> kneepath_store::User {
    let address = format!("a{}@example.org", kneepath_store::new_id());
    store
        .create_user(&address, name, "account pw 123", role)
        .await
        .expect("account")
}

/// A wizard assessment with nothing answered on `day`, which starts the
/// first phase; its id.
async fn assessed(store: &Store, kb: &KnowledgeBase, user: &UserId, day: Day) -> String {
    let facts = kneepath_core::Facts::empty(kb);
    let report = assess(kb, &facts).report();
    let facts_json = kb.facts_to_json(&facts);
    store
        .insert_assessment(
            &NewAssessment {
                user_id: user,
                day,
                source: AssessmentSource::Wizard,
                facts: &facts_json,
                report: &report,
                start_phase: Some(("mobilise", "start")),
            },
            None,
        )
        .await
        .expect("assessment")
}

async fn version(store: &Store, user_id: &UserId) -> PlanVersion {
    store
        .plan_inputs(user_id, None)
        .await
        .expect("plan inputs")
        .expect("a plan")
        .version
}

fn checkin(day: i32) -> CheckIn {
    CheckIn {
        day: Day(day),
        pain_now: 3,
        exercise_pain: Some(2),
        morning_pain: None,
        stiffness: 1,
        swelling: Some(Swelling::None),
        walks_normally: Some(true),
        full_range: Some(true),
        planned: vec!["heel_slides".into()],
        done: vec!["heel_slides".into()],
        training_minutes: 0,
        effort: 0,
        sleep_hours: Some(7.5),
        warning_signs: vec![],
    }
}

#[tokio::test]
async fn story_account_assessment_checkins_and_deletion() {
    let kb = KnowledgeBase::bundled().expect("kb");
    for store in stores().await {
        let email = format!("{}@example.org", kneepath_store::new_id());
        let user = store
            .create_user(&email, "Ana", "correct horse battery", Role::Patient)
            .await
            .expect("create");
        assert!(matches!(
            store
                .create_user(
                    &email.to_uppercase(),
                    "Ana 2",
                    "another password",
                    Role::Patient
                )
                .await,
            Err(StoreError::Conflict(ConflictKind::EmailTaken))
        ));
        assert!(
            store
                .authenticate(&email, "wrong password")
                .await
                .expect("auth")
                .is_none()
        );
        assert!(
            store
                .authenticate("nobody@example.org", "x")
                .await
                .expect("auth")
                .is_none()
        );
        let me = store
            .authenticate(&email, "correct horse battery")
            .await
            .expect("auth")
            .expect("user");
        assert_eq!(me.id, user.id);

        let token = store.create_session(&user.id, 12).await.expect("session");
        let s = store
            .session(&token)
            .await
            .expect("lookup")
            .expect("session");
        assert_eq!(s.user.id, user.id);
        assert!(store.session("forged").await.expect("lookup").is_none());

        // Assessment with its plan start.
        let facts = kb
            .facts_from_toml_str("age = 30\nonset = \"gradual\"\npain_now = 3")
            .expect("facts");
        let a = assess(&kb, &facts);
        let report = a.report();
        let facts_json = kb.facts_to_json(&facts);
        let id = store
            .insert_assessment(
                &NewAssessment {
                    user_id: &user.id,
                    day: Day(100),
                    source: AssessmentSource::Wizard,
                    facts: &facts_json,
                    report: &report,
                    start_phase: Some(("strengthen", "default")),
                },
                Some("127.0.0.1"),
            )
            .await
            .expect("insert assessment");
        let back = store
            .latest_assessment(&user.id)
            .await
            .expect("read")
            .expect("row");
        assert_eq!(back.id, id);
        assert_eq!(back.report, report);
        assert_eq!(back.facts, facts_json);
        assert_eq!(
            store.phase_changes(&user.id).await.expect("phases").len(),
            1
        );

        // Check-ins, one per day; a second for the same day changes nothing.
        for d in 100..103 {
            store
                .insert_checkin(&CheckinWrite {
                    user_id: &user.id,
                    assessment_id: &id,
                    checkin: &checkin(d),
                    phase_change: (d == 102).then_some((
                        "strengthen",
                        "return",
                        Day(103),
                        "good week",
                    )),
                    escalation: None,
                    retriage: None,
                    ip: None,
                    plan_version: version(&store, &user.id).await,
                })
                .await
                .expect("check-in");
        }
        let dup = store
            .insert_checkin(&CheckinWrite {
                user_id: &user.id,
                assessment_id: &id,
                checkin: &checkin(101),
                phase_change: Some(("return", "protect", Day(102), "must not be stored")),
                escalation: Some(Escalation::Worsening),
                retriage: None,
                ip: None,
                plan_version: version(&store, &user.id).await,
            })
            .await;
        assert!(
            matches!(
                dup,
                Err(StoreError::Conflict(ConflictKind::AlreadyCheckedIn { .. }))
            ),
            "{dup:?}"
        );
        let cs = store.checkins(&user.id).await.expect("checkins");
        assert_eq!(cs.len(), 3);
        assert_eq!(cs[0].checkin, checkin(100));
        assert_eq!(
            store.phase_changes(&user.id).await.expect("phases").len(),
            2,
            "the duplicate's phase change was rolled back"
        );
        assert!(store.escalations(&user.id).await.expect("esc").is_empty());

        let export = store.export_user(&user.id).await.expect("export");
        assert_eq!(export["checkins"].as_array().map(Vec::len), Some(3));
        assert!(export["audit_log"].as_array().is_some_and(|a| a.len() >= 5));

        // Wrong passwords are counted under the email: deleted with it.
        store
            .record_login_failure(&[&format!("email:{email}")])
            .await
            .expect("count");
        // Delete: nothing of the account remains.
        store.delete_user(&user.id).await.expect("delete");
        let left = store
            .rows_containing(&[&user.id, &email, &id])
            .await
            .expect("scan");
        assert!(left.iter().all(|(_, n)| *n == 0), "rows remain: {left:?}");
        assert!(store.session(&token).await.expect("lookup").is_none());
    }
}

#[tokio::test]
async fn login_failures_are_counted_per_key() {
    for store in stores().await {
        let key = format!("k-{}", kneepath_store::new_id());
        store
            .record_login_failure(&[&key, "other"])
            .await
            .expect("record");
        store.record_login_failure(&[&key]).await.expect("record");
        assert_eq!(store.login_failures(&key, 15).await.expect("count"), 2);
        store.clear_login_failures(&key).await.expect("clear");
        assert_eq!(store.login_failures(&key, 15).await.expect("count"), 0);
    }
}

#[tokio::test]
async fn reconnecting_keeps_data_and_does_not_rerun_migrations() {
    let url = format!("sqlite://{}", scratch_db().display());
    let s = Store::connect(&url).await.expect("connect");
    s.create_user("a@example.org", "A", "password 123", Role::Admin)
        .await
        .expect("user");
    s.close().await;
    let s = Store::connect(&url).await.expect("reconnect");
    assert!(
        s.authenticate("a@example.org", "password 123")
            .await
            .expect("auth")
            .is_some()
    );
}

/// A database with some of everything.
async fn populated() -> Store {
    let kb = KnowledgeBase::bundled().expect("kb");
    let store = sqlite_store().await;
    let user = store
        .create_user("b@example.org", "Bea", "password 12345", Role::Patient)
        .await
        .expect("user");
    store
        .set_time_zone(&user.id, Some("Europe/Oslo"))
        .await
        .expect("zone");
    store.create_session(&user.id, 1).await.expect("session");
    store
        .record_login_failure(&["email:x@example.org"])
        .await
        .expect("failure");
    let facts = kb
        .facts_from_toml_str("age = 40\npain_now = 4\nnight_pain = true")
        .expect("facts");
    let report = assess(&kb, &facts).report();
    let facts_json = kb.facts_to_json(&facts);
    let a = store
        .insert_assessment(
            &NewAssessment {
                user_id: &user.id,
                day: Day(10),
                source: AssessmentSource::Wizard,
                facts: &facts_json,
                report: &report,
                start_phase: Some(("strengthen", "a reason with \"quotes\" and ünïcode")),
            },
            Some("10.0.0.1"),
        )
        .await
        .expect("assessment");
    for d in 10..13 {
        store
            .insert_checkin(&CheckinWrite {
                user_id: &user.id,
                assessment_id: &a,
                checkin: &checkin(d),
                phase_change: None,
                escalation: (d == 12).then_some(Escalation::Worsening),
                retriage: None,
                ip: None,
                plan_version: version(&store, &user.id).await,
            })
            .await
            .expect("check-in");
    }
    // A corrected check-in: its old values kept beside the new.
    let mut fixed = checkin(11);
    fixed.pain_now = 7;
    store
        .correct_checkin(&plain(
            &user.id,
            &a,
            &fixed,
            version(&store, &user.id).await,
        ))
        .await
        .expect("correction");
    store
}

async fn backup_text(store: &Store) -> String {
    let mut buf = Vec::new();
    let n = store.backup(&mut buf).await.expect("backup");
    assert!(n > 10, "{n} rows");
    String::from_utf8(buf).expect("utf-8")
}

#[tokio::test]
async fn backup_restores_exactly_on_sqlite_and_postgres() {
    let source = populated().await;
    let text = backup_text(&source).await;
    let expected = source.table_checksums().await.expect("sums");
    let revisions = expected.iter().find(|(t, _, _)| *t == "checkin_revisions");
    assert_eq!(
        revisions.map(|r| r.1),
        Some(1),
        "the correction is backed up"
    );
    let mut targets = vec![sqlite_store().await];
    if let Ok(url) = std::env::var("KNEEPATH_TEST_PG_URL") {
        // A database of its own, so other tests' rows do not interfere.
        let admin = Store::connect(&url).await.expect("pg");
        let name = format!("kp_restore_{}", &kneepath_store::new_id()[16..]);
        admin
            .execute_admin(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create db");
        let (base, _) = url.rsplit_once('/').expect("url has a database");
        targets.push(
            Store::connect(&format!("{base}/{name}"))
                .await
                .expect("connect"),
        );
    }
    for target in targets {
        let n = target.restore(&mut text.as_bytes()).await.expect("restore");
        assert!(n > 10);
        assert_eq!(
            target.table_checksums().await.expect("sums"),
            expected,
            "{:?}",
            target.backend()
        );
        // The restored account works.
        assert!(
            target
                .authenticate("b@example.org", "password 12345")
                .await
                .expect("auth")
                .is_some()
        );
        // Restoring again into a non-empty database is refused.
        assert!(matches!(
            target.restore(&mut text.as_bytes()).await,
            Err(StoreError::Conflict(ConflictKind::NotEmpty))
        ));
    }
}

/// A backup as an older kneepath (schema 4, before `users.time_zone`)
/// wrote it: the column left out, the header and checksum to match.
fn as_schema_4(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    let mut out = String::new();
    let mut rows = 0;
    for line in text.lines() {
        let mut v: serde_json::Value = serde_json::from_str(line).expect("json line");
        if v.get("end").is_some() {
            let digest: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
            let end = serde_json::json!({"end": true, "rows": rows, "sha256": digest});
            out.push_str(&format!("{end}\n"));
            return out;
        }
        if v.get("format").is_some() {
            v["schema"] = 4.into();
        } else {
            rows += 1;
            if v["table"] == "users" {
                v["row"].as_object_mut().expect("row").remove("time_zone");
            }
        }
        let s = v.to_string();
        hash.update(s.as_bytes());
        hash.update(b"\n");
        out.push_str(&s);
        out.push('\n');
    }
    panic!("no end marker")
}

#[tokio::test]
async fn a_backup_from_before_time_zones_restores_with_none_set() {
    let source = populated().await;
    let old = as_schema_4(&backup_text(&source).await);
    assert!(!old.contains("time_zone"));
    let target = sqlite_store().await;
    target.restore(&mut old.as_bytes()).await.expect("restore");
    let user = target
        .authenticate("b@example.org", "password 12345")
        .await
        .expect("auth")
        .expect("account");
    assert_eq!(user.time_zone, None);
    // A schema this kneepath does not know is refused, naming both.
    let future = old.replacen("\"schema\":4", "\"schema\":99", 1);
    let e = sqlite_store()
        .await
        .restore(&mut future.as_bytes())
        .await
        .expect_err("unknown schema");
    assert!(e.to_string().contains("schema version 99"), "{e}");
}

#[tokio::test]
async fn a_time_zone_is_kept_and_seen_by_live_sessions() {
    let store = sqlite_store().await;
    let user = store
        .create_user("tz@example.org", "Tia", "password 12345", Role::Patient)
        .await
        .expect("user");
    assert_eq!(user.time_zone, None);
    let token = store.create_session(&user.id, 1).await.expect("session");
    let zone = |s: Option<kneepath_store::Session>| s.expect("session").user.time_zone;
    assert_eq!(zone(store.session(&token).await.expect("read")), None);
    assert!(
        store
            .set_time_zone(&user.id, Some("Pacific/Auckland"))
            .await
            .expect("set")
    );
    // The session (cached on the native SQLite path) sees the change at once.
    assert_eq!(
        zone(store.session(&token).await.expect("read")).as_deref(),
        Some("Pacific/Auckland")
    );
    assert!(store.set_time_zone(&user.id, None).await.expect("clear"));
    assert_eq!(zone(store.session(&token).await.expect("read")), None);
    assert!(
        !store
            .set_time_zone(&UserId::new("no-such-user"), Some("UTC"))
            .await
            .expect("no row")
    );
}

#[tokio::test]
async fn a_damaged_backup_changes_nothing() {
    let source = populated().await;
    let text = backup_text(&source).await;
    let target = sqlite_store().await;
    let damaged = text.replacen("Bea", "Bob", 1);
    let e = target
        .restore(&mut damaged.as_bytes())
        .await
        .expect_err("damaged");
    assert!(e.to_string().contains("checksum does not match"), "{e}");
    let truncated: String = text.lines().take(5).map(|l| format!("{l}\n")).collect();
    let e = target
        .restore(&mut truncated.as_bytes())
        .await
        .expect_err("truncated");
    assert!(e.to_string().contains("no end marker"), "{e}");
    assert!(
        target
            .table_checksums()
            .await
            .expect("sums")
            .iter()
            .all(|(_, n, _)| *n == 0),
        "nothing written"
    );
}

#[tokio::test]
async fn story_clinician_invites_links_measures_and_the_patient_leaves() {
    use kneepath_store::{AuditFilter, NewPlanEdit};
    let kb = KnowledgeBase::bundled().expect("kb");
    for store in stores().await {
        let clin = account(&store, "Dr C", Role::Clinician).await;
        let pat = account(&store, "Pat", Role::Patient).await;
        // An invitation works once.
        let token = store
            .create_invite(&clin.id, 72, None)
            .await
            .expect("invite");
        assert_eq!(
            store.invite_clinician(&token).await.expect("valid").id,
            clin.id
        );
        store
            .accept_invite(&token, &pat.id, Some("127.0.0.1"))
            .await
            .expect("accept");
        assert!(matches!(
            store.accept_invite(&token, &pat.id, None).await,
            Err(StoreError::Conflict(ConflictKind::InviteUsed))
        ));
        assert!(matches!(
            store.invite_clinician("not-a-token").await,
            Err(StoreError::NotFound)
        ));
        // An expired invitation is refused.
        let old = store
            .create_invite(&clin.id, -1, None)
            .await
            .expect("invite");
        assert!(matches!(
            store.accept_invite(&old, &pat.id, None).await,
            Err(StoreError::Conflict(ConflictKind::InviteExpired))
        ));
        assert!(store.is_linked(&clin.id, &pat.id).await.expect("linked"));
        let links = store.links_of_patient(&pat.id).await.expect("links");
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].other.id, clin.id);

        // A plan, check-ins, and the caseload.
        let aid = assessed(&store, &kb, &pat.id, Day(20_000)).await;
        // What a re-run with nothing new answered stores.
        let facts = kneepath_core::Facts::empty(&kb);
        let report = assess(&kb, &facts).report();
        let facts_json = kb.facts_to_json(&facts);
        for d in 20_000..20_010 {
            store
                .insert_checkin(&CheckinWrite {
                    user_id: &pat.id,
                    assessment_id: &aid,
                    checkin: &checkin(d),
                    phase_change: None,
                    escalation: (d == 20_008).then_some(Escalation::Worsening),
                    retriage: None,
                    ip: None,
                    plan_version: version(&store, &pat.id).await,
                })
                .await
                .expect("checkin");
        }
        let c = store.caseload(&clin.id).await.expect("caseload");
        assert_eq!(c.len(), 1);
        let summary = &c[0].summary;
        assert_eq!(summary.last_checkin, Some(Day(20_009)));
        assert_eq!(summary.days.len(), 10);
        assert_eq!(summary.escalations.len(), 1);
        assert_eq!(summary.phase.as_deref(), Some("mobilise"));
        // Written with each change, it is what a rebuild from the rows gives.
        assert_eq!(
            store.rebuilt_summary(&pat.id).await.expect("rebuild"),
            *summary
        );

        // Measurements re-run the assessment without starting a new plan.
        let mid = store
            .insert_measurement(
                &clin.id,
                &serde_json::json!({"ake_deg": 25}),
                &NewAssessment {
                    user_id: &pat.id,
                    day: Day(20_009),
                    source: AssessmentSource::Measurement,
                    facts: &facts_json,
                    report: &report,
                    start_phase: None,
                },
                version(&store, &pat.id).await,
                None,
            )
            .await
            .expect("measurement");
        let m = store.measurements(&pat.id).await.expect("measurements");
        assert_eq!(m[0].id, mid);
        assert_eq!(m[0].author.as_deref(), Some("Dr C"));
        assert_eq!(store.phase_changes(&pat.id).await.expect("phases").len(), 1);
        store
            .add_note(&pat.id, &clin.id, "Tight on the right.", None)
            .await
            .expect("note");
        store
            .add_plan_edit(
                &NewPlanEdit {
                    patient_id: &pat.id,
                    author_id: &clin.id,
                    kind: EditKind::Dosage,
                    exercise: "heel_slides",
                    replacement: None,
                    dosage: Some("2 x 15"),
                    reason: "easy for her",
                    plan_version: version(&store, &pat.id).await,
                },
                None,
            )
            .await
            .expect("edit");
        store
            .move_phase(
                &pat.id,
                &clin.id,
                &aid,
                Day(20_010),
                Some("mobilise"),
                "strengthen",
                "Ready.",
                version(&store, &pat.id).await,
                None,
            )
            .await
            .expect("move");
        let phases = store.phase_changes(&pat.id).await.expect("phases");
        assert_eq!(
            phases.last().and_then(|p| p.how.author().cloned()),
            Some(clin.id.clone())
        );
        let answers: std::collections::BTreeMap<String, u8> =
            [("N1".to_string(), 4u8)].into_iter().collect();
        let scores = kneepath_core::outcomes::score_instrument(
            kneepath_core::kb::InstrumentKind::Nprs,
            &answers,
        )
        .expect("score");
        store
            .insert_outcome(&pat.id, "nprs", Day(20_009), &answers, &scores, None)
            .await
            .expect("outcome");
        assert_eq!(
            store.outcomes(&pat.id).await.expect("o")[0].scores[0].value,
            Some(4.0)
        );

        // The audit log has the clinician's writes about this patient.
        let entries = store
            .audit_search(
                &AuditFilter {
                    actor_id: Some(clin.id.to_string()),
                    subject_id: Some(pat.id.to_string()),
                    ..AuditFilter::default()
                },
                100,
            )
            .await
            .expect("audit");
        let entities: Vec<&str> = entries.iter().map(|e| e.entity.as_str()).collect();
        for e in ["measurement", "note", "plan", "phase"] {
            assert!(entities.contains(&e), "{e} missing from {entities:?}");
        }

        // Revoking ends the link; only a side of it may revoke.
        assert!(
            !store
                .revoke_link(&links[0].id, &UserId::new("someone-else"), None)
                .await
                .expect("revoke")
        );
        assert!(
            store
                .revoke_link(&links[0].id, &pat.id, None)
                .await
                .expect("revoke")
        );
        assert!(!store.is_linked(&clin.id, &pat.id).await.expect("linked"));
        assert!(store.caseload(&clin.id).await.expect("c").is_empty());

        // Disabling ends sessions; a reset password works and ends them too.
        let token = store.create_session(&clin.id, 1).await.expect("session");
        store
            .set_disabled(&clin.id, true, &pat.id, None)
            .await
            .expect("disable");
        assert!(store.session(&token).await.expect("s").is_none());
        store
            .set_disabled(&clin.id, false, &pat.id, None)
            .await
            .expect("enable");
        store
            .set_password(&clin.id, "a new password", &pat.id, None)
            .await
            .expect("reset");
        assert!(
            store
                .authenticate(&clin.email, "a new password")
                .await
                .expect("a")
                .is_some()
        );

        // Deleting the patient leaves no row of theirs anywhere.
        store.delete_user(&pat.id).await.expect("delete");
        let left: Vec<_> = store
            .rows_containing(&[&pat.id])
            .await
            .expect("rows")
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .collect();
        assert!(left.is_empty(), "rows left: {left:?}");
    }
}

#[tokio::test]
async fn the_rules_window_query_matches_the_core_definition() {
    let kb = KnowledgeBase::bundled().expect("kb");
    for store in stores().await {
        let user = store
            .create_user(
                &format!("w{}@example.org", kneepath_store::new_id()),
                "W",
                "a long enough password",
                Role::Patient,
            )
            .await
            .expect("user");
        let start = Day(20_000);
        let aid = assessed(&store, &kb, &user.id, start).await;
        // 120 days with every third day missed.
        for d in (20_000..20_120).filter(|d| d % 3 != 1) {
            store
                .insert_checkin(&plain(
                    &user.id,
                    &aid,
                    &checkin(d),
                    version(&store, &user.id).await,
                ))
                .await
                .expect("checkin");
        }
        let all: Vec<_> = store
            .checkins(&user.id)
            .await
            .expect("all")
            .into_iter()
            .map(|r| r.checkin)
            .collect();
        for today in [Day(20_010), Day(20_060), Day(20_119), Day(20_125)] {
            let want = kneepath_core::progress::rules_window(&all, start, today);
            let got: Vec<_> = store
                .checkins_for_rules(&user.id, start, today)
                .await
                .expect("window")
                .into_iter()
                .map(|r| r.checkin)
                .collect();
            assert_eq!(got, want, "window on {today}");
            assert!(got.len() < all.len() || today == Day(20_010));
        }
    }
}

/// Many check-ins at once (on SQLite they share commits): each new day is
/// stored with its audit row, each repeated day is a `Conflict` that leaves
/// nothing behind and does not disturb the others in its group.
#[tokio::test]
async fn concurrent_checkins_each_stored_once_and_duplicates_refused() {
    let kb = KnowledgeBase::bundled().expect("kb");
    for store in stores().await {
        let email = format!("{}@example.org", kneepath_store::new_id());
        let user = store
            .create_user(&email, "Ana", "correct horse battery", Role::Patient)
            .await
            .expect("create");
        let facts = kb
            .facts_from_toml_str("age = 30\nonset = \"gradual\"\npain_now = 3")
            .expect("facts");
        let report = assess(&kb, &facts).report();
        let facts_json = kb.facts_to_json(&facts);
        let assessment = store
            .insert_assessment(
                &NewAssessment {
                    user_id: &user.id,
                    day: Day(100),
                    source: AssessmentSource::Wizard,
                    facts: &facts_json,
                    report: &report,
                    start_phase: Some(("strengthen", "default")),
                },
                None,
            )
            .await
            .expect("assessment");
        // 40 days, each sent three times at once, as writers without a
        // shared lock (instances) would: read the plan's version, write,
        // and read again when the plan changed in between.
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..120 {
            let (store, uid, aid) = (store.clone(), user.id.clone(), assessment.clone());
            tasks.spawn(async move {
                let c = checkin(100 + i % 40);
                let mut reread = 0;
                loop {
                    let read = version(&store, &uid).await;
                    let w = CheckinWrite {
                        user_id: &uid,
                        assessment_id: &aid,
                        checkin: &c,
                        phase_change: None,
                        escalation: None,
                        retriage: None,
                        ip: None,
                        plan_version: read,
                    };
                    match store.insert_checkin(&w).await {
                        Err(StoreError::PlanChanged) => reread += 1,
                        done => return (done, reread),
                    }
                }
            });
        }
        let (mut stored, mut refused, mut reread) = (0, 0, 0);
        while let Some(r) = tasks.join_next().await {
            let (done, again) = r.expect("task");
            reread += again;
            match done {
                Ok(_) => stored += 1,
                Err(StoreError::Conflict(ConflictKind::AlreadyCheckedIn { .. })) => refused += 1,
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
        assert_eq!((stored, refused), (40, 80));
        assert!(
            reread > 0,
            "120 writers at once never found the plan changed under them"
        );
        let rows = store.checkins(&user.id).await.expect("checkins");
        let days: Vec<i32> = rows.iter().map(|r| r.checkin.day.0).collect();
        assert_eq!(days, (100..140).collect::<Vec<_>>());
        let audited = store
            .audit_entries(Some(&user.id), 1000)
            .await
            .expect("audit")
            .iter()
            .filter(|a| a.entity == "checkin" && a.action == "create")
            .count();
        assert_eq!(
            audited, 40,
            "one audit row per stored check-in, none for refused ones"
        );
    }
}

/// A write decided from a plan that has changed since it was read is
/// refused whole: the check-in, a clinician's measurement, plan edit and
/// phase move, each with a version from before another writer's change.
#[tokio::test]
async fn writes_from_a_stale_plan_are_refused_and_store_nothing() {
    use kneepath_store::NewPlanEdit;
    let kb = KnowledgeBase::bundled().expect("kb");
    for store in stores().await {
        let account = |name, role| {
            let store = store.clone();
            async move {
                let email = format!("{}@example.org", kneepath_store::new_id());
                store
                    .create_user(&email, name, "correct horse battery", role)
                    .await
                    .expect("account")
            }
        };
        let pat = account("Pat", Role::Patient).await;
        let clin = account("Dr C", Role::Clinician).await;
        let facts = kneepath_core::Facts::empty(&kb);
        let report = assess(&kb, &facts).report();
        let facts_json = kb.facts_to_json(&facts);
        let new = |day| NewAssessment {
            user_id: &pat.id,
            day: Day(day),
            source: AssessmentSource::Wizard,
            facts: &facts_json,
            report: &report,
            start_phase: Some(("mobilise", "start")),
        };
        let aid = store
            .insert_assessment(&new(300), None)
            .await
            .expect("assessment");
        let stale = version(&store, &pat.id).await;
        // Another writer goes first: a check-in decided from `stale`.
        let first = CheckinWrite {
            user_id: &pat.id,
            assessment_id: &aid,
            checkin: &checkin(300),
            phase_change: Some(("mobilise", "strengthen", Day(301), "ready")),
            escalation: None,
            retriage: None,
            ip: None,
            plan_version: stale,
        };
        store.insert_checkin(&first).await.expect("first writer");
        let moved = version(&store, &pat.id).await;
        assert_ne!(moved, stale, "a check-in moves the plan's version on");

        let pid = pat.id.clone();
        let counts = || {
            let (store, pid) = (store.clone(), pid.clone());
            async move {
                (
                    store.checkins(&pid).await.expect("checkins").len(),
                    store.phase_changes(&pid).await.expect("phases").len(),
                    store.measurements(&pid).await.expect("m").len(),
                    store.plan_edits(&pid).await.expect("edits").len(),
                    store.assessments(&pid).await.expect("a").len(),
                    store
                        .audit_entries(Some(&pid), 1000)
                        .await
                        .expect("audit")
                        .len(),
                )
            }
        };
        let before = counts().await;
        let late = store
            .insert_checkin(&CheckinWrite {
                checkin: &checkin(301),
                phase_change: Some(("mobilise", "strengthen", Day(302), "ready again")),
                ..first.clone()
            })
            .await;
        assert!(matches!(late, Err(StoreError::PlanChanged)), "{late:?}");
        let m = store
            .insert_measurement(
                &clin.id,
                &serde_json::json!({"ake_deg": 25}),
                &NewAssessment {
                    source: AssessmentSource::Measurement,
                    start_phase: None,
                    ..new(301)
                },
                stale,
                None,
            )
            .await;
        assert!(matches!(m, Err(StoreError::PlanChanged)), "{m:?}");
        let e = store
            .add_plan_edit(
                &NewPlanEdit {
                    patient_id: &pat.id,
                    author_id: &clin.id,
                    kind: EditKind::Dosage,
                    exercise: "heel_slides",
                    replacement: None,
                    dosage: Some("2 x 15"),
                    reason: "from an old page",
                    plan_version: stale,
                },
                None,
            )
            .await;
        assert!(matches!(e, Err(StoreError::PlanChanged)), "{e:?}");
        let mv = store
            .move_phase(
                &pat.id,
                &clin.id,
                &aid,
                Day(301),
                Some("mobilise"),
                "strengthen",
                "from an old page",
                stale,
                None,
            )
            .await;
        assert!(matches!(mv, Err(StoreError::PlanChanged)), "{mv:?}");
        assert_eq!(counts().await, before, "a refused write stored something");
        assert_eq!(version(&store, &pat.id).await, moved);

        // A new assessment does not depend on the plan: it is stored and
        // moves the version on, so a write from before it is refused.
        store
            .insert_assessment(&new(302), None)
            .await
            .expect("new assessment");
        let after = version(&store, &pat.id).await;
        assert_ne!(after, moved);
        let old = store
            .move_phase(
                &pat.id,
                &clin.id,
                &aid,
                Day(302),
                Some("mobilise"),
                "strengthen",
                "x",
                moved,
                None,
            )
            .await;
        assert!(matches!(old, Err(StoreError::PlanChanged)), "{old:?}");
        // With the version read now, the move goes through.
        store
            .move_phase(
                &pat.id,
                &clin.id,
                &aid,
                Day(302),
                Some("mobilise"),
                "strengthen",
                "now",
                after,
                None,
            )
            .await
            .expect("move from the current plan");
    }
}

/// A database that a newer kneepath migrated is refused, named, and left
/// exactly as it was.
#[tokio::test]
async fn a_database_from_a_newer_version_is_refused_and_untouched() {
    let file = scratch_db();
    let url = format!("sqlite://{}", file.display());
    let store = Store::connect(&url).await.expect("connect");
    store
        .create_user(
            "later@example.org",
            "Lee",
            "a long enough password",
            Role::Patient,
        )
        .await
        .expect("user");
    store.close().await;
    drop(store);
    {
        let c = rusqlite::Connection::open(&file).expect("open");
        c.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'from_a_later_release', '2027-06-01T00:00:00Z')",
            [],
        )
        .expect("insert");
    }
    let count = |sql: &str| -> i64 {
        let c = rusqlite::Connection::open(&file).expect("open");
        c.query_row(sql, [], |r| r.get(0)).expect("count")
    };
    let before = (
        count("SELECT COUNT(*) FROM users"),
        count("SELECT COUNT(*) FROM schema_migrations"),
    );
    match Store::connect(&url).await {
        Err(e @ StoreError::NewerSchema { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("9999") && text.contains("from_a_later_release"),
                "{text}"
            );
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a newer database was opened"),
    }
    let after = (
        count("SELECT COUNT(*) FROM users"),
        count("SELECT COUNT(*) FROM schema_migrations"),
    );
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_correction_keeps_the_old_values_and_needs_the_plan_unchanged() {
    let store = populated().await;
    let user = store
        .user_by_email("b@example.org")
        .await
        .expect("db")
        .expect("user");
    let rows = store.checkins(&user.id).await.expect("db");
    let day11 = rows
        .iter()
        .find(|c| c.checkin.day == Day(11))
        .expect("day 11");
    assert_eq!(day11.checkin.pain_now, 7);
    let old = store.checkin_revisions(&user.id).await.expect("db");
    assert_eq!(old.len(), 1);
    assert_eq!(
        (old[0].checkin_id.as_str(), old[0].checkin.pain_now),
        (day11.id.as_str(), 3)
    );
    // Decided from a plan that has changed since (a check-in came in
    // between): refused, nothing written.
    let read = version(&store, &user.id).await;
    store
        .insert_checkin(&plain(&user.id, &day11.assessment_id, &checkin(13), read))
        .await
        .expect("check-in");
    let mut again = checkin(11);
    again.pain_now = 9;
    let stale = plain(&user.id, &day11.assessment_id, &again, read);
    assert!(matches!(
        store.correct_checkin(&stale).await,
        Err(StoreError::PlanChanged)
    ));
    // A day without a check-in cannot be corrected.
    let mut none = checkin(30);
    none.pain_now = 1;
    let missing = plain(
        &user.id,
        &day11.assessment_id,
        &none,
        version(&store, &user.id).await,
    );
    assert!(matches!(
        store.correct_checkin(&missing).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.checkin_revisions(&user.id).await.expect("db").len(),
        1
    );
    let now = store.checkins(&user.id).await.expect("db");
    assert_eq!(
        now.iter().map(|c| c.checkin.pain_now).collect::<Vec<_>>(),
        [3, 7, 3, 3]
    );
    // Each row says how often it was corrected, in every read of it.
    assert_eq!(
        now.iter().map(|c| c.corrections).collect::<Vec<_>>(),
        [Some(0), Some(1), Some(0), Some(0)]
    );
    let inputs = store
        .plan_inputs(&user.id, None)
        .await
        .expect("db")
        .expect("a plan");
    let rules = store
        .plan_inputs(&user.id, Some(Day(13)))
        .await
        .expect("db")
        .expect("a plan");
    let corrected: Vec<Day> = inputs
        .checkins
        .iter()
        .filter(|c| c.corrections.is_some_and(|n| n > 0))
        .map(|c| c.checkin.day)
        .collect();
    assert_eq!(corrected, [Day(11)]);
    // The read for the rules leaves them unread.
    assert!(rules.checkins.iter().all(|c| c.corrections.is_none()));
}

/// Backups taken while people sign up (a user and a session written
/// together, over and over) always restore: the whole backup is one
/// snapshot. Before, each table was read on its own, and a session could
/// point at a user created after `users` had been read ("FOREIGN KEY
/// constraint failed" on restore, 2 of 12 in a live run).
#[tokio::test]
async fn backups_taken_under_writes_always_restore() {
    for store in stores().await {
        let tag = kneepath_store::new_id();
        let writer = {
            let store = store.clone();
            let tag = tag.clone();
            // Sign-ups as fast as the database takes them (the password
            // hash of a real sign-up would make the writes rare).
            tokio::spawn(async move {
                for i in 0.. {
                    let id = format!("live{i}-{tag}");
                    store
                        .execute_admin(&format!(
                            "INSERT INTO users (id, email, display_name, password_hash, role, disabled, created_at) \
                             VALUES ('{id}', '{id}@example.org', 'Live', 'x', 'patient', 0, '2026-11-24T00:00:00Z')"
                        ))
                        .await
                        .expect("user");
                    store
                        .execute_admin(&format!(
                            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
                             VALUES ('s-{id}', '{id}', 'c', '2026-11-24T00:00:00Z', '2026-11-25T00:00:00Z')"
                        ))
                        .await
                        .expect("session");
                }
            })
        };
        for n in 0..12 {
            let mut buf = Vec::new();
            store.backup(&mut buf).await.expect("backup");
            let target = sqlite_store().await;
            target
                .restore(&mut buf.as_slice())
                .await
                .unwrap_or_else(|e| {
                    panic!("{:?} backup {n} does not restore: {e}", store.backend())
                });
        }
        writer.abort();
    }
}

/// A restore checks the whole file before it touches the target: a file
/// holding only the end marker is refused (it was "restored 0 rows"), and
/// with a key the backup's HMAC must be right, so a row edited (an account
/// made an admin) with its SHA-256 recomputed is refused.
#[tokio::test]
async fn restore_needs_the_header_and_with_a_key_the_hmac() {
    use sha2::{Digest, Sha256};
    let e = kneepath_store::verify_backup(
        &mut "{\"end\":true,\"rows\":0,\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}\n".as_bytes(),
        None,
    )
    .expect_err("no header");
    assert!(e.to_string().contains("no header"), "{e}");

    let source = populated().await;
    let key = b"a secret key of the clinic";
    let mut buf = Vec::new();
    source
        .backup_with(&mut buf, Some(key))
        .await
        .expect("backup");
    let text = String::from_utf8(buf).expect("utf-8");
    assert!(text.lines().last().is_some_and(|l| l.contains("\"hmac\"")));
    // The right key restores.
    let ok = kneepath_store::verify_backup(&mut text.as_bytes(), Some(key)).expect("verified");
    sqlite_store()
        .await
        .restore_verified(&ok)
        .await
        .expect("restore");
    // A wrong key is refused.
    let e = kneepath_store::verify_backup(&mut text.as_bytes(), Some(b"another key"))
        .expect_err("wrong key");
    assert!(e.to_string().contains("HMAC"), "{e}");
    // An account made an admin, the checksum recomputed: refused with the key.
    let mut hash = Sha256::new();
    let mut forged = String::new();
    let mut rows = 0;
    for line in text.lines() {
        if line.starts_with("{\"end\"") {
            let digest: String = hash
                .clone()
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            forged.push_str(&format!(
                "{{\"end\":true,\"rows\":{rows},\"sha256\":\"{digest}\"}}\n"
            ));
            break;
        }
        let l = line.replace("\"role\":\"patient\"", "\"role\":\"admin\"");
        if !l.contains("\"format\"") {
            rows += 1;
        }
        hash.update(l.as_bytes());
        hash.update(b"\n");
        forged.push_str(&l);
        forged.push('\n');
    }
    assert!(forged.contains("\"role\":\"admin\""));
    assert!(
        kneepath_store::verify_backup(&mut forged.as_bytes(), None).is_ok(),
        "SHA-256 alone cannot tell"
    );
    let e = kneepath_store::verify_backup(&mut forged.as_bytes(), Some(key)).expect_err("forged");
    assert!(e.to_string().contains("HMAC"), "{e}");
}

/// Sixteen sign-ups hashing at once do not starve a login (the password
/// check and the new session): it waits behind at most one new hash, so at
/// most two sign-ups finish while it runs. Before, each sign-up hashed
/// while holding the writer, so the login's session waited behind the
/// whole flood. Order, not time, is checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_is_not_starved_by_a_flood_of_sign_ups() {
    let store = sqlite_store().await;
    store
        .create_user(
            "old@example.org",
            "Old",
            "a long enough password",
            Role::Patient,
        )
        .await
        .expect("user");
    let done = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (store, done) = (store.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            store
                .create_user(
                    &format!("new{i}@example.org"),
                    "New",
                    "another long password",
                    Role::Patient,
                )
                .await
                .expect("sign-up");
            done.lock().expect("lock").push("sign-up");
        }));
    }
    // Let the sign-ups queue up first.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let login = {
        let (store, done) = (store.clone(), done.clone());
        tokio::spawn(async move {
            done.lock().expect("lock").push("login starts");
            let who = store
                .authenticate("old@example.org", "a long enough password")
                .await
                .expect("login");
            let who = who.expect("right password");
            store.create_session(&who.id, 12).await.expect("session");
            done.lock().expect("lock").push("login");
        })
    };
    login.await.expect("login task");
    for t in tasks {
        t.await.expect("sign-up task");
    }
    let order = done.lock().expect("lock").clone();
    let start = order
        .iter()
        .position(|w| *w == "login starts")
        .expect("started");
    let end = order.iter().position(|w| *w == "login").expect("done");
    let waited = end - start - 1;
    assert!(
        waited <= 2,
        "the login waited for {waited} sign-ups: {order:?}"
    );
}

/// A database keeps each applied migration's checksum: one applied with
/// other contents than this program's migration of that number is refused
/// (nothing is changed), and one from before checksums gets them filled in.
#[tokio::test]
async fn an_edited_migration_is_refused_by_its_checksum() {
    let file = scratch_db();
    let url = format!("sqlite://{}", file.display());
    Store::connect(&url).await.expect("connect").close().await;
    let sql = |q: &str| {
        let c = rusqlite::Connection::open(&file).expect("open");
        c.execute(q, []).expect("sql");
    };
    let checksum = |v: i64| -> Option<String> {
        let c = rusqlite::Connection::open(&file).expect("open");
        c.query_row(
            "SELECT checksum FROM schema_migrations WHERE version = ?1",
            [v],
            |r| r.get(0),
        )
        .expect("row")
    };
    let pinned = checksum(3).expect("a checksum is stored");
    assert_eq!(pinned.len(), 64);
    // From before checksums: filled in at the next start.
    sql("UPDATE schema_migrations SET checksum = NULL");
    Store::connect(&url).await.expect("connect").close().await;
    assert_eq!(checksum(3).as_deref(), Some(pinned.as_str()));
    // Applied with other contents: refused.
    sql("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 3");
    match Store::connect(&url).await {
        Err(e @ StoreError::MigrationEdited { version: 3, .. }) => {
            assert!(e.to_string().contains("never be edited"), "{e}");
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("opened a database with an edited migration"),
    }
}

/// Attempts counted at the same moment each see every attempt before them:
/// forty at once on one key get the counts 1 to 40, each once, on both
/// databases. (On PostgreSQL two transactions could each count before the
/// other committed, so a burst got past a limit; a lock per key fixes it.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attempts_at_once_are_counted_one_after_another() {
    for store in stores().await {
        let key = format!("burst-{}", kneepath_store::new_id());
        let mut tasks = Vec::new();
        for _ in 0..40 {
            let (store, key) = (store.clone(), key.clone());
            tasks.push(tokio::spawn(async move {
                store.reserve_attempt(&[&key], 15).await.expect("reserve").1[0]
            }));
        }
        let mut counts = Vec::new();
        for t in tasks {
            counts.push(t.await.expect("task"));
        }
        counts.sort_unstable();
        assert_eq!(
            counts,
            (1..=40).collect::<Vec<i64>>(),
            "{:?}",
            store.backend()
        );
    }
}

/// Only the people a clinician looks after have a caseload summary: none
/// is kept while nobody does, making a link builds it from the rows,
/// ending the last one deletes it. Links made and ended while check-ins
/// are written at once leave the summary equal to a rebuild (on
/// PostgreSQL the writers of one person take turns).
#[tokio::test]
async fn a_summary_is_kept_only_while_a_clinician_looks_after_the_patient() {
    let kb = KnowledgeBase::bundled().expect("kb");
    for store in stores().await {
        let clin = account(&store, "Dr C", Role::Clinician).await;
        let other = account(&store, "Dr D", Role::Clinician).await;
        let pat = account(&store, "Pat", Role::Patient).await;
        let aid = assessed(&store, &kb, &pat.id, Day(20_000)).await;
        let check_in = |d: i32| {
            let (store, uid, aid) = (store.clone(), pat.id.clone(), aid.clone());
            async move {
                let c = checkin(d);
                loop {
                    let w = plain(&uid, &aid, &c, version(&store, &uid).await);
                    match store.insert_checkin(&w).await {
                        Err(StoreError::PlanChanged) => continue,
                        done => return done.expect("check-in"),
                    }
                }
            }
        };
        for d in 20_000..20_005 {
            check_in(d).await;
        }
        let none = |s: Option<kneepath_core::caseload::CaseSummary>| s.is_none();
        assert!(
            none(store.caseload_summary(&pat.id).await.expect("db")),
            "a summary was kept for a patient nobody looks after"
        );

        // Linked: built from the rows, then kept with each check-in.
        let link = store.link(&clin.id, &pat.id).await.expect("link");
        let stored = store.caseload_summary(&pat.id).await.expect("db");
        let rebuilt = store.rebuilt_summary(&pat.id).await.expect("rebuild");
        assert_eq!(stored.as_ref(), Some(&rebuilt));
        assert_eq!(rebuilt.last_checkin, Some(Day(20_004)));
        check_in(20_005).await;
        assert_eq!(
            store.caseload_summary(&pat.id).await.expect("db"),
            Some(store.rebuilt_summary(&pat.id).await.expect("rebuild"))
        );
        assert_eq!(store.caseload(&clin.id).await.expect("caseload").len(), 1);

        // A second clinician's link and check-ins at once, then the first
        // link ended at once with more check-ins: still equal to a rebuild.
        let mut tasks = tokio::task::JoinSet::new();
        for d in 20_006..20_016 {
            tasks.spawn(check_in(d));
        }
        let (s2, c2, p2) = (store.clone(), other.id.clone(), pat.id.clone());
        let linked = tokio::spawn(async move { s2.link(&c2, &p2).await });
        while let Some(r) = tasks.join_next().await {
            r.expect("task");
        }
        let second = linked.await.expect("task").expect("link");
        assert_eq!(
            store.caseload_summary(&pat.id).await.expect("db"),
            Some(store.rebuilt_summary(&pat.id).await.expect("rebuild")),
            "a link made during check-ins left the summary behind"
        );
        for d in 20_016..20_026 {
            tasks.spawn(check_in(d));
        }
        let (s2, p2) = (store.clone(), pat.id.clone());
        let ended = tokio::spawn(async move { s2.revoke_link(&link, &p2, None).await });
        while let Some(r) = tasks.join_next().await {
            r.expect("task");
        }
        assert!(ended.await.expect("task").expect("revoke"));
        let stored = store.caseload_summary(&pat.id).await.expect("db");
        assert_eq!(
            stored,
            Some(store.rebuilt_summary(&pat.id).await.expect("rebuild"))
        );
        assert_eq!(stored.and_then(|s| s.last_checkin), Some(Day(20_025)));
        // The ended link's dashboard lost the patient; the other shows them
        // as their records do.
        assert!(store.caseload(&clin.id).await.expect("caseload").is_empty());
        let rows = store.caseload(&other.id).await.expect("caseload");
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].summary,
            store.rebuilt_summary(&pat.id).await.expect("rebuild")
        );

        // The last link ended: the summary goes; a check-in makes none.
        assert!(
            store
                .revoke_link(&second, &pat.id, None)
                .await
                .expect("revoke")
        );
        assert!(none(store.caseload_summary(&pat.id).await.expect("db")));
        check_in(20_026).await;
        assert!(none(store.caseload_summary(&pat.id).await.expect("db")));
        assert!(store.caseload(&clin.id).await.expect("caseload").is_empty());

        // A clinician's account deleted ends their links as well: the
        // summary goes with the patient's last link and stays while
        // another clinician's is left.
        for with_another in [false, true] {
            let gone = account(&store, "Dr G", Role::Clinician).await;
            store.link(&gone.id, &pat.id).await.expect("link");
            if with_another {
                store.link(&clin.id, &pat.id).await.expect("link");
            }
            store.delete_user(&gone.id).await.expect("delete");
            let stored = store.caseload_summary(&pat.id).await.expect("db");
            if with_another {
                let rebuilt = store.rebuilt_summary(&pat.id).await.expect("rebuild");
                assert_eq!(stored, Some(rebuilt));
                assert_eq!(store.caseload(&clin.id).await.expect("caseload").len(), 1);
            } else {
                assert!(
                    none(stored),
                    "a deleted clinician's patient kept a summary nobody reads"
                );
            }
        }
    }
}

/// A linked patient whose summary is missing (a restore before the
/// rebuild, a link made by an older program) or unreadable is judged on
/// the dashboard from their rows, not shown as someone who never checked
/// in; a start rewrites the unreadable row.
#[tokio::test]
async fn a_missing_summary_is_rebuilt_for_the_dashboard_not_taken_as_empty() {
    let kb = KnowledgeBase::bundled().expect("kb");
    let file = scratch_db();
    let store = Store::connect(&format!("sqlite://{}", file.display()))
        .await
        .expect("connect");
    let clin = account(&store, "Dr C", Role::Clinician).await;
    let pat = account(&store, "Pat", Role::Patient).await;
    let aid = assessed(&store, &kb, &pat.id, Day(20_000)).await;
    store.link(&clin.id, &pat.id).await.expect("link");
    for d in 20_000..20_003 {
        let c = checkin(d);
        let w = plain(&pat.id, &aid, &c, version(&store, &pat.id).await);
        store.insert_checkin(&w).await.expect("check-in");
    }
    let rebuilt = store.rebuilt_summary(&pat.id).await.expect("rebuild");
    assert_eq!(rebuilt.last_checkin, Some(Day(20_002)));
    for broken in [
        "DELETE FROM caseload_rows",
        "INSERT INTO caseload_rows (clinician_id, patient_id, display_name, email, time_zone, data, updated_at) \
         SELECT l.clinician_id, l.patient_id, u.display_name, u.email, u.time_zone, 'not json', '' \
         FROM care_links l JOIN users u ON u.id = l.patient_id",
    ] {
        let c = rusqlite::Connection::open(&file).expect("open");
        c.execute(broken, []).expect("sql");
        let rows = store.caseload(&clin.id).await.expect("caseload");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].summary, rebuilt, "after {broken}");
    }
    // The next start rewrites the row it cannot read.
    let again = Store::connect(&format!("sqlite://{}", file.display()))
        .await
        .expect("connect");
    assert_eq!(
        again
            .caseload_summary(&pat.id)
            .await
            .expect("a readable row"),
        Some(rebuilt)
    );
}

/// The dashboard's row of a patient shows their name, email and time zone
/// as they are now: changed by the person, by a guest becoming an
/// account, or behind the program's back (a start copies them again).
#[tokio::test]
async fn a_dashboard_row_follows_the_patients_name_email_and_time_zone() {
    for store in stores().await {
        let clin = account(&store, "Dr C", Role::Clinician).await;
        let other = account(&store, "Dr D", Role::Clinician).await;
        let pat = account(&store, "Pat", Role::Patient).await;
        store.link(&clin.id, &pat.id).await.expect("link");
        store.link(&other.id, &pat.id).await.expect("link");
        // A second active link to the same clinician makes no second row.
        store.link(&clin.id, &pat.id).await.expect("link");
        let shown = |c: UserId| {
            let store = store.clone();
            async move {
                let rows = store.caseload(&c).await.expect("caseload");
                assert_eq!(rows.len(), 1, "one row for the patient");
                let p = &rows[0].patient;
                (p.display_name.clone(), p.email.clone(), p.time_zone.clone())
            }
        };
        let email = format!("renamed-{}@example.org", pat.id.as_str());
        store
            .update_details(&pat.id, "Patricia", &email, None)
            .await
            .expect("update");
        assert!(
            store
                .set_time_zone(&pat.id, Some("Europe/Oslo"))
                .await
                .expect("zone")
        );
        let want = (
            "Patricia".to_string(),
            email.clone(),
            Some("Europe/Oslo".to_string()),
        );
        assert_eq!(shown(clin.id.clone()).await, want);
        assert_eq!(shown(other.id.clone()).await, want);
        assert!(
            !store
                .set_time_zone(&UserId::new("nobody"), None)
                .await
                .expect("zone"),
            "no account, nothing set"
        );

        // A guest linked to a clinician, then made an account.
        let now = 1_800_000_000_000;
        let (guest, _) = store.create_guest(now, 24).await.expect("guest");
        store.link(&clin.id, &guest.id).await.expect("link");
        let gmail = format!("guest-{}@example.org", guest.id.as_str());
        store
            .claim_guest(
                &guest.id,
                (&gmail, "Gus", "a long enough password"),
                now,
                None,
            )
            .await
            .expect("claim");
        let rows = store.caseload(&clin.id).await.expect("caseload");
        let g = rows
            .iter()
            .find(|r| r.patient.id == guest.id)
            .expect("the guest's row");
        assert_eq!(
            (g.patient.display_name.as_str(), g.patient.email.as_str()),
            ("Gus", gmail.as_str())
        );
    }

    // Changed behind the program's back: the next start copies them again.
    let file = scratch_db();
    let url = format!("sqlite://{}", file.display());
    let store = Store::connect(&url).await.expect("connect");
    let clin = account(&store, "Dr C", Role::Clinician).await;
    let pat = account(&store, "Pat", Role::Patient).await;
    store.link(&clin.id, &pat.id).await.expect("link");
    let c = rusqlite::Connection::open(&file).expect("open");
    c.execute(
        "UPDATE users SET display_name = 'Edited', time_zone = 'Asia/Tokyo' WHERE role = 'patient'",
        [],
    )
    .expect("sql");
    let again = Store::connect(&url).await.expect("connect");
    let rows = again.caseload(&clin.id).await.expect("caseload");
    assert_eq!(rows[0].patient.display_name, "Edited");
    assert_eq!(rows[0].patient.time_zone.as_deref(), Some("Asia/Tokyo"));
}
