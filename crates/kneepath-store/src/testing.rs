//! Helpers for tests only (compiled with the `testing` feature, which
//! only the test builds of this crate and of `kneepath-web` turn on).

use crate::{Result, Store};

impl Store {
    /// How many rows of each table contain any of `needles` in any text
    /// column. Used to prove that a deleted account left nothing behind.
    pub async fn rows_containing(&self, needles: &[&str]) -> Result<Vec<(&'static str, i64)>> {
        let mut out = Vec::new();
        for table in crate::tables::TABLES {
            let cond = table
                .text_columns()
                .map(|c| format!("COALESCE({c}, '') LIKE $1"))
                .collect::<Vec<_>>()
                .join(" OR ");
            let mut total = 0;
            for needle in needles {
                let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM {} WHERE {cond}",
                    table.name
                )))
                .bind(format!("%{needle}%"))
                .fetch_one(&self.pool)
                .await?;
                total += n;
            }
            out.push((table.name, total));
        }
        Ok(out)
    }
}
