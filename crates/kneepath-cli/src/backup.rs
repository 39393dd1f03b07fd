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
    /// A file holding a secret key: the backup then carries an HMAC of its
    /// contents, which a restore with the same key requires.
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// An empty database to restore into (created if a SQLite file is missing).
    #[arg(long, env = "KNEEPATH_DATABASE_URL")]
    database: String,
    /// The backup file.
    #[arg(long = "in", value_name = "FILE")]
    input: PathBuf,
    /// The key the backup was made with: its HMAC must then match.
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
}

/// A backup key from a file: its bytes, without a final line break; at
/// least 16 bytes.
fn key(path: Option<&PathBuf>) -> Result<Option<Vec<u8>>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let mut k = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    while k.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        k.pop();
    }
    if k.len() < 16 {
        anyhow::bail!(
            "the key in {} is too short: use at least 16 bytes of secret",
            path.display()
        );
    }
    Ok(Some(k))
}

pub fn backup(args: BackupArgs) -> Result<()> {
    let key = key(args.key_file.as_ref())?;
    crate::common::runtime()?.block_on(async {
        let store = crate::common::open(&args.database).await?;
        // Write beside the target, then rename: a failed backup never
        // replaces a good one.
        let tmp = args.out.with_extension("partial");
        let file = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        let mut w = BufWriter::new(file);
        let rows = store.backup_with(&mut w, key.as_deref()).await?;
        w.flush()?;
        std::fs::rename(&tmp, &args.out)
            .with_context(|| format!("cannot write {}", args.out.display()))?;
        say!("backed up {rows} rows to {}", args.out.display());
        Ok(())
    })
}

pub fn restore(args: RestoreArgs) -> Result<()> {
    let key = key(args.key_file.as_ref())?;
    let failed = || {
        format!(
            "restore of {} failed; nothing was written",
            args.input.display()
        )
    };
    // The whole file is checked before the target is opened (or created
    // and migrated): a refused file leaves no trace.
    let file = std::fs::File::open(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let verified = kneepath_store::verify_backup(&mut BufReader::new(file), key.as_deref())
        .with_context(failed)?;
    crate::common::runtime()?.block_on(async {
        let store = crate::common::open(&args.database).await?;
        let rows = store
            .restore_verified(&verified)
            .await
            .map_err(crate::common::said)
            .with_context(failed)?;
        say!("restored {rows} rows into {}", args.database);
        Ok(())
    })
}
