//! kneepath's storage: one code path for SQLite and PostgreSQL.
//!
//! Everything is portable SQL (`$1..$n` placeholders; TEXT, BIGINT/INTEGER,
//! SMALLINT and DOUBLE PRECISION columns), so the same queries and
//! migrations run on both databases, through sqlx's `Any` driver. On a
//! SQLite file the requests every patient makes many times a day (the
//! session, the plan's inputs) and every write made as a list of
//! statements (`Store::write_all`: the check-in, the audited writes, audit
//! rows) run the same statements natively instead (`lite`: one hand-off to
//! a blocking thread per unit of work rather than per statement, writes
//! committed in groups). Two drivers, because that native path is what a
//! check-in costs under load, and sqlx's `Any` is what lets the rest
//! (PostgreSQL, migrations, backup) be written once; both queue on one
//! writer lock.
//! Rows are turned into core types here; no SQL leaves this crate.
//!
//! The boundary is typed: a person is a [`UserId`]; where an assessment
//! came from is an [`AssessmentSource`]; escalation and plan-edit kinds are
//! the core's `Escalation` and `EditKind`; an audit row's action and
//! entity are [`AuditAction`] and [`AuditEntity`]; a refusal because of
//! what is stored is a [`ConflictKind`] (the words for people are the
//! application's). Each is stored as the text it always was.
//!
//! Clinical records lose nothing: assessments and phase changes are
//! inserted, never updated; a check-in is changed only by its owner's
//! correction, which keeps the values it replaces in `checkin_revisions`.
//! Every write of patient data is done in one transaction with its
//! audit-log row (`Store::write_audited`). `tables` lists every table
//! once, for backup, export and deletion.
//!
//! # Layout
//! One module per concept: `users` (accounts, sessions, tokens),
//! `guests` (answering before an account), `assessments` (and wizard drafts), `checkins` (corrections,
//! escalations), `plan` (its inputs, version and guard, phase changes),
//! `clinic` (care links, caseload, measurements, notes, plan edits,
//! outcomes, administration), `audit`, `account` (export and deletion),
//! `backup`, `tables`; `db` (connecting, migrations, the write path),
//! `sql` (statements as data), `lite` (the native path). Code no request
//! takes: `seed` (synthetic data), `bench` (the bare-insert references),
//! and `testing` (test helpers, only with the `testing` feature).

mod account;
mod assessments;
mod audit;
mod backup;
mod bench;
mod checkins;
mod clinic;
mod db;
mod guests;
mod ids;
mod lite;
mod plan;
mod reminders;
mod seed;
mod sql;
mod summary;
mod tables;
#[cfg(feature = "testing")]
pub mod testing;
mod users;

pub use assessments::{AssessmentHead, AssessmentRow, AssessmentSource, NewAssessment};
pub use audit::{AuditAction, AuditEntity, AuditEntry, AuditFilter, NewAudit};
pub use backup::{VerifiedBackup, verify_backup};
pub use checkins::{CheckInRow, CheckinRevisionRow, CheckinWrite, EscalationRow};
pub use clinic::{
    CareLink, CaseloadEntry, CaseloadPatient, MeasurementRow, NewPlanEdit, NoteRow, OutcomeRow,
    PlanEditRow,
};
pub use db::{Backend, Store};
pub use ids::{UserId, new_id, now_rfc3339, random_token, sha256_hex};
pub use plan::{PhaseChangeRow, PlanInputs, PlanVersion};
pub use seed::{History, HistoryAssessment, HistoryCheckin, HistoryEscalation, HistoryPhaseChange};
pub use users::{API_TOKEN_PREFIX, ApiToken, Role, Session, User};

use thiserror::Error;

/// What can go wrong in storage.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// From the native SQLite path (`lite`).
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A write could not be committed (nothing of it was stored).
    #[error("the database could not store this: {0}")]
    Commit(String),
    /// Refused because of what is stored already; nothing was stored.
    #[error("refused: {0}")]
    Conflict(ConflictKind),
    /// The person's plan changed after it was read for this write (another
    /// instance, device or clinician wrote first); nothing was stored.
    /// Read the plan again and decide again.
    #[error("the plan changed while this was being saved; nothing was saved")]
    PlanChanged,
    #[error("not found")]
    NotFound,
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// A backup file that cannot be restored.
    #[error("{0}")]
    BadBackup(String),
    /// The database has a migration this program does not know: a newer
    /// kneepath changed it, and this one must not write to it.
    #[error(
        "this database was changed by a newer kneepath (its migration {version}, `{name}`; this program knows migrations up to {known}): run that version or a newer one; nothing was changed"
    )]
    NewerSchema {
        version: i64,
        name: String,
        known: i64,
    },
    #[error(
        "migration {version} ({name}) was applied to this database with other contents than this program's: a shipped migration must never be edited; add a new one instead"
    )]
    MigrationEdited { version: i64, name: String },
    #[error("migration {version} failed: {source}")]
    Migration {
        version: i64,
        #[source]
        source: sqlx::Error,
    },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Why a write was refused because of what is stored already (a unique
/// key, a used or expired invitation, a database that is not empty). The
/// words for people are the application's
/// (`kneepath_app::conflict_message`); this type's `Display` is for logs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConflictKind {
    /// A new account's email address belongs to an account already.
    #[error("an account has this email address already")]
    EmailTaken,
    /// The email address an account changes to belongs to another one.
    #[error("another account has this email address")]
    EmailInUse,
    /// A second check-in for a day.
    #[error("there is a check-in for {day} already")]
    AlreadyCheckedIn { day: kneepath_core::Day },
    /// An invitation that was used already.
    #[error("the invitation was used already")]
    InviteUsed,
    /// An invitation past its time.
    #[error("the invitation has expired")]
    InviteExpired,
    /// A restore's target database holds data already.
    #[error("the target database is not empty")]
    NotEmpty,
}

/// Stored data that cannot be read back (a column that does not parse).
pub(crate) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl StoreError {
    /// A unique or primary key constraint failed, on either path.
    pub(crate) fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(e) => is_unique_violation(e),
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => matches!(
                f.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ),
            _ => false,
        }
    }
}
