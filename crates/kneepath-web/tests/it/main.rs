//! Route tests of the web app, through the router (no port): who may see
//! what, CSRF and origin checks, bad input, headers, sessions.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use kneepath_core::{Day, KnowledgeBase};
use kneepath_store::{Store, UserId};
use kneepath_web::{AppState, Clock, Settings, router};
use tower::ServiceExt;

struct App {
    router: Router,
    state: AppState,
    /// Makes emails unique, so tests can share one PostgreSQL database.
    tag: String,
    /// The database, for a second instance on it ([`App::instance`]).
    url: String,
}

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Resp {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(|c| c.split(';').next().unwrap_or("").to_string())
    }

    fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self
            .body
            .find(marker)
            .map(|i| i + marker.len())
            .unwrap_or(0);
        self.body[start..]
            .split('"')
            .next()
            .unwrap_or("")
            .to_string()
    }
}

const TODAY: &str = "2026-11-02";

/// The exercises a check-in form offers to tick, by id.
fn exercise_ids(form: &str) -> Vec<String> {
    form.split("name=\"done\" value=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

/// A small deterministic generator (xorshift64*) for the random route
/// tests, so a failing run can be repeated from its seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

/// A phase counts only the check-ins logged after it began: every stored
/// check-in dated from `since` on was made after the phase change `began`.
fn only_later_check_ins(
    rows: &[kneepath_store::CheckInRow],
    began: &kneepath_store::PhaseChangeRow,
    since: Day,
    context: &str,
) {
    for c in rows.iter().filter(|c| c.checkin.day >= since) {
        assert!(
            c.id > began.id,
            "{context}: the check-in of {} counts in the {} phase (from {since}) but was made before it began on {}",
            c.checkin.day,
            began.to_phase,
            began.day
        );
    }
}

async fn app() -> App {
    app_with(Clock::Fixed(TODAY.parse::<Day>().expect("day"))).await
}

async fn app_with(clock: Clock) -> App {
    app_with_all(clock, Settings::default()).await
}

async fn app_with_settings(settings: Settings) -> App {
    app_with_all(Clock::Fixed(TODAY.parse::<Day>().expect("day")), settings).await
}

async fn app_with_all(clock: Clock, settings: Settings) -> App {
    app_mailing(clock, settings, None).await
}

/// An instance that sends its email with `mailer`.
async fn app_mailing(
    clock: Clock,
    settings: Settings,
    mailer: Option<kneepath_app::mail::Mailer>,
) -> App {
    let dir = std::env::temp_dir().join(format!("kneepath-web-{}", kneepath_store::new_id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = match std::env::var("KNEEPATH_TEST_PG_URL") {
        // The same tests on PostgreSQL when a server is given.
        Ok(u) if std::env::var("KNEEPATH_WEB_TESTS_ON_PG").is_ok() => u,
        _ => format!("sqlite://{}", dir.join("web.db").display()),
    };
    instance_with(url, clock, kneepath_store::new_id(), settings, mailer).await
}

async fn instance_on(url: String, clock: Clock, tag: String) -> App {
    instance_with(url, clock, tag, Settings::default(), None).await
}

async fn instance_with(
    url: String,
    clock: Clock,
    tag: String,
    settings: Settings,
    mailer: Option<kneepath_app::mail::Mailer>,
) -> App {
    let store = Store::connect(&url).await.expect("store");
    let mut app = kneepath_app::App::new(store, KnowledgeBase::bundled().expect("kb"), clock);
    if let Some(m) = mailer {
        app = app.with_mailer(m);
    }
    let state = AppState::of(app, settings);
    App {
        router: router(state.clone()),
        state,
        tag,
        url,
    }
}

impl App {
    /// Another instance of the program on the same database, as a clinic
    /// network runs them: its own store connections and plan locks.
    async fn instance(&self) -> App {
        instance_on(self.url.clone(), self.state.clock, self.tag.clone()).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
        form: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Resp {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "localhost");
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        for (k, v) in extra {
            b = b.header(*k, *v);
        }
        let body = match form {
            Some(f) => {
                b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(f.to_string())
            }
            None => Body::empty(),
        };
        self.run(b.body(body).expect("request")).await
    }

    /// Send a request through the router and read the whole response.
    async fn run(&self, req: Request<Body>) -> Resp {
        let res = self.router.clone().oneshot(req).await.expect("response");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), 10 * 1024 * 1024)
            .await
            .expect("body");
        Resp {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// A request with a raw body and the given headers (content type too).
    async fn send_raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Resp {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, "localhost");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.run(b.body(Body::from(body.to_string())).expect("request"))
            .await
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> Resp {
        self.send(Method::GET, path, cookie, None, &[]).await
    }

    async fn post(&self, path: &str, cookie: Option<&str>, form: &str) -> Resp {
        self.send(Method::POST, path, cookie, Some(form), &[]).await
    }

    /// Send an anonymous form: read `page` for its CSRF cookie and token,
    /// then POST `fields` to `to` with them (and `extra` headers).
    async fn anon_form(&self, page: &str, to: &str, fields: &str, extra: &[(&str, &str)]) -> Resp {
        let form = self.get(page, None).await;
        let anon = form.cookie("kp_csrf").expect("csrf cookie");
        let body = format!("csrf={}&{fields}", form.csrf());
        self.send(Method::POST, to, Some(&anon), Some(&body), extra)
            .await
    }

    /// Sign up a patient; returns the session cookie and the CSRF token.
    fn email(&self, name: &str) -> String {
        format!("{}-{name}@example.org", self.tag)
    }

    async fn patient(&self, name: &str) -> (String, String) {
        let email = self.email(name);
        let page = self.get("/signup", None).await;
        let anon = page.cookie("kp_csrf").expect("csrf cookie");
        let r = self
            .post(
                "/signup",
                Some(&anon),
                &format!(
                    "csrf={}&display_name=Pat&email={email}&password=a+long+enough+password",
                    page.csrf()
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let cookie = r.cookie("kp_session").expect("session cookie");
        let csrf = self.get("/account", Some(&cookie)).await.csrf();
        (cookie, csrf)
    }

    /// Start answering as a guest (no account) from the assessment's
    /// start page; returns the guest's session cookie and CSRF token.
    async fn guest(&self) -> (String, String) {
        let r = self.anon_form("/assess", "/assess/guest", "", &[]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location(), "/assess/1");
        let cookie = r.cookie("kp_session").expect("session cookie");
        let csrf = self.get("/assess/1", Some(&cookie)).await.csrf();
        (cookie, csrf)
    }

    /// Give the patient a self-care assessment through the wizard,
    /// answering every question that must be answered as a person with
    /// nothing wrong would (see [`calm_answers`]).
    async fn assess(&self, cookie: &str, csrf: &str) -> String {
        let steps = self.state.kb.sections.len();
        for step in 1..=steps {
            let answers = calm_answers(&self.state.kb, step);
            let r = self
                .post(
                    &format!("/assess/{step}"),
                    Some(cookie),
                    &format!("csrf={csrf}&nav=next&{answers}"),
                )
                .await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "step {step}: {}", r.body);
            if step == steps {
                return r.location().trim_start_matches("/assessments/").to_string();
            }
        }
        unreachable!("the wizard has steps")
    }

    /// Delete the account behind `cookie` and check that no row of any
    /// table holds any of `needles`.
    async fn delete_account_leaving_nothing(&self, cookie: &str, csrf: &str, needles: &[&str]) {
        let r = self
            .post(
                "/account/delete",
                Some(cookie),
                &format!("csrf={csrf}&password=a+long+enough+password"),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let left = self
            .state
            .store
            .rows_containing(needles)
            .await
            .expect("scan");
        assert!(left.iter().all(|(_, n)| *n == 0), "rows remain: {left:?}");
    }

    async fn checkins(&self, cookie: &str) -> usize {
        let s = self
            .state
            .store
            .session(cookie.trim_start_matches("kp_session="))
            .await
            .expect("db")
            .expect("session");
        self.state
            .store
            .checkins(&s.user.id)
            .await
            .expect("db")
            .len()
    }
}

const PRIVATE_GETS: &[&str] = &[
    "/plan",
    "/checkin",
    "/progress",
    "/account",
    "/account/export.json",
    "/checkin/saved?day=2026-11-02",
];

/// Pages of the assessment: without a session they lead to its start
/// (where one can answer as a guest, or log in).
const ASSESSMENT_GETS: &[&str] = &["/assess/1", "/assessments", "/assessments/some-id"];

/// The answers of a person with nothing wrong to one wizard step (1-based):
/// age 30, a gradual onset with nothing that brought it on, and the
/// reassuring answer to every yes/no question that must be answered. The
/// wizard refuses a step with a must-answer question left blank, so these
/// are the fewest answers that get through it.
pub fn calm_answers(kb: &kneepath_core::KnowledgeBase, step: usize) -> String {
    kb.questions
        .iter()
        .filter(|q| q.section + 1 == step && q.must_answer)
        .map(|q| match (q.id.as_str(), &q.kind) {
            ("age", _) => "age=30".to_string(),
            ("onset", _) => "onset=gradual".to_string(),
            ("mechanism", _) => "mechanism=none".to_string(),
            (id, kneepath_core::kb::QuestionKind::Bool) => {
                format!("{id}={}", if q.warning_answer { "no" } else { "yes" })
            }
            (id, _) => panic!("no calm answer for the must-answer question {id}"),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[tokio::test]
async fn private_pages_need_a_login() {
    let app = app().await;
    for path in PRIVATE_GETS {
        let r = app.get(path, None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            r.location().starts_with("/login?next="),
            "{path} -> {}",
            r.location()
        );
    }
    for path in ASSESSMENT_GETS {
        let r = app.get(path, None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(r.location(), "/assess", "{path}");
    }
    // A forged or unknown session cookie is the same as none.
    let r = app.get("/plan", Some("kp_session=forged")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    for (path, form) in [
        ("/checkin", "pain_now=1"),
        ("/assess/1", "age=3"),
        ("/account/delete", "password=x"),
        ("/logout", ""),
    ] {
        let r = app.post(path, None, form).await;
        assert!(
            r.status == StatusCode::SEE_OTHER || r.status == StatusCode::FORBIDDEN,
            "{path}: {}",
            r.status
        );
    }
}

#[tokio::test]
async fn public_pages_and_headers() {
    let app = app().await;
    for path in ["/", "/login", "/signup", "/healthz", "/static/style.css"] {
        let r = app.get(path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        let h = &r.headers;
        assert!(
            h.get(header::CONTENT_SECURITY_POLICY)
                .is_some_and(|v| v
                    .to_str()
                    .is_ok_and(|v| v.contains("default-src 'self'")
                        && v.contains("frame-ancestors 'none'")))
        );
        assert_eq!(
            h.get(header::X_CONTENT_TYPE_OPTIONS).map(|v| v.as_bytes()),
            Some(&b"nosniff"[..])
        );
        assert_eq!(
            h.get(header::X_FRAME_OPTIONS).map(|v| v.as_bytes()),
            Some(&b"DENY"[..])
        );
    }
    assert_eq!(
        app.get("/no-such-page", None).await.status,
        StatusCode::NOT_FOUND
    );
    let r = app.get("/signup", None).await;
    let c = r
        .headers
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        c.contains("HttpOnly") && c.contains("SameSite=Strict"),
        "{c}"
    );
}

#[tokio::test]
async fn session_cookie_flags_and_private_pages_not_cached() {
    let app = app().await;
    let page = app.get("/signup", None).await;
    let anon = page.cookie("kp_csrf").expect("csrf cookie");
    let r = app
        .post(
            "/signup",
            Some(&anon),
            &format!(
                "csrf={}&display_name=A&email={}&password=a+long+enough+password",
                page.csrf(),
                app.email("a")
            ),
        )
        .await;
    let set = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("kp_session="))
        .unwrap_or("")
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Path=/"),
        "{set}"
    );
    let cookie = r.cookie("kp_session").expect("cookie");
    let plan = app.get("/plan", Some(&cookie)).await;
    assert_eq!(
        plan.headers
            .get(header::CACHE_CONTROL)
            .map(|v| v.as_bytes()),
        Some(&b"no-store"[..])
    );
}

#[tokio::test]
async fn csrf_and_origin_are_checked_on_every_form() {
    let app = app().await;
    let (cookie, csrf) = app.patient("p").await;
    app.assess(&cookie, &csrf).await;
    let good =
        "pain_now=2&stiffness=1&swelling=none&walks_normally=yes&full_range=yes&sleep_hours=7";
    // Missing token, wrong token: refused, nothing stored.
    let r = app.post("/checkin", Some(&cookie), good).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post("/checkin", Some(&cookie), &format!("csrf=wrong&{good}"))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Another site's origin, even with the right token.
    let r = app
        .send(
            Method::POST,
            "/checkin",
            Some(&cookie),
            Some(&format!("csrf={csrf}&{good}")),
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .send(
            Method::POST,
            "/checkin",
            Some(&cookie),
            Some(&format!("csrf={csrf}&{good}")),
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.checkins(&cookie).await, 0);
    // Login and sign-up forms without their cookie token.
    assert_eq!(
        app.post(
            "/login",
            None,
            &format!(
                "csrf=x&email={}&password=a+long+enough+password",
                app.email("p")
            )
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    // Wrong content type.
    let r = app
        .send(
            Method::POST,
            "/checkin",
            Some(&cookie),
            None,
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // The right token from the same site works.
    let r = app
        .post("/checkin", Some(&cookie), &format!("csrf={csrf}&{good}"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(app.checkins(&cookie).await, 1);
}

#[tokio::test]
async fn bad_input_gets_an_inline_message_and_changes_nothing() {
    let app = app().await;
    let (cookie, csrf) = app.patient("q").await;
    // Wizard: age out of range.
    let r = app
        .post(
            "/assess/1",
            Some(&cookie),
            &format!("csrf={csrf}&nav=next&age=300"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body
            .contains("Age: 300 is out of range: allowed 0 to 120"),
        "{}",
        r.body
    );
    let uid = app
        .state
        .store
        .session(cookie.trim_start_matches("kp_session="))
        .await
        .expect("db")
        .expect("s")
        .user
        .id;
    assert!(
        app.state.store.draft(&uid).await.expect("db").is_none(),
        "nothing saved"
    );
    // Wizard: an unknown step.
    assert_eq!(
        app.get("/assess/99", Some(&cookie)).await.status,
        StatusCode::NOT_FOUND
    );
    app.assess(&cookie, &csrf).await;
    // Check-in: several bad fields at once.
    let r = app
        .post("/checkin", Some(&cookie), &format!("csrf={csrf}&day=2030-01-01&pain_now=11&stiffness=x&swelling=huge&walks_normally=yes&full_range=yes&sleep_hours=30"))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    for msg in [
        "cannot be for a day in the future",
        "11",
        "is not a whole number from 0 to 10",
        "Swelling: choose none",
        "is not a number of hours from 0 to 24",
    ] {
        assert!(r.body.contains(msg), "missing {msg:?}");
    }
    assert_eq!(app.checkins(&cookie).await, 0);
    // A second check-in for the same day is refused, the first kept.
    let good = format!(
        "csrf={csrf}&pain_now=2&stiffness=1&swelling=none&walks_normally=yes&full_range=yes&sleep_hours=7"
    );
    assert_eq!(
        app.post("/checkin", Some(&cookie), &good).await.status,
        StatusCode::SEE_OTHER
    );
    let r = app
        .post(
            "/checkin",
            Some(&cookie),
            &good.replace("pain_now=2", "pain_now=9"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("already checked in"), "{}", r.body);
    assert_eq!(app.checkins(&cookie).await, 1);
    // Oversized body.
    let big = format!("csrf={csrf}&x={}", "a".repeat(100 * 1024));
    let r = app.post("/checkin", Some(&cookie), &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.body.contains("Too much data"), "{}", r.body);
    // Declared too large, it is refused before any handler, and still
    // gets the site's page saying nothing was saved.
    let len = big.len().to_string();
    let r = app
        .send(
            Method::POST,
            "/checkin",
            Some(&cookie),
            Some(&big),
            &[("content-length", len.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        r.body.contains("Too much data") && r.body.contains("/static/style.css"),
        "{}",
        r.body
    );
    assert_eq!(
        r.headers.get("connection").map(|v| v.as_bytes()),
        Some(&b"close"[..])
    );
    // The API answers the same refusal in its JSON shape.
    let r = app
        .send_raw(
            Method::POST,
            "/api/v1/checkins",
            &[
                ("content-type", "application/json"),
                ("content-length", len.as_str()),
            ],
            &big,
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.body.contains("\"too_large\""), "{}", r.body);
    assert_eq!(app.checkins(&cookie).await, 1);
}

#[tokio::test]
async fn another_users_session_cannot_see_or_change_this_users_data() {
    let app = app().await;
    let (a, a_csrf) = app.patient("a").await;
    let a_assessment = app.assess(&a, &a_csrf).await;
    let (b, b_csrf) = app.patient("b").await;
    // B cannot open A's result.
    let r = app
        .get(&format!("/assessments/{a_assessment}"), Some(&b))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // B's pages show B's (empty) data, never A's.
    let plan = app.get("/plan", Some(&b)).await;
    assert!(plan.body.contains("Start the assessment"), "{}", plan.body);
    let export = app.get("/account/export.json", Some(&b)).await;
    assert!(!export.body.contains(&app.email("a")) && !export.body.contains(&a_assessment));
    // A's token does not work with B's session.
    let good =
        "pain_now=2&stiffness=1&swelling=none&walks_normally=yes&full_range=yes&sleep_hours=7";
    assert_eq!(
        app.post("/checkin", Some(&b), &format!("csrf={a_csrf}&{good}"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // B deleting with A's password fails and deletes nothing.
    let r = app
        .post(
            "/account/delete",
            Some(&b),
            &format!("csrf={b_csrf}&password=wrong+password"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get(&format!("/assessments/{a_assessment}"), Some(&a))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn login_logout_rotation_and_rate_limit() {
    let app = app().await;
    let (cookie, csrf) = app.patient("r").await;
    // Logout ends the session for real.
    let r = app
        .post("/logout", Some(&cookie), &format!("csrf={csrf}"))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/plan", Some(&cookie)).await.status,
        StatusCode::SEE_OTHER
    );
    // Login gives a new session token.
    let page = app.get("/login", None).await;
    let anon = page.cookie("kp_csrf").expect("csrf cookie");
    let ok = app
        .post(
            "/login",
            Some(&anon),
            &format!(
                "csrf={}&email={}&password=a+long+enough+password&next=//evil.example",
                page.csrf(),
                app.email("r")
            ),
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location(), "/plan", "no open redirect");
    let new = ok.cookie("kp_session").expect("new session");
    assert_ne!(new, cookie);
    // Five wrong passwords, then even the right one is refused for a while.
    for _ in 0..5 {
        let r = app
            .post(
                "/login",
                Some(&anon),
                &format!(
                    "csrf={}&email={}&password=wrong",
                    page.csrf(),
                    app.email("r")
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("The email or password is not right"));
    }
    let r = app
        .post(
            "/login",
            Some(&anon),
            &format!(
                "csrf={}&email={}&password=a+long+enough+password",
                page.csrf(),
                app.email("r")
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn deleting_the_account_removes_every_row() {
    let app = app().await;
    let (cookie, csrf) = app.patient("del").await;
    let assessment = app.assess(&cookie, &csrf).await;
    let good = format!(
        "csrf={csrf}&pain_now=2&stiffness=1&swelling=none&walks_normally=yes&full_range=yes&sleep_hours=7&sign=giving_way"
    );
    assert_eq!(
        app.post("/checkin", Some(&cookie), &good).await.status,
        StatusCode::SEE_OTHER
    );
    let uid = app
        .state
        .store
        .session(cookie.trim_start_matches("kp_session="))
        .await
        .expect("db")
        .expect("s")
        .user
        .id;
    app.delete_account_leaving_nothing(&cookie, &csrf, &[&uid, &app.email("del"), &assessment])
        .await;
    assert_eq!(
        app.get("/plan", Some(&cookie)).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn every_patient_data_read_and_write_is_audited() {
    let app = app().await;
    let (cookie, csrf) = app.patient("audit").await;
    let id = app.assess(&cookie, &csrf).await;
    for path in ["/plan", "/progress", "/assessments", "/account"] {
        assert_eq!(
            app.get(path, Some(&cookie)).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
    app.get(&format!("/assessments/{id}"), Some(&cookie)).await;
    let good = format!(
        "csrf={csrf}&pain_now=2&stiffness=1&swelling=none&walks_normally=yes&full_range=yes&sleep_hours=7"
    );
    app.post("/checkin", Some(&cookie), &good).await;
    let uid = app
        .state
        .store
        .session(cookie.trim_start_matches("kp_session="))
        .await
        .expect("db")
        .expect("s")
        .user
        .id;
    let log = app
        .state
        .store
        .audit_entries(Some(&uid), 1000)
        .await
        .expect("audit");
    let has =
        |action: &str, entity: &str| log.iter().any(|e| e.action == action && e.entity == entity);
    for (action, entity) in [
        ("create", "user"),
        ("update", "draft"),
        ("create", "assessment"),
        ("read", "plan"),
        ("read", "progress"),
        ("read", "assessment_list"),
        ("read", "account"),
        ("read", "assessment"),
        ("create", "checkin"),
    ] {
        assert!(has(action, entity), "no audit row {action} {entity}");
    }
}

#[tokio::test]
async fn calendar_feed_is_secret_and_revocable() {
    let app = app().await;
    let (cookie, csrf) = app.patient("cal").await;
    app.assess(&cookie, &csrf).await;
    // Without the form token: refused.
    assert_eq!(
        app.post("/account/calendar", Some(&cookie), "")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = app
        .post("/account/calendar", Some(&cookie), &format!("csrf={csrf}"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let start = r.body.find("/calendar/").expect("link shown");
    let path: String = r.body[start..]
        .chars()
        .take_while(|c| *c != '<' && *c != '"')
        .collect();
    assert!(path.ends_with(".ics"), "{path}");
    let feed = app.get(&path, None).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert!(
        feed.headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"text/calendar"))
    );
    assert!(
        feed.body.starts_with("BEGIN:VCALENDAR\r\n"),
        "{}",
        feed.body
    );
    assert!(feed.body.matches("BEGIN:VEVENT").count() >= 3);
    assert!(feed.body.contains("RRULE:FREQ=WEEKLY;BYDAY="));
    // A guessed token and a revoked one both get 404.
    assert_eq!(
        app.get("/calendar/0000.ics", None).await.status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .post(
            "/account/calendar/revoke",
            Some(&cookie),
            &format!("csrf={csrf}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&path, None).await.status, StatusCode::NOT_FOUND);
}

mod api;
mod clinic;
mod correct;
mod fhir;
mod guest;
mod hardening;
mod info;
mod journeys;
mod late;
mod mail;
mod reassess;
mod server;
mod today;
mod waiting;
mod walk;

#[tokio::test]
async fn a_persons_today_is_the_day_where_they_live() {
    // 20:00 UTC on 2 November: already the morning of the 3rd in Auckland.
    let app = app_with(Clock::At("2026-11-02T20:00:00Z".parse().expect("instant"))).await;
    // Sign-up with the zone the browser reported (static/tz.js fills it).
    let page = app.get("/signup", None).await;
    assert!(page.body.contains("data-browser-time-zone"));
    assert!(page.body.contains("<script src=\"/static/tz.js\""));
    let anon = page.cookie("kp_csrf").expect("csrf cookie");
    let r = app
        .post(
            "/signup",
            Some(&anon),
            &format!(
                "csrf={}&display_name=Kiri&email={}&password=a+long+enough+password&time_zone=Pacific%2FAuckland",
                page.csrf(),
                app.email("nz")
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let nz = r.cookie("kp_session").expect("session");
    assert_eq!(
        app.user_of(&nz).await.time_zone.as_deref(),
        Some("Pacific/Auckland")
    );
    let account = app.get("/account", Some(&nz)).await;
    assert!(
        account
            .body
            .contains("<strong>Pacific/Auckland</strong>, where today is 2026-11-03"),
        "{}",
        account.body
    );
    let csrf = account.csrf();
    app.assess(&nz, &csrf).await;
    // The check-in form is for the patient's today, and that day is accepted.
    let form = app.get("/checkin", Some(&nz)).await;
    assert!(form.body.contains("value=\"2026-11-03\""), "{}", form.body);
    let good =
        "pain_now=2&stiffness=1&swelling=none&walks_normally=yes&full_range=yes&sleep_hours=7";
    let r = app
        .post(
            "/checkin",
            Some(&nz),
            &format!("csrf={csrf}&day=2026-11-03&{good}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(app.checkins(&nz).await, 1);

    // Someone with no zone lives on the server's day (UTC here): the 3rd is
    // still tomorrow for them, refused with a message, nothing stored.
    let (utc, utc_csrf) = app.patient("utc").await;
    assert_eq!(app.user_of(&utc).await.time_zone, None);
    app.assess(&utc, &utc_csrf).await;
    let r = app
        .post(
            "/checkin",
            Some(&utc),
            &format!("csrf={utc_csrf}&day=2026-11-03&{good}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.checkins(&utc).await, 0);
    assert!(
        app.get("/account", Some(&utc))
            .await
            .body
            .contains("uses the server's (UTC), where today is 2026-11-02")
    );
}

#[tokio::test]
async fn the_time_zone_form_checks_its_input() {
    let app = app_with(Clock::At("2026-11-02T20:00:00Z".parse().expect("instant"))).await;
    let (cookie, csrf) = app.patient("tz").await;
    // No CSRF token: refused, nothing changed.
    let r = app
        .post(
            "/account/time-zone",
            Some(&cookie),
            "time_zone=Europe%2FOslo",
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(app.user_of(&cookie).await.time_zone, None);
    // A name the time zone database does not know: an inline message.
    let r = app
        .post(
            "/account/time-zone",
            Some(&cookie),
            &format!("csrf={csrf}&time_zone=Mars%2FOlympus_Mons"),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Choose a time zone from the list."));
    assert!(r.body.contains("aria-describedby=\"tz-error\""));
    assert_eq!(app.user_of(&cookie).await.time_zone, None);
    // A real one is saved, shown selected, and audited.
    let r = app
        .post(
            "/account/time-zone",
            Some(&cookie),
            &format!("csrf={csrf}&time_zone=America%2FLos_Angeles"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), "/account?saved=time-zone#tz");
    assert_eq!(
        app.user_of(&cookie).await.time_zone.as_deref(),
        Some("America/Los_Angeles")
    );
    let page = app.get("/account?saved=time-zone", Some(&cookie)).await;
    assert!(page.body.contains("Your time zone is saved."));
    assert!(
        page.body
            .contains("<option value=\"America/Los_Angeles\" selected>Los Angeles</option>")
    );
    let uid = app.user_of(&cookie).await.id;
    let log = app
        .state
        .store
        .audit_entries(Some(&uid), 100)
        .await
        .expect("audit");
    assert!(
        log.iter()
            .any(|e| e.action == "update" && e.entity == "time_zone")
    );
    // An older alias a browser may report is kept and shown as chosen,
    // though the list does not offer it.
    app.state
        .store
        .set_time_zone(&uid, Some("US/Pacific"))
        .await
        .expect("alias");
    let page = app.get("/account", Some(&cookie)).await;
    assert!(
        page.body
            .contains("<option value=\"US/Pacific\" selected>US/Pacific</option>")
    );
    assert!(page.body.contains("<optgroup label=\"America\">"));
    // Choosing the server's clears it.
    let r = app
        .post(
            "/account/time-zone",
            Some(&cookie),
            &format!("csrf={csrf}&time_zone="),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.user_of(&cookie).await.time_zone, None);
    // A sign-up whose browser reported an unknown name starts with none.
    let page = app.get("/signup", None).await;
    let anon = page.cookie("kp_csrf").expect("csrf cookie");
    let r = app
        .post(
            "/signup",
            Some(&anon),
            &format!(
                "csrf={}&display_name=Odd&email={}&password=a+long+enough+password&time_zone=Not%2FA_Zone",
                page.csrf(),
                app.email("odd")
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let odd = r.cookie("kp_session").expect("session");
    assert_eq!(app.user_of(&odd).await.time_zone, None);
}

impl App {
    /// Log in with email and password (form-encoded); the session cookie,
    /// if it worked.
    async fn try_login(&self, name: &str, password: &str) -> Option<String> {
        let page = self.get("/login", None).await;
        let anon = page.cookie("kp_csrf").expect("csrf cookie");
        let r = self
            .post(
                "/login",
                Some(&anon),
                &format!(
                    "csrf={}&email={}&password={password}",
                    page.csrf(),
                    self.email(name)
                ),
            )
            .await;
        (r.status == StatusCode::SEE_OTHER)
            .then(|| r.cookie("kp_session"))
            .flatten()
    }
}

const NEW_PASSWORD: &str = "new_password=another+long+one&new_password_again=another+long+one";

#[tokio::test]
async fn changing_ones_password_ends_every_other_session() {
    let app = app().await;
    let (cookie, csrf) = app.patient("pw").await;
    let old = "a+long+enough+password";
    let other_device = app.try_login("pw", old).await.expect("second session");
    // No CSRF token: refused.
    let r = app
        .post(
            "/account/password",
            Some(&cookie),
            &format!("current_password={old}&{NEW_PASSWORD}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Each mistake is named at its field; nothing changes.
    for (form, message, field) in [
        (
            format!("current_password=wrong+guess&{NEW_PASSWORD}"),
            "That is not your current password.",
            "current_password",
        ),
        (
            format!("current_password={old}&new_password=short&new_password_again=short"),
            "Choose a new password of at least 10 characters.",
            "new_password",
        ),
        (
            format!(
                "current_password={old}&new_password={long}&new_password_again={long}",
                long = "x".repeat(201)
            ),
            "That new password is 201 characters long: choose one of at most 200.",
            "new_password",
        ),
        (
            format!(
                "current_password={old}&new_password=another+long+one&new_password_again=another+long+two"
            ),
            "Type the same new password twice.",
            "new_password_again",
        ),
        (
            format!("current_password={old}&new_password={old}&new_password_again={old}"),
            "Choose a password other than your current one.",
            "new_password",
        ),
        (
            format!("current_password=&{NEW_PASSWORD}"),
            "Enter your current password.",
            "current_password",
        ),
    ] {
        let r = app
            .post(
                "/account/password",
                Some(&cookie),
                &format!("csrf={csrf}&{form}"),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        assert!(r.body.contains(message), "{message}");
        assert!(r.body.contains(&format!("id=\"{field}-error\"")), "{field}");
    }
    assert!(
        app.try_login("pw", old).await.is_some(),
        "old password still works"
    );
    // The right current password and a good new one.
    let r = app
        .post(
            "/account/password",
            Some(&cookie),
            &format!("csrf={csrf}&current_password={old}&{NEW_PASSWORD}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/account?saved=password#password");
    let fresh = r.cookie("kp_session").expect("a fresh session");
    assert_ne!(fresh, cookie);
    // Every earlier session is over; this browser's fresh one works.
    for c in [&cookie, &other_device] {
        assert_eq!(
            app.get("/plan", Some(c)).await.status,
            StatusCode::SEE_OTHER
        );
    }
    let page = app.get("/account?saved=password", Some(&fresh)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Your password is changed."));
    assert!(
        app.try_login("pw", old).await.is_none(),
        "old password refused"
    );
    assert!(app.try_login("pw", "another+long+one").await.is_some());
    let uid = app.user_of(&fresh).await.id;
    let log = app
        .state
        .store
        .audit_entries(Some(&uid), 100)
        .await
        .expect("audit");
    assert!(log.iter().any(|e| e.action == "update"
        && e.entity == "password"
        && e.detail.as_deref() == Some("changed by the account holder")));
}

#[tokio::test]
async fn wrong_current_passwords_count_towards_the_login_limit() {
    let app = app().await;
    let (cookie, csrf) = app.patient("guess").await;
    for i in 0..5 {
        let r = app
            .post(
                "/account/password",
                Some(&cookie),
                &format!("csrf={csrf}&current_password=guess+{i}&{NEW_PASSWORD}"),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Now even the right one waits, here and at the login form.
    let r = app
        .post(
            "/account/password",
            Some(&cookie),
            &format!("csrf={csrf}&current_password=a+long+enough+password&{NEW_PASSWORD}"),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        app.try_login("guess", "a+long+enough+password")
            .await
            .is_none()
    );
}

#[tokio::test]
async fn changing_ones_name_and_email() {
    let app = app().await;
    let (cookie, csrf) = app.patient("det").await;
    app.patient("taken").await;
    let before = app.user_of(&cookie).await;
    let details = |form: String| {
        let app = &app;
        let cookie = cookie.clone();
        async move { app.post("/account/details", Some(&cookie), &form).await }
    };
    let new_email = app.email("moved");
    let r = app
        .post(
            "/account/details",
            Some(&cookie),
            &format!("display_name=Pia&email={}", before.email),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "no CSRF token");
    for (form, message) in [
        (
            format!("display_name=&email={}", before.email),
            "Enter your first name",
        ),
        (
            "display_name=Pia&email=not-an-email".to_string(),
            "Enter an email address like",
        ),
        (
            format!("display_name=Pat&email={new_email}"),
            "Enter your current password to change the email address.",
        ),
        (
            format!("display_name=Pat&email={new_email}&current_password=wrong"),
            "That is not your current password.",
        ),
        (
            format!(
                "display_name=Pat&email={}&current_password=a+long+enough+password",
                app.email("taken")
            ),
            "Another account uses this email address.",
        ),
    ] {
        let r = details(format!("csrf={csrf}&{form}")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        assert!(r.body.contains(message), "{message}: {}", r.body);
        assert_eq!(app.user_of(&cookie).await, before, "nothing changed");
    }
    // A new name needs no password.
    let r = details(format!(
        "csrf={csrf}&display_name=Pia&email={}",
        before.email
    ))
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location(), "/account?saved=details#details");
    assert_eq!(app.user_of(&cookie).await.display_name, "Pia");
    let page = app.get("/account?saved=details", Some(&cookie)).await;
    assert!(page.body.contains("Your details are saved."));
    assert!(page.body.contains("value=\"Pia\""));
    // A new email with the password; logins follow it, the session stays.
    let r = details(format!(
        "csrf={csrf}&display_name=Pia&email={}&current_password=a+long+enough+password",
        new_email.to_uppercase()
    ))
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(app.user_of(&cookie).await.email, new_email);
    assert!(
        app.try_login("det", "a+long+enough+password")
            .await
            .is_none()
    );
    assert!(
        app.try_login("moved", "a+long+enough+password")
            .await
            .is_some()
    );
    let log = app
        .state
        .store
        .audit_entries(Some(&before.id), 100)
        .await
        .expect("audit");
    for detail in ["name", "email"] {
        assert!(
            log.iter().any(|e| e.action == "update"
                && e.entity == "user"
                && e.detail.as_deref() == Some(detail)),
            "{detail}"
        );
    }
}

impl App {
    /// For a patient assessed today: the same answers again, given two
    /// weeks ago (so that there are days to check in for), and the first
    /// four of those days with exercises planned, with their exercise ids.
    /// Returns the user id too.
    async fn four_exercise_days(&self, cookie: &str) -> (UserId, Vec<(Day, Vec<String>)>) {
        let store = &self.state.store;
        let uid = self.user_of(cookie).await.id;
        let head = store
            .latest_assessment_head(&uid)
            .await
            .expect("db")
            .expect("assessment");
        let facts = kneepath_app::plan::facts_from_map(&self.state.kb, &head.facts);
        let today = TODAY.parse::<Day>().expect("day");
        self.state
            .app
            .record_assessment(
                &uid,
                &facts,
                kneepath_store::AssessmentSource::Wizard,
                today.plus(-13),
                None,
            )
            .await
            .expect("assessment");
        let mut days = Vec::new();
        for back in (0..=13).rev() {
            let day = today.plus(-back);
            let form = self.get(&format!("/checkin?day={day}"), Some(cookie)).await;
            assert_eq!(form.status, StatusCode::OK);
            let done = exercise_ids(&form.body);
            if !done.is_empty() && days.len() < 4 {
                days.push((day, done));
            }
        }
        assert_eq!(days.len(), 4, "four days with exercises in two weeks");
        (uid, days)
    }

    /// How often the progression rules have moved this person's phase.
    /// The phase this person's plan is in now.
    async fn phase_now(&self, uid: &UserId) -> String {
        let changes = self.state.store.phase_changes(uid).await.expect("db");
        changes.last().expect("a phase").to_phase.clone()
    }

    async fn phase_moves(&self, uid: &UserId) -> usize {
        self.state
            .store
            .phase_changes(uid)
            .await
            .expect("db")
            .into_iter()
            .filter(|c| !c.how.is_start())
            .count()
    }
}

/// Two check-ins of one person at the same moment (two tabs, a retried
/// request) each run the progression rules on the plan as the other left
/// it: the phase moves once, not once per check-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_check_ins_move_the_phase_once() {
    check_ins_at_once("twotabs", false).await;
}

/// The same on two instances sharing the database (a clinic network), where
/// no lock in one process orders them: the store refuses the write decided
/// from a plan the other instance changed meanwhile, and that check-in is
/// decided again on the new plan. The phase still moves once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_check_ins_on_two_instances_move_the_phase_once() {
    check_ins_at_once("twoinstances", true).await;
}

async fn check_ins_at_once(name: &str, two_instances: bool) {
    let app = app().await;
    let second = if two_instances {
        Some(app.instance().await)
    } else {
        None
    };
    let other = second.as_ref().unwrap_or(&app);
    let (cookie, csrf) = app.patient(name).await;
    app.assess(&cookie, &csrf).await;
    let (uid, days) = app.four_exercise_days(&cookie).await;
    let form = |(day, done): &(Day, Vec<String>)| {
        let done: String = done.iter().map(|id| format!("&done={id}")).collect();
        format!(
            "csrf={csrf}&day={day}&pain_now=2&morning_pain=1&exercise_pain=2&stiffness=1&swelling=none&walks_normally=yes&full_range=yes&sleep_hours=7.5{done}"
        )
    };
    for d in &days[..2] {
        let r = app.post("/checkin", Some(&cookie), &form(d)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    assert_eq!(
        app.phase_moves(&uid).await,
        0,
        "two good days are not enough to move"
    );
    // Either one alone would be the third good day in a row (on two
    // instances, each goes to another).
    let (fa, fb) = (form(&days[2]), form(&days[3]));
    let (a, b) = tokio::join!(
        app.post("/checkin", Some(&cookie), &fa),
        other.post("/checkin", Some(&cookie), &fb)
    );
    assert_eq!(
        app.phase_moves(&uid).await,
        1,
        "{:#?}",
        app.state.store.phase_changes(&uid).await
    );
    // The one that came second read the plan the first had left: it was
    // stored, or, when the phase had moved before its day, it was refused
    // for naming the old phase's exercises (so was never decided on the
    // old plan).
    let mut saved = 0;
    for r in [&a, &b] {
        if r.status == StatusCode::SEE_OTHER {
            saved += 1;
        } else {
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
            assert!(r.body.contains("is not one of today"), "{}", r.body);
        }
    }
    assert!(saved >= 1);
    assert_eq!(other.checkins(&cookie).await, 2 + saved);
}

/// Make every plan-version guard of one person find a changed plan, as if
/// another instance changed the plan between each read and write (a
/// trigger that skips the version's update, so the guard changes no row).
async fn plan_always_changes(app: &App, uid: &UserId, on: bool) {
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(&app.url).await.expect("connect");
    let name = format!("kp_stale_{}", uid.replace('-', "_"));
    let sql: Vec<String> = match (app.url.starts_with("postgres"), on) {
        (false, true) => vec![format!(
            "CREATE TRIGGER {name} BEFORE UPDATE OF plan_version ON users \
             WHEN OLD.id = '{uid}' BEGIN SELECT RAISE(IGNORE); END"
        )],
        (false, false) => vec![format!("DROP TRIGGER {name}")],
        (true, true) => vec![
            format!(
                "CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN RETURN NULL; END $$ \
                 LANGUAGE plpgsql"
            ),
            format!(
                "CREATE TRIGGER {name} BEFORE UPDATE OF plan_version ON users FOR EACH ROW \
                 WHEN (OLD.id = '{uid}') EXECUTE FUNCTION {name}()"
            ),
        ],
        (true, false) => vec![
            format!("DROP TRIGGER {name} ON users"),
            format!("DROP FUNCTION {name}()"),
        ],
    };
    for s in sql {
        sqlx::query(sqlx::AssertSqlSafe(s))
            .execute(&db)
            .await
            .expect("trigger");
    }
    db.close().await;
}

#[tokio::test]
async fn a_check_in_refused_for_a_plan_that_kept_changing_comes_back_filled_in() {
    let app = app().await;
    let (cookie, csrf) = app.patient("keptchanging").await;
    app.assess(&cookie, &csrf).await;
    let uid = app.user_of(&cookie).await.id;
    let form = format!(
        "csrf={csrf}&day={TODAY}&pain_now=3&morning_pain=2&stiffness=1&swelling=none&walks_normally=yes&full_range=yes&sleep_hours=6.5"
    );

    plan_always_changes(&app, &uid, true).await;
    let r = app.post("/checkin", Some(&cookie), &form).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body.contains(kneepath_web::error::CHECKIN_NOT_SAVED),
        "{}",
        r.body
    );
    // The person's answers are on the form again.
    assert!(
        r.body.contains(
            r#"name="sleep_hours" inputmode="decimal" size="4" maxlength="5" value="6.5""#
        )
    );
    assert!(r.body.contains(&format!(r#"value="{TODAY}""#)));
    assert_eq!(app.checkins(&cookie).await, 0, "nothing was saved");

    // Once the plan holds still, the same answers are saved.
    plan_always_changes(&app, &uid, false).await;
    let r = app.post("/checkin", Some(&cookie), &form).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(app.checkins(&cookie).await, 1);
}
