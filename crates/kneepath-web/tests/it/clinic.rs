//! The clinician and admin areas: the authorization matrix (every route x
//! method x role against the expected table), and a clinician's day through
//! the routes with its audit trail.

use axum::http::{Method, StatusCode};
use kneepath_store::{Role, User};

use super::{App, Resp, app};

impl App {
    /// Log in an account made in the store; returns (cookie, csrf).
    async fn login(&self, email: &str, password: &str) -> (String, String) {
        let page = self.get("/login", None).await;
        let anon = page.cookie("kp_csrf").expect("csrf cookie");
        let r = self
            .post(
                "/login",
                Some(&anon),
                &format!("csrf={}&email={email}&password={password}", page.csrf()),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let cookie = r.cookie("kp_session").expect("session");
        let csrf = self.get("/account", Some(&cookie)).await.csrf();
        (cookie, csrf)
    }

    pub(super) async fn account(&self, name: &str, role: Role) -> (User, String, String) {
        let email = self.email(name);
        let u = self
            .state
            .store
            .create_user(&email, name, "a long enough password", role)
            .await
            .expect("user");
        let (c, t) = self.login(&email, "a+long+enough+password").await;
        (u, c, t)
    }

    pub(super) async fn user_of(&self, cookie: &str) -> User {
        self.state
            .store
            .session(cookie.trim_start_matches("kp_session="))
            .await
            .expect("db")
            .expect("session")
            .user
    }

    /// A patient (assessed or not) linked to a new clinician; returns the
    /// patient, the clinician's cookie and CSRF token, and the patient's
    /// page under /clinic.
    pub(super) async fn linked_patient(
        &self,
        name: &str,
        assessed: bool,
    ) -> (User, String, String, String) {
        let (p, p_csrf) = self.patient(&format!("{name}-p")).await;
        if assessed {
            self.assess(&p, &p_csrf).await;
        }
        let patient = self.user_of(&p).await;
        let (clin, c, c_csrf) = self.account(&format!("{name}-c"), Role::Clinician).await;
        self.state
            .store
            .link(&clin.id, &patient.id)
            .await
            .expect("link");
        let base = format!("/clinic/patients/{}", patient.id);
        (patient, c, c_csrf, base)
    }
}

/// The handler ran for this caller: anything but 401/403/404/410 or a
/// redirect to the login page, to sign up (a guest) or to the
/// assessment's start (not logged in).
fn allowed(r: &Resp) -> bool {
    let refused = matches!(
        r.status,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::GONE
    );
    let sent_away = r.status.is_redirection()
        && (r.location().starts_with("/login")
            || r.location().starts_with("/signup")
            || r.location() == "/assess");
    !refused && !sent_away
}

// Who is asking, in the order of the expectation strings below.
const ROLES: [&str; 7] = [
    "anonymous",
    "patient A",
    "patient B",
    "linked clinician",
    "unlinked clinician",
    "admin",
    "guest (answering without an account)",
];

/// (method, path, form, expected for each of ROLES: 'y' allowed, '.' refused).
/// Placeholders: {A} patient A's id, {AS} A's assessment, {LINK} the link
/// between A and the linked clinician, {D} a spare account, {INV} a fresh
/// invitation. Forms that would change data are invalid on purpose where
/// they can be (a 422 still shows that the handler let the caller in).
const MATRIX: &[(&str, &str, &str, &str)] = &[
    ("GET", "/", "", "yyyyyyy"),
    ("GET", "/healthz", "", "yyyyyyy"),
    ("GET", "/about", "", "yyyyyyy"),
    ("GET", "/privacy", "", "yyyyyyy"),
    ("GET", "/static/style.css", "", "yyyyyyy"),
    ("GET", "/static/tz.js", "", "yyyyyyy"),
    ("GET", "/static/today.js", "", "yyyyyyy"),
    ("GET", "/login", "", "yyyyyyy"),
    ("GET", "/signup", "", "yyyyyyy"),
    ("GET", "/password/forgot", "", "yyyyyyy"),
    ("GET", "/calendar/not-a-token.ics", "", "......."),
    ("GET", "/assess", "", "yyy...y"),
    ("GET", "/checkin/saved?day=2026-11-02", "", ".yy...."),
    ("POST", "/account/calendar", "", ".yy...."),
    ("GET", "/plan", "", ".yy...."),
    ("GET", "/plan/full", "", ".yy...."),
    ("GET", "/checkin", "", ".yy...."),
    ("POST", "/checkin", "pain_now=99", ".yy...."),
    ("GET", "/progress", "", ".yy...."),
    ("GET", "/assess/1", "", ".yy...y"),
    ("POST", "/assess/1", "nav=next&age=500", ".yy...y"),
    ("GET", "/assess/check?next=4", "", ".yy...y"),
    ("POST", "/assess/check?next=4", "", ".yy...y"),
    ("GET", "/assessments", "", ".yy...y"),
    ("GET", "/assessments/{AS}", "", ".y....."),
    ("GET", "/outcomes", "", ".yy...."),
    ("GET", "/outcomes/koos", "", ".yy...."),
    ("POST", "/outcomes/lefs", "L1=9", ".yy...."),
    ("GET", "/account", "", ".yyyyy."),
    ("GET", "/account/export.json", "", ".yy...."),
    ("POST", "/account/delete", "password=wrong", ".yy...."),
    (
        "POST",
        "/account/time-zone",
        "time_zone=Nowhere/Atlantis",
        ".yyyyy.",
    ),
    ("POST", "/account/password", "current_password=", ".yyyyy."),
    ("POST", "/account/details", "display_name=", ".yyyyy."),
    ("POST", "/account/calendar/revoke", "", ".yy...."),
    ("POST", "/account/links/{LINK}/revoke", "", ".y....."),
    ("POST", "/account/tokens", "name=", ".yy...."),
    ("POST", "/account/tokens/not-a-token/revoke", "", "......."),
    ("GET", "/invite/{INV}", "", "yyy...y"),
    ("POST", "/invite/{INV}", "", ".yy...."),
    ("GET", "/clinic", "", "...yy.."),
    ("POST", "/clinic/invites", "", "...yy.."),
    ("GET", "/clinic/patients/{A}", "", "...y..."),
    (
        "POST",
        "/clinic/patients/{A}/measurements",
        "ake=500",
        "...y...",
    ),
    ("POST", "/clinic/patients/{A}/notes", "body=", "...y..."),
    ("POST", "/clinic/patients/{A}/plan", "kind=x", "...y..."),
    ("POST", "/clinic/patients/{A}/phase", "to=x", "...y..."),
    ("GET", "/clinic/patients/{A}/report", "", "...y..."),
    ("GET", "/clinic/patients/{A}/report.pdf", "", "...y..."),
    ("POST", "/clinic/patients/{A}/unlink", "", "...y..."),
    ("GET", "/admin/users", "", ".....y."),
    ("POST", "/admin/users", "email=bad", ".....y."),
    ("POST", "/admin/users/{D}/disable", "", ".....y."),
    ("POST", "/admin/users/{D}/enable", "", ".....y."),
    ("POST", "/admin/users/{D}/reset", "", ".....y."),
    ("GET", "/admin/audit", "", ".....y."),
    ("POST", "/assess/guest", "", ".yy...y"),
    ("GET", "/guest/delete", "", "......y"),
    ("POST", "/guest/delete", "", "......y"),
];

#[tokio::test]
async fn authorization_matrix_has_no_unexpected_allow() {
    let app = app().await;
    let store = &app.state.store;
    let (a, a_csrf) = app.patient("matrix-a").await;
    let a_assessment = app.assess(&a, &a_csrf).await;
    let a_user = app.user_of(&a).await;
    let (b, b_csrf) = app.patient("matrix-b").await;
    app.assess(&b, &b_csrf).await;
    // A check-in today each (so /checkin/saved has something to show).
    let good =
        "pain_now=2&stiffness=1&swelling=none&walks_normally=yes&full_range=yes&sleep_hours=7";
    for (cookie, csrf) in [(&a, &a_csrf), (&b, &b_csrf)] {
        let r = app
            .post("/checkin", Some(cookie), &format!("csrf={csrf}&{good}"))
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let (c1, c1_user_cookie, c1_csrf) = app.account("matrix-c1", Role::Clinician).await;
    let (_, c2, c2_csrf) = app.account("matrix-c2", Role::Clinician).await;
    let (_, adm, adm_csrf) = app.account("matrix-admin", Role::Admin).await;
    let (spare, _, _) = app.account("matrix-spare", Role::Clinician).await;
    let (inviter, _, _) = app.account("matrix-inviter", Role::Clinician).await;
    // The guest's column gets a guest of its own for each row (starting
    // one or leaving ends the one before).
    let callers: [(Option<&str>, &str); 6] = [
        (None, ""),
        (Some(&a), &a_csrf),
        (Some(&b), &b_csrf),
        (Some(&c1_user_cookie), &c1_csrf),
        (Some(&c2), &c2_csrf),
        (Some(&adm), &adm_csrf),
    ];
    let mut unexpected_allows = Vec::new();
    let mut unexpected_denials = Vec::new();
    for (method, path, form, expect) in MATRIX {
        assert_eq!(expect.len(), ROLES.len(), "{method} {path}");
        let (guest, guest_csrf) = app.guest().await;
        let guest_caller = (Some(guest.as_str()), guest_csrf.as_str());
        for (i, (cookie, csrf)) in callers.iter().chain([&guest_caller]).enumerate() {
            // Put back what an allowed request before may have changed.
            if !store.is_linked(&c1.id, &a_user.id).await.expect("db") {
                store.link(&c1.id, &a_user.id).await.expect("link");
            }
            store
                .set_disabled(&spare.id, false, &c1.id, None)
                .await
                .expect("enable");
            let link = store
                .links_of_patient(&a_user.id)
                .await
                .expect("links")
                .into_iter()
                .find(|l| l.other.id == c1.id)
                .expect("link")
                .id;
            let invite = store
                .create_invite(&inviter.id, 1, None)
                .await
                .expect("invite");
            let p = path
                .replace("{A}", &a_user.id)
                .replace("{AS}", &a_assessment)
                .replace("{LINK}", &link)
                .replace("{D}", &spare.id)
                .replace("{INV}", &invite);
            let r = if *method == "GET" {
                app.get(&p, *cookie).await
            } else {
                let body = if form.is_empty() {
                    format!("csrf={csrf}")
                } else {
                    format!("csrf={csrf}&{form}")
                };
                // Anonymous: the double-submit cookie is missing, so the
                // CSRF check refuses before anything else can.
                app.send(Method::POST, &p, *cookie, Some(&body), &[]).await
            };
            let want = expect.as_bytes()[i] == b'y';
            let got = allowed(&r);
            let line = format!(
                "{method} {path} as {}: {} ({})",
                ROLES[i],
                r.status,
                r.location()
            );
            if got && !want {
                unexpected_allows.push(line);
            } else if want && !got {
                unexpected_denials.push(line);
            }
        }
    }
    assert!(
        unexpected_allows.is_empty(),
        "{} unexpected allows:\n{}",
        unexpected_allows.len(),
        unexpected_allows.join("\n")
    );
    assert!(
        unexpected_denials.is_empty(),
        "unexpected denials:\n{}",
        unexpected_denials.join("\n")
    );
}

/// Routes the matrix leaves out, with the test that covers them instead.
const ELSEWHERE: &[(&str, &str)] = &[
    ("POST /signup", "sign-up tests in main.rs (anonymous form)"),
    ("POST /login", "login_logout_rotation_and_rate_limit"),
    (
        "POST /logout",
        "login_logout_rotation_and_rate_limit (ends the session)",
    ),
    ("/assess/{step}", "covered as /assess/1"),
    (
        "POST /account/reminder",
        "mail::a_check_in_reminder_is_emailed_once_at_its_time_to_whoever_has_not_checked_in (404 without SMTP, which the matrix's app has not)",
    ),
    (
        "POST /password/forgot",
        "mail::the_answer_never_tells_whether_an_account_exists_and_asks_are_limited (anonymous form)",
    ),
    (
        "/reset/{token}",
        "hardening::an_admins_reset_gives_a_single_use_link_not_a_password (any session refused)",
    ),
];

#[test]
fn the_matrix_covers_every_route_of_the_router() {
    let source = include_str!("../../src/pages/mod.rs");
    let mut missing = Vec::new();
    for chunk in source.split(".route(").skip(1) {
        let Some(path) = chunk.split('"').nth(1) else {
            continue;
        };
        let handlers = chunk.split(')').take(3).collect::<Vec<_>>().join(")");
        for (method, marker) in [("GET", "get("), ("POST", "post(")] {
            if !handlers.contains(marker) {
                continue;
            }
            let key = format!("{method} {path}");
            let pattern: Vec<&str> = path.split('/').collect();
            let covered = MATRIX.iter().any(|(m, p, _, _)| {
                let p = p.split('?').next().unwrap_or(p);
                let parts: Vec<&str> = p.split('/').collect();
                *m == method
                    && parts.len() == pattern.len()
                    && parts
                        .iter()
                        .zip(&pattern)
                        .all(|(a, b)| a == b || b.starts_with('{'))
            });
            let excused = ELSEWHERE.iter().any(|(r, _)| *r == key || *r == path);
            if !covered && !excused {
                missing.push(key);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes missing from the matrix: {missing:?}"
    );
}

#[tokio::test]
async fn clinicians_day_through_the_routes_with_its_audit_trail() {
    let app = app().await;
    let store = &app.state.store;
    let (p, p_csrf) = app.patient("day-p").await;
    app.assess(&p, &p_csrf).await;
    let patient = app.user_of(&p).await;
    let (clin, c, c_csrf) = app.account("day-c", Role::Clinician).await;

    // Invitation: made by the clinician, accepted once by the patient.
    let r = app
        .post("/clinic/invites", Some(&c), &format!("csrf={c_csrf}"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let marker = "/invite/";
    let start = r.body.find(marker).expect("invite link") + marker.len();
    let token: String = r.body[start..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let show = app.get(&format!("/invite/{token}"), Some(&p)).await;
    assert!(
        show.body.contains("<bdi>day-c</bdi> invites you"),
        "{}",
        show.body
    );
    let r = app
        .post(
            &format!("/invite/{token}"),
            Some(&p),
            &format!("csrf={p_csrf}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let again = app
        .post(
            &format!("/invite/{token}"),
            Some(&p),
            &format!("csrf={p_csrf}"),
        )
        .await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(app.get("/account", Some(&p)).await.body.contains("day-c"));

    // The dashboard lists the patient; the timeline opens.
    let dash = app.get("/clinic", Some(&c)).await;
    assert!(
        dash.body
            .contains(&format!("/clinic/patients/{}", patient.id))
    );
    let base = format!("/clinic/patients/{}", patient.id);
    let t = app.get(&base, Some(&c)).await;
    assert_eq!(t.status, StatusCode::OK);
    assert!(t.body.contains("grade-reported") || !t.body.contains("grade-measured"));
    assert!(!t.body.contains("time zone"));
    // Once the patient sets a time zone the clinician sees it (the test
    // clock is a fixed day, the same everywhere).
    store
        .set_time_zone(&patient.id, Some("America/New_York"))
        .await
        .expect("zone");
    let t = app.get(&base, Some(&c)).await;
    assert!(
        t.body
            .contains("lives in the America/New York time zone, where today is 2026-11-02")
    );

    // Bad measurements: an inline message, nothing stored.
    let r = app
        .post(
            &format!("{base}/measurements"),
            Some(&c),
            &format!("csrf={c_csrf}&ham_left=120&quad_left=200"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Choose the painful side"));
    assert!(store.measurements(&patient.id).await.expect("m").is_empty());
    // Torques whose ratio the assessment cannot take (the painful side at
    // 220% of the other): said in the clinician's words, nothing stored.
    let r = app
        .post(
            &format!("{base}/measurements"),
            Some(&c),
            &format!("csrf={c_csrf}&painful_side=right&ham_left=50&ham_right=110"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains(
            "Hamstring strength vs other side (%): 220 is out of range: allowed 0 to 200 (computed from the values entered)"
        ),
        "{}",
        r.body
    );
    assert!(!r.body.contains("strength_lsi_pct"));
    // At the painful side's hamstring field, which keeps what was typed.
    assert!(r.body.contains("href=\"#m-ham_right\""), "{}", r.body);
    assert!(r.body.contains("value=\"110\""));
    assert!(store.measurements(&patient.id).await.expect("m").is_empty());
    // Good measurements: H:Q 0.5 on the painful side -> strength imbalance measured.
    let r = app
        .post(
            &format!("{base}/measurements"),
            Some(&c),
            &format!(
                "csrf={c_csrf}&painful_side=right&ham_left=120&ham_right=90&quad_left=200&quad_right=180&slr_left=80&slr_right=75&ake=10"
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let t = app.get(&base, Some(&c)).await;
    assert!(t.body.contains("grade-measured"), "no measured factor");
    assert!(t.body.contains("Strength imbalance"));
    let m = store.measurements(&patient.id).await.expect("m");
    assert_eq!(m[0].data["derived"]["hq_ratio"], serde_json::json!(0.5));
    assert!(
        m[0].data["summary"]
            .as_str()
            .is_some_and(|s| s.contains("→ measured")),
        "{}",
        m[0].data
    );

    // Plan edit: remove an exercise with a reason; the patient's plan follows.
    let plan = app.get("/plan", Some(&p)).await.body;
    let first = app
        .state
        .kb
        .exercises
        .iter()
        .find(|e| plan.contains(&e.name))
        .expect("an exercise on the plan")
        .clone();
    let r = app
        .post(
            &format!("{base}/plan"),
            Some(&c),
            &format!("csrf={c_csrf}&kind=remove&exercise={}&reason=", first.id),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is required"
    );
    let r = app
        .post(
            &format!("{base}/plan"),
            Some(&c),
            &format!(
                "csrf={c_csrf}&kind=dosage&exercise={}&dosage=2+x+5+slowly&reason=sore+after+sessions",
                first.id
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let plan = app.get("/plan", Some(&p)).await.body;
    assert!(plan.contains("2 x 5 slowly") && plan.contains("sore after sessions"));

    // The patient fills in the KOOS; the clinician sees it scored.
    let mut koos = format!("csrf={p_csrf}");
    for item in kneepath_core::outcomes::koos_items() {
        koos.push_str(&format!("&{item}=1"));
    }
    let r = app.post("/outcomes/koos", Some(&p), &koos).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let t = app.get(&base, Some(&c)).await;
    // Pain: all items 1 -> 75.0.
    assert!(t.body.contains("75.0"), "KOOS pain score not shown");
    // LEFS must be complete.
    let r = app
        .post("/outcomes/lefs", Some(&p), &format!("csrf={p_csrf}&L1=4"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("19 of 20 are still open"));

    // The report; a note; the phase moved by hand.
    let rep = app.get(&format!("{base}/report"), Some(&c)).await;
    assert_eq!(rep.status, StatusCode::OK);
    assert!(rep.body.contains("kneepath report") && rep.body.contains("KOOS"));
    app.post(
        &format!("{base}/notes"),
        Some(&c),
        &format!("csrf={c_csrf}&body=Hamstrings+weak+on+the+right."),
    )
    .await;
    // The patient checked in today, in the phase before the move: the
    // moved phase counts check-ins from tomorrow.
    let r = app
        .post(
            "/checkin",
            Some(&p),
            &format!("csrf={p_csrf}&pain_now=2&stiffness=1&swelling=none&walks_normally=yes&full_range=yes&sleep_hours=7"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = app
        .post(
            &format!("{base}/phase"),
            Some(&c),
            &format!("csrf={c_csrf}&to=protect&reason=flare+up"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(app.get("/plan", Some(&p)).await.body.contains("Protect"));
    let moved = store.phase_changes(&patient.id).await.expect("db");
    let moved = moved.last().expect("the move");
    assert!(moved.how.author().is_some());
    assert_eq!(
        moved.day,
        super::TODAY
            .parse::<kneepath_core::Day>()
            .expect("day")
            .plus(1)
    );

    // Every read and write of this patient's data by the clinician is logged.
    let log = store
        .audit_search(
            &kneepath_store::AuditFilter {
                actor_id: Some(clin.id.to_string()),
                subject_id: Some(patient.id.to_string()),
                ..Default::default()
            },
            1000,
        )
        .await
        .expect("audit");
    for (action, entity) in [
        ("read", "caseload"),
        ("read", "timeline"),
        ("create", "measurement"),
        ("update", "plan"),
        ("read", "report"),
        ("create", "note"),
        ("update", "phase"),
    ] {
        assert!(
            log.iter().any(|e| e.action == action && e.entity == entity),
            "no audit row {action} {entity}"
        );
    }

    // The patient ends the link: the clinician loses access at once.
    let link = store.links_of_patient(&patient.id).await.expect("l")[0]
        .id
        .clone();
    app.post(
        &format!("/account/links/{link}/revoke"),
        Some(&p),
        &format!("csrf={p_csrf}"),
    )
    .await;
    assert_eq!(app.get(&base, Some(&c)).await.status, StatusCode::NOT_FOUND);
    assert!(
        !app.get("/clinic", Some(&c))
            .await
            .body
            .contains(patient.id.as_str())
    );
}

/// The dashboard says what a filter leaves out, names a filter it does
/// not know instead of quietly showing everyone, and confirms an ended
/// link.
#[tokio::test]
async fn the_dashboard_says_what_its_filters_and_an_ended_link_did() {
    let app = app().await;
    let (patient, c, c_csrf, base) = app.linked_patient("filters", true).await;
    let all = app.get("/clinic", Some(&c)).await;
    assert!(
        all.body.contains("1 patient, most pressing first"),
        "{}",
        all.body
    );

    let none = app.get("/clinic?q=nobody-like-this", Some(&c)).await;
    assert!(
        none.body.contains("0 of 1 patient match this filter"),
        "{}",
        none.body
    );
    assert!(none.body.contains("No patient matches this filter"));

    let bogus = app.get("/clinic?need=bogus", Some(&c)).await;
    assert_eq!(bogus.status, StatusCode::OK);
    assert!(
        bogus
            .body
            .contains("There is no need called “bogus”: showing every patient.")
    );
    assert!(bogus.body.contains(patient.id.as_str()));
    assert!(bogus.body.contains("1 patient, most pressing first"));
    let tag = app.get("/clinic?need=%3Cb%3Ex", Some(&c)).await;
    assert!(
        tag.body.contains("no need called “&#60;b&#62;x”") && !tag.body.contains("<b>x"),
        "the unknown filter is shown escaped: {}",
        tag.body
            .lines()
            .find(|l| l.contains("no need called"))
            .unwrap_or("")
    );

    let r = app
        .post(
            &format!("{base}/unlink"),
            Some(&c),
            &format!("csrf={c_csrf}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/clinic?ended=1");
    let after = app.get(r.location(), Some(&c)).await;
    assert!(after.body.contains("The link is ended"), "{}", after.body);
    assert!(!after.body.contains(patient.id.as_str()));
    assert!(
        !app.get("/clinic", Some(&c))
            .await
            .body
            .contains("The link is ended")
    );
}

#[tokio::test]
async fn a_patient_without_a_home_plan_shows_no_plan_or_phase_forms() {
    let app = app().await;
    let (patient, c, c_csrf, base) = app.linked_patient("noplan", false).await;

    let page = app.get(&base, Some(&c)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("No home plan (no assessment yet)"),
        "{}",
        page.body
    );
    assert!(!page.body.contains(&format!("action=\"{base}/phase")));
    assert!(!page.body.contains(&format!("action=\"{base}/plan")));
    // Notes and measurements can still be recorded.
    assert!(page.body.contains(&format!("action=\"{base}/notes")));

    // A form sent from an older page is refused with the reason, and
    // nothing is stored.
    let r = app
        .post(
            &format!("{base}/phase"),
            Some(&c),
            &format!("csrf={c_csrf}&to=protect&reason=flare+up"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("This patient has no assessment yet: there is no plan to give."),
        "{}",
        r.body
    );
    let moves = app
        .state
        .store
        .phase_changes(&patient.id)
        .await
        .expect("db");
    assert!(moves.is_empty(), "{moves:?}");
}

#[tokio::test]
async fn a_clinicians_form_refused_for_a_plan_that_kept_changing_comes_back_filled_in() {
    let app = app().await;
    let (patient, c, c_csrf, base) = app.linked_patient("kept", true).await;
    let before = app.phase_moves(&patient.id).await;
    let phase = format!("csrf={c_csrf}&to=protect&reason=flare+up+on+Monday");
    // As the page writes it (HTML-escaped).
    let why = kneepath_web::error::CLINIC_NOT_SAVED.replace('\'', "&#39;");
    let measure = format!(
        "csrf={c_csrf}&painful_side=right&ham_left=120&ham_right=84&quad_left=200&quad_right=190"
    );

    super::plan_always_changes(&app, &patient.id, true).await;
    let r = app.post(&format!("{base}/phase"), Some(&c), &phase).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains(&why), "{}", r.body);
    assert!(
        r.body.contains(r#"value="flare up on Monday""#),
        "{}",
        r.body
    );
    assert_eq!(
        app.phase_moves(&patient.id).await,
        before,
        "nothing was saved"
    );
    let r = app
        .post(&format!("{base}/measurements"), Some(&c), &measure)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains(&why));
    assert!(
        r.body
            .contains(r#"name="ham_right" inputmode="decimal" value="84""#)
    );
    let stored = app.state.store.measurements(&patient.id).await.expect("db");
    assert!(stored.is_empty(), "{stored:?}");

    // Once the plan holds still, the same forms are saved.
    super::plan_always_changes(&app, &patient.id, false).await;
    let r = app.post(&format!("{base}/phase"), Some(&c), &phase).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(app.phase_moves(&patient.id).await, before + 1);
    let r = app
        .post(&format!("{base}/measurements"), Some(&c), &measure)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

/// Policy v2: at urgent a plan comes only from a clinician, and the plan
/// rules apply to it as to any other; a clinician lifts P2 with an edit
/// that records who cleared the patient.
#[tokio::test]
async fn a_clinician_gives_a_plan_at_urgent_and_lifts_p2_when_cleared() {
    let app = app().await;
    let (patient, c, c_csrf, base) = app.linked_patient("urgent", false).await;
    // A sprint yesterday with a pop: possible hamstring tear (U6, urgent);
    // P2 applies.
    let facts = app
        .state
        .kb
        .facts_from_toml_str(
            "age = 24\nonset = \"sudden\"\ndays_since_onset = 1\nmechanism = \"sprint\"\npop_at_injury = true\nsports = [\"football\"]\nwarm_up = \"always\"",
        )
        .expect("facts");
    let today = app.state.clock.today();
    app.state
        .app
        .record_assessment(
            &patient.id,
            &facts,
            kneepath_store::AssessmentSource::Api,
            today,
            None,
        )
        .await
        .expect("assessed");
    let page = app.get(&base, Some(&c)).await;
    assert!(page.body.contains("Give a home plan"), "{}", page.body);
    assert!(
        page.body.contains("rule") && page.body.contains(">P2<"),
        "{}",
        page.body
    );
    // No lift without a plan to lift it from.
    assert!(!page.body.contains("Lift P2"), "{}", page.body);

    // The clinician gives a plan in the Strengthen phase.
    let r = app
        .post(
            &format!("{base}/phase"),
            Some(&c),
            &format!(
                "csrf={c_csrf}&to=strengthen&reason=Examined%3A+grade+1+strain%2C+no+avulsion"
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let moves = app
        .state
        .store
        .phase_changes(&patient.id)
        .await
        .expect("db");
    let last = moves.last().expect("a plan start");
    assert!(last.how.is_start_by_clinician(), "{moves:?}");
    let ctx = app
        .state
        .app
        .plan_context(&patient.id)
        .await
        .expect("db")
        .expect("plan");
    let phase = ctx.phase.expect("the clinician's plan is followed");
    let items = |ctx: &kneepath_app::PlanContext| -> Vec<String> {
        kneepath_app::plan::plan_items(&app.state.kb, ctx, phase)
            .items
            .iter()
            .map(|i| i.exercise.id.clone())
            .collect()
    };
    // P2 leaves the Nordic curl out of the clinician's plan too.
    assert!(
        !items(&ctx).contains(&"nordic_curl".to_string()),
        "{:?}",
        items(&ctx)
    );

    // A lift needs to say who cleared the patient.
    let r = app
        .post(
            &format!("{base}/plan"),
            Some(&c),
            &format!("csrf={c_csrf}&kind=clear&rule=P2&reason=ok"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Say who cleared the patient"), "{}", r.body);
    // A rule that protects whoever gives the plan cannot be lifted.
    let r = app
        .post(
            &format!("{base}/plan"),
            Some(&c),
            &format!("csrf={c_csrf}&kind=clear&rule=P7&reason=Dr+Lee+said+so+today"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .post(
            &format!("{base}/plan"),
            Some(&c),
            &format!(
                "csrf={c_csrf}&kind=clear&rule=P2&reason=Dr+Lee%2C+ultrasound+3+Dec%3A+no+tear"
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let ctx = app
        .state
        .app
        .plan_context(&patient.id)
        .await
        .expect("db")
        .expect("plan");
    assert!(
        items(&ctx).contains(&"nordic_curl".to_string()),
        "{:?}",
        items(&ctx)
    );
    let edits = &ctx.edits;
    let lift = edits
        .iter()
        .find(|e| e.kind == kneepath_core::plan::EditKind::Clear)
        .expect("the lift is recorded");
    assert_eq!(lift.exercise, "P2");
    assert!(
        lift.reason.contains("Dr Lee, ultrasound 3 Dec: no tear"),
        "{}",
        lift.reason
    );
    assert!(lift.author.is_some());
    let page = app.get(&base, Some(&c)).await;
    assert!(page.body.contains("Lifted: Cleared by"), "{}", page.body);
}
