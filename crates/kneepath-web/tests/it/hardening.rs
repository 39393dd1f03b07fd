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
async fn futures_join_all<F: std::future::Future>(fs: impl Iterator<Item = F>) -> Vec<F::Output> {
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
