//! The application's one error type, and its one mapping to an HTTP status
//! and a stable code: the web pages and the JSON API both render from
//! [`AppError::status`] (and the API from [`AppError::code`]), so the same
//! refusal is the same status in both.

use kneepath_core::Day;
pub use kneepath_core::checkin::FieldError;
use kneepath_store::{ConflictKind, StoreError};

/// What went wrong in a user action. Messages for people are made by the
/// renderers (a page, a JSON error); the variants say what happened.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AppError {
    /// What was sent is not right: one problem per field (a
    /// [`FieldError::whole`] one is about the input as a whole). Nothing
    /// was stored.
    #[error("invalid input: {}", joined(.0))]
    Invalid(Vec<FieldError>),
    /// A new check-in for a day that already has one.
    #[error("there is already a check-in for {day}")]
    AlreadyLogged { day: Day },
    /// The person's plan changed between reading it and storing what was
    /// decided from it (another instance wrote first); nothing was stored.
    /// Writers try again on the new plan ([`crate::App::deciding_on_plan`]);
    /// a person sees this only when that kept happening.
    #[error("the plan changed while this was being saved")]
    PlanChanged,
    /// The person has no home plan (no assessment yet, or the latest one
    /// sends them to a doctor): nothing to check in against or to edit.
    #[error("there is no home plan")]
    NoHomePlan,
    /// Nothing there, or not the asker's to see.
    #[error("not found")]
    NotFound,
    /// Not allowed (message for people).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Anything else; the detail is for the log, never for people.
    #[error("internal error: {0}")]
    Internal(String),
}

fn joined(fields: &[FieldError]) -> String {
    fields
        .iter()
        .map(|f| {
            if f.is_whole() {
                f.message.clone()
            } else {
                format!("{}: {}", f.field, f.message)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl AppError {
    /// The HTTP status of this error, for every renderer.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid(_) | AppError::NoHomePlan => 422,
            AppError::AlreadyLogged { .. } | AppError::PlanChanged => 409,
            AppError::NotFound => 404,
            AppError::Forbidden(_) => 403,
            AppError::Internal(_) => 500,
        }
    }

    /// The JSON API's stable, machine-readable code of this error. No home
    /// plan is input the plan cannot take: `invalid_input`.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Invalid(_) | AppError::NoHomePlan => "invalid_input",
            AppError::AlreadyLogged { .. } => "already_checked_in",
            AppError::PlanChanged => "plan_changed",
            AppError::NotFound => "not_found",
            AppError::Forbidden(_) => "forbidden",
            AppError::Internal(_) => "internal",
        }
    }

    /// One problem with the field `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> AppError {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }
}

/// A store's refusal in words for people: the one place they are made, for
/// the pages, the JSON API and the command line.
pub fn conflict_message(kind: &ConflictKind) -> String {
    match kind {
        ConflictKind::EmailTaken => "An account with this email already exists.".into(),
        ConflictKind::EmailInUse => "Another account uses this email address.".into(),
        ConflictKind::AlreadyCheckedIn { day } => {
            format!("You have already checked in for {day}.")
        }
        ConflictKind::InviteUsed => {
            "This invitation has already been used. Ask your clinician for a new link.".into()
        }
        ConflictKind::InviteExpired => {
            "This invitation has expired. Ask your clinician for a new link.".into()
        }
        ConflictKind::NotEmpty => {
            "The target database already holds data; restore into an empty database.".into()
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            // Refused by what exists already: a refusal of the input, in
            // words for people.
            StoreError::Conflict(k) => {
                AppError::Invalid(vec![FieldError::whole(conflict_message(&k))])
            }
            StoreError::PlanChanged => AppError::PlanChanged,
            other => AppError::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_status_per_kind_of_error() {
        let day: Day = "2026-11-24".parse().expect("day");
        let cases = [
            (AppError::invalid("pain_now", "no"), 422, "invalid_input"),
            (AppError::NoHomePlan, 422, "invalid_input"),
            (AppError::AlreadyLogged { day }, 409, "already_checked_in"),
            (AppError::PlanChanged, 409, "plan_changed"),
            (AppError::NotFound, 404, "not_found"),
            (AppError::Forbidden("no".into()), 403, "forbidden"),
            (AppError::Internal("x".into()), 500, "internal"),
        ];
        for (e, status, code) in cases {
            assert_eq!((e.status(), e.code()), (status, code), "{e}");
        }
        // A store's unique key is a refusal of the input, not a failure.
        let conflict = AppError::from(StoreError::Conflict(ConflictKind::EmailTaken));
        assert_eq!(conflict.status(), 422);
        assert_eq!(
            conflict,
            AppError::Invalid(vec![FieldError::whole(
                "An account with this email already exists."
            )])
        );
        assert_eq!(
            AppError::from(StoreError::PlanChanged),
            AppError::PlanChanged
        );
    }
}
