//! What a hostile or careless client found (issue: hardening), each as a
//! test that failed before its fix: limits under concurrency, redirects,
//! headers, tokens that outlive passwords.

use axum::http::{Method, StatusCode};

use super::{App, app};

impl App {
    /// A login form's anonymous cookie and CSRF token.
    async fn login_form(&self) -> (String, String) {
        let page = self.get("/login", None).await;
        (page.cookie("kp_csrf").expect("csrf cookie"), page.csrf())
    }

    async fn login_with(&self, anon: &str, csrf: &str, email: &str, password: &str) -> StatusCode {
        self.post(
            "/login",
            Some(anon),
            &format!("csrf={csrf}&email={email}&password={password}"),
        )
        .await
        .status
    }
}

/// 40 wrong passwords at once for one account: only as many are checked
/// as the limit allows (five), and the right password after them is
/// refused too. Before the fix the count was read before the check and
/// written after it, so every one of them was checked.
#[tokio::test]
async fn a_burst_of_wrong_passwords_checks_no_more_than_the_limit() {
    let app = app().await;
    let (cookie, _) = app.patient("burst").await;
    drop(cookie);
    let email = app.email("burst");
    let (anon, csrf) = app.login_form().await;
    let tries = (0..40).map(|_| app.login_with(&anon, &csrf, &email, "wrong+password"));
    let statuses = futures_join_all(tries).await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + refused, 40, "{statuses:?}");
    assert!(checked <= 5, "{checked} wrong passwords were checked");
    assert_eq!(
        app.login_with(&anon, &csrf, &email, "a+long+enough+password")
            .await,
        StatusCode::TOO_MANY_REQUESTS,
        "the right password after the burst is refused too"
    );
}

/// A successful login does not count against a shared address: thirty
/// people behind one address each logging in once are all let in.
#[tokio::test]
async fn successful_logins_do_not_use_up_an_addresses_limit() {
    let app = app().await;
    let (anon, csrf) = app.login_form().await;
    for i in 0..(app.state.settings.max_failures_per_ip + 2) {
        let name = format!("shared{i}");
        app.patient(&name).await;
        let s = app
            .login_with(&anon, &csrf, &app.email(&name), "a+long+enough+password")
            .await;
        assert_eq!(s, StatusCode::SEE_OTHER, "login {i}");
    }
}

