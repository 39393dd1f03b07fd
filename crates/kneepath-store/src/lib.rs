//! kneepath's storage: one code path for SQLite and PostgreSQL.
//!
//! Everything goes through sqlx's `Any` driver with portable SQL (`$1..$n`
//! placeholders; TEXT, BIGINT/INTEGER, SMALLINT and DOUBLE PRECISION
//! columns), so the same queries and migrations run on both databases.
//! Rows are turned into core types here; no SQL leaves this crate.
//!
//! Clinical records are append-only: assessments, check-ins and phase
//! changes are inserted, never updated. Every write of patient data is done
//! in one transaction with its audit-log row.

mod backup;
mod clinic;
mod db;
mod ids;
mod records;
mod users;

pub use clinic::{
    AuditFilter, CareLink, CaseloadEntry, MeasurementRow, NewPlanEdit, NoteRow, OutcomeRow,
    PlanEditRow,
};
pub use db::{Backend, Store};
pub use ids::{new_id, now_rfc3339, random_token, sha256_hex};
pub use records::{
    AssessmentHead, AssessmentRow, AuditEntry, CheckInRow, CheckinWrite, EscalationRow, History,
    NewAssessment, NewAudit, PhaseChangeRow,
};
pub use users::{API_TOKEN_PREFIX, ApiToken, Role, Session, User};

use thiserror::Error;

/// What can go wrong in storage.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A unique constraint: the thing already exists (message for people).
    #[error("{0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// A backup file that cannot be restored.
    #[error("{0}")]
    BadBackup(String),
    #[error("migration {version} failed: {source}")]
    Migration {
        version: i64,
        #[source]
        source: sqlx::Error,
    },
}

pub type Result<T> = std::result::Result<T, StoreError>;

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
