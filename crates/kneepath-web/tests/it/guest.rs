//! The assessment before an account: a guest answers with no personal
//! data, keeps the answers by signing up, or loses them after 24 hours or
//! at their own request; both starting and signing up are limited per
//! address.

use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use kneepath_store::AuditFilter;

use super::hardening::audit_rows;
use super::{App, Resp, app, app_with_settings, instance_on};

/// Whether any of `rows` has a detail containing `text`.
fn any_detail(rows: &[kneepath_store::AuditEntry], text: &str) -> bool {
    rows.iter()
        .any(|r| r.detail.as_deref().is_some_and(|d| d.contains(text)))
}

impl App {
    /// No row of any table holds `id` (the audit log keeps a pseudonym).
    async fn no_row_holds(&self, id: &kneepath_store::UserId) {
        let left = self
            .state
            .store
            .rows_containing(&[id.as_str()])
            .await
            .expect("scan");
        assert!(left.iter().all(|(_, n)| *n == 0), "rows remain: {left:?}");
    }

    async fn user_of_session(&self, cookie: &str) -> Option<kneepath_store::User> {
        self.state
            .store
            .session(cookie.trim_start_matches("kp_session="))
            .await
            .expect("db")
            .map(|s| s.user)
    }

    /// Sign up as the guest behind `cookie`, from `next` (the page gives
    /// the guest's own form token).
    async fn sign_up_as_guest(&self, cookie: &str, name: &str, next: &str) -> Resp {
        let page = self
            .get(&format!("/signup?next={next}"), Some(cookie))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        let body = format!(
            "csrf={}&display_name=Gus&email={}&password=a+long+enough+password&next={next}",
            page.csrf(),
            self.email(name)
        );
        self.send(Method::POST, "/signup", Some(cookie), Some(&body), &[])
            .await
    }
}

#[tokio::test]
async fn a_guest_answers_without_an_account_and_keeps_it_by_signing_up() {
    let app = app().await;
    // The start page offers it without an account.
    let start = app.get("/assess", None).await;
    assert_eq!(start.status, StatusCode::OK);
    assert!(
        start.body.contains("Start without an account"),
        "{}",
        start.body
    );

    let (guest, csrf) = app.guest().await;
    let g = app.user_of_session(&guest).await.expect("guest session");
    assert!(g.is_guest());
    // No personal data: no email address, name or password.
    assert!(!g.email.contains('@') && g.display_name.is_empty(), "{g:?}");
    let id = app.assess(&guest, &csrf).await;
    let result = app.get(&format!("/assessments/{id}"), Some(&guest)).await;
    assert_eq!(result.status, StatusCode::OK, "{}", result.body);
    assert!(result.body.contains("Keep this result"), "{}", result.body);
    assert!(
        !result.body.contains("href=\"/plan\""),
        "no plan for a guest"
    );
    assert!(
        result.body.contains(r#"<a href="/guest/delete""#)
            && result.body.contains(r#"<a href="/login">Log in</a>"#)
            && !result.body.contains("Log out"),
        "a guest's header offers to log in, leave or sign up"
    );
    // The rest of the patient area asks for an account.
    for path in ["/plan", "/checkin", "/progress", "/account", "/outcomes"] {
        let r = app.get(path, Some(&guest)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            r.location().starts_with("/signup?next="),
            "{path}: {}",
            r.location()
        );
    }
    // No address in any audit row of the guest.
    let rows = audit_rows(
        &app,
        AuditFilter {
            subject_id: Some(g.id.to_string()),
            ..AuditFilter::default()
        },
    )
    .await;
    assert!(rows.len() >= 2, "{rows:?}");
    assert!(rows.iter().all(|r| r.ip.is_none()), "{rows:?}");

    // Signing up from the result keeps the answers: the guest becomes the
    // account, under a new session.
    let next = format!("%2Fassessments%2F{id}");
    let page = app.get(&format!("/signup?next={next}"), Some(&guest)).await;
    assert!(
        page.body.contains("will be kept in this account"),
        "{}",
        page.body
    );
    let r = app.sign_up_as_guest(&guest, "kept", &next).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), format!("/assessments/{id}"));
    let session = r.cookie("kp_session").expect("new session");
    assert_ne!(session, guest);
    assert!(
        app.user_of_session(&guest).await.is_none(),
        "the guest session ended"
    );
    let user = app.user_of_session(&session).await.expect("account");
    assert_eq!(user.id, g.id);
    assert!(!user.is_guest());
    assert_eq!(user.email, app.email("kept"));
    let result = app.get(&format!("/assessments/{id}"), Some(&session)).await;
    assert_eq!(result.status, StatusCode::OK);
    assert!(!result.body.contains("Keep this result"));
    assert!(result.body.contains("href=\"/plan\""), "{}", result.body);
    assert_eq!(
        app.get("/plan", Some(&session)).await.status,
        StatusCode::OK
    );
    // Audited: the account made from the guest's answers.
    let made = audit_rows(
        &app,
        AuditFilter {
            subject_id: Some(g.id.to_string()),
            entity: Some("account".into()),
            ..AuditFilter::default()
        },
    )
    .await;
    assert!(any_detail(&made, "guest's answers"), "{made:?}");
    // The guest's old session does not come back.
    assert_eq!(
        app.get("/assess/1", Some(&guest)).await.location(),
        "/assess"
    );
}