/// `next` is a relative path of safe characters, or the default: a tab or
/// a newline after the slash (which URL parsers skip, leading to another
/// host) never reaches the Location header, and never gives a 500.
#[tokio::test]
async fn next_is_a_safe_relative_path_or_the_default() {
    let app = app().await;
    let r = app.get("/login?next=/%09/evil.example", None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("evil.example"), "not offered in the form");
    // Logged in, the login page redirects to `next`.
    let (cookie, _) = app.patient("next").await;
    for bad in [
        "/%09/evil.example",
        "/%0a",
        "/%0d%0aSet-Cookie:x=y",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
    ] {
        let r = app.get(&format!("/login?next={bad}"), Some(&cookie)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{bad}: {}", r.body);
        assert_eq!(r.location(), "/plan", "{bad}");
    }
    let r = app.get("/login?next=/progress", Some(&cookie)).await;
    assert_eq!(r.location(), "/progress");
}

/// Wrong passwords on account deletion are counted with the login limit:
/// after five, even the right one is refused for a while.
#[tokio::test]
async fn wrong_passwords_on_account_deletion_are_limited() {
    let app = app().await;
    let (cookie, csrf) = app.patient("del").await;
    for _ in 0..5 {
        let r = app
            .post(
                "/account/delete",
                Some(&cookie),
                &format!("csrf={csrf}&password=wrong"),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let r = app
        .post(
            "/account/delete",
            Some(&cookie),
            &format!("csrf={csrf}&password=a+long+enough+password"),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    // Nothing was deleted.
    assert_eq!(
        app.get("/account", Some(&cookie)).await.status,
        StatusCode::OK
    );
}

/// API answers with health data are never cached, and the Bearer scheme
/// is case-insensitive (RFC 7235).
#[tokio::test]
async fn api_health_data_is_not_cached_and_the_scheme_is_case_insensitive() {
    let app = app().await;
    let (cookie, csrf) = app.patient("hdr").await;
    app.assess(&cookie, &csrf).await;
    let me = app.user_of(&cookie).await;
    let token = app
        .state
        .store
        .create_api_token(&me.id, "t", "read", None)
        .await
        .expect("token");
    for path in [
        "/api/v1/plan",
        "/api/v1/checkins",
        "/api/v1/fhir/Bundle",
        "/api/v1/assessments",
    ] {
        let auth = format!("bearer {token}");
        let r = app
            .send(
                Method::GET,
                path,
                None,
                None,
                &[("authorization", auth.as_str())],
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        assert_eq!(
            r.headers.get("cache-control").and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "{path}"
        );
    }
}

/// With `--secure-cookies` (served over HTTPS) every answer says to use
/// HTTPS from now on (HSTS).
#[tokio::test]
async fn hsts_is_sent_when_served_over_https() {
    let app = super::app_with_settings(kneepath_web::Settings {
        secure_cookies: true,
        ..kneepath_web::Settings::default()
    })
    .await;
    let r = app.get("/", None).await;
    let hsts = r
        .headers
        .get("strict-transport-security")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(hsts.starts_with("max-age="), "{hsts:?}");
    let plain = super::app().await;
    assert!(
        plain
            .get("/", None)
            .await
            .headers
            .get("strict-transport-security")
            .is_none()
    );
}

/// Run futures at once (on this task), collecting their outputs in order.
pub(super) async fn futures_join_all<F: std::future::Future>(
    fs: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let fs: Vec<F> = fs.collect();
    let n = fs.len();
    let mut out: Vec<Option<F::Output>> = (0..n).map(|_| None).collect();
    // The futures borrow the app, so they run on this task, polled together.
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = fs.into_iter().map(Box::pin).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// A warning sign ticked in a check-in whose other answers are missing is
/// acted on at once (policy: any warning sign re-runs triage at once): the
/// ambulance action, with the emergency number to tap, instead of a form
/// asking for the pain first. The unfinished check-in is not stored.
#[tokio::test]
async fn a_red_flag_in_an_unfinished_check_in_shows_the_action() {
    let app = app().await;
    let (cookie, csrf) = app.patient("cold-foot").await;
    app.assess(&cookie, &csrf).await;
    let r = app
        .post(
            "/checkin",
            Some(&cookie),
            &format!("csrf={csrf}&sign=leg_cold_pale_numb"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        r.location().starts_with("/assessments/"),
        "{}",
        r.location()
    );
    let page = app.get(r.location(), Some(&cookie)).await;
    assert!(page.body.contains("Call an ambulance now"), "{}", page.body);
    assert!(page.body.contains("href=\"tel:"), "{}", page.body);
    assert_eq!(
        app.checkins(&cookie).await,
        0,
        "the unfinished check-in is not stored"
    );
    // A routine sign with answers missing: the form asks for them.
    let (cookie, csrf) = app.patient("gives-way").await;
    app.assess(&cookie, &csrf).await;
    let r = app
        .post(
            "/checkin",
            Some(&cookie),
            &format!("csrf={csrf}&sign=giving_way"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// An admin's reset gives no password: it gives a single-use link that
/// expires, which only someone logged out can use, and it ends the
/// account's old password, sessions, tokens and calendar links at once.
/// Before, the admin was shown a temporary password, logged in with it and
/// exported the patient's records.
#[tokio::test]
async fn an_admins_reset_gives_a_single_use_link_not_a_password() {
    use kneepath_store::Role;
    let app = app().await;
    let (p_cookie, p_csrf) = app.patient("resetme").await;
    let patient = app.user_of(&p_cookie).await;
    let token = app
        .state
        .store
        .create_api_token(&patient.id, "t", "read", None)
        .await
        .expect("token");
    let calendar = app
        .state
        .store
        .create_calendar_token(&patient.id)
        .await
        .expect("calendar");
    let (_, a_cookie, a_csrf) = app.account("resetadmin", Role::Admin).await;
    let r = app
        .post(
            &format!("/admin/users/{}/reset", patient.id),
            Some(&a_cookie),
            &format!("csrf={a_csrf}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let link = r
        .body
        .split("/reset/")
        .nth(1)
        .and_then(|rest| rest.split(['"', '<', ' ']).next())
        .map(|t| format!("/reset/{t}"))
        .expect("a reset link");
    assert!(
        !r.body.contains("temporary password"),
        "no password is shown"
    );
    // Everything the account had is ended.
    assert_eq!(
        app.get("/plan", Some(&p_cookie)).await.status,
        StatusCode::SEE_OTHER,
        "the session ended"
    );
    let api = app
        .send(
            Method::GET,
            "/api/v1/me",
            None,
            None,
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_eq!(
        api.status,
        StatusCode::UNAUTHORIZED,
        "the token was revoked"
    );
    assert_eq!(
        app.get(&format!("/calendar/{calendar}.ics"), None)
            .await
            .status,
        StatusCode::NOT_FOUND,
        "the calendar link stopped"
    );
    let (anon, csrf) = app.login_form().await;
    assert_eq!(
        app.login_with(
            &anon,
            &csrf,
            &app.email("resetme"),
            "a+long+enough+password"
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "the old password no longer works"
    );
    // The admin, logged in, cannot use the link.
    let r = app.get(&link, Some(&a_cookie)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // The owner, logged out, sets a new password with it, once.
    let page = app.get(&link, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let anon = page.cookie("kp_csrf").expect("csrf cookie");
    let set = format!(
        "csrf={}&new_password=a+brand+new+password&new_password_again=a+brand+new+password",
        page.csrf()
    );
    let r = app.post(&link, Some(&anon), &set).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.login_with(
            &anon,
            &page.csrf(),
            &app.email("resetme"),
            "a+brand+new+password"
        )
        .await,
        StatusCode::SEE_OTHER
    );
    let again = app.post(&link, Some(&anon), &set).await;
    assert_eq!(again.status, StatusCode::GONE, "{}", again.body);
    // Both steps are in the audit log.
    let audit = app
        .state
        .store
        .audit_search(
            &kneepath_store::AuditFilter {
                subject_id: Some(patient.id.to_string()),
                entity: Some("password".into()),
                ..Default::default()
            },
            50,
        )
        .await
        .expect("audit");
    assert!(audit.len() >= 2, "{audit:?}");
    let _ = p_csrf;
}

/// Changing the password ends the account's tokens and calendar links too,
/// and a write token is only made with the password given again.
#[tokio::test]
async fn a_password_change_ends_tokens_and_a_write_token_needs_the_password() {
    let app = app().await;
    let (cookie, csrf) = app.patient("tok").await;
    let me = app.user_of(&cookie).await;
    let token = app
        .state
        .store
        .create_api_token(&me.id, "t", "read", None)
        .await
        .expect("token");
    let calendar = app
        .state
        .store
        .create_calendar_token(&me.id)
        .await
        .expect("calendar");
    // A write token without the password: refused.
    let r = app
        .post(
            "/account/tokens",
            Some(&cookie),
            &format!("csrf={csrf}&name=script&scope=write"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = app
        .post(
            "/account/tokens",
            Some(&cookie),
            &format!("csrf={csrf}&name=script&scope=write&password=a+long+enough+password"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("kp_"), "the new token is shown once");
    // The password changes: tokens and calendar links end.
    let r = app
        .post(
            "/account/password",
            Some(&cookie),
            &format!("csrf={csrf}&current_password=a+long+enough+password&new_password=another+long+password&new_password_again=another+long+password"),
        )
        .await;
    assert!(
        r.status.is_success() || r.status.is_redirection(),
        "{}",
        r.body
    );
    let api = app
        .send(
            Method::GET,
            "/api/v1/me",
            None,
            None,
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get(&format!("/calendar/{calendar}.ics"), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// A stand-in for Chromium: prints a tiny PDF after `seconds`, and notes
/// how many copies of it were running when it started.
fn fake_browser(dir: &std::path::Path, seconds: u32) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("chromium");
    let running = dir.join("running");
    std::fs::create_dir_all(&running).expect("dir");
    std::fs::write(
        &script,
        format!(
            r#"#!/bin/sh
out=""
for a in "$@"; do case "$a" in --print-to-pdf=*) out="${{a#--print-to-pdf=}}";; esac; done
touch "{running}/$$"
ls "{running}" | wc -l >> "{seen}"
sleep {seconds}
printf '%%PDF-1.4 fake' > "$out"
rm -f "{running}/$$"
"#,
            running = running.display(),
            seen = dir.join("seen").display(),
        ),
    )
    .expect("script");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    script
}

/// Six PDF reports at once, with room for one printing and one waiting:
/// two are made, one after the other; four are refused at once with 503
/// and Retry-After; the HTML report works meanwhile. Before, every request
/// started its own browser (six gave 74 processes and 765 MB).
#[tokio::test]
async fn pdf_reports_go_through_a_bounded_queue() {
    use std::time::Duration;
    let dir = std::env::temp_dir().join(format!("kneepath-pdf-test-{}", kneepath_store::new_id()));
    let settings = kneepath_web::Settings {
        pdf: kneepath_web::pdf::PdfLimits {
            printing: 1,
            waiting: 1,
            wait: Duration::from_secs(60),
            timeout: Duration::from_secs(60),
            browser: Some(fake_browser(&dir, 1)),
        },
        ..kneepath_web::Settings::default()
    };
    let app = super::app_with_settings(settings).await;
    let (_, cookie, _, base) = app.linked_patient("pdfq", true).await;
    let pdf = format!("{base}/report.pdf");
    let html = format!("{base}/report");
    let one = || app.get(&pdf, Some(&cookie));
    let (a, b, c, d, e, f, page) = tokio::join!(one(), one(), one(), one(), one(), one(), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.get(&html, Some(&cookie)).await
    });
    let answers = [a, b, c, d, e, f];
    assert_eq!(
        page.status,
        StatusCode::OK,
        "the HTML report works meanwhile"
    );
    let made = answers
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    let busy: Vec<_> = answers
        .iter()
        .filter(|r| r.status == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert_eq!(
        (made, busy.len()),
        (2, 4),
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in busy {
        let retry = r.headers.get("retry-after").and_then(|v| v.to_str().ok());
        assert_eq!(retry, Some("30"));
        assert!(r.body.contains("HTML report"), "{}", r.body);
    }
    let seen = std::fs::read_to_string(dir.join("seen")).expect("seen");
    assert!(
        seen.lines().all(|n| n.trim() == "1"),
        "never more than one browser at once: {seen}"
    );
}

/// A print that takes too long is stopped, and the browser with it.
#[tokio::test]
async fn a_pdf_that_takes_too_long_is_stopped() {
    use std::time::Duration;
    let dir = std::env::temp_dir().join(format!("kneepath-pdf-test-{}", kneepath_store::new_id()));
    let settings = kneepath_web::Settings {
        pdf: kneepath_web::pdf::PdfLimits {
            timeout: Duration::from_secs(1),
            browser: Some(fake_browser(&dir, 30)),
            ..Default::default()
        },
        ..kneepath_web::Settings::default()
    };
    let app = super::app_with_settings(settings).await;
    let (_, cookie, _, base) = app.linked_patient("pdft", true).await;
    let r = tokio::time::timeout(
        Duration::from_secs(20),
        app.get(&format!("{base}/report.pdf"), Some(&cookie)),
    )
    .await
    .expect("answered after the print's time limit");
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert!(r.body.contains("timed out"), "{}", r.body);
}

/// Sign-ups from one address are limited per hour, also in a burst (16
/// clients had made 227 accounts from one address in about 4 s); another
/// address is not affected.
#[tokio::test]
async fn sign_ups_from_one_address_are_limited() {
    use axum::extract::ConnectInfo;
    use axum::http::{Request, header};
    let settings = kneepath_web::Settings {
        max_signups_per_ip: 5,
        ..kneepath_web::Settings::default()
    };
    let app = super::app_with_settings(settings).await;
    let page = app.get("/signup", None).await;
    let (anon, csrf) = (page.cookie("kp_csrf").expect("csrf cookie"), page.csrf());
    let sign_up = |i: usize, from: [u8; 4]| {
        let body = format!(
            "csrf={csrf}&display_name=Pat&email={}&password=a+long+enough+password",
            app.email(&format!("flood{i}"))
        );
        let mut req = Request::builder()
            .method(Method::POST)
            .uri("/signup")
            .header(header::HOST, "localhost")
            .header(header::COOKIE, anon.as_str())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(body))
            .expect("request");
        req.extensions_mut()
            .insert(ConnectInfo(std::net::SocketAddr::from((from, 40000))));
        app.run(req)
    };
    // Addresses of this run only: tests on PostgreSQL share one database.
    let t = kneepath_store::random_token();
    let octet = |i: usize| u8::from_str_radix(&t[2 * i..2 * i + 2], 16).expect("hex");
    let (one, two) = ([10, octet(0), octet(1), 1], [10, octet(0), octet(1), 2]);
    let answers = futures_join_all((0..20).map(|i| sign_up(i, one))).await;
    let made = answers
        .iter()
        .filter(|r| r.status == StatusCode::SEE_OTHER)
        .count();
    let refused = answers
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(
        (made, refused),
        (5, 15),
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(sign_up(99, two).await.status, StatusCode::SEE_OTHER);
}

/// The audit rows of `filter` (newest first).
pub(super) async fn audit_rows(
    app: &App,
    filter: kneepath_store::AuditFilter,
) -> Vec<kneepath_store::AuditEntry> {
    app.state
        .store
        .audit_search(&filter, 500)
        .await
        .expect("audit")
}

/// Four gaps in the access log: the check-in form and its correction view
/// showed stored answers without a row; refused cross-access was not
/// logged; a clinician's measurement re-assessment named the patient as
/// actor; and deleting an account deleted the rows about the patient,
/// clinicians' reads included. The log now outlives the data, with the
/// subject pseudonymised.
#[tokio::test]
async fn the_access_log_has_no_gaps_and_outlives_the_data() {
    use kneepath_store::{AuditFilter, Role};
    let app = app().await;
    let (p_cookie, p_csrf) = app.patient("gaps").await;
    app.assess(&p_cookie, &p_csrf).await;
    let patient = app.user_of(&p_cookie).await;
    let (clin, c_cookie, c_csrf) = app.account("gaps-c", Role::Clinician).await;
    app.state
        .store
        .link(&clin.id, &patient.id)
        .await
        .expect("link");
    let of = |actor: &str, action: &str, entity: &str| AuditFilter {
        actor_id: Some(actor.to_string()),
        action: Some(action.into()),
        entity: Some(entity.into()),
        ..Default::default()
    };

    // 1. The check-in form is a read; so is opening a logged day.
    assert_eq!(
        app.get("/checkin", Some(&p_cookie)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        audit_rows(&app, of(&patient.id, "read", "checkin_form"))
            .await
            .len(),
        1
    );
    let day = super::TODAY;
    let r = app
        .post(
            "/checkin",
            Some(&p_cookie),
            &format!("csrf={p_csrf}&pain_now=2&stiffness=1&swelling=none&walks_normally=yes&full_range=yes&sleep_hours=7"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        app.get(&format!("/checkin?day={day}"), Some(&p_cookie))
            .await
            .status,
        StatusCode::OK
    );
    let reads = audit_rows(&app, of(&patient.id, "read", "checkin")).await;
    assert!(
        reads.iter().any(|a| a.entity_id.as_deref() == Some(day)),
        "{reads:?}"
    );

    // 2. Refused cross-access is logged: an unlinked clinician, another
    // patient's assessment, a patient at the clinicians' area.
    let (stranger, s_cookie, _) = app.account("gaps-s", Role::Clinician).await;
    let r = app
        .get(&format!("/clinic/patients/{}", patient.id), Some(&s_cookie))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let denied = audit_rows(&app, of(&stranger.id, "denied", "patient")).await;
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(denied[0].subject_id.as_deref(), Some(patient.id.as_str()));
    let (o_cookie, _) = app.patient("gaps-o").await;
    let other = app.user_of(&o_cookie).await;
    let assessment = app
        .state
        .store
        .latest_assessment(&patient.id)
        .await
        .expect("read")
        .expect("assessed");
    let r = app
        .get(&format!("/assessments/{}", assessment.id), Some(&o_cookie))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        audit_rows(&app, of(&other.id, "denied", "assessment"))
            .await
            .len(),
        1
    );
    let r = app.get("/clinic", Some(&o_cookie)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        audit_rows(&app, of(&other.id, "denied", "route"))
            .await
            .len(),
        1
    );

    // 3. A clinician's measurements re-run the assessment: the clinician
    // is the actor of that row.
    let r = app
        .post(
            &format!("/clinic/patients/{}/measurements", patient.id),
            Some(&c_cookie),
            &format!("csrf={c_csrf}&painful_side=right&ham_left=120&ham_right=90&quad_left=200&quad_right=180"),
        )
        .await;
    assert!(r.status.is_redirection(), "{}: {}", r.status, r.body);
    let made = audit_rows(&app, of(&clin.id, "create", "assessment")).await;
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(made[0].subject_id.as_deref(), Some(patient.id.as_str()));
    assert_eq!(
        app.get(&format!("/clinic/patients/{}", patient.id), Some(&c_cookie))
            .await
            .status,
        StatusCode::OK
    );

    // 4. The patient deletes the account: no row names them, yet the
    // clinician's reads and the refused attempt stay, under one pseudonym.
    let before = audit_rows(&app, of(&clin.id, "read", "timeline"))
        .await
        .len();
    assert!(before >= 1);
    app.delete_account_leaving_nothing(&p_cookie, &p_csrf, &[&patient.id])
        .await;
    let reads = audit_rows(&app, of(&clin.id, "read", "timeline")).await;
    assert_eq!(reads.len(), before, "the clinician's reads are kept");
    let pseudonym = reads[0].subject_id.clone().expect("a subject");
    assert!(pseudonym.starts_with("deleted-"), "{pseudonym}");
    assert!(
        reads
            .iter()
            .all(|a| a.subject_id.as_deref() == Some(pseudonym.as_str()))
    );
    let denied = audit_rows(&app, of(&stranger.id, "denied", "patient")).await;
    assert_eq!(denied[0].subject_id.as_deref(), Some(pseudonym.as_str()));
    let own = audit_rows(
        &app,
        AuditFilter {
            subject_id: Some(pseudonym.clone()),
            ..Default::default()
        },
    )
    .await;
    assert!(
        own.iter().any(|a| a.entity == "checkin_form"),
        "the person's own reads are kept too"
    );
    assert!(
        own.iter()
            .all(|a| a.actor_id.as_deref() != Some(pseudonym.as_str()) || a.ip.is_none())
    );
}
