//! Logical backup and restore: every table as JSON lines, the same format
//! for SQLite and PostgreSQL (so a backup of one restores into the other).
//!
//! ```text
//! {"format":"kneepath-backup","version":1,"schema":1,"created_at":"..."}
//! {"table":"users","row":{"id":"...","email":"...",...}}
//! ...
//! {"end":true,"rows":1234,"sha256":"<hash of every line above>","hmac":"<optional>"}
//! ```
//!
//! The whole backup is read in one transaction, one snapshot (REPEATABLE
//! READ, read-only, on PostgreSQL; one read transaction on SQLite), so
//! rows written while it runs are all in it or all out of it and the file
//! always restores. With a key (`--key-file`) the trailer also holds an
//! HMAC-SHA256 of the same lines; a restore with the key requires it, so a
//! file edited and given a new SHA-256 is refused.
//!
//! Restore checks the whole file first ([`verify_backup`]: the header, every
//! line, the count, the checksum and the HMAC) before touching the target,
//! refuses a database that already holds data, and writes everything in one
//! transaction: a bad file changes nothing.
//!
//! A backup written under an older schema (back to `OLDEST_SCHEMA`) still
//! restores: a column added since comes back NULL, a table added since
//! empty.

use std::io::{BufRead, Write};

use hmac::{KeyInit, Mac};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::db::Backend;
use crate::{ConflictKind, Result, Store, StoreError, now_rfc3339};

type HmacSha256 = hmac::Hmac<Sha256>;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

use crate::tables::{Kind, TABLES};
use Kind::{Int, Text};

const FORMAT: &str = "kneepath-backup";
const SCHEMA: i64 = 9;
/// The oldest schema a backup may have been written with. Later schemas
/// only added nullable columns, which such a backup restores as NULL
/// (schema 5 added `users.time_zone`), or tables, which it has no rows of
/// (schema 6, migration 8, added `checkin_revisions`; schema 7, migration
/// 9, `password_resets`; schema 8, migration 11, the nullable
/// `users.reminder_time`, and `users.reminded_on`, which backups leave
/// out; schema 9, migration 12, the nullable `users.guest_until`, so that
/// a restored guest stays one and is deleted when its time ends).
/// Migration 6 only
/// replaced an index and migration 7 added a column backups leave out
/// (`users.plan_version`): the rows backed up, and so the backup's schema
/// number, stayed the same.
const OLDEST_SCHEMA: i64 = 4;

fn row_to_json(r: &AnyRow, cols: &[(&str, Kind)]) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    for (name, kind) in cols {
        let v = match kind {
            Text => r
                .try_get::<Option<String>, _>(*name)?
                .map_or(Value::Null, Value::String),
            Int => r
                .try_get::<Option<i64>, _>(*name)?
                .map_or(Value::Null, Value::from),
            // Only rebuilt tables hold bytes, and backups leave them out.
            Kind::Bytes => {
                return Err(StoreError::Corrupt(format!(
                    "{name}: bytes are not backed up"
                )));
            }
        };
        m.insert((*name).to_string(), v);
    }
    Ok(m)
}

fn select_sql(table: &str, cols: &[(&str, Kind)], order: &str) -> String {
    let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
    format!("SELECT {} FROM {table} ORDER BY {order}", names.join(", "))
}

/// Rows of one table, in primary-key order, as JSON objects.
async fn table_rows(
    store: &Store,
    table: &str,
    cols: &[(&str, Kind)],
    order: &str,
) -> Result<Vec<Map<String, Value>>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(select_sql(table, cols, order)))
        .fetch_all(&store.pool)
        .await?;
    rows.iter().map(|r| row_to_json(r, cols)).collect()
}

/// The same, inside the backup's snapshot.
async fn table_rows_in(
    tx: &mut Transaction<'_, Any>,
    table: &str,
    cols: &[(&str, Kind)],
    order: &str,
) -> Result<Vec<Map<String, Value>>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(select_sql(table, cols, order)))
        .fetch_all(&mut **tx)
        .await?;
    rows.iter().map(|r| row_to_json(r, cols)).collect()
}

/// A backup file checked in full ([`verify_backup`]) and ready to restore.
#[derive(Debug, Clone)]
pub struct VerifiedBackup {
    /// (index into the tables, row), in file order (parents first).
    rows: Vec<(usize, Map<String, Value>)>,
}