#[tokio::test]
async fn signing_up_as_a_guest_with_a_taken_email_keeps_the_guest() {
    let app = app().await;
    app.patient("taken").await;
    let (guest, csrf) = app.guest().await;
    let id = app.assess(&guest, &csrf).await;
    let r = app.sign_up_as_guest(&guest, "taken", "%2Fplan").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("already exists"), "{}", r.body);
    let still = app.user_of_session(&guest).await.expect("still a guest");
    assert!(still.is_guest());
    let again = app.get(&format!("/assessments/{id}"), Some(&guest)).await;
    assert_eq!(again.status, StatusCode::OK);
}

#[tokio::test]
async fn a_guests_answers_are_deleted_after_24_hours_or_when_asked() {
    let app = app().await;
    let (guest, csrf) = app.guest().await;
    app.assess(&guest, &csrf).await;
    let g = app.user_of_session(&guest).await.expect("guest");
    // Not before its time.
    assert_eq!(app.state.app.purge_guests().await.expect("purge"), 0);
    // An instance whose clock is 25 hours on deletes it, and everything of
    // it: no row holds its id (the audit log keeps a pseudonym).
    let later = kneepath_app::Clock::At(
        jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_hours(25))
            .expect("time"),
    );
    let on_later = instance_on(app.url.clone(), later, app.tag.clone()).await;
    // Too late to keep the answers, even with the session still open.
    let r = on_later.sign_up_as_guest(&guest, "late", "%2Fplan").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("no longer kept"), "{}", r.body);
    assert!(on_later.state.app.purge_guests().await.expect("purge") >= 1);
    app.no_row_holds(&g.id).await;
    // (Asked of the instance that deleted it: another one may have the
    // session cached for a few seconds.)
    assert!(on_later.user_of_session(&guest).await.is_none());
    assert_eq!(
        on_later.get("/assessments", Some(&guest)).await.location(),
        "/assess"
    );

    // At the guest's request, at once.
    let (guest, csrf) = app.guest().await;
    app.assess(&guest, &csrf).await;
    let g = app.user_of_session(&guest).await.expect("guest");
    let r = app
        .post("/guest/delete", Some(&guest), &format!("csrf={csrf}"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/?deleted=answers");
    let home = app.get("/?deleted=answers", None).await;
    assert!(
        home.body
            .contains("Your answers and their result have been deleted")
    );
    app.no_row_holds(&g.id).await;
    let deleted = audit_rows(
        &app,
        AuditFilter {
            action: Some("delete".into()),
            ..AuditFilter::default()
        },
    )
    .await;
    assert!(
        any_detail(&deleted, "at the guest's request"),
        "{deleted:?}"
    );
    // An account cannot be deleted through the guest's route.
    let (p, p_csrf) = app.patient("not-a-guest").await;
    let r = app
        .post("/guest/delete", Some(&p), &format!("csrf={p_csrf}"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(app.user_of_session(&p).await.is_some());
}

/// A request from `from` (the router sees the address as the server does).
fn from_address(mut req: Request<axum::body::Body>, from: [u8; 4]) -> Request<axum::body::Body> {
    req.extensions_mut()
        .insert(ConnectInfo(std::net::SocketAddr::from((from, 40000))));
    req
}

#[tokio::test]
async fn starting_as_a_guest_and_keeping_it_are_limited_per_address() {
    let settings = kneepath_web::Settings {
        max_signups_per_ip: 1,
        ..kneepath_web::Settings::default()
    };
    let app = app_with_settings(settings).await;
    let page = app.get("/assess", None).await;
    let (anon, csrf) = (page.cookie("kp_csrf").expect("csrf cookie"), page.csrf());
    let start = |from: [u8; 4]| {
        let req = Request::builder()
            .method(Method::POST)
            .uri("/assess/guest")
            .header(header::HOST, "localhost")
            .header(header::COOKIE, anon.as_str())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(format!("csrf={csrf}")))
            .expect("request");
        app.run(from_address(req, from))
    };
    // Addresses of this run only: tests on PostgreSQL share one database.
    let t = kneepath_store::random_token();
    let octet = |i: usize| u8::from_str_radix(&t[2 * i..2 * i + 2], 16).expect("hex");
    // Counted by bucket of addresses: the second is in another one.
    let one = [10, octet(0), octet(1), 1];
    let bucket =
        |a: [u8; 4]| kneepath_app::guest::address_bucket(&std::net::Ipv4Addr::from(a).to_string());
    let two = (2..=255)
        .map(|last| [10, octet(0), octet(1), last])
        .find(|a| bucket(*a) != bucket(one))
        .expect("another bucket");
    let limit = kneepath_app::guest::GUESTS_PER_IP_PER_HOUR as usize;
    let answers = super::hardening::futures_join_all((0..limit + 10).map(|_| start(one))).await;
    let made: Vec<&Resp> = answers
        .iter()
        .filter(|r| r.status == StatusCode::SEE_OTHER)
        .collect();
    let refused = answers
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((made.len(), refused), (limit, 10));
    assert_eq!(start(two).await.status, StatusCode::SEE_OTHER);

    // Keeping a guest's answers is a sign-up: counted per address as one.
    let sign_up = |cookie: String, name: &'static str| {
        let app = &app;
        async move {
            let page = app.get("/signup", Some(&cookie)).await;
            let body = format!(
                "csrf={}&display_name=Gus&email={}&password=a+long+enough+password",
                page.csrf(),
                app.email(name)
            );
            let req = Request::builder()
                .method(Method::POST)
                .uri("/signup")
                .header(header::HOST, "localhost")
                .header(header::COOKIE, cookie.as_str())
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(body))
                .expect("request");
            app.run(from_address(req, [10, octet(0), octet(1), 3]))
                .await
        }
    };
    let first = made[0].cookie("kp_session").expect("session");
    let second = made[1].cookie("kp_session").expect("session");
    assert_eq!(sign_up(first, "first").await.status, StatusCode::SEE_OTHER);
    let r = sign_up(second.clone(), "second").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert!(
        app.user_of_session(&second)
            .await
            .is_some_and(|u| u.is_guest())
    );
}

