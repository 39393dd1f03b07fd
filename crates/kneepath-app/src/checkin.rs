//! The daily check-in: the one check of what a person sent (a
//! [`RawCheckIn`], from the web form or the JSON API), the rules run on it
//! (progress review, re-triage on a warning sign, escalation), and storing
//! it, new or as the correction of a day already logged.
//!
//! [`App::check_in`] is one read-decide-write under the plan lock:
//! [`App::checkin_plan`] reads the plan, [`App::validate_checkin`] checks
//! the answers against it (a day from the plan's start, at most
//! [`MAX_DAYS_BACK`] days back, to today; every bad field named), and
//! [`App::log_checkin`] stores it as new or as a correction. A day already
//! logged is replaced only by a correction of that day: a check-in sent as
//! new for it is [`AppError::AlreadyLogged`]. [`App::correct_checkin`] runs
//! `progress::after_correction`; the store keeps the replaced values.
//! [`kneepath_core::phases::made_on_checkin`] tells which phase moves a check-in made, for the
//! page that says what it led to.

use std::borrow::Cow;

use kneepath_core::checkin::CheckIn;
pub use kneepath_core::checkin::RawCheckIn;
use kneepath_core::progress::{self, PhaseState};
use kneepath_core::{Day, KnowledgeBase};
use kneepath_store::{CheckinWrite, NewAssessment, UserId};

use crate::plan::{PlanContext, checkin_exercises};
use crate::{App, AppError};

/// How far back a missed day may be logged.
pub const MAX_DAYS_BACK: i32 = 14;

/// The first day a check-in can be logged for: the plan's start, at most
/// [`MAX_DAYS_BACK`] days before `today` (the person's own). While waiting
/// to be seen, the day of the result that said so: the days before it
/// belong to the plan that came before.
pub fn earliest(ctx: &PlanContext, today: Day) -> Day {
    let from = if ctx.waiting() {
        ctx.plan_start.max(ctx.assessment.day)
    } else {
        ctx.plan_start
    };
    from.max(today.plus(-MAX_DAYS_BACK))
}

/// What a check-in led to.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckinResult {
    /// A warning sign re-ran triage; this is the new level.
    Retriaged(kneepath_core::TriageLevel),
    PhaseChanged {
        to: String,
        reason: String,
    },
    Stayed {
        waiting_for: Vec<String>,
        /// The plan is in its last phase: nothing to move on to.
        last_phase: bool,
    },
    /// Logged while waiting to be seen ([`PlanContext::waiting`]), with
    /// nothing that calls for more than what the person was told.
    Waiting,
}

/// How a check-in is to be logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Logging {
    /// A new check-in: a day already logged is refused
    /// ([`AppError::AlreadyLogged`]).
    New,
    /// The correction of this day's check-in, which must be one of the
    /// current plan's last [`MAX_DAYS_BACK`] days ([`AppError::NotFound`]
    /// otherwise); the answers are taken for this day.
    Correct(Day),
    /// The check-in form: new, or, when the form was the one that showed
    /// this day's check-in for correction (it names the day), a
    /// correction of it. A form sent as new for a day already logged (from
    /// another device, the back button), or with its date changed to
    /// another logged day, is refused ([`AppError::AlreadyLogged`]).
    NewOrCorrect {
        /// The day the form said it corrects, as sent.
        correcting: Option<String>,
    },
}

/// A check-in stored, and what it led to.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    pub day: Day,
    /// It replaced the day's check-in.
    pub corrected: bool,
    pub result: CheckinResult,
    /// A "see a professional" message raised (not said in the week before).
    pub escalation: Option<progress::Escalation>,
}

/// What a check-in that moved nothing tells the person about moving on:
/// what advancing still waits for, or in the last phase its criteria for a
/// full return to activity.
pub fn waiting_text(waiting_for: &[String], last_phase: bool) -> Option<String> {
    let list = waiting_for.join("; ");
    match (last_phase, waiting_for.is_empty()) {
        (true, true) => Some("This is the last phase: keep up the maintenance routine.".into()),
        (true, false) => Some(format!(
            "This is the last phase: keep up the maintenance routine. Still to reach for a full return to activity: {list}."
        )),
        (false, true) => None,
        (false, false) => Some(format!(
            "To move to the next phase kneepath is waiting for: {list}."
        )),
    }
}

