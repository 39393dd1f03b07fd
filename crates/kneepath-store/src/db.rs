//! Connecting, pragmas, migrations and the write path.
//!
//! [`Store::connect`] opens one probe connection first, set up as the pool's
//! will be, so that a file that is not a database or a refused login fails
//! at once with its reason rather than after the pool's acquire timeout.
//!
//! Migrations are portable SQL files (`migrations/`), embedded and run by
//! the store's own small runner rather than sqlx's migrator, because it
//! runs the same files through sqlx's `Any` driver on both databases and
//! lets instances start together on one database: each migration is
//! claimed by inserting its `schema_migrations` row first, in the
//! transaction that applies it, so only one instance applies it. Each row
//! keeps the migration's SHA-256: a database whose applied migration
//! differs from the program's is refused, and so is one carrying a
//! migration this program does not know (made by a newer kneepath), left
//! as it is.
//!
//! Writes: on SQLite every writer (sqlx's and the native thread's) queues
//! on one in-process async mutex, one at a time, instead of sleeping in
//! SQLite's busy handler. [`Store::write_all`] runs a list of statements in
//! one transaction (natively on a SQLite file, see `lite.rs`), and
//! `Store::write_audited` adds the change's audit row to the same
//! transaction.

use std::str::FromStr;
use std::sync::Arc;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::lite::Lite;
use crate::sql::{Cells, Stmt, exec_in};
use crate::{Result, StoreError, UserId};
use kneepath_core::caseload::CaseSummary;

/// Which database the store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The migrations, embedded in the binary, in order. Each is a list of
/// statements separated by `;` at the end of a line. A database keeps the
/// SHA-256 of each migration applied to it, and refuses to open with a
/// program whose migration of that number differs; `migrations/SHA256SUMS`
/// pins every shipped one (a unit test), so an edit fails the tests first.
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (
        2,
        "calendar",
        include_str!("../migrations/0002_calendar.sql"),
    ),
    (3, "clinic", include_str!("../migrations/0003_clinic.sql")),
    (
        4,
        "api_tokens",
        include_str!("../migrations/0004_api_tokens.sql"),
    ),
    (
        5,
        "time_zone",
        include_str!("../migrations/0005_time_zone.sql"),
    ),
    (
        6,
        "read_order",
        include_str!("../migrations/0006_read_order.sql"),
    ),
    (
        7,
        "plan_version",
        include_str!("../migrations/0007_plan_version.sql"),
    ),
    (
        8,
        "checkin_revisions",
        include_str!("../migrations/0008_checkin_revisions.sql"),
    ),
    (
        9,
        "password_resets",
        include_str!("../migrations/0009_password_resets.sql"),
    ),
    (
        10,
        "caseload_summaries",
        include_str!("../migrations/0010_caseload_summaries.sql"),
    ),
    (
        11,
        "reminders",
        include_str!("../migrations/0011_reminders.sql"),
    ),
    (12, "guests", include_str!("../migrations/0012_guests.sql")),
    (
        13,
        "caseload_index",
        include_str!("../migrations/0013_caseload_index.sql"),
    ),
    (
        14,
        "caseload_rows",
        include_str!("../migrations/0014_caseload_rows.sql"),
    ),
];

/// A handle on the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// SQLite allows one writer at a time. Writers queue here, in the
    /// process, instead of in SQLite's busy handler (which sleeps and
    /// retries); PostgreSQL does not need it.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// The native path on a SQLite file (see `lite.rs`).
    pub(crate) lite: Option<Arc<Lite>>,
    /// Sessions recently looked up; only with `lite` (see `users.rs`).
    pub(crate) sessions: Option<Arc<crate::users::SessionCache>>,
}

