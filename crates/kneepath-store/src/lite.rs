//! The native SQLite path for the requests every patient makes many times a
//! day (session lookup, the plan's inputs) and for every write made as a
//! list of statements (`Store::write_all`: the check-in, the audited
//! writes, audit rows).
//!
//! sqlx's SQLite driver runs each connection on its own thread and hands
//! every statement over to it and every row back: two thread switches per
//! statement, which the load benchmark measured as the largest cost of a
//! check-in (BENCHMARKS.md). Here one thread owns one `rusqlite` connection
//! and runs whole units of work sent to it (several statements, or a write):
//! one hand-off per unit. The SQL texts, arguments and row decoders are the
//! same ones the sqlx path uses ([`crate::sql`]); PostgreSQL, and SQLite
//! opened in memory, use sqlx for everything.
//!
//! Writes are committed in groups: the thread takes every write waiting for
//! it, runs each inside its own savepoint of one transaction (a write that
//! fails is rolled back alone), commits once, and only then answers each
//! caller. Every answered write is as durable as before; the transaction,
//! lock and WAL costs are shared. One connection for all of it also keeps
//! its page cache valid (SQLite drops a connection's cache whenever another
//! connection has written). Reads of requests waiting together run in one
//! read transaction.
//!
//! That thread is the one serial resource under load, so it only steps
//! SQLite and copies text out: the JSON of check-ins and of the governing
//! assessment's facts is parsed after the hand-off, on the caller's thread
//! (`RawCheckin`, `RawHead`; the sqlx path runs the same two steps).
//!
//! The serving connection never checkpoints on commit. A second thread,
//! woken every [`CHECKPOINT_EVERY`] writes, copies the WAL back (PASSIVE,
//! which waits for no one); under steady writes that never empties it, so
//! once the WAL reaches [`RESTART_FRAMES`] the thread restarts it (RESTART,
//! under the writer lock), once per size reached. Because a RESTART stalls
//! every write for its two fsyncs, the files are synced just before it,
//! with writes going on, so that its own syncs find little left to write.
//! The database file's descriptor for that sync is opened once and kept
//! for the life of the process: closing any descriptor of a file drops
//! every POSIX lock the process holds on it, SQLite's included.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use crate::{Result, StoreError};

/// At most this many jobs are taken at once (reads answered, then writes
/// sharing one commit).
const GROUP: usize = 128;

/// Writes between checkpoints (a check-in writes about ten pages; SQLite's
/// own default is every 1000 pages).
const CHECKPOINT_EVERY: usize = 100;

/// WAL size (pages) at which the checkpointer restarts the WAL: 512 MiB.
/// Each RESTART stalls every write while it makes its two fsyncs, so how
/// long and how often count. At 128 MiB it came about 40 times in 30 s of
/// check-ins at 15,000/s, 2-70 ms each, and the check-in's 99th percentile
/// was 20 ms; at 512 MiB, 9 ms (BENCHMARKS.md, run 11). The files are now
/// synced just before it (see [`checkpoint`]), which cut each stall to
/// 0.5-7 ms (run 12). A larger WAL costs no read time (readers look
/// only at frames not yet copied back, which PASSIVE keeps few) and about
/// 1 MiB more of shared-memory index; it is only reached under sustained
/// writes (otherwise the WAL starts over by itself once it is copied back).
const RESTART_FRAMES: i64 = 131_072;

type ReadJob = Box<dyn FnOnce(&Connection) + Send>;
/// Runs a write on the connection (or is told why it cannot run); says
/// whether it succeeded and returns what answers the caller once the
/// commit's outcome is known.
type WriteJob = Box<dyn FnOnce(std::result::Result<&Connection, &str>) -> (bool, Finish) + Send>;
type Finish = Box<dyn FnOnce(Option<&str>) + Send>;

enum Job {
    Read(ReadJob),
    Write(WriteJob),
}

#[derive(Debug)]
pub(crate) struct Lite {
    jobs: mpsc::Sender<Job>,
    path: PathBuf,
}

pub(crate) fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // The same settings as the sqlx connections (see `db.rs`).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(64);
    // A WAL file left larger than this is cut back when it restarts. Above
    // the RESTART size, so a busy WAL is rewritten in place rather than cut
    // and grown again.
    conn.pragma_update(None, "journal_size_limit", 544 * 1024 * 1024)?;
    Ok(conn)
}

fn gone() -> StoreError {
    StoreError::Commit("the database thread has stopped".into())
}

