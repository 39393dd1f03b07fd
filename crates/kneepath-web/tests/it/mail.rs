//! Email: "Forgot your password?" sends a single-use, expiring link to the
//! account's address through SMTP (here a sink in the test that keeps each
//! message), never says whether an account exists, and is limited per
//! address; without SMTP the page says to ask the clinic.

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use kneepath_web::{Clock, Settings};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::{App, app, app_mailing};

/// An SMTP server that takes every message and keeps its data.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let kept = got.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(d) = data.as_mut() {
                        if line == "." {
                            kept.lock().expect("lock").push(std::mem::take(d));
                            data = None;
                            let _ = write.write_all(b"250 kept\r\n").await;
                        } else {
                            d.push_str(&line);
                            d.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let answer: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go on\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    let _ = write.write_all(answer).await;
                }
            });
        }
    });
    (port, got)
}

async fn mailing_app() -> (App, Arc<Mutex<Vec<String>>>) {
    mailing_app_at(Clock::Fixed(super::TODAY.parse().expect("day"))).await
}

async fn mailing_app_at(clock: Clock) -> (App, Arc<Mutex<Vec<String>>>) {
    let (port, got) = smtp_sink().await;
    let app = app_mailing(clock, mailing_settings(), Some(mailer(port))).await;
    (app, got)
}

fn mailer(port: u16) -> kneepath_app::mail::Mailer {
    kneepath_app::mail::Mailer::new(
        &format!("smtp://127.0.0.1:{port}"),
        "kneepath <no-reply@clinic.example>",
    )
    .expect("mailer")
}

fn mailing_settings() -> Settings {
    Settings {
        public_url: Some("https://knee.clinic.example".into()),
        ..Settings::default()
    }
}

/// Ask for a link for `email`; the page's answer.
async fn ask(app: &App, email: &str, extra: &[(&str, &str)]) -> super::Resp {
    app.anon_form(
        "/password/forgot",
        "/password/forgot",
        &format!("email={email}"),
        extra,
    )
    .await
}

