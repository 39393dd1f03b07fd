//! Random journeys through the routes. A patient checks in (on time, late,
//! corrected, sometimes with a warning sign, through the web form and the
//! API) and is re-assessed; their clinician moves the phase, edits the plan,
//! records measurements; the patient fills in questionnaires. All in random
//! order. After every step each page and API read of the patient answers,
//! and the web pages, the API, the data export and the store agree.

use axum::http::{Method, StatusCode};
use kneepath_app::plan::facts_from_map;
use kneepath_core::{Day, Facts};
use kneepath_store::{Role, UserId};

use super::{App, Resp, Rng, TODAY, app, exercise_ids, only_later_check_ins};

struct Journey {
    seed: u64,
    /// The patient's session cookie and CSRF token.
    cookie: String,
    csrf: String,
    uid: UserId,
    /// The linked clinician's.
    clinic: String,
    c_csrf: String,
    /// The patient's page under /clinic.
    base: String,
    /// API tokens of the patient: read and write.
    read: String,
    write: String,
    /// The first assessment's facts: a re-assessment gives them again, so
    /// a plan paused by a warning sign gets a home plan back.
    facts: Facts,
    /// The first day of the current plan.
    plan_from: Day,
    /// Every day logged, in the order logged.
    logged: Vec<Day>,
}

/// A page's text with HTML's escapes read back (named and numeric, as the
/// templates and the charts write them), to look for what an API said.
fn unescaped(page: &str) -> String {
    [
        ("&lt;", "<"),
        ("&#60;", "<"),
        ("&gt;", ">"),
        ("&#62;", ">"),
        ("&quot;", "\""),
        ("&#34;", "\""),
        ("&#39;", "'"),
        ("&amp;", "&"),
        ("&#38;", "&"),
    ]
    .iter()
    .fold(page.to_string(), |text, (escape, c)| {
        text.replace(escape, c)
    })
}

fn json(r: &Resp) -> serde_json::Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", r.body))
}