impl Lite {
    /// Open on an existing database file (after the migrations ran) and
    /// start the thread that owns the connection. `writer` is the store's
    /// writer lock, which sqlx's writes hold too.
    pub fn open(path: &Path, writer: Arc<tokio::sync::Mutex<()>>) -> Result<Lite> {
        let conn = open(path)?;
        // This connection never checkpoints on commit (that would stall
        // every request behind a copy and an fsync); a second thread does,
        // when told the WAL has grown, without blocking readers or writers.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let checkpoints = open(path)?;
        let (grown, wake) = mpsc::sync_channel::<()>(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let start = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .map_err(|e| StoreError::Commit(format!("cannot start the database thread: {e}")))
        };
        let lock = writer.clone();
        let files = Presync::of(path);
        start(
            "kneepath-sqlite",
            Box::new(move || serve(conn, queue, writer, grown)),
        )?;
        start(
            "kneepath-checkpoint",
            Box::new(move || checkpoint(checkpoints, wake, lock, files)),
        )?;
        Ok(Lite {
            jobs,
            path: path.to_path_buf(),
        })
    }

    /// Run `work` on the connection (outside any transaction).
    pub async fn read<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let _ = tx.send(work(conn));
        });
        self.jobs.send(Job::Read(job)).map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// Run `work` as one atomic write: all of it is committed, or none of
    /// it. Answers after the commit.
    pub async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T>>();
        let job: WriteJob = Box::new(move |conn| {
            match conn
                .map_err(|e| StoreError::Commit(e.into()))
                .and_then(work)
            {
                Ok(v) => (
                    true,
                    Box::new(move |failed: Option<&str>| {
                        let _ = tx.send(match failed {
                            None => Ok(v),
                            Some(e) => Err(StoreError::Commit(e.to_string())),
                        });
                    }),
                ),
                Err(e) => (
                    false,
                    Box::new(move |_: Option<&str>| {
                        let _ = tx.send(Err(e));
                    }),
                ),
            }
        });
        self.jobs.send(Job::Write(job)).map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The connection's thread: until every sender is gone, take the jobs that
/// are waiting, answer the reads, then run the writes as one group.
fn serve(
    conn: Connection,
    queue: mpsc::Receiver<Job>,
    writer: Arc<tokio::sync::Mutex<()>>,
    grown: mpsc::SyncSender<()>,
) {
    let mut since_checkpoint = 0;
    let mut reads: Vec<ReadJob> = Vec::new();
    let mut writes: Vec<WriteJob> = Vec::new();
    while let Ok(first) = queue.recv() {
        let mut next = Some(first);
        while let Some(job) = next.take() {
            match job {
                Job::Read(read) => reads.push(read),
                Job::Write(w) => writes.push(w),
            }
            if reads.len() + writes.len() < GROUP {
                next = queue.try_recv().ok();
            }
        }
        if !reads.is_empty() {
            // One read transaction (one snapshot, one round of file locks)
            // for all of them; each read answers at once.
            let began = reads.len() > 1 && control(&conn, "BEGIN").is_ok();
            for read in reads.drain(..) {
                read(&conn);
            }
            if began {
                let _ = control(&conn, "COMMIT");
            }
        }
        if !writes.is_empty() {
            since_checkpoint += writes.len();
            let _writing = writer.blocking_lock();
            write_group(&conn, writes.drain(..));
        }
        if since_checkpoint >= CHECKPOINT_EVERY {
            // If the checkpointer is still busy, it is told next time.
            if grown.try_send(()).is_ok() {
                since_checkpoint = 0;
            }
        }
    }
}

/// The checkpointing thread: copy the WAL back into the database file when
/// told to, until the serving thread ends. PASSIVE never waits for readers
/// or writers. Under steady writes it never finds the WAL fully copied,
/// so the WAL would only grow: once it holds `RESTART_FRAMES`, a RESTART
/// (holding the writer lock: it copies the frames written since the last
/// PASSIVE and syncs both files, with every write waiting) makes the next
/// write start the WAL from the beginning. Both files are synced just
/// before, with writes going on, so that the RESTART's own syncs find
/// little left to write: its time under the lock went from 4-27 ms to
/// 0.5-7 ms (BENCHMARKS.md, run 12).
fn checkpoint(
    conn: Connection,
    wake: mpsc::Receiver<()>,
    writer: Arc<tokio::sync::Mutex<()>>,
    files: Presync,
) {
    let mut restarted_at = None;
    while wake.recv().is_ok() {
        let frames: i64 = conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
            .unwrap_or(0);
        if needs_restart(frames, restarted_at) {
            files.sync();
            let _writing = writer.blocking_lock();
            // (busy, WAL frames, frames copied back)
            let done = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
            });
            if let Ok((0, size)) = done {
                restarted_at = Some(size);
            }
        }
    }
}

/// The database file and its WAL, opened to be synced ahead of a RESTART.
#[derive(Debug)]
struct Presync {
    db: Option<Arc<std::fs::File>>,
    wal: PathBuf,
}

/// Descriptors of database files, opened once per file and never closed:
/// closing any descriptor of a file drops every POSIX lock this process
/// holds on it, SQLite's own included (the WAL file has none, so it is
/// opened afresh each time).
static DB_FILES: std::sync::Mutex<Vec<(PathBuf, Arc<std::fs::File>)>> =
    std::sync::Mutex::new(Vec::new());