/// A guest's forms take only the guest's own session token: the anonymous
/// double-submit cookie, which someone else could have set, is refused
/// (it would let them make the guest's answers an account of theirs).
#[tokio::test]
async fn a_guests_forms_refuse_a_planted_anonymous_token() {
    let app = app().await;
    let (guest, csrf) = app.guest().await;
    let id = app.assess(&guest, &csrf).await;
    let planted = "b".repeat(64);
    let cookies = format!("{guest}; kp_csrf={planted}");
    for (path, form) in [
        (
            "/signup",
            format!(
                "display_name=Eve&email={}&password=a+long+enough+password",
                app.email("eve")
            ),
        ),
        ("/assess/1", "nav=next&age=30".to_string()),
        ("/guest/delete", String::new()),
        ("/logout", String::new()),
    ] {
        let body = format!("csrf={planted}&{form}");
        let r = app
            .send(Method::POST, path, Some(&cookies), Some(&body), &[])
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.body);
    }
    let still = app.user_of_session(&guest).await.expect("still the guest");
    assert!(still.is_guest());
    let result = app.get(&format!("/assessments/{id}"), Some(&guest)).await;
    assert_eq!(result.status, StatusCode::OK);
    // The sign-up and log-in pages give a guest their own token.
    for page in ["/signup", "/login"] {
        assert_eq!(app.get(page, Some(&guest)).await.csrf(), csrf, "{page}");
    }
}

