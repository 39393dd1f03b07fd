//! The daily check-in: the form, sending it (checked and stored by the
//! application, `kneepath_app::checkin`), and the page saying what it led
//! to.
//!
//! A sent form runs as a task of its own (`kneepath_app::to_the_end`)
//! through `App::deciding_on_plan`: the person's plan lock, the plan read,
//! the answers checked, the check-in logged, decided again from the read
//! when another instance changed the plan. When the plan kept changing the
//! form comes back (409) with the answers as entered and a note that
//! nothing was saved; with bad answers it comes back (422) with each field's
//! message, but a ticked warning sign that reaches urgent is triaged and
//! acted on first.
//!
//! Corrections: the form of a day already logged (up to 14 days back)
//! opens with that day's answers and a hidden `correct` field naming the
//! day; only such a form replaces the day's check-in. One sent as new for a
//! logged day, or with its date changed to another logged day, is refused
//! with the answers kept.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kneepath_app::checkin::{earliest, waiting_after};
use kneepath_app::plan::{checkin_exercises, last_logged};
use kneepath_app::{AppError, Logging, PlanContext, RawCheckIn, to_the_end};
use kneepath_core::Day;
use kneepath_core::checkin::form_field;
use kneepath_core::phases::made_on_checkin;
use serde::Deserialize;

use kneepath_store::{AssessmentSource, AuditAction, AuditEntity, UserId};

use crate::auth::{Patient, VerifiedForm};
use crate::error::WebError;
use crate::state::AppState;
use crate::views::{CheckinPage, CheckinSavedPage, FormState, Layout, private};

#[derive(Deserialize)]
pub struct DayQuery {
    day: Option<String>,
    /// Set on the page after a correction.
    corrected: Option<String>,
}

/// The day a form is shown for: the one asked for when it can be logged,
/// else today.
fn day_to_show(asked: Option<&str>, ctx: &PlanContext, today: Day) -> Day {
    asked
        .and_then(|d| d.parse::<Day>().ok())
        .filter(|d| *d <= today && *d >= earliest(ctx, today))
        .unwrap_or(today)
}

/// The plan to check in against (or the wait to be seen, after an urgent
/// result), or (no assessment yet, or the latest result says go to
/// emergency care now) the plan page, which explains what to do instead.
async fn need_plan(
    state: &AppState,
    user_id: &UserId,
    today: Day,
) -> Result<Result<PlanContext, Response>, WebError> {
    match state.app.checkin_plan(user_id, today).await {
        Ok(ctx) => Ok(Ok(ctx)),
        Err(AppError::NoHomePlan) => Ok(Err(Redirect::to("/plan").into_response())),
        Err(e) => Err(e.into()),
    }
}

fn page(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    ctx: &PlanContext,
    day: Day,
    f: FormState,
) -> CheckinPage {
    let today = user.today(state);
    let correcting = ctx.checkin_on(day).is_some();
    CheckinPage {
        q: crate::views::Questions(state.kb.clone()),
        l: Layout::for_user(
            if correcting {
                "Correct a check-in"
            } else {
                "Daily check-in"
            },
            "checkin",
            user,
        ),
        day: day.to_string(),
        earliest: earliest(ctx, today).to_string(),
        today: today.to_string(),
        exercises: checkin_exercises(&state.kb, ctx, day),
        signs: state
            .kb
            .warning_signs()
            .filter_map(|(_, q)| q.warning_sign.clone().map(|w| (q.id.clone(), w)))
            .collect(),
        correcting,
        waiting: ctx.waiting(),
        f,
        not_saved: None,
    }
}