impl Presync {
    fn of(path: &Path) -> Presync {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let mut open = DB_FILES.lock().unwrap_or_else(|e| e.into_inner());
        let db = match open.iter().find(|(p, _)| p == path) {
            Some((_, f)) => Some(f.clone()),
            None => std::fs::File::open(path).ok().map(|f| {
                let f = Arc::new(f);
                open.push((path.to_path_buf(), f.clone()));
                f
            }),
        };
        Presync {
            db,
            wal: PathBuf::from(wal),
        }
    }

    /// Write out what the PASSIVE checkpoints copied into the database file
    /// and what was appended to the WAL. Failing is harmless: the RESTART
    /// syncs both itself.
    fn sync(&self) {
        if let Some(f) = &self.db {
            let _ = f.sync_data();
        }
        if let Ok(f) = std::fs::File::open(&self.wal) {
            let _ = f.sync_data();
        }
    }
}

/// Whether a WAL of `frames` frames needs a RESTART, `restarted_at` the
/// size the last one reported. The WAL only starts again at the next
/// write after a RESTART, so until then it still reports the old size:
/// restarting it again would stall every write for nothing (about half of
/// the RESTARTs under load were such repeats).
fn needs_restart(frames: i64, restarted_at: Option<i64>) -> bool {
    frames >= RESTART_FRAMES && restarted_at != Some(frames)
}

/// A transaction-control statement, prepared once per connection (these run
/// several times per write group).
fn control(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn write_group(conn: &Connection, jobs: impl Iterator<Item = WriteJob>) {
    if let Err(e) = control(conn, "BEGIN IMMEDIATE") {
        // Nothing ran: every caller hears why.
        let msg = e.to_string();
        for job in jobs {
            job(Err(&msg)).1(None);
        }
        return;
    }
    let mut done: Vec<Finish> = Vec::new();
    for job in jobs {
        if let Err(e) = control(conn, "SAVEPOINT job") {
            job(Err(&e.to_string())).1(None);
            continue;
        }
        let (ok, finish) = job(Ok(conn));
        let closed = if ok {
            control(conn, "RELEASE job")
        } else {
            control(conn, "ROLLBACK TO job").and_then(|()| control(conn, "RELEASE job"))
        };
        match closed {
            Ok(()) if ok => done.push(finish),
            // A failed write (e.g. a second check-in for a day) is answered
            // now: it left nothing behind.
            Ok(()) => finish(None),
            Err(e) => finish(Some(&e.to_string())),
        }
    }
    let committed = control(conn, "COMMIT");
    let failed = committed.as_ref().err().map(|e| e.to_string());
    if failed.is_some() {
        let _ = control(conn, "ROLLBACK");
    }
    for finish in done {
        finish(failed.as_deref());
    }
}

/// The file of a `sqlite://` URL, if it names one (not `:memory:`).
pub(crate) fn file_of(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && !path.contains(":memory:") && !url.contains("mode=memory"))
        .then(|| PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_wal_is_restarted_once_it_is_large_and_not_again_before_it_started_over() {
        use super::{RESTART_FRAMES, needs_restart};
        assert!(!needs_restart(RESTART_FRAMES - 1, None));
        assert!(needs_restart(RESTART_FRAMES, None));
        // Restarted at this size; no write has started it over yet.
        assert!(!needs_restart(RESTART_FRAMES + 7, Some(RESTART_FRAMES + 7)));
        // It started over and grew large again.
        assert!(needs_restart(RESTART_FRAMES + 9, Some(RESTART_FRAMES + 7)));
        assert!(needs_restart(RESTART_FRAMES, Some(RESTART_FRAMES + 7)));
    }

    #[test]
    fn a_database_file_is_opened_once_to_be_synced_and_kept_open() {
        let dir = std::env::temp_dir().join(format!("kneepath-presync-{}", crate::new_id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("a.db");
        std::fs::write(&path, b"").expect("file");
        let a = super::Presync::of(&path);
        let b = super::Presync::of(&path);
        let (Some(a_db), Some(b_db)) = (&a.db, &b.db) else {
            panic!("the file exists, so it opens");
        };
        // One descriptor for both, never closed while the process runs.
        assert!(std::sync::Arc::ptr_eq(a_db, b_db));
        assert_eq!(a.wal, dir.join("a.db-wal"));
        // No WAL yet: nothing to sync, no error.
        a.sync();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_file_of_a_url() {
        use super::file_of;
        assert_eq!(
            file_of("sqlite:///tmp/a.db?mode=rwc").as_deref(),
            Some(std::path::Path::new("/tmp/a.db"))
        );
        assert_eq!(
            file_of("sqlite://kneepath.db").as_deref(),
            Some(std::path::Path::new("kneepath.db"))
        );
        assert_eq!(file_of("sqlite::memory:"), None);
        assert_eq!(file_of("postgres://x/y"), None);
    }
}