impl VerifiedBackup {
    pub fn rows(&self) -> usize {
        self.rows.len()
    }
}

/// Read and check a whole backup file without touching any database: the
/// header (required), every line, the row count, the SHA-256 and, with a
/// key, the HMAC. Nothing is restored from a file that fails any check.
pub fn verify_backup(input: &mut dyn BufRead, key: Option<&[u8]>) -> Result<VerifiedBackup> {
    let mut hash = Sha256::new();
    let mut mac = match key {
        Some(k) => {
            Some(HmacSha256::new_from_slice(k).map_err(|_| bad("the backup key cannot be used"))?)
        }
        None => None,
    };
    let mut rows: Vec<(usize, Map<String, Value>)> = Vec::new();
    let mut header = false;
    let mut trailer: Option<(u64, String, Option<String>)> = None;
    for (no, line) in input.lines().enumerate() {
        let line = line.map_err(|e| bad(format!("cannot read the backup: {e}")))?;
        if trailer.is_some() {
            return Err(bad(format!("line {}: text after the end marker", no + 1)));
        }
        let v: Value = serde_json::from_str(&line)
            .map_err(|e| bad(format!("line {}: not JSON: {e}", no + 1)))?;
        if v.get("end").is_some() {
            let n = v
                .get("rows")
                .and_then(Value::as_u64)
                .ok_or_else(|| bad("end marker without a row count"))?;
            let h = v
                .get("sha256")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("end marker without a checksum"))?;
            let m = v.get("hmac").and_then(Value::as_str).map(String::from);
            trailer = Some((n, h.to_string(), m));
            continue;
        }
        hash.update(line.as_bytes());
        hash.update(b"\n");
        if let Some(m) = mac.as_mut() {
            m.update(line.as_bytes());
            m.update(b"\n");
        }
        if !header {
            if v.get("format").and_then(Value::as_str) != Some(FORMAT) {
                return Err(bad("not a kneepath backup (no header line)"));
            }
            match v.get("schema").and_then(Value::as_i64) {
                Some(n) if (OLDEST_SCHEMA..=SCHEMA).contains(&n) => {}
                Some(n) => {
                    return Err(bad(format!(
                        "the backup is of schema version {n}; this kneepath reads {OLDEST_SCHEMA} to {SCHEMA}"
                    )));
                }
                None => return Err(bad("the backup's header has no schema version")),
            }
            header = true;
            continue;
        }
        let table = v
            .get("table")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("line {}: no table", no + 1)))?;
        let t = TABLES
            .iter()
            .position(|t| t.name == table && !t.rebuilt)
            .ok_or_else(|| bad(format!("line {}: unknown table {table}", no + 1)))?;
        let row = v
            .get("row")
            .and_then(Value::as_object)
            .cloned()
            .ok_or_else(|| bad(format!("line {}: no row", no + 1)))?;
        rows.push((t, row));
    }
    let (count, expected, hmac) =
        trailer.ok_or_else(|| bad("the backup is incomplete: no end marker"))?;
    if !header {
        return Err(bad("not a kneepath backup (no header line)"));
    }
    if hex(&hash.finalize()) != expected {
        return Err(bad(
            "the backup's checksum does not match: the file was changed or damaged",
        ));
    }
    if let Some(m) = mac {
        let given = hmac.ok_or_else(|| {
            bad("the backup has no HMAC, but a key was given: it was not made with the key")
        })?;
        let given = (0..given.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(given.get(i..i + 2).unwrap_or("zz"), 16))
            .collect::<std::result::Result<Vec<u8>, _>>()
            .map_err(|_| bad("the backup's HMAC is not hexadecimal"))?;
        m.verify_slice(&given).map_err(|_| {
            bad("the backup's HMAC does not match the key: the file was changed, or the key is another")
        })?;
    }
    if count != rows.len() as u64 {
        return Err(bad(format!(
            "the backup says {count} rows but holds {}",
            rows.len()
        )));
    }
    Ok(VerifiedBackup { rows })
}

fn bad(msg: impl Into<String>) -> StoreError {
    StoreError::BadBackup(msg.into())
}

impl Store {
    /// Write every table to `out`; returns the number of rows.
    pub async fn backup(&self, out: &mut dyn Write) -> Result<u64> {
        self.backup_with(out, None).await
    }

