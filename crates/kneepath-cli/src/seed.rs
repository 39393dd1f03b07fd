//! `kneepath seed`: synthetic patients for demonstrations and benchmarks;
//! `kneepath bench-insert`: the bare-insert reference rate; and
//! `kneepath bench-caseload`: the dashboard's work per page.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use kneepath_app::{App, Clock};
use kneepath_core::KnowledgeBase;

#[derive(Args, Debug)]
pub struct SeedArgs {
    /// Database: sqlite://FILE or postgres://...
    #[arg(
        long,
        default_value = "sqlite://kneepath.db",
        env = "KNEEPATH_DATABASE_URL"
    )]
    database: String,
    /// How many patients to create.
    #[arg(long, default_value_t = 100)]
    patients: usize,
    /// Days of history per patient: varied cases, adherence and pain
    /// trajectories, simulated through the real rules. 0: a self-care
    /// assessment only, made 14 days ago (for the check-in benchmark).
    #[arg(long, default_value_t = 0)]
    days: i32,
    /// Treat this day (YYYY-MM-DD) as today.
    #[arg(long, value_name = "DATE")]
    today: Option<String>,
    /// Write one line "SESSION_TOKEN CSRF_TOKEN" per patient with a home
    /// plan (those who can check in) to this file.
    #[arg(long, value_name = "FILE")]
    sessions: Option<PathBuf>,
    /// Also create this many clinicians and link the patients to them in
    /// turn (patient i to clinician i mod K).
    #[arg(long, default_value_t = 0)]
    clinicians: usize,
    /// Write one line "SESSION_TOKEN CSRF_TOKEN" per clinician to this file.
    #[arg(long, value_name = "FILE")]
    clinician_sessions: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct BenchInsertArgs {
    #[arg(
        long,
        default_value = "sqlite://kneepath.db",
        env = "KNEEPATH_DATABASE_URL"
    )]
    database: String,
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
}

#[derive(Args, Debug)]
pub struct BenchCaseloadArgs {
    #[arg(
        long,
        default_value = "sqlite://kneepath.db",
        env = "KNEEPATH_DATABASE_URL"
    )]
    database: String,
    /// Treat this day (YYYY-MM-DD) as today.
    #[arg(long, value_name = "DATE")]
    today: Option<String>,
    /// Pages per clinician (at least one).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    rounds: u32,
    /// Also time a full recomputation per page: every patient's summary
    /// rebuilt from their rows, then judged.
    #[arg(long)]
    full: bool,
}

const PASSWORD: &str = "synthetic-patient-password";

pub fn seed(kb: KnowledgeBase, args: SeedArgs) -> Result<()> {
    let today = crate::common::clock(args.today.as_deref())?.today();
    let rt = crate::common::runtime()?;
    rt.block_on(async move {
        let store = crate::common::open(&args.database).await?;
        let app = App::new(store, kb, Clock::Fixed(today));
        let prefix = kneepath_store::new_id()[16..].to_string();
        let ids = app
            .store
            .create_synthetic_users(&prefix, args.patients, PASSWORD, kneepath_store::Role::Patient)
            .await?;
        let facts = app
            .kb
            .facts_from_toml_str(
                "age = 30\nonset = \"gradual\"\npain_now = 3\nweight_bearing = \"normal\"",
            )
            .map_err(|e| anyhow!("synthetic facts: {e}"))?;
        let mut out = match &args.sessions {
            Some(p) => Some(std::io::BufWriter::new(
                std::fs::File::create(p)
                    .with_context(|| format!("cannot write {}", p.display()))?,
            )),
            None => None,
        };
        let total = ids.len();
        let step = (total / 40).max(1);
        let mut bar = |done: usize| {
            if done.is_multiple_of(step) || done == total {
                let filled = done * 30 / total.max(1);
                eprint!("\r[{}{}] {done}/{total} patients", "#".repeat(filled), " ".repeat(30 - filled));
            }
        };
        if args.days > 0 {
            let seed = u64::from_str_radix(&prefix, 16).unwrap_or(7);
            let s = app
                .seed_patients(&ids, args.days, today, seed, &mut bar)
                .await
                .map_err(|e| anyhow!("seeding: {e}"))?;
            eprintln!();
            say!(
                "{} patients over {} days: {} with a home plan, {} check-ins, {} phase changes, {} escalations, {} re-triaged after a warning sign",
                s.patients, args.days, s.home_plans, s.checkins, s.phase_changes, s.escalations, s.retriaged
            );
        } else {
            for (i, id) in ids.iter().enumerate() {
                app.record_assessment(
                    id,
                    &facts,
                    kneepath_store::AssessmentSource::Wizard,
                    today.plus(-14),
                    None,
                )
                    .await
                    .map_err(|e| anyhow!("seeding patient {i}: {e}"))?;
                bar(i + 1);
            }
            eprintln!();
        }
        if args.clinicians > 0 {
            let cids = app
                .store
                .create_synthetic_users(
                    &format!("{prefix}c"),
                    args.clinicians,
                    PASSWORD,
                    kneepath_store::Role::Clinician,
                )
                .await?;
            let pairs: Vec<(kneepath_store::UserId, kneepath_store::UserId)> = ids
                .iter()
                .enumerate()
                .map(|(i, p)| (cids[i % cids.len()].clone(), p.clone()))
                .collect();
            app.store.link_many(&pairs).await?;
            say!(
                "created {} synthetic clinicians ({}c0@synthetic.kneepath.local ...), about {} patients each",
                cids.len(),
                prefix,
                ids.len().div_ceil(cids.len())
            );
            if let Some(p) = &args.clinician_sessions {
                let mut w = std::io::BufWriter::new(
                    std::fs::File::create(p)
                        .with_context(|| format!("cannot write {}", p.display()))?,
                );
                for id in &cids {
                    let token = app.store.create_session(id, 48).await?;
                    let csrf = app.store.session_csrf(&token).await?.unwrap_or_default();
                    writeln!(w, "{token} {csrf}")?;
                }
                w.flush()?;
            }
        }
        if let Some(w) = out.as_mut() {
            for id in &ids {
                // Only patients with a home plan can check in.
                let home = app
                    .store
                    .latest_assessment_head(id)
                    .await?
                    .is_some_and(|a| a.level.allows_home_plan());
                if !home {
                    continue;
                }
                let token = app.store.create_session(id, 48).await?;
                let csrf = app.store.session_csrf(&token).await?.unwrap_or_default();
                writeln!(w, "{token} {csrf}")?;
            }
        }
        if let Some(mut w) = out {
            w.flush()?;
        }
        say!(
            "created {} synthetic patients (password {PASSWORD})",
            ids.len()
        );
        Ok(())
    })
}

