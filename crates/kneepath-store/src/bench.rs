//! The bare-insert reference rates for the check-in benchmark (`kneepath
//! bench-insert`): how fast this database takes single-row inserts with
//! nothing else going on, through the sqlx pool and, on a SQLite file,
//! natively. Scratch tables only; no request path comes here.

use std::time::{Duration, Instant};

use crate::{Result, Store, StoreError, new_id, now_rfc3339};

/// What a bare insert writes: about a check-in's size.
const ROW: &str = r#"{"pain_now":2,"stiffness":1,"swelling":"none"}"#;

impl Store {
    /// Inserts into a scratch table from `concurrency` tasks for `seconds`,
    /// through this store's pool and settings: the reference rate for the
    /// check-in benchmark. Returns (inserts, p50 µs, p99 µs).
    pub async fn bare_insert_benchmark(
        &self,
        seconds: u64,
        concurrency: usize,
    ) -> Result<(u64, u64, u64)> {
        sqlx::query("CREATE TABLE IF NOT EXISTS bench_rows (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, data TEXT NOT NULL, created_at TEXT NOT NULL)")
            .execute(&self.pool)
            .await?;
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut tasks = Vec::new();
        for _ in 0..concurrency {
            let pool = self.pool.clone();
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let r = sqlx::query("INSERT INTO bench_rows (id, user_id, data, created_at) VALUES ($1, $2, $3, $4)")
                        .bind(new_id())
                        .bind("bench")
                        .bind(ROW)
                        .bind(now_rfc3339())
                        .execute(&pool)
                        .await;
                    if r.is_ok() {
                        lat.push(t.elapsed().as_micros() as u64);
                    }
                }
                lat
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.map_err(|e| StoreError::Corrupt(e.to_string()))?);
        }
        sqlx::query("DROP TABLE bench_rows")
            .execute(&self.pool)
            .await?;
        Ok(percentiles(all))
    }

    /// The native reference: single-row inserts, each its own transaction,
    /// on a fresh native connection with the same settings as the native
    /// path's (WAL, `synchronous = NORMAL`, SQLite's own checkpoints), as
    /// fast as one thread can go. Returns (inserts, p50 µs, p99 µs); none
    /// unless the store is a SQLite file.
    pub async fn bare_insert_native_benchmark(
        &self,
        seconds: u64,
    ) -> Result<Option<(u64, u64, u64)>> {
        let Some(lite) = &self.lite else {
            return Ok(None);
        };
        let path = lite.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            let conn = crate::lite::open(&path)?;
            conn.execute_batch("CREATE TABLE IF NOT EXISTS bench_native (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, data TEXT NOT NULL, created_at TEXT NOT NULL)")?;
            let deadline = Instant::now() + Duration::from_secs(seconds);
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                conn.prepare_cached("INSERT INTO bench_native (id, user_id, data, created_at) VALUES (?1, ?2, ?3, ?4)")?
                    .execute((new_id(), "bench", ROW, now_rfc3339()))?;
                lat.push(t.elapsed().as_micros() as u64);
            }
            conn.execute_batch("DROP TABLE bench_native")?;
            Ok(Some(percentiles(lat)))
        })
        .await
        .map_err(|e| StoreError::Commit(e.to_string()))?
    }
}

/// (count, p50, p99) of latencies.
fn percentiles(mut lat: Vec<u64>) -> (u64, u64, u64) {
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    (lat.len() as u64, pct(0.5), pct(0.99))
}
