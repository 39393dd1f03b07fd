//! `kneepath backup` / `kneepath restore`: the logical JSON-lines format of
//! `kneepath_store::backup`, the same for SQLite and PostgreSQL.

use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

#[derive(Args, Debug)]
pub struct BackupArgs {
    #[arg(
        long,
        default_value = "sqlite://kneepath.db",
        env = "KNEEPATH_DATABASE_URL"
    )]
    database: String,
    /// File to write (created or replaced only when the backup is complete).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// An empty database to restore into (created if a SQLite file is missing).
    #[arg(long, env = "KNEEPATH_DATABASE_URL")]
    database: String,
    /// The backup file.
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
}

pub fn backup(args: BackupArgs) -> Result<()> {
    crate::common::runtime()?.block_on(async {
        let store = crate::common::open(&args.database).await?;
        // Write beside the target, then rename: a failed backup never
        // replaces a good one.
        let tmp = args.out.with_extension("partial");
        let file = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        let mut w = BufWriter::new(file);
        let rows = store.backup(&mut w).await?;
        w.flush()?;
        std::fs::rename(&tmp, &args.out)
            .with_context(|| format!("cannot write {}", args.out.display()))?;
        say!("backed up {rows} rows to {}", args.out.display());
        Ok(())
    })
}

pub fn restore(args: RestoreArgs) -> Result<()> {
    crate::common::runtime()?.block_on(async {
        let file = std::fs::File::open(&args.input)
            .with_context(|| format!("cannot read {}", args.input.display()))?;
        let store = crate::common::open(&args.database).await?;
        let rows = store
            .restore(&mut BufReader::new(file))
            .await
            .with_context(|| {
                format!(
                    "restore of {} failed; nothing was written",
                    args.input.display()
                )
            })?;
        say!("restored {rows} rows into {}", args.database);
        Ok(())
    })
}