pub fn bench_insert(args: BenchInsertArgs) -> Result<()> {
    let rt = crate::common::runtime()?;
    rt.block_on(async move {
        let store = crate::common::open(&args.database).await?;
        let (n, p50, p99) = store
            .bare_insert_benchmark(args.seconds, args.concurrency)
            .await?;
        say!(
            "bare insert (sqlx pool): {n} rows in {} s = {:.0}/s, p50 {:.2} ms, p99 {:.2} ms ({} concurrent)",
            args.seconds,
            n as f64 / args.seconds as f64,
            p50 as f64 / 1000.0,
            p99 as f64 / 1000.0,
            args.concurrency
        );
        if let Some((n, p50, p99)) = store.bare_insert_native_benchmark(args.seconds).await? {
            say!(
                "bare insert (native, one connection, one row per transaction): {n} rows in {} s = {:.0}/s, p50 {:.3} ms, p99 {:.3} ms",
                args.seconds,
                n as f64 / args.seconds as f64,
                p50 as f64 / 1000.0,
                p99 as f64 / 1000.0,
            );
        }
        Ok(())
    })
}

/// Time `App::caseload` (the dashboard's reading and judging, without the
/// HTML) for every clinician's page, `rounds` times, one page at a time.
pub fn bench_caseload(kb: KnowledgeBase, args: BenchCaseloadArgs) -> Result<()> {
    use std::time::Instant;
    let clock = crate::common::clock(args.today.as_deref())?;
    let rt = crate::common::runtime()?;
    rt.block_on(async move {
        let store = crate::common::open(&args.database).await?;
        let app = App::new(store, kb, clock);
        let clinicians = app
            .store
            .users(Some(kneepath_store::Role::Clinician), "", 100_000)
            .await?;
        if clinicians.is_empty() {
            return Err(anyhow!("no clinicians in {}", args.database));
        }
        let report = |what: &str, mut micros: Vec<u128>, patients: usize| -> Result<()> {
            micros.sort_unstable();
            let at = |q: f64| micros[((micros.len() - 1) as f64 * q) as usize];
            let mean = micros.iter().sum::<u128>() as f64 / micros.len() as f64;
            say!(
                "{what}: {} pages of {:.0} patients: mean {:.3} ms, p50 {:.3} ms, p99 {:.3} ms per page",
                micros.len(),
                patients as f64 / micros.len() as f64,
                mean / 1000.0,
                at(0.5) as f64 / 1000.0,
                at(0.99) as f64 / 1000.0
            );
            Ok(())
        };
        let (mut micros, mut patients) = (Vec::new(), 0);
        for _ in 0..args.rounds {
            for c in &clinicians {
                let t = Instant::now();
                let rows = app.caseload(&c.id).await?;
                micros.push(t.elapsed().as_micros());
                patients += rows.len();
            }
        }
        report("caseload from summaries", micros, patients)?;
        if args.full {
            let min = app.kb.progression.advance_min_adherence_pct;
            let (mut micros, mut patients) = (Vec::new(), 0);
            for c in &clinicians {
                let t = Instant::now();
                for e in app.store.caseload(&c.id).await? {
                    let today = app.clock.today_in(e.patient.time_zone.as_deref());
                    let s = app.store.rebuilt_summary(&e.patient.id).await?;
                    std::hint::black_box(s.status(today, min));
                    patients += 1;
                }
                micros.push(t.elapsed().as_micros());
            }
            report("full recomputation from the rows", micros, patients)?;
        }
        Ok(())
    })
}