/// The values of a form's inputs named `name`.
fn values(form: &str, name: &str) -> Vec<String> {
    form.split(&format!("name=\"{name}\" value=\""))
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

impl App {
    async fn api_get(&self, path: &str, token: &str) -> Resp {
        let auth = format!("Bearer {token}");
        self.send(Method::GET, path, None, None, &[("authorization", &auth)])
            .await
    }

    async fn api_send(&self, method: Method, path: &str, token: &str, body: &str) -> Resp {
        let auth = format!("Bearer {token}");
        self.send_raw(
            method,
            path,
            &[
                ("authorization", &auth),
                ("content-type", "application/json"),
            ],
            body,
        )
        .await
    }

    async fn journey(&self, seed: u64) -> Journey {
        let (cookie, csrf) = self.patient(&format!("journey-{seed}")).await;
        self.assess(&cookie, &csrf).await;
        let (uid, _) = self.four_exercise_days(&cookie).await;
        let store = &self.state.store;
        let head = store
            .latest_assessment_head(&uid)
            .await
            .expect("db")
            .expect("assessment");
        let (clin, clinic, c_csrf) = self
            .account(&format!("journey-c-{seed}"), Role::Clinician)
            .await;
        store.link(&clin.id, &uid).await.expect("link");
        let read = store
            .create_api_token(&uid, "reader", "read", None)
            .await
            .expect("token");
        let write = store
            .create_api_token(&uid, "writer", "write", None)
            .await
            .expect("token");
        Journey {
            seed,
            cookie,
            csrf,
            base: format!("/clinic/patients/{uid}"),
            uid,
            clinic,
            c_csrf,
            read,
            write,
            facts: facts_from_map(&self.state.kb, &head.facts),
            plan_from: TODAY.parse::<Day>().expect("day").plus(-13),
            logged: Vec::new(),
        }
    }
}

/// One random step; returns what it did, for the failure messages.
async fn step(app: &App, j: &mut Journey, rng: &mut Rng) -> String {
    let store = &app.state.store;
    let kb = &app.state.kb;
    let today: Day = TODAY.parse().expect("day");
    let ctx = app
        .state
        .app
        .plan_context(&j.uid)
        .await
        .expect("db")
        .expect("a plan");
    let home = ctx.phase.is_some();
    let in_plan: Vec<Day> = j
        .logged
        .iter()
        .copied()
        .filter(|d| *d >= j.plan_from)
        .collect();
    let open: Vec<Day> = (0..14)
        .map(|back| today.plus(-back))
        .filter(|d| *d >= j.plan_from && !j.logged.contains(d))
        .collect();
    let roll = rng.below(100);
    if roll < 50 && (!open.is_empty() || !in_plan.is_empty()) {
        // A check-in: mostly the next day, sometimes a missed one, sometimes
        // a correction; through the API one time in four.
        let correct = open.is_empty() || (!in_plan.is_empty() && rng.below(5) == 0);
        let day = if correct {
            *rng.pick(&in_plan)
        } else if rng.below(3) == 0 {
            *rng.pick(&open)
        } else {
            *open.iter().min().expect("an open day")
        };
        let page = app
            .get(&format!("/checkin?day={day}"), Some(&j.cookie))
            .await;
        let planned = exercise_ids(&page.body);
        let skip = usize::from(rng.below(4) == 0).min(planned.len());
        let done = &planned[..planned.len() - skip];
        let signs = values(&page.body, "sign");
        let sign = (rng.below(15) == 0 && !signs.is_empty()).then(|| rng.pick(&signs).clone());
        let pain = *rng.pick(&[0, 1, 1, 2, 2, 3, 4, 6]);
        let morning = *rng.pick(&[0, 0, 1, 1, 2, 4]);
        let api = rng.below(4) == 0;
        let before = store.checkins(&j.uid).await.expect("db").len();
        let what = format!(
            "{} {} of {day} (pain {pain}, morning {morning}, sign {sign:?}, {} of {} done){}",
            if api { "API" } else { "web" },
            if correct { "correction" } else { "check-in" },
            done.len(),
            planned.len(),
            match (home, ctx.waiting()) {
                (true, _) => "",
                (false, true) => " while waiting to be seen",
                (false, false) => " with no home plan",
            }
        );
        let r = if api {
            let body = serde_json::json!({
                "day": day.to_string(),
                "pain_now": 1,
                // Asked only once an exercise is done.
                "exercise_pain": if done.is_empty() { None } else { Some(pain) },
                "morning_pain": morning,
                "stiffness": 1,
                "swelling": "none",
                "walks_normally": true,
                "full_range": true,
                "done": done,
                "sleep_hours": 7.5,
                "warning_signs": sign.iter().collect::<Vec<_>>(),
            })
            .to_string();
            if correct {
                app.api_send(
                    Method::PUT,
                    &format!("/api/v1/checkins/{day}"),
                    &j.write,
                    &body,
                )
                .await
            } else {
                app.api_send(Method::POST, "/api/v1/checkins", &j.write, &body)
                    .await
            }
        } else {
            let mut form = format!(
                "csrf={}&day={day}&pain_now=1&morning_pain={morning}&stiffness=1&swelling=none&walks_normally=yes&full_range=yes&sleep_hours=8",
                j.csrf
            );
            if !done.is_empty() {
                form.push_str(&format!("&exercise_pain={pain}"));
            }
            for id in done {
                form.push_str(&format!("&done={id}"));
            }
            if let Some(s) = &sign {
                form.push_str(&format!("&sign={s}"));
            }
            if correct {
                form.push_str(&format!("&correct={day}"));
            }
            app.post("/checkin", Some(&j.cookie), &form).await
        };
        let after = store.checkins(&j.uid).await.expect("db").len();
        let s = j.seed;
        // Waiting to be seen after an urgent result, a check-in is logged
        // from the day of that result on, with no exercises.
        let waiting = ctx.waiting();
        let logs = home || (waiting && day >= kneepath_app::checkin::earliest(&ctx, today));
        match (logs, api) {
            (true, false) => {
                assert_eq!(r.status, StatusCode::SEE_OTHER, "{s}: {what}: {}", r.body);
                assert!(r.location().starts_with("/checkin/saved"), "{s}: {what}");
                let saved = app.get(r.location(), Some(&j.cookie)).await;
                assert_eq!(saved.status, StatusCode::OK, "{s}: {what}");
            }
            (true, true) => {
                let want = if correct {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                };
                assert_eq!(r.status, want, "{s}: {what}: {}", r.body);
                assert!(json(&r)["message"].is_string(), "{s}: {what}: {}", r.body);
            }
            // Waiting, for a day before the wait began: the form again
            // with the day's message, or, for a warning sign that needs
            // care, its result (stored; the check-in is not).
            (false, false) if waiting => match r.status {
                StatusCode::UNPROCESSABLE_ENTITY => {
                    assert!(r.body.contains("id=\"day-error\""), "{s}: {what}")
                }
                StatusCode::SEE_OTHER if sign.is_some() => {
                    assert!(r.location().starts_with("/assessments/"), "{s}: {what}")
                }
                other => panic!("{s}: {what}: {other}: {}", r.body),
            },
            // No home plan and not waiting (a warning sign sent the person
            // to emergency care): nothing is stored; the web form goes to
            // the plan page's advice.
            (false, false) => {
                assert_eq!(r.status, StatusCode::SEE_OTHER, "{s}: {what}");
                assert_eq!(r.location(), "/plan", "{s}: {what}");
            }
            // A correction of a day before the wait began: no such
            // check-in in the wait (404); otherwise refused (422).
            (false, true) if waiting && correct => {
                assert_eq!(r.status, StatusCode::NOT_FOUND, "{s}: {what}: {}", r.body);
            }
            (false, true) => {
                assert_eq!(
                    r.status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{s}: {what}: {}",
                    r.body
                );
            }
        }
        let stored = usize::from(logs && !correct);
        assert_eq!(after, before + stored, "{s}: {what}: rows stored");
        if logs && !correct {
            j.logged.push(day);
        }
        return what;
    }
    if roll < 60 {
        // A re-assessment with the first answers, on the newest day logged.
        let day = j.logged.iter().copied().max().unwrap_or(j.plan_from);
        app.state
            .app
            .record_assessment(
                &j.uid,
                &j.facts,
                kneepath_store::AssessmentSource::Wizard,
                day,
                None,
            )
            .await
            .expect("assessment");
        j.plan_from = day;
        return format!("re-assessment on {day}");
    }
    if roll < 70 {
        let to = &kb.phases[rng.below(kb.phases.len() as u64) as usize].id;
        let current = ctx.phase.map(|p| kb.phases[p.phase].id.clone());
        let before = store.phase_changes(&j.uid).await.expect("db");
        let r = app
            .post(
                &format!("{}/phase", j.base),
                Some(&j.clinic),
                &format!("csrf={}&to={to}&reason=random+step", j.c_csrf),
            )
            .await;
        let what = format!("clinician's move from {current:?} to {to}");
        let now = store.phase_changes(&j.uid).await.expect("db");
        // A move on a home plan, or a plan given where the triage sent the
        // person to a doctor (policy v2: only a clinician gives one then).
        if current.as_deref() != Some(to.as_str()) {
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{}: {what}", j.seed);
            assert_eq!(now.last().map(|p| &p.to_phase), Some(to), "{what}");
            if !home {
                let start = now.last().filter(|p| p.how.is_start_by_clinician());
                assert!(start.is_some(), "{what}: a plan given by hand");
                // A new plan: its check-ins start with it.
                if let Some(p) = start {
                    j.plan_from = p.day;
                }
            }
        } else {
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}: {what}",
                j.seed
            );
            assert_eq!(now, before, "{}: {what}: nothing stored", j.seed);
        }
        return what;
    }
    if roll < 80 {
        let kind = *rng.pick(&["add", "remove", "dosage", "swap"]);
        let exercise = &rng.pick(&kb.exercises).id;
        let replacement = &rng.pick(&kb.exercises).id;
        let before = store.plan_edits(&j.uid).await.expect("db").len();
        let r = app
            .post(
                &format!("{}/plan", j.base),
                Some(&j.clinic),
                &format!(
                    "csrf={}&kind={kind}&exercise={exercise}&replacement={replacement}&dosage=2+x+8+%26+slow&reason=random+step",
                    j.c_csrf
                ),
            )
            .await;
        let after = store.plan_edits(&j.uid).await.expect("db").len();
        let what = format!("clinician's {kind} of {exercise} (with {replacement})");
        match r.status {
            StatusCode::SEE_OTHER => assert_eq!(after, before + 1, "{}: {what}", j.seed),
            StatusCode::UNPROCESSABLE_ENTITY => {
                assert_eq!(after, before, "{}: {what}", j.seed);
                assert!(
                    r.body.contains("role=\"alert\""),
                    "{}: {what}: a message",
                    j.seed
                );
            }
            other => panic!("{}: {what}: {other}: {}", j.seed, r.body),
        }
        return what;
    }
    if roll < 88 {
        let n = |rng: &mut Rng, lo: u64, hi: u64| lo + rng.below(hi - lo + 1);
        let (ham_left, ham_right) = (n(rng, 60, 160), n(rng, 60, 160));
        let before = store.measurements(&j.uid).await.expect("db").len();
        let form = format!(
            "csrf={}&painful_side=right&ham_left={ham_left}&ham_right={ham_right}&quad_left={}&quad_right={}&slr_left={}&slr_right={}&ake={}",
            j.c_csrf,
            n(rng, 120, 260),
            n(rng, 120, 260),
            n(rng, 40, 100),
            n(rng, 40, 100),
            n(rng, 0, 40)
        );
        let r = app
            .post(&format!("{}/measurements", j.base), Some(&j.clinic), &form)
            .await;
        let after = store.measurements(&j.uid).await.expect("db").len();
        // The painful side's hamstring as a share of the other's: the
        // assessment takes 0 to 200%.
        if ham_right * 100 > ham_left * 200 {
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}: {form}",
                j.seed
            );
            assert!(
                r.body.contains("Hamstring strength vs other side"),
                "{form}"
            );
            assert_eq!(after, before, "{}: {form}: nothing stored", j.seed);
        } else {
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{}: {form}", j.seed);
            assert_eq!(after, before + 1, "{}: {form}", j.seed);
        }
        return "measurements".into();
    }
    // A questionnaire.
    let (path, items) = if rng.below(2) == 0 {
        ("/outcomes/koos", kneepath_core::outcomes::koos_items())
    } else {
        ("/outcomes/lefs", kneepath_core::outcomes::lefs_items())
    };
    let mut form = format!("csrf={}", j.csrf);
    for item in items {
        form.push_str(&format!("&{item}={}", rng.below(5)));
    }
    let r = app.post(path, Some(&j.cookie), &form).await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "{}: {path}: {}",
        j.seed,
        r.body
    );
    path.into()
}

