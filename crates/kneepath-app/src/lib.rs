//! kneepath's application layer: what each user action does, between the
//! HTTP front ends (the web pages and the JSON API in `kneepath-web`), the
//! command line and the store. No HTTP or template crate is used here.
//!
//! # Layout
//! - [`App`]: the store, the knowledge base, the clock and the plan locks;
//!   one method per user action, in the module of its area:
//!   [`plan`] (the plan context, plan items, and the read-decide-write of a
//!   plan: [`App::deciding_on_plan`], [`to_the_end`]), [`assess`]
//!   (assessments, [`App::reassess_all`]), [`checkin`] (check-ins new and
//!   corrected, from a [`RawCheckIn`]), [`clinic`] (measurements, plan edits,
//!   phase moves), [`outcomes`] (KOOS/LEFS/NPRS answers checked and scored),
//!   [`export`] (the record as JSON, FHIR out and in, deleting an account),
//!   [`report`] (the data of a clinician's report, [`ReportData`]).
//! - [`AppError`]: the one error type, with the one mapping to an HTTP
//!   status and code ([`AppError::status`], [`AppError::code`]).
//! - [`Clock`], [`plan_lock`]: where "today" comes from; one person's plan
//!   changed by one writer at a time.
//! - [`synthetic`]: synthetic patients (`kneepath seed`) and the demo.
//! - [`mail`], [`account`]: email over SMTP, and what is sent by it (a
//!   password reset link).

pub mod account;
pub mod assess;
pub mod caseload;
pub mod checkin;
pub mod clinic;
mod clock;
pub mod error;
pub mod export;
pub mod guest;
pub mod mail;
pub mod outcomes;
pub mod plan;
pub mod plan_lock;
pub mod report;
pub mod synthetic;

use std::sync::Arc;

use kneepath_core::KnowledgeBase;
use kneepath_store::Store;

pub use account::ResetAsked;
pub use assess::Reassessed;
pub use checkin::{CheckinResult, Logged, Logging, RawCheckIn};
pub use clinic::Actor;
pub use clock::Clock;
pub use error::{AppError, FieldError, conflict_message};
pub use guest::{GUEST_HOURS, GuestStart};
pub use plan::{PlanChangedError, PlanContext, to_the_end};
pub use plan_lock::PlanLocks;
pub use report::ReportData;

/// The application: what every user action needs. Passed in, never global.
#[derive(Debug)]
pub struct App {
    pub store: Store,
    pub kb: Arc<KnowledgeBase>,
    pub clock: Clock,
    /// One person's plan changes one at a time (see [`plan_lock`]).
    pub plan_locks: PlanLocks,
    /// The deployment's email, when SMTP is configured ([`mail`]).
    pub mailer: Option<mail::Mailer>,
}

impl App {
    pub fn new(store: Store, kb: KnowledgeBase, clock: Clock) -> App {
        App {
            store,
            kb: Arc::new(kb),
            clock,
            plan_locks: PlanLocks::default(),
            mailer: None,
        }
    }

    /// The same application, sending email with `mailer`.
    pub fn with_mailer(mut self, mailer: mail::Mailer) -> App {
        self.mailer = Some(mailer);
        self
    }
}