/// Wait for the `n`th message (they are handed over in the background).
async fn nth_mail(got: &Arc<Mutex<Vec<String>>>, n: usize) -> String {
    for _ in 0..200 {
        if let Some(m) = got.lock().expect("lock").get(n - 1) {
            return m.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no message {n} reached the sink");
}

/// The link in a message (its quoted-printable soft line breaks joined).
fn link_in(mail: &str) -> String {
    let mail = mail.replace("=\n", "");
    mail.lines()
        .find_map(|l| l.trim().strip_prefix("https://knee.clinic.example"))
        .unwrap_or_else(|| panic!("no link in {mail}"))
        .to_string()
}

#[tokio::test]
async fn a_forgotten_password_is_set_again_with_a_link_sent_by_email() {
    let (app, got) = mailing_app().await;
    let (cookie, _) = app.patient("forgot").await;
    let email = app.email("forgot");
    app.post("/logout", Some(&cookie), "").await;

    let login = app.get("/login", None).await;
    assert!(login.body.contains(r#"href="/password/forgot""#));
    // The link goes to the configured address, whatever the request's Host.
    let r = ask(&app, &email, &[("x-forwarded-host", "evil.example")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("is on its way"), "{}", r.body);
    let mail = nth_mail(&got, 1).await;
    assert!(mail.contains(&format!("To: {email}")), "{mail}");
    assert!(!mail.contains("evil.example") && !mail.contains("localhost"));
    let link = link_in(&mail);
    assert!(link.starts_with("/reset/"), "{link}");

    // The old password still works until the link is used.
    let form = app.get(&link, None).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let anon = form.cookie("kp_csrf").expect("csrf cookie");
    let set = app
        .post(
            &link,
            Some(&anon),
            &format!(
                "csrf={}&new_password=a+brand+new+password&new_password_again=a+brand+new+password",
                form.csrf()
            ),
        )
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    // Single use.
    assert_eq!(app.get(&link, None).await.status, StatusCode::GONE);
    // The audit log has the link and its use.
    let user = app
        .state
        .store
        .user_by_email(&email)
        .await
        .expect("read")
        .expect("the account");
    let audit: Vec<(String, String)> = app
        .state
        .store
        .audit_entries(Some(&user.id), 50)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| (e.action, e.entity))
        .collect();
    let has = |a: &str, e: &str| audit.iter().any(|(x, y)| x == a && y == e);
    assert!(
        has("create", "reset_link") && has("update", "password"),
        "{audit:?}"
    );
}

#[tokio::test]
async fn the_answer_never_tells_whether_an_account_exists_and_asks_are_limited() {
    let (app, got) = mailing_app().await;
    app.patient("limited").await;
    let email = app.email("limited");
    let nobody = ask(&app, "nobody-here@example.org", &[]).await;
    let someone = ask(&app, &email, &[]).await;
    assert_eq!(nobody.status, someone.status);
    let said = |r: &super::Resp| {
        r.body
            .split("<main")
            .nth(1)
            .unwrap_or_default()
            .replace("nobody-here@example.org", "X")
            .replace(&email, "X")
    };
    assert_eq!(said(&nobody), said(&someone), "the same words either way");
    nth_mail(&got, 1).await;
    // Three links an hour to one address; a fourth ask sends nothing.
    ask(&app, &email, &[]).await;
    ask(&app, &email, &[]).await;
    nth_mail(&got, 3).await;
    let fourth = ask(&app, &email, &[]).await;
    assert_eq!(fourth.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(got.lock().expect("lock").len(), 3, "no fourth message");
    // A bad address is asked about.
    let bad = ask(&app, "not-an-address", &[]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Enter the email address of your account"));
}

#[tokio::test]
async fn without_email_the_page_says_to_ask_the_clinic() {
    let app = app().await;
    let page = app.get("/password/forgot", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("ask them, and an administrator sends you a link")
    );
    assert!(!page.body.contains(r#"action="/password/forgot""#));
    assert!(!kneepath_web::state::valid_public_url("https://x.example/"));
    assert!(!kneepath_web::state::valid_public_url("ftp://x.example"));
    assert!(kneepath_web::state::valid_public_url(
        "https://knee.clinic.example"
    ));
}

/// Turn `cookie`'s reminder on at `time` (or off with `None`).
async fn remind_at(app: &App, cookie: &str, csrf: &str, time: Option<&str>) -> super::Resp {
    let form = match time {
        Some(t) => format!("csrf={csrf}&reminder=on&reminder_time={t}"),
        None => format!("csrf={csrf}&reminder_time=18%3A00"),
    };
    app.post("/account/reminder", Some(cookie), &form).await
}

#[tokio::test]
async fn a_check_in_reminder_is_emailed_once_at_its_time_to_whoever_has_not_checked_in() {
    // Reminders are set at 17:00 UTC on the test day and sent at 18:01 by
    // another instance on the same database; the people below have no
    // zone (UTC).
    let at = |t: &str| Clock::At(t.parse().expect("instant"));
    let (port, got) = smtp_sink().await;
    let app = app_mailing(
        at("2026-11-02T17:00:00Z"),
        mailing_settings(),
        Some(mailer(port)),
    )
    .await;
    let mut people = Vec::new();
    for name in ["due", "done", "later", "off", "passed"] {
        let (cookie, csrf) = app.patient(name).await;
        app.assess(&cookie, &csrf).await;
        people.push((cookie, csrf));
    }
    let [due, done, later, off, passed] = &people[..] else {
        unreachable!()
    };
    let r = remind_at(&app, &due.0, &due.1, Some("18%3A00")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = app.get("/account?saved=reminder", Some(&due.0)).await;
    assert!(
        page.body.contains("a reminder comes at 18:00 each day"),
        "{}",
        page.body
    );
    assert!(page.body.contains("one event at 18:00 where you live"));
    remind_at(&app, &done.0, &done.1, Some("17%3A30")).await;
    remind_at(&app, &later.0, &later.1, Some("19%3A00")).await;
    remind_at(&app, &off.0, &off.1, Some("07%3A00")).await;
    remind_at(&app, &off.0, &off.1, None).await;
    // Turned on at 17:00 for 07:00: the first one comes tomorrow.
    remind_at(&app, &passed.0, &passed.1, Some("07%3A00")).await;
    // "done" has checked in today.
    let checkin = app
        .post(
            "/checkin",
            Some(&done.0),
            &format!("csrf={}&day=2026-11-02&pain_now=2&stiffness=1", done.1),
        )
        .await;
    assert_eq!(checkin.status, StatusCode::SEE_OTHER, "{}", checkin.body);
    // A time that is not one is asked about.
    let bad = remind_at(&app, &later.0, &later.1, Some("25%3A00")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Choose a time of day, like 18:00."));

    let base = "https://knee.clinic.example";
    let later_on = super::instance_with(
        app.url.clone(),
        at("2026-11-02T18:01:00Z"),
        app.tag.clone(),
        mailing_settings(),
        Some(mailer(port)),
    )
    .await;
    assert_eq!(
        app.state.app.send_due_reminders(base).await.expect("sent"),
        0,
        "17:00: none due yet"
    );
    let app = later_on;
    assert_eq!(
        app.state.app.send_due_reminders(base).await.expect("sent"),
        1
    );
    let mail = nth_mail(&got, 1).await;
    assert!(
        mail.contains(&format!("To: {}", app.email("due"))),
        "{mail}"
    );
    assert!(
        mail.replace("=\n", "")
            .contains("https://knee.clinic.example/checkin")
    );
    // Once a day.
    assert_eq!(
        app.state.app.send_due_reminders(base).await.expect("sent"),
        0
    );
    assert_eq!(got.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn a_name_with_a_line_break_is_refused_so_no_email_carries_injected_lines() {
    let app = app().await;
    let r = app
        .anon_form(
            "/signup",
            "/signup",
            "display_name=Eve%0D%0A%0D%0AACTION+NEEDED&email=eve@example.org&password=a+long+enough+password",
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("Enter your first name on one line"),
        "{}",
        r.body
    );
}

/// With a public address configured, the links pages hand out (here a
/// calendar feed) use it, not the Host the request names.
#[tokio::test]
async fn handed_out_links_use_the_public_address() {
    let app = super::app_with_settings(mailing_settings()).await;
    let (cookie, csrf) = app.patient("public-links").await;
    app.assess(&cookie, &csrf).await;
    // (The request names "localhost".)
    let r = app
        .post("/account/calendar", Some(&cookie), &format!("csrf={csrf}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("https://knee.clinic.example/calendar/"),
        "{}",
        r.body
    );
    assert!(!r.body.contains("//localhost"));
}