/// Everything a patient, their clinician and their API client can read
/// answers, and agrees.
async fn check(app: &App, j: &Journey, what: &str) {
    let kb = &app.state.kb;
    let store = &app.state.store;
    let s = j.seed;
    check_summary(app, j, what).await;
    let ctx = app
        .state
        .app
        .plan_context(&j.uid)
        .await
        .expect("db")
        .expect("a plan");
    let mut pages = std::collections::HashMap::new();
    for path in [
        "/",
        "/plan",
        "/plan/full",
        "/progress",
        "/outcomes",
        "/outcomes/koos",
        "/assessments",
        "/account",
        "/account/export.json",
    ] {
        let r = app.get(path, Some(&j.cookie)).await;
        assert_eq!(r.status, StatusCode::OK, "{s}: after {what}: {path}");
        pages.insert(path, r.body);
    }
    let form = app.get("/checkin", Some(&j.cookie)).await;
    if ctx.phase.is_some() || ctx.waiting() {
        assert_eq!(form.status, StatusCode::OK, "{s}: after {what}: /checkin");
    } else {
        assert_eq!(form.location(), "/plan", "{s}: after {what}: /checkin");
    }
    if let Some(newest) = j.logged.iter().filter(|d| **d >= j.plan_from).max() {
        let r = app
            .get(&format!("/checkin/saved?day={newest}"), Some(&j.cookie))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{s}: after {what}: saved page");
    }
    // (The PDF is the same report printed by Chromium: the clinic tests
    // and the browser tests cover it, at a second or so a print.)
    for path in [
        "/clinic".to_string(),
        j.base.clone(),
        format!("{}/report", j.base),
    ] {
        let r = app.get(&path, Some(&j.clinic)).await;
        assert_eq!(r.status, StatusCode::OK, "{s}: after {what}: {path}");
        // The clinician's pages speak of the patient, not to them.
        if path != "/clinic" && !ctx.checkins.is_empty() {
            assert!(
                r.body.contains("; in the first week: "),
                "{s}: after {what}: {path}: the pain summary"
            );
        }
    }
    let mut api = std::collections::HashMap::new();
    for path in [
        "/api/v1/me",
        "/api/v1/plan",
        "/api/v1/checkins",
        "/api/v1/assessments",
        "/api/v1/outcomes",
        "/api/v1/measurements",
        "/api/v1/fhir/Bundle",
    ] {
        let r = app.api_get(path, &j.read).await;
        assert_eq!(r.status, StatusCode::OK, "{s}: after {what}: {path}");
        api.insert(path, json(&r));
    }

    // The API's plan is the plan page's and the check-in form's.
    let plan = &api["/api/v1/plan"];
    let phase = ctx.phase.map(|p| kb.phases[p.phase].id.as_str());
    assert_eq!(plan["home_plan"], ctx.phase.is_some(), "{s}: after {what}");
    assert_eq!(plan["phase"].as_str(), phase, "{s}: after {what}");
    // Every exercise of the plan is on the whole plan (today's are on the
    // Today view too, below).
    let page = unescaped(&pages["/plan/full"]);
    let mut in_api = Vec::new();
    for e in plan["exercises"].as_array().expect("exercises") {
        let (id, name, dosage) = (
            e["id"].as_str().expect("id"),
            e["name"].as_str().expect("name"),
            e["dosage"].as_str().expect("dosage"),
        );
        assert!(
            page.contains(name) && page.contains(dosage),
            "{s}: after {what}: {name} ({dosage}) not on the plan page"
        );
        in_api.push(id.to_string());
    }
    // (A day already logged offers what was planned on it, which a later
    // edit or plan does not change.)
    let today: Day = TODAY.parse().expect("day");
    let fresh = if j.logged.contains(&today) {
        Vec::new()
    } else {
        exercise_ids(&form.body)
    };
    // The Today view's checklist is what the day's check-in offers.
    if ctx.phase.is_some() && !j.logged.contains(&today) {
        assert_eq!(
            exercise_ids(&pages["/plan"]),
            fresh,
            "{s}: after {what}: today's checklist and check-in"
        );
    }
    for id in fresh {
        assert!(
            in_api.contains(&id),
            "{s}: after {what}: the check-in offers {id}, not in the plan"
        );
    }

    // The same check-ins everywhere.
    let rows = store.checkins(&j.uid).await.expect("db");
    let export: serde_json::Value =
        serde_json::from_str(&pages["/account/export.json"]).expect("JSON");
    let n = |v: &serde_json::Value| v.as_array().map_or(0, Vec::len);
    assert_eq!(n(&api["/api/v1/checkins"]), rows.len(), "{s}: after {what}");
    assert_eq!(n(&export["checkins"]), rows.len(), "{s}: after {what}");
    assert_eq!(
        n(&export["phase_changes"]),
        store.phase_changes(&j.uid).await.expect("db").len(),
        "{s}: after {what}"
    );

    // A phase counts only check-ins logged after it began.
    if let (Some(p), Some(began)) = (ctx.phase, ctx.phase_history.last()) {
        assert_eq!(
            plan["phase_since"],
            p.since.to_string(),
            "{s}: after {what}"
        );
        only_later_check_ins(&rows, began, p.since, &format!("{s}: after {what}"));
    }
}