impl App {
    /// Log a check-in: read the plan, check the answers, run the rules and
    /// store it with its consequences, under the person's plan lock and
    /// again on the new plan when another instance changed it meanwhile
    /// ([`App::deciding_on_plan`]). `today` is the person's own.
    pub async fn check_in(
        &self,
        user_id: &UserId,
        raw: &RawCheckIn,
        how: Logging,
        today: Day,
        ip: Option<&str>,
    ) -> Result<Logged, AppError> {
        self.deciding_on_plan(user_id, || {
            self.check_in_once(user_id, raw, how.clone(), today, ip)
        })
        .await
    }

    /// One read-check-decide-write of [`App::check_in`].
    async fn check_in_once(
        &self,
        user_id: &UserId,
        raw: &RawCheckIn,
        how: Logging,
        today: Day,
        ip: Option<&str>,
    ) -> Result<Logged, AppError> {
        let mut ctx = self.checkin_plan(user_id, today).await?;
        let raw = match how {
            Logging::Correct(day) => {
                // Only a check-in of the days that can be logged now is
                // one to correct (not one of a plan that came before).
                if day < earliest(&ctx, today) || ctx.checkin_on(day).is_none() {
                    return Err(AppError::NotFound);
                }
                Cow::Owned(RawCheckIn {
                    day: Some(day.to_string()),
                    ..raw.clone()
                })
            }
            _ => Cow::Borrowed(raw),
        };
        let checkin = self.validate_checkin(&ctx, &raw, today)?;
        self.log_checkin(user_id, &mut ctx, checkin, &how, ip).await
    }

    /// The plan a check-in made on `today` (the person's own) is checked
    /// against, with the check-ins its rules need: the home plan, or, for a
    /// person waiting to be seen within a day ([`PlanContext::waiting`]),
    /// the result that said so, so that getting worse can be logged and
    /// acted on. [`AppError::NoHomePlan`] before the first assessment and
    /// when the latest sends the person to emergency care now.
    pub async fn checkin_plan(
        &self,
        user_id: &UserId,
        today: Day,
    ) -> Result<PlanContext, AppError> {
        match self.plan_context_for_checkin(user_id, today).await? {
            Some(ctx) if ctx.phase.is_some() || ctx.waiting() => Ok(ctx),
            _ => Err(AppError::NoHomePlan),
        }
    }

    /// The one check of a check-in, against the plan: the day from the
    /// plan's start (at most [`MAX_DAYS_BACK`] back) to `today`, the
    /// exercises of that day, every answer in range. Field ids are the
    /// [`RawCheckIn`]'s.
    pub fn validate_checkin(
        &self,
        ctx: &PlanContext,
        raw: &RawCheckIn,
        today: Day,
    ) -> Result<CheckIn, AppError> {
        let kb = &self.kb;
        let day = raw.day().unwrap_or(today);
        let planned: Vec<String> = checkin_exercises(kb, ctx, day)
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        raw.validate(kb, &planned, earliest(ctx, today), today)
            .map_err(AppError::Invalid)
    }

    /// Store a checked check-in as `how` says, new or in place of the
    /// day's, with what the rules conclude. The caller holds the person's
    /// plan lock from reading `ctx` until this returns.
    pub async fn log_checkin(
        &self,
        user_id: &UserId,
        ctx: &mut PlanContext,
        checkin: CheckIn,
        how: &Logging,
        ip: Option<&str>,
    ) -> Result<Logged, AppError> {
        let day = checkin.day;
        let stored = ctx.checkin_on(day).is_some();
        let correcting = match how {
            Logging::New if stored => return Err(AppError::AlreadyLogged { day }),
            Logging::New => false,
            Logging::Correct(_) => true,
            Logging::NewOrCorrect { correcting } => {
                // Only the form that showed this day's check-in replaces it.
                if stored && correcting.as_deref() != Some(day.to_string().as_str()) {
                    return Err(AppError::AlreadyLogged { day });
                }
                stored
            }
        };
        let (result, escalation) = if correcting {
            self.correct_checkin(user_id, ctx, checkin, ip).await?
        } else {
            self.record_checkin(user_id, ctx, checkin, ip).await?
        };
        Ok(Logged {
            day,
            corrected: correcting,
            result,
            escalation,
        })
    }