impl Store {
    /// Connect and apply pending migrations. `url` is `sqlite://path` (the
    /// file is created if missing) or `postgres://...`.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Database(sqlx::Error::Configuration(
                "not a database URL kneepath knows: use sqlite://FILE or postgres://...".into(),
            )));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        // One connection first, set up as the pool's will be, so that a file
        // that is not a database, or a refused login, is reported at once
        // with its reason: the pool would retry it until its 30 s acquire
        // timeout and then only say so.
        {
            use sqlx::Connection;
            let mut probe = sqlx::AnyConnection::connect_with(&options).await?;
            set_up(&mut probe, backend).await?;
            probe.close().await?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 16,
            })
            .after_connect(move |conn, _meta| Box::pin(set_up(conn, backend)))
            .connect_with(options)
            .await?;
        let mut store = Store {
            pool,
            backend,
            writer: Arc::new(tokio::sync::Mutex::new(())),
            lite: None,
            sessions: None,
        };
        store.migrate().await?;
        if let (Backend::Sqlite, Some(file)) = (backend, crate::lite::file_of(&url)) {
            store.lite = Some(Arc::new(Lite::open(&file, store.writer.clone())?));
            store.sessions = Some(Arc::default());
        }
        store.rebuild_summaries().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Hold this while writing: on SQLite it makes writes one at a time.
    pub(crate) async fn writer(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.backend {
            Backend::Sqlite => Some(self.writer.clone().lock_owned().await),
            Backend::Postgres => None,
        }
    }

    /// Run statements in one transaction, in order (holding the writer lock
    /// on SQLite), with the caseload summaries they touch brought up to
    /// date in it ([`crate::summary`]).
    pub(crate) async fn write_all(&self, stmts: Vec<Stmt>) -> Result<()> {
        if let Some(lite) = &self.lite {
            // The native path takes the writer lock itself.
            return lite
                .write(move |conn| {
                    for st in &stmts {
                        st.run(conn)?;
                    }
                    crate::summary::refresh_native(conn, &stmts)
                })
                .await;
        }
        let _writing = self.writer().await;
        if let [one] = stmts.as_slice()
            && one.touch.is_none()
        {
            // One statement is atomic by itself.
            let done = one.query().execute(&self.pool).await?;
            return one.check(done.rows_affected());
        }
        let mut tx = self.pool.begin().await?;
        crate::summary::lock_touched_in(&mut tx, self.backend, &stmts).await?;
        for st in &stmts {
            exec_in(&mut tx, st).await?;
        }
        crate::summary::refresh_in(&mut tx, &stmts).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Write `stmts` and the audit row `audit` in one transaction: all of
    /// it is stored, or nothing. The one write path of a change and its
    /// audit row ([`Store::write_all`]: natively on a SQLite file, through
    /// sqlx otherwise).
    pub(crate) async fn write_audited(
        &self,
        mut stmts: Vec<Stmt>,
        audit: &crate::NewAudit<'_>,
    ) -> Result<()> {
        stmts.push(crate::audit::audit_stmt(audit));
        self.write_all(stmts).await
    }

    /// Run a query and read its rows: natively on a SQLite file (where a
    /// column may hold text or bytes whatever its declared type, which the
    /// native rows read alike), else through sqlx.
    pub(crate) async fn read_rows<T: Send + 'static>(
        &self,
        st: Stmt,
        decode: fn(&dyn Cells) -> Result<T>,
    ) -> Result<Vec<T>> {
        match &self.lite {
            Some(lite) => lite.read(move |c| st.rows(c, |r| decode(r))).await,
            None => {
                let rows = st.query().fetch_all(&self.pool).await?;
                rows.iter().map(|r| decode(r)).collect()
            }
        }
    }

    /// Bring the caseload rows to what they must be at rest: delete those
    /// of ended links, copy the patients' fields where they differ, then
    /// rebuild the rows of every patient with an active link that has no
    /// row (restored, a rebuild cut short, or the first start after
    /// migration 14) or a row this program
    /// cannot read, each in a write of its own. Returns how many patients'
    /// rows were rebuilt.
    pub async fn rebuild_summaries(&self) -> Result<usize> {
        self.write_all(crate::summary::at_rest_stmts().into())
            .await?;
        let mut missing: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT l.patient_id FROM care_links l WHERE l.revoked_at IS NULL AND NOT EXISTS \
             (SELECT 1 FROM caseload_rows r WHERE r.clinician_id = l.clinician_id AND r.patient_id = l.patient_id) \
             ORDER BY l.patient_id",
        )
        .fetch_all(&self.pool)
        .await?;
        // A row this program cannot read (written by another version) is
        // rebuilt too, rather than by every dashboard that shows it.
        let stored = self
            .read_rows(
                Stmt::new(
                    "SELECT DISTINCT patient_id, data FROM caseload_rows ORDER BY patient_id",
                ),
                |r| Ok((r.text("patient_id")?, r.opt_bytes("data")?)),
            )
            .await?;
        missing.extend(
            stored
                .into_iter()
                .filter(|(_, data)| data.as_deref().and_then(crate::summary::decode).is_none())
                .map(|(id, _)| id),
        );
        missing.sort_unstable();
        missing.dedup();
        for id in missing.iter().cloned() {
            self.write_all(vec![crate::summary::rebuild_stmt(&UserId::new(id))])
                .await?;
        }
        Ok(missing.len())
    }

    /// A person's caseload summary as stored (`None`: none written: nobody
    /// looks after them).
    pub async fn caseload_summary(&self, user: &UserId) -> Result<Option<CaseSummary>> {
        let row = self
            .read_rows(crate::summary::current_stmt(user), |r| r.opt_bytes("data"))
            .await?
            .pop();
        match row {
            Some(data) => crate::summary::decode(&data.unwrap_or_default())
                .map(Some)
                .ok_or_else(|| crate::corrupt("a caseload summary this program cannot read")),
            None => Ok(None),
        }
    }

    /// A person's caseload summary rebuilt from their rows, without
    /// writing it (to check the stored one against).
    pub async fn rebuilt_summary(&self, user: &UserId) -> Result<CaseSummary> {
        let mut tx = self.pool.begin().await?;
        let summary = crate::summary::rebuild_in(&mut tx, user).await?;
        tx.rollback().await?;
        Ok(summary)
    }

    async fn migrate(&self) -> Result<()> {
        // Two instances starting at once may both create this table; on
        // PostgreSQL the loser gets a unique violation, which is fine.
        let created = self
            .pool
            .execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
            )
            .await;
        match created {
            Err(e) if crate::is_unique_violation(&e) => {}
            other => {
                other?;
            }
        }
        // Each applied migration's SHA-256 is kept (the column came with
        // the checksums; rows applied before it get theirs filled in once).
        let has_checksums = self
            .pool
            .execute("SELECT checksum FROM schema_migrations WHERE 1 = 0")
            .await
            .is_ok();
        if !has_checksums {
            let added = self
                .pool
                .execute("ALTER TABLE schema_migrations ADD COLUMN checksum TEXT")
                .await;
            // Another instance starting at once may have added it.
            if let Err(e) = added
                && self
                    .pool
                    .execute("SELECT checksum FROM schema_migrations WHERE 1 = 0")
                    .await
                    .is_err()
            {
                return Err(e.into());
            }
        }
        // A database a newer program migrated is left alone: this one does
        // not know what the newer schema means.
        let known = MIGRATIONS.iter().map(|m| m.0).max().unwrap_or(0);
        let newer: Option<(i64, String)> = sqlx::query_as(
            "SELECT version, name FROM schema_migrations WHERE version > $1 ORDER BY version LIMIT 1",
        )
        .bind(known)
        .fetch_optional(&self.pool)
        .await?;
        if let Some((version, name)) = newer {
            return Err(StoreError::NewerSchema {
                version,
                name,
                known,
            });
        }
        for &(version, name, sql) in MIGRATIONS {
            let checksum = crate::sha256_hex(sql);
            let done: Option<(i64, Option<String>)> = sqlx::query_as(
                "SELECT version, checksum FROM schema_migrations WHERE version = $1",
            )
            .bind(version)
            .fetch_optional(&self.pool)
            .await?;
            match done {
                Some((_, Some(applied))) if applied != checksum => {
                    return Err(StoreError::MigrationEdited {
                        version,
                        name: name.to_string(),
                    });
                }
                Some((_, Some(_))) => continue,
                Some((_, None)) => {
                    sqlx::query("UPDATE schema_migrations SET checksum = $1 WHERE version = $2 AND checksum IS NULL")
                        .bind(&checksum)
                        .bind(version)
                        .execute(&self.pool)
                        .await?;
                    continue;
                }
                None => {}
            }
            // Claim the migration first: a concurrent instance starting on
            // the same database blocks on this row, then finds it taken.
            let mut tx = self.pool.begin().await?;
            let claimed = sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at, checksum) VALUES ($1, $2, $3, $4)",
            )
            .bind(version)
            .bind(name)
            .bind(crate::now_rfc3339())
            .bind(&checksum)
            .execute(&mut *tx)
            .await;
            match claimed {
                Err(e) if crate::is_unique_violation(&e) => {
                    tx.rollback().await?;
                    continue;
                }
                other => {
                    other?;
                }
            }
            for stmt in statements(sql) {
                tx.execute(sqlx::AssertSqlSafe(stmt))
                    .await
                    .map_err(|source| StoreError::Migration { version, source })?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// Close the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// What every connection runs before its first use.
async fn set_up(conn: &mut sqlx::AnyConnection, backend: Backend) -> sqlx::Result<()> {
    if backend == Backend::Sqlite {
        // WAL: readers never block the writer; NORMAL is durable across
        // application crashes in WAL mode.
        conn.execute("PRAGMA journal_mode = WAL").await?;
        conn.execute("PRAGMA synchronous = NORMAL").await?;
        conn.execute("PRAGMA foreign_keys = ON").await?;
        conn.execute("PRAGMA busy_timeout = 5000").await?;
    }
    if backend == Backend::Postgres {
        // kneepath's working set is small and cached: a random page read
        // costs about what a sequential one does. At PostgreSQL's default
        // (4) the planner read the caseload's 200 patients by scanning all
        // users and summaries (4.4-4.6 ms a page at 10,000 patients); at 1.1
        // it looks each up by its key (2.2-2.7 ms). For this app's
        // sessions only: the server's setting is left alone.
        conn.execute("SET random_page_cost = 1.1").await?;
    }
    Ok(())
}

/// Split a migration into statements, dropping `--` comments.
pub(crate) fn statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in sql.lines() {
        let line = line.split("--").next().unwrap_or("").trim_end();
        if line.trim().is_empty() {
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
        if line.ends_with(';') {
            out.push(cur.trim().trim_end_matches(';').to_string());
            cur.clear();
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

impl Store {
    /// Run one administrative statement (e.g. CREATE DATABASE, for tests and
    /// tools). Not for data.
    pub async fn execute_admin(&self, sql: &str) -> crate::Result<()> {
        self.pool
            .execute(sqlx::AssertSqlSafe(sql.to_string()))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn migration_splits_into_statements() {
        let s = super::statements(super::MIGRATIONS[0].2);
        assert!(s.len() > 10);
        assert!(s.iter().all(|x| !x.contains("--") && !x.ends_with(';')));
    }

    /// Every shipped migration is pinned by its SHA-256 in
    /// `migrations/SHA256SUMS`: editing one fails here (add a new migration
    /// instead), and a new one must be added to the list.
    #[test]
    fn shipped_migrations_are_never_edited() {
        let sums: Vec<(&str, &str)> = include_str!("../migrations/SHA256SUMS")
            .lines()
            .filter_map(|l| l.split_once("  "))
            .collect();
        assert_eq!(
            sums.len(),
            super::MIGRATIONS.len(),
            "one line per migration"
        );
        for ((version, name, sql), (sum, file)) in super::MIGRATIONS.iter().zip(&sums) {
            assert_eq!(
                *file,
                format!("{version:04}_{name}.sql"),
                "SHA256SUMS lists the migrations in order"
            );
            assert_eq!(
                crate::sha256_hex(sql),
                *sum,
                "migration {file} was edited after it shipped: add a new migration instead"
            );
        }
    }
}