    /// Write every table to `out` from one snapshot, with an HMAC of the
    /// lines under `key` when one is given; returns the number of rows.
    pub async fn backup_with(&self, out: &mut dyn Write, key: Option<&[u8]>) -> Result<u64> {
        let mut hash = Sha256::new();
        let mut mac = match key {
            Some(k) => Some(
                HmacSha256::new_from_slice(k).map_err(|_| bad("the backup key cannot be used"))?,
            ),
            None => None,
        };
        let mut n = 0u64;
        let mut line = |out: &mut dyn Write, v: &Value| -> Result<()> {
            let s = serde_json::to_string(v).map_err(|e| bad(e.to_string()))?;
            hash.update(s.as_bytes());
            hash.update(b"\n");
            if let Some(m) = mac.as_mut() {
                m.update(s.as_bytes());
                m.update(b"\n");
            }
            writeln!(out, "{s}").map_err(|e| bad(format!("cannot write the backup: {e}")))
        };
        line(
            out,
            &serde_json::json!({"format": FORMAT, "version": 1, "schema": SCHEMA, "created_at": now_rfc3339()}),
        )?;
        // One snapshot for every table: rows written meanwhile are all in
        // the backup or all out of it.
        let mut tx = self.pool.begin().await?;
        if self.backend() == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        for t in TABLES.iter().filter(|t| !t.rebuilt) {
            let (table, cols, order) = (t.name, t.columns, t.order_by);
            for row in table_rows_in(&mut tx, table, cols, order).await? {
                line(out, &serde_json::json!({"table": table, "row": row}))?;
                n += 1;
            }
        }
        tx.rollback().await?;
        let digest = hex(&hash.finalize());
        let mut end = serde_json::json!({"end": true, "rows": n, "sha256": digest});
        if let Some(m) = mac {
            end["hmac"] = Value::from(hex(&m.finalize().into_bytes()));
        }
        writeln!(
            out,
            "{}",
            serde_json::to_string(&end).map_err(|e| bad(e.to_string()))?
        )
        .map_err(|e| bad(format!("cannot write the backup: {e}")))?;
        Ok(n)
    }

    /// Restore a backup into this (empty) database. The file is checked
    /// completely first ([`verify_backup`], without a key); then everything
    /// is written in one transaction.
    pub async fn restore(&self, input: &mut dyn BufRead) -> Result<u64> {
        let verified = verify_backup(input, None)?;
        self.restore_verified(&verified).await
    }

    /// Restore a checked backup into this (empty) database, in one
    /// transaction.
    pub async fn restore_verified(&self, backup: &VerifiedBackup) -> Result<u64> {
        let rows = &backup.rows;
        // 2. The target must be empty.
        let (users,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?;
        if users > 0 {
            return Err(StoreError::Conflict(ConflictKind::NotEmpty));
        }
        // 3. Write everything in one transaction, parents first.
        let _writing = self.writer().await;
        let mut tx = self.pool.begin().await?;
        for (t, row) in rows {
            let (table, cols) = (TABLES[*t].name, TABLES[*t].columns);
            let names: Vec<&str> = cols.iter().map(|(n, _)| *n).collect();
            let marks: Vec<String> = (1..=cols.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                names.join(", "),
                marks.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (name, kind) in cols {
                let v = row.get(*name).unwrap_or(&Value::Null);
                q = match (kind, v) {
                    (_, Value::Null) if *kind == Text => q.bind(None::<String>),
                    (_, Value::Null) => q.bind(None::<i64>),
                    (Text, Value::String(s)) => q.bind(s.clone()),
                    (Int, Value::Number(n)) if n.is_i64() => q.bind(n.as_i64()),
                    _ => return Err(bad(format!("{table}.{name}: value of the wrong type"))),
                };
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        drop(_writing);
        self.rebuild_summaries().await?;
        Ok(rows.len() as u64)
    }

    /// Row count and content hash of every table, for comparing databases.
    pub async fn table_checksums(&self) -> Result<Vec<(&'static str, usize, String)>> {
        let mut out = Vec::new();
        for t in TABLES.iter().filter(|t| !t.rebuilt) {
            let (table, cols) = (t.name, t.columns);
            let rows = table_rows(self, table, cols, t.order_by).await?;
            let mut h = Sha256::new();
            for r in &rows {
                h.update(
                    serde_json::to_string(r)
                        .map_err(|e| bad(e.to_string()))?
                        .as_bytes(),
                );
            }
            let digest: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
            out.push((table, rows.len(), digest));
        }
        Ok(out)
    }
}