    /// The warning signs ticked on a check-in that could not be saved (its
    /// other answers are not right): when they reach urgent or above on the
    /// person's facts, the re-triage is stored (source `checkin`) and its id
    /// returned, so that a sign that needs care now is acted on at once;
    /// otherwise nothing. The caller holds the person's plan lock.
    pub async fn warning_signs_first(
        &self,
        user_id: &UserId,
        ctx: &PlanContext,
        signs: &[String],
        today: Day,
        ip: Option<&str>,
    ) -> Result<Option<String>, AppError> {
        let kb = &self.kb;
        let mut facts = ctx.facts.clone();
        let mut any = false;
        for sign in signs {
            if let Some(id) = kb
                .fact_id(sign)
                .filter(|&id| kb.questions[id].warning_sign.is_some())
            {
                facts = kneepath_core::facts::with_new_sign(kb, &facts, id);
                any = true;
            }
        }
        if !any || kneepath_core::assess(kb, &facts).level.allows_home_plan() {
            return Ok(None);
        }
        let id = self
            .record_assessment_locked(
                user_id,
                &facts,
                kneepath_store::AssessmentSource::Checkin,
                today,
                ip,
            )
            .await?;
        Ok(Some(id))
    }

    /// Apply the rules to a new check-in and store it with its consequences.
    /// `ctx` is handed back as it came (the check-in is placed among its
    /// check-ins while the rules run, rather than copying them all). The
    /// caller holds the person's plan lock from reading `ctx` until this
    /// returns.
    pub async fn record_checkin(
        &self,
        user_id: &UserId,
        ctx: &mut PlanContext,
        checkin: CheckIn,
        ip: Option<&str>,
    ) -> Result<(CheckinResult, Option<progress::Escalation>), AppError> {
        let kb = &self.kb;
        let Some(phase) = ctx.phase else {
            let outcome = waiting_outcome(kb, ctx, &checkin)?;
            return self
                .store_outcome(user_id, ctx, None, &checkin, outcome, ip, false)
                .await;
        };
        let pos = ctx.checkins.partition_point(|c| c.day < checkin.day);
        ctx.checkins.insert(pos, checkin);
        let all = &ctx.checkins;
        let outcome =
            progress::after_checkin(kb, &ctx.facts, phase, ctx.plan_start, all, &all[pos]);
        let checkin = ctx.checkins.remove(pos);
        self.store_outcome(user_id, ctx, Some(phase), &checkin, outcome, ip, false)
            .await
    }

    /// Apply the rules to a corrected check-in (`progress::after_correction`)
    /// and store it in place of the day's check-in, with its consequences.
    /// The day must have a check-in among `ctx`'s; the caller holds the plan
    /// lock as for [`App::record_checkin`].
    pub async fn correct_checkin(
        &self,
        user_id: &UserId,
        ctx: &mut PlanContext,
        corrected: CheckIn,
        ip: Option<&str>,
    ) -> Result<(CheckinResult, Option<progress::Escalation>), AppError> {
        let kb = &self.kb;
        let Some(pos) = ctx.checkins.iter().position(|c| c.day == corrected.day) else {
            return Err(AppError::NotFound);
        };
        let Some(phase) = ctx.phase else {
            let outcome = waiting_outcome(kb, ctx, &corrected)?;
            return self
                .store_outcome(user_id, ctx, None, &corrected, outcome, ip, true)
                .await;
        };
        let moved_from = moved_by_checkin_on(kb, ctx, corrected.day);
        let old = std::mem::replace(&mut ctx.checkins[pos], corrected);
        let all = &ctx.checkins;
        let outcome = progress::after_correction(
            kb,
            &ctx.facts,
            phase,
            moved_from,
            ctx.plan_start,
            all,
            &all[pos],
        );
        let corrected = std::mem::replace(&mut ctx.checkins[pos], old);
        self.store_outcome(user_id, ctx, Some(phase), &corrected, outcome, ip, true)
            .await
    }