#[tokio::test]
async fn random_journeys_keep_every_page_and_api_read_answering_and_agreeing() {
    let app = app().await;
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    // KNEEPATH_JOURNEYS=N walks N journeys instead of 8 (a longer search
    // for bugs by hand; CI runs the 8).
    let journeys = std::env::var("KNEEPATH_JOURNEYS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(8_u64);
    for seed in 1..=journeys {
        let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let mut j = app.journey(seed).await;
        check(&app, &j, "the start").await;
        for _ in 0..30 {
            let what = step(&app, &mut j, &mut rng).await;
            check(&app, &j, &what).await;
            let kind: String = what
                .split(" of ")
                .next()
                .unwrap_or(&what)
                .split(" on ")
                .next()
                .unwrap_or(&what)
                .to_string();
            *seen.entry(kind).or_default() += 1;
        }
    }
    // The journeys do what they are for.
    let has = |k: &str| seen.iter().any(|(w, n)| w.contains(k) && *n > 0);
    for k in [
        "web check-in",
        "API check-in",
        "web correction",
        "API correction",
        "re-assessment",
        "clinician's move",
        "clinician's add",
        "measurements",
        "/outcomes/lefs",
    ] {
        assert!(has(k), "no {k} in {seen:?}");
    }
}

/// The caseload summary, written with each change, is what a rebuild from
/// the rows gives, and judges the patient as their whole record does,
/// today and on later days.
async fn check_summary(app: &App, j: &Journey, what: &str) {
    use kneepath_core::clinic::{Signals, status};
    let store = &app.state.store;
    let s = j.seed;
    let summary = store
        .caseload_summary(&j.uid)
        .await
        .expect("db")
        .expect("a linked patient has a summary");
    assert_eq!(
        summary,
        store.rebuilt_summary(&j.uid).await.expect("db"),
        "{s}: after {what}: the stored summary"
    );
    let checkins: Vec<_> = store
        .checkins(&j.uid)
        .await
        .expect("db")
        .into_iter()
        .map(|r| r.checkin)
        .collect();
    let whole = Signals {
        last_checkin: checkins.iter().map(|c| c.day).max(),
        pains: checkins.iter().map(|c| (c.day, c.pain_now)).collect(),
        week: checkins.clone(),
        escalations: store
            .escalations(&j.uid)
            .await
            .expect("db")
            .into_iter()
            .map(|e| (e.day, e.kind))
            .collect(),
        level: store
            .latest_assessment(&j.uid)
            .await
            .expect("db")
            .map(|a| a.level),
    };
    let today: Day = TODAY.parse().expect("day");
    let min = app.state.kb.progression.advance_min_adherence_pct;
    for later in [0, 1, 6, 7, 13, 14, 20] {
        let on = today.plus(later);
        assert_eq!(
            summary.status(on, min),
            status(&whole, on, min),
            "{s}: after {what}: the dashboard status on {on}"
        );
    }
}
