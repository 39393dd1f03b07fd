//! The about and privacy pages: open to anyone, their facts read from the
//! knowledge base and the deployment's settings.

use axum::http::StatusCode;
use kneepath_web::Settings;

use super::{app, app_with_settings};

#[tokio::test]
async fn about_and_privacy_are_open_to_anyone_and_linked_from_every_page() {
    let app = app().await;
    let kb = app.state.kb.clone();
    let about = app.get("/about", None).await;
    assert_eq!(about.status, StatusCode::OK);
    let policy = format!(
        "version {} of {}",
        kb.meta.policy_version, kb.meta.policy_date
    );
    assert!(about.body.contains(&policy), "{}", about.body);
    // Every cited source is listed, those with a DOI linked to it.
    let list = about
        .body
        .split(r#"<ol class="sources">"#)
        .nth(1)
        .and_then(|rest| rest.split("</ol>").next())
        .expect("the list of sources");
    assert_eq!(list.matches("<li>").count(), kb.citations.len(), "{list}");
    let doi = kb
        .citations
        .iter()
        .find_map(|c| c.doi.as_ref())
        .expect("a source with a DOI");
    assert!(about.body.contains(&format!("https://doi.org/{doi}")));
    assert!(about.body.contains(r#"href="tel:112""#), "{}", about.body);
    assert!(about.body.contains("has not published a contact"));

    let privacy = app.get("/privacy", None).await;
    assert_eq!(privacy.status, StatusCode::OK);
    assert!(privacy.body.contains("12 hours"), "{}", privacy.body);
    assert!(privacy.body.contains(r#"href="/account""#));

    // Logged in, the same pages, in the person's frame.
    let (cookie, _) = app.patient("reader").await;
    let about = app.get("/about", Some(&cookie)).await;
    assert!(about.body.contains("Log out"));
    let home = app.get("/", None).await;
    assert!(home.body.contains(r#"href="/privacy""#) && home.body.contains(r#"href="/about""#));
}

#[tokio::test]
async fn the_deployments_contact_and_emergency_number_are_shown() {
    let app = app_with_settings(Settings {
        contact: Some("Knee Clinic <North>, 01234 567890".into()),
        emergency_number: "999".into(),
        ..Settings::default()
    })
    .await;
    let about = app.get("/about", None).await;
    assert!(about.body.contains("<bdi>Knee Clinic "), "{}", about.body);
    assert!(!about.body.contains("<North>"), "escaped: {}", about.body);
    assert!(about.body.contains(r#"href="tel:999""#));
    let privacy = app.get("/privacy", None).await;
    assert!(privacy.body.contains("Knee Clinic"));
    // Every page's footer calls the deployment's number, error pages too.
    let (cookie, _) = app.patient("footer").await;
    for (path, who) in [
        ("/", None),
        ("/login", None),
        ("/no-such-page", None),
        ("/account", Some(&cookie)),
    ] {
        let page = app.get(path, who.map(|c| c.as_str())).await;
        let footer = page.body.split("<footer").nth(1).unwrap_or_default();
        assert!(
            footer.contains(r#"<a href="tel:999">999</a>"#),
            "{path}: {footer}"
        );
    }
    assert!(!kneepath_web::state::valid_contact("a\u{202e}b"));
    assert!(!kneepath_web::state::valid_contact(""));
    assert!(kneepath_web::state::valid_contact("Knee Clinic"));
}

#[tokio::test]
async fn a_path_or_method_the_router_refuses_gets_the_styled_page() {
    let app = app().await;
    let (cookie, _) = app.patient("plain").await;
    for (method, path, status) in [
        (
            axum::http::Method::GET,
            "/assess/abc",
            StatusCode::BAD_REQUEST,
        ),
        (
            axum::http::Method::GET,
            "/login?next=a&next=b",
            StatusCode::BAD_REQUEST,
        ),
        (
            axum::http::Method::PUT,
            "/checkin",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
    ] {
        let r = app
            .send(method.clone(), path, Some(&cookie), None, &[])
            .await;
        assert_eq!(r.status, status, "{method} {path}");
        assert!(r.body.contains("<h1>"), "{method} {path}: {}", r.body);
        assert!(r.body.contains(r#"href="tel:112""#), "{method} {path}");
    }
}