/// Starting again gives a fresh guest and session (never one planted in
/// the browser); leaving, or logging in to an account, deletes the
/// answers; an administrator cannot act on a guest; `guest:` is no email.
#[tokio::test]
async fn a_guest_starts_fresh_and_leaves_nothing_behind() {
    let app = app().await;
    let (first, csrf) = app.guest().await;
    let planted = app.user_of_session(&first).await.expect("guest");
    let r = app
        .post("/assess/guest", Some(&first), &format!("csrf={csrf}"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let second = r.cookie("kp_session").expect("a fresh session");
    assert_ne!(second, first);
    assert!(app.user_of_session(&first).await.is_none());
    let fresh = app.user_of_session(&second).await.expect("new guest");
    assert_ne!(fresh.id, planted.id);

    // Leaving (log out, or the header's "Delete answers") deletes it all.
    let csrf = app.get("/assess/1", Some(&second)).await.csrf();
    app.assess(&second, &csrf).await;
    let r = app
        .post("/logout", Some(&second), &format!("csrf={csrf}"))
        .await;
    assert_eq!(r.location(), "/?deleted=answers");
    app.no_row_holds(&fresh.id).await;

    // Logging in to an account adds the guest's result to it (a warning
    // sign in it then governs the account's plan) and deletes the guest.
    let (p, p_csrf) = app.patient("has-account").await;
    app.assess(&p, &p_csrf).await;
    let account = app.user_of_session(&p).await.expect("account");
    let before = app
        .state
        .store
        .assessments(&account.id)
        .await
        .expect("db")
        .len();
    let (guest, csrf) = app.guest().await;
    let g = app.user_of_session(&guest).await.expect("guest");
    let answered = app.assess(&guest, &csrf).await;
    let guest_result = app
        .state
        .store
        .assessment(&answered)
        .await
        .expect("db")
        .expect("the guest's result");
    let login = app.get("/login", Some(&guest)).await;
    assert!(
        login.body.contains("Logging in adds the result"),
        "{}",
        login.body
    );
    let r = app
        .post(
            "/login",
            Some(&guest),
            &format!(
                "csrf={csrf}&email={}&password=a+long+enough+password&next=%2Fplan",
                app.email("has-account")
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        app.state
            .store
            .user_by_id(&g.id)
            .await
            .expect("db")
            .is_none()
    );
    let now = app
        .user_of_session(&r.cookie("kp_session").expect("session"))
        .await;
    assert_eq!(now.map(|u| u.id), Some(account.id.clone()));
    let mine = app.state.store.assessments(&account.id).await.expect("db");
    assert_eq!(mine.len(), before + 1);
    let added = mine.last().expect("added");
    assert_eq!(r.location(), format!("/assessments/{}", added.id));
    assert_eq!(
        (added.level, added.day),
        (guest_result.level, guest_result.day)
    );
    assert_eq!(added.facts, guest_result.facts);
    app.no_row_holds(&g.id).await;

    // Leaving asks first: the header's link is a confirmation page.
    let (guest, _) = app.guest().await;
    let page = app.get("/guest/delete", Some(&guest)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Delete my answers and leave"));
    assert!(
        app.user_of_session(&guest)
            .await
            .is_some_and(|u| u.is_guest())
    );
    assert_eq!(
        app.get("/guest/delete", Some(&p)).await.status,
        StatusCode::NOT_FOUND
    );

    // Not an account an administrator manages.
    let (guest, _) = app.guest().await;
    let g = app.user_of_session(&guest).await.expect("guest");
    let (_, adm, adm_csrf) = app
        .account("guest-admin", kneepath_store::Role::Admin)
        .await;
    for action in ["reset", "disable", "enable"] {
        let r = app
            .post(
                &format!("/admin/users/{}/{action}", g.id),
                Some(&adm),
                &format!("csrf={adm_csrf}"),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{action}");
    }
    assert!(
        app.user_of_session(&guest)
            .await
            .is_some_and(|u| u.is_guest())
    );

    // `guest:` cannot start an account's email.
    let r = app
        .anon_form(
            "/signup",
            "/signup",
            "display_name=G&email=guest%3Ax%40example.org&password=a+long+enough+password",
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Counted attempts (they hold addresses and emails) are forgotten once
/// no limit looks at them.
#[tokio::test]
async fn old_counted_attempts_are_forgotten() {
    let app = app().await;
    let store = &app.state.store;
    let key = format!("signup:{}", app.tag);
    store.reserve_attempt(&[&key], 60).await.expect("count");
    assert_eq!(store.login_failures(&key, 60).await.expect("db"), 1);
    // Nothing is older than two hours yet.
    app.state.app.prune_attempts().await.expect("prune");
    assert_eq!(store.login_failures(&key, 60).await.expect("db"), 1);
    let later = jiff::Timestamp::now().as_millisecond() + 1_000;
    assert!(store.prune_attempts(later).await.expect("prune") >= 1);
    assert_eq!(store.login_failures(&key, 60).await.expect("db"), 0);
}
