//! What the database commands (`serve`, `seed`, `backup`, `restore`,
//! `bench-insert`) share: the runtime, the `--today` clock, and opening the
//! database with an error that names it (a password in its URL shown as
//! `***`).

use anyhow::{Context, Result, anyhow};
use kneepath_app::Clock;
use kneepath_core::Day;
use kneepath_store::{Store, StoreError};

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// `--today YYYY-MM-DD`, or the system clock.
pub fn clock(today: Option<&str>) -> Result<Clock> {
    match today {
        Some(d) => Ok(Clock::Fixed(
            d.parse::<Day>().map_err(|e| anyhow!("--today: {e}"))?,
        )),
        None => Ok(Clock::System),
    }
}

/// A store error as a command reports it: a refusal (a taken email, a
/// database that is not empty) in the application's words for people.
pub fn said(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::Conflict(kind) => anyhow!(kneepath_app::conflict_message(&kind)),
        other => other.into(),
    }
}

pub async fn open(database: &str) -> Result<Store> {
    Store::connect(database)
        .await
        .with_context(|| format!("cannot open database {}", shown(database)))
}

/// A database URL as it may be printed: a password in it becomes `***`.
fn shown(database: &str) -> String {
    match url::Url::parse(database) {
        Ok(mut u) if u.password().is_some() => match u.set_password(Some("***")) {
            Ok(()) => u.to_string(),
            Err(()) => "the database URL given".to_string(),
        },
        _ => database.to_string(),
    }
}

/// Pretty JSON and a newline on standard output; a write error (such as a
/// closed pipe) is returned, not a panic as with `println!`.
pub fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// The account with this email, if it has this role.
pub async fn user_with_role(
    store: &Store,
    email: &str,
    role: kneepath_store::Role,
) -> Result<kneepath_store::User> {
    store
        .user_by_email(email)
        .await?
        .filter(|u| u.role == role)
        .ok_or_else(|| anyhow!("no {} has the email {email}", role.as_str()))
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn a_password_in_a_database_url_is_not_shown() {
        assert_eq!(
            shown("postgres://kp:s3cr%40t@db.example:5432/kneepath?sslmode=require"),
            "postgres://kp:***@db.example:5432/kneepath?sslmode=require"
        );
        assert_eq!(
            shown("postgres://kp@db/kneepath"),
            "postgres://kp@db/kneepath"
        );
        assert_eq!(shown("sqlite://kneepath.db"), "sqlite://kneepath.db");
        assert_eq!(shown("sqlite:///tmp/a@b.db"), "sqlite:///tmp/a@b.db");
        assert_eq!(shown("nonsense"), "nonsense");
    }
}
