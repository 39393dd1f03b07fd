//! Storage story tests. They run against SQLite (a fresh file each) and,
//! when `KNEEPATH_TEST_PG_URL` is set, against PostgreSQL as well.

use kneepath_core::checkin::{CheckIn, Swelling};
use kneepath_core::{Day, KnowledgeBase, assess};
use kneepath_store::{CheckinWrite, NewAssessment, Role, Store, StoreError};

async fn sqlite_store() -> Store {
    let dir = std::env::temp_dir().join(format!("kneepath-store-{}", kneepath_store::new_id()));
    std::fs::create_dir_all(&dir).expect("dir");
    Store::connect(&format!("sqlite://{}", dir.join("t.db").display()))
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

fn checkin(day: i32) -> CheckIn {
    CheckIn {
        day: Day(day),
        pain_now: 3,
        exercise_pain: Some(2),
        morning_pain: None,
        stiffness: 1,
        swelling: Swelling::None,
        walks_normally: true,
        full_range: true,
        planned: vec!["heel_slides".into()],
        done: vec!["heel_slides".into()],
        training_minutes: 0,
        effort: 0,
        sleep_hours: 7.5,
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
            Err(StoreError::Conflict(_))
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
                    source: "wizard",
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
                escalation: Some("worsening"),
                retriage: None,
                ip: None,
            })
            .await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))), "{dup:?}");
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
    let dir = std::env::temp_dir().join(format!("kneepath-store-{}", kneepath_store::new_id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}", dir.join("t.db").display());
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
                source: "wizard",
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
                escalation: (d == 12).then_some("worsening"),
                retriage: None,
                ip: None,
            })
            .await
            .expect("check-in");
    }
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
            Err(StoreError::Conflict(_))
        ));
    }
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
