//! The demo patient: a runner with back-of-knee pain from a jump in
//! training, eight weeks into the plan. Every check-in goes through the same
//! application methods as a real one, so the phases move by the real rules.
//! Her check-ins and her clinician's caseload come from the one
//! synthetic-patient generator (`course.rs`): hers as [`Course::Maya`],
//! the caseload's through [`crate::App::seed_patients`].

use kneepath_core::Day;
use kneepath_store::{Role, UserId};

use super::{Course, Days, Rng};
use crate::plan::scheduled;
use crate::{App, AppError};

pub const DEMO_EMAIL: &str = "demo@kneepath.local";
pub const DEMO_PASSWORD: &str = "demo-knee-2026";
pub const DEMO_CLINICIAN_EMAIL: &str = "clinician@kneepath.local";
pub const DEMO_CLINICIAN_PASSWORD: &str = "demo-clinic-2026";
pub const DEMO_ADMIN_EMAIL: &str = "admin@kneepath.local";
pub const DEMO_ADMIN_PASSWORD: &str = "demo-admin-2026";
/// Synthetic patients in the demo clinician's caseload, besides Maya.
const DEMO_CASELOAD: usize = 23;

const DEMO_FACTS: &str = r#"
age = 34
sex = "female"
onset = "gradual"
days_since_onset = 10
mechanism = "overuse"
pain_now = 4
pain_activity = 5
pain_location = ["back_of_knee", "back_of_thigh"]
pain_trend = "same"
weight_bearing = "normal"
knee_flex_90 = true
rom_reduced = true
swelling = "none"
sports = ["running"]
sprint_sessions_per_week = 1
load_increase_pct = 40
warm_up = "sometimes"
hamstring_training = "none"
quad_focused_training = true
hamstrings_feel_tight = true
"#;

/// Create the demo patient with `weeks` weeks of check-ins ending today,
/// unless it exists already. Returns whether it was created.
pub async fn ensure_demo(app: &App, weeks: i32) -> Result<bool, AppError> {
    if app
        .store
        .authenticate(DEMO_EMAIL, DEMO_PASSWORD)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let user = app
        .store
        .create_user(DEMO_EMAIL, "Maya", DEMO_PASSWORD, Role::Patient)
        .await?;
    let today = app.clock.today();
    seed_patient(app, &user.id, today, weeks, 7).await?;
    // KOOS at the start and four weeks in, improving.
    if let Some(koos) = app.kb.instrument(kneepath_core::kb::InstrumentKind::Koos) {
        for (weeks_ago, level) in [(weeks, 2u8), (weeks - 4, 1u8)] {
            let answers: std::collections::BTreeMap<String, u8> = koos
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    // The option ticked; on every item, S4 and S5 included,
                    // the first option means no problem.
                    (item.id.clone(), level.saturating_sub(u8::from(i % 3 == 0)))
                })
                .collect();
            let scores = kneepath_core::outcomes::score_instrument(koos.kind, &answers)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            app.store
                .insert_outcome(
                    &user.id,
                    &koos.id,
                    today.plus(-(weeks_ago * 7)),
                    &answers,
                    &scores,
                    None,
                )
                .await?;
        }
    }
    // A clinician with Maya and a synthetic caseload, and an admin.
    let clinician = app
        .store
        .create_user(
            DEMO_CLINICIAN_EMAIL,
            "Dr Sam Okafor",
            DEMO_CLINICIAN_PASSWORD,
            Role::Clinician,
        )
        .await?;
    app.store
        .create_user(
            DEMO_ADMIN_EMAIL,
            "Clinic admin",
            DEMO_ADMIN_PASSWORD,
            Role::Admin,
        )
        .await?;
    let ids = app
        .store
        .create_synthetic_users("demo", DEMO_CASELOAD, DEMO_PASSWORD, Role::Patient)
        .await?;
    app.seed_patients(&ids, 60, today, 2026, &mut |_| {})
        .await?;
    let mut pairs: Vec<(UserId, UserId)> =
        ids.into_iter().map(|p| (clinician.id.clone(), p)).collect();
    pairs.push((clinician.id.clone(), user.id.clone()));
    app.store.link_many(&pairs).await?;
    // The clinician measured Maya: weak hamstrings on the painful side.
    let m = kneepath_core::clinic::Measurements {
        painful_side: Some(kneepath_core::clinic::Side::Right),
        hamstring_left_nm: Some(118.0),
        hamstring_right_nm: Some(92.0),
        quadriceps_left_nm: Some(196.0),
        quadriceps_right_nm: Some(181.0),
        slr_left_deg: Some(82.0),
        slr_right_deg: Some(68.0),
        ake_deg: Some(22.0),
    };
    app.record_measurement(&clinician.id, &user.id, &m, app.clock.today(), None)
        .await?;
    Ok(true)
}

/// Give a patient an assessment `weeks` weeks before `today` and daily
/// check-ins since (a few days missed), improving over time.
pub async fn seed_patient(
    app: &App,
    user_id: &UserId,
    today: Day,
    weeks: i32,
    seed: u64,
) -> Result<(), AppError> {
    let kb = &app.kb;
    let facts = kb
        .facts_from_toml_str(DEMO_FACTS)
        .map_err(|e| AppError::Internal(format!("demo facts: {e}")))?;
    let start = today.plus(-(weeks * 7));
    app.record_assessment(
        user_id,
        &facts,
        kneepath_store::AssessmentSource::Wizard,
        start,
        None,
    )
    .await?;
    let mut rng = Rng(seed);
    let course = Course::Maya { days: weeks * 7 };
    let mut days = Days::new(start, weeks * 7);
    while let Some((i, day)) = days.next(&mut rng) {
        let _plan = app.plan_locks.lock(user_id).await;
        let Some(mut ctx) = app.plan_context(user_id).await? else {
            break;
        };
        if ctx.phase.is_none() {
            break;
        }
        let planned: Vec<String> = scheduled(kb, &ctx, day)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let checkin = course.checkin(&mut rng, i, day, planned);
        app.record_checkin(user_id, &mut ctx, checkin, None).await?;
    }
    Ok(())
}