pub async fn form(
    State(state): State<AppState>,
    Patient(user): Patient,
    Query(q): Query<DayQuery>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Result<Response, WebError> {
    let today = user.today(&state);
    let ctx = match need_plan(&state, user.id(), today).await? {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let day = day_to_show(q.day.as_deref(), &ctx, today);
    // A new day opens with the exercises the person ticked on the Today
    // view (`done` in the query, only those planned for the day), nothing
    // else; a day already logged with its answers, to be corrected, and
    // those ticks added (exercises done since checking in).
    let planned = checkin_exercises(&state.kb, &ctx, day);
    let ticked: Vec<(String, String)> =
        url::form_urlencoded::parse(raw.as_deref().unwrap_or("").as_bytes())
            .filter(|(k, v)| k == "done" && planned.iter().any(|(id, _)| id == v))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let f = match ctx.checkin_on(day) {
        None => FormState::from_pairs(&ticked),
        Some(c) => {
            let mut fields = kneepath_core::checkin::checkin_fields(c);
            for t in ticked {
                if !fields.contains(&t) {
                    fields.push(t);
                }
            }
            FormState::from_pairs(&fields)
        }
    };
    // The form shows the plan's exercises for the day, and a logged day's
    // answers: a read of the record, audited like the plan page.
    let entity = if ctx.checkin_on(day).is_none() {
        AuditEntity::CheckinForm
    } else {
        AuditEntity::Checkin
    };
    let day_id = day.to_string();
    let page = user.audited_read(&state, entity, Some(&day_id), || {
        page(&state, &user, &ctx, day, f)
    });
    Ok(private(&page.await?))
}

pub async fn submit(
    State(state): State<AppState>,
    Patient(user): Patient,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    to_the_end(submit_now(state, user, form)).await?
}

async fn submit_now(
    state: AppState,
    user: crate::auth::CurrentUser,
    form: VerifiedForm,
) -> Result<Response, WebError> {
    let sent = state
        .app
        .deciding_on_plan(user.id(), || submit_once(&state, &user, &form))
        .await;
    match sent {
        Err(WebError::App(AppError::PlanChanged)) => not_saved(&state, &user, &form).await,
        other => other,
    }
}

/// The plan kept changing under the check-in (other devices or a clinician,
/// on other instances) and nothing was saved: the form again, on the plan
/// as it is now, with the person's answers and why.
async fn not_saved(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    form: &VerifiedForm,
) -> Result<Response, WebError> {
    let today = user.today(state);
    let ctx = match need_plan(state, user.id(), today).await? {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let day = day_to_show(Some(form.get("day")), &ctx, today);
    let mut p = page(state, user, &ctx, day, FormState::from_pairs(&form.pairs));
    p.not_saved = Some(crate::error::CHECKIN_NOT_SAVED);
    Ok((StatusCode::CONFLICT, private(&p)).into_response())
}

/// Field errors as the form names its fields.
fn on_form(fields: Vec<kneepath_app::FieldError>) -> Vec<(String, String)> {
    fields
        .into_iter()
        .map(|e| (form_field(&e.field).to_string(), e.message))
        .collect()
}

/// One read-decide-write of a check-in (tried again when another instance
/// changed the plan in between).
async fn submit_once(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    form: &VerifiedForm,
) -> Result<Response, WebError> {
    let today = user.today(state);
    let mut ctx = match need_plan(state, user.id(), today).await? {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    let app = &state.app;
    let raw = RawCheckIn::from_pairs(&form.pairs);
    let day = raw.day().unwrap_or(today);
    let mut errors = match app.validate_checkin(&ctx, &raw, today) {
        Ok(checkin) => {
            let how = Logging::NewOrCorrect {
                correcting: Some(form.get("correct").to_string()),
            };
            match app
                .log_checkin(user.id(), &mut ctx, checkin, &how, user.ip())
                .await
            {
                Ok(logged) => {
                    let also = if logged.corrected {
                        "&corrected=yes"
                    } else {
                        ""
                    };
                    let day = logged.day;
                    return Ok(
                        Redirect::to(&format!("/checkin/saved?day={day}{also}")).into_response()
                    );
                }
                // Refused, and the day's form then shows these answers for
                // correction.
                Err(AppError::AlreadyLogged { day }) => vec![(
                    "day".to_string(),
                    format!(
                        "You have already checked in for {day}. Save again to replace that check-in with these answers, or choose another day."
                    ),
                )],
                // The store's refusal (another device logged the day first).
                Err(AppError::Invalid(fields)) => fields
                    .into_iter()
                    .map(|e| ("day".to_string(), e.message))
                    .collect(),
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::Invalid(fields)) => on_form(fields),
        Err(e) => return Err(e.into()),
    };
    // Not saved as sent (incomplete, or for a day already logged): a
    // warning sign that needs care now is acted on all the same, its
    // triage stored (not the check-in) and its action shown. Not when the
    // person answered "no" to new signs while one is still ticked: that is
    // asked about first. The check-in holds the person's plan lock already.
    let signs = if raw.any_new_sign.as_deref() == Some("no") {
        Vec::new()
    } else {
        form.all("sign")
    };
    if let Some(id) = app
        .warning_signs_first(user.id(), &ctx, &signs, today, user.ip())
        .await?
    {
        // The result says that the check-in itself was not saved.
        return Ok(Redirect::to(&format!("/assessments/{id}?unsaved_checkin=1")).into_response());
    }
    let mut f = FormState::from_pairs(&form.pairs);
    f.errors.append(&mut errors);
    let shown_day = if day <= today { day } else { today };
    let p = page(state, user, &ctx, shown_day, f);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, private(&p)).into_response())
}

pub async fn saved(
    State(state): State<AppState>,
    Patient(user): Patient,
    Query(q): Query<DayQuery>,
) -> Result<Response, WebError> {
    let day: Day = q
        .day
        .as_deref()
        .and_then(|d| d.parse().ok())
        .ok_or(WebError::not_found())?;
    let corrected = q.corrected.is_some();
    let store = &state.store;
    let rows = store.checkins(user.id()).await?;
    let last = last_logged(&rows);
    let checkin = rows
        .into_iter()
        .find(|c| c.checkin.day == day)
        .ok_or(WebError::not_found())?;
    let kb = &state.kb;
    let retriage = store
        .assessments(user.id())
        .await?
        .into_iter()
        .rev()
        .find(|a| {
            a.source == AssessmentSource::Checkin
                && a.day == day
                && a.created_at >= checkin.created_at
        });
    let change = store
        .phase_changes(user.id())
        .await?
        .into_iter()
        .rev()
        .find(|p| p.created_at >= checkin.created_at && made_on_checkin(p, day, last.as_ref()));
    let escalation = store
        .escalations(user.id())
        .await?
        .into_iter()
        .find(|e| e.day == day && e.created_at >= checkin.created_at)
        .map(|e| e.kind.message().to_string());
    let l = Layout::for_user("Check-in saved", "checkin", &user);
    let page =
        if let Some(a) = retriage {
            let home = a.level.allows_home_plan();
            CheckinSavedPage {
                l,
                day: day.to_string(),
                headline: format!("A warning sign: {}", a.report.level_title),
                details: std::iter::once(a.report.do_now.clone())
                    .chain(
                        a.report
                            .fired
                            .iter()
                            .map(|f| format!("{}: {}", f.flag_title, f.reason)),
                    )
                    .chain((!home).then(|| {
                        "Your exercise plan is paused until you have been seen.".to_string()
                    }))
                    .collect(),
                tone: crate::views::level_class(a.level),
                escalation,
                retriaged: true,
                corrected,
                result_id: Some(a.id.clone()),
                call: (a.level <= kneepath_core::TriageLevel::Emergency)
                    .then(|| state.settings.emergency_number.clone()),
            }
        } else if let Some(c) = change {
            let to = kb
                .phase_by_id(&c.to_phase)
                .map_or(c.to_phase.clone(), |p| kb.phases[p].title.clone());
            let forward = c
                .how
                .from()
                .and_then(|f| kb.phase_by_id(f))
                .zip(kb.phase_by_id(&c.to_phase))
                .is_some_and(|(a, b)| b > a);
            CheckinSavedPage {
                l,
                day: day.to_string(),
                headline: if corrected {
                    format!("Correction saved: your plan is in the {to} phase")
                } else if forward {
                    format!("Well done: on to the {to} phase")
                } else {
                    format!("Stepping back to the {to} phase")
                },
                details: vec![c.reason],
                tone: if forward { "lvl-self" } else { "lvl-routine" },
                escalation,
                retriaged: false,
                corrected,
                result_id: None,
                call: None,
            }
        } else {
            let ctx = state
                .app
                .plan_context_for_checkin(user.id(), user.today(&state))
                .await?;
            let mut details = Vec::new();
            let waiting = ctx.as_ref().is_some_and(|c| c.waiting());
            if waiting {
                details.push(format!(
                    "You still need to be seen. {}",
                    kb.level(kneepath_core::TriageLevel::Urgent).do_now
                ));
            } else if let Some(text) = ctx.and_then(|c| waiting_after(kb, &c, &checkin.checkin)) {
                details.push(text);
            }
            CheckinSavedPage {
                l,
                day: day.to_string(),
                headline: if corrected {
                    "Thank you, your correction is saved".into()
                } else {
                    "Thank you, your check-in is saved".into()
                },
                details,
                tone: if waiting { "lvl-urgent" } else { "lvl-self" },
                escalation,
                retriaged: false,
                corrected,
                result_id: None,
                call: None,
            }
        };
    user.audit_own(
        &state,
        AuditAction::Read,
        AuditEntity::Checkin,
        Some(&checkin.checkin.day.to_string()),
    )
    .await?;
    Ok(private(&page))
}