    /// Store a check-in (new or corrected) with what the rules concluded
    /// (`phase`: the home plan's, none while waiting to be seen).
    #[allow(clippy::too_many_arguments)]
    async fn store_outcome(
        &self,
        user_id: &UserId,
        ctx: &PlanContext,
        phase: Option<PhaseState>,
        checkin: &CheckIn,
        outcome: progress::CheckinOutcome<'_>,
        ip: Option<&str>,
        correcting: bool,
    ) -> Result<(CheckinResult, Option<progress::Escalation>), AppError> {
        let kb = &self.kb;
        let retriage = outcome
            .retriage
            .as_ref()
            .map(|a| (a.report(), kb.facts_to_json(&outcome.facts_now)));
        let retriage = retriage.as_ref().map(|(report, facts)| NewAssessment {
            user_id,
            day: checkin.day,
            source: kneepath_store::AssessmentSource::Checkin,
            facts,
            report,
            start_phase: None,
        });
        let result = match (&outcome.retriage, &outcome.phase_change) {
            (Some(a), _) => CheckinResult::Retriaged(a.level),
            (None, Some((to, reason))) => CheckinResult::PhaseChanged {
                to: kb.phases[*to].id.clone(),
                reason: reason.clone(),
            },
            (None, None) => match phase {
                Some(phase) => CheckinResult::Stayed {
                    waiting_for: outcome.waiting_for.clone(),
                    last_phase: progress::is_last_phase(kb, phase.phase),
                },
                None => CheckinResult::Waiting,
            },
        };
        // Say it again only if it was not already said in the week before
        // (the history is read only when there is something to say).
        let escalation = match outcome.escalation {
            Some(e) => {
                let recent = self.store.escalations(user_id).await?;
                let said = recent.iter().map(|r| (r.kind, r.day));
                (!progress::already_said(e, checkin.day, said)).then_some(e)
            }
            None => None,
        };
        let from = phase.map(|p| kb.phases[p.phase].id.as_str());
        let change = outcome
            .phase_change
            .as_ref()
            .zip(from)
            .map(|((to, reason), from)| {
                (
                    from,
                    kb.phases[*to].id.as_str(),
                    progress::move_starts(&ctx.checkins, checkin),
                    reason.as_str(),
                )
            });
        let write = CheckinWrite {
            user_id,
            assessment_id: &ctx.assessment.id,
            checkin,
            phase_change: change,
            escalation,
            retriage,
            ip,
            plan_version: ctx.version,
        };
        if correcting {
            self.store.correct_checkin(&write).await?;
        } else {
            self.store.insert_checkin(&write).await?;
        }
        Ok((result, escalation))
    }
}

/// The rules on a check-in made while waiting to be seen
/// (`progress::while_waiting`); [`AppError::NoHomePlan`] when the context
/// has neither a home plan nor a wait.
fn waiting_outcome<'k>(
    kb: &'k KnowledgeBase,
    ctx: &PlanContext,
    checkin: &CheckIn,
) -> Result<progress::CheckinOutcome<'k>, AppError> {
    if !ctx.waiting() {
        return Err(AppError::NoHomePlan);
    }
    Ok(progress::while_waiting(
        kb,
        &ctx.facts,
        ctx.assessment.level,
        checkin,
    ))
}

/// The phase state before the check-in of `day` moved the plan, when it
/// did ([`kneepath_core::phases::before_moves_of_checkin`]).
fn moved_by_checkin_on(kb: &KnowledgeBase, ctx: &PlanContext, day: Day) -> Option<PhaseState> {
    let (from, since) = kneepath_core::phases::before_moves_of_checkin(
        &ctx.phase_history,
        &ctx.assessment.id,
        ctx.last_logged.as_ref(),
        day,
        ctx.plan_start,
    )?;
    Some(PhaseState {
        phase: kb.phase_by_id(from)?,
        since,
    })
}

/// What moving on still waits for after `checkin` (see [`waiting_text`]),
/// when the plan has a phase and stays in it.
pub fn waiting_after(kb: &KnowledgeBase, ctx: &PlanContext, checkin: &CheckIn) -> Option<String> {
    use kneepath_core::progress::{Decision, is_last_phase, review};
    let phase = ctx.phase?;
    let facts = kneepath_core::checkin::facts_after(kb, &ctx.facts, checkin);
    match review(kb, phase, &ctx.checkins, &facts) {
        Decision::Stay { waiting_for } => {
            waiting_text(&waiting_for, is_last_phase(kb, phase.phase))
        }
        _ => None,
    }
}
