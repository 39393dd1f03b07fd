//! `kneepath demo` (the demo accounts, without serving), `kneepath
//! reassess` (every person's latest assessment re-run under the current
//! knowledge base, after a policy change), `kneepath export
//! --fhir` (a patient's record as a FHIR Bundle) and `kneepath import
//! --fhir` (assessment QuestionnaireResponses, alone or in a Bundle, stored
//! for a patient; a rejected file stores nothing and prints the
//! OperationOutcome).

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use kneepath_app::App;
use kneepath_core::KnowledgeBase;
use kneepath_store::Role;

#[derive(Args, Debug)]
pub struct DemoArgs {
    #[arg(
        long,
        env = "KNEEPATH_DATABASE_URL",
        default_value = "sqlite://kneepath.db"
    )]
    database: String,
    /// Treat this day (YYYY-MM-DD) as today.
    #[arg(long)]
    today: Option<String>,
}

#[derive(Args, Debug)]
pub struct ReassessArgs {
    #[arg(
        long,
        env = "KNEEPATH_DATABASE_URL",
        default_value = "sqlite://kneepath.db"
    )]
    database: String,
    /// Treat this day (YYYY-MM-DD) as today.
    #[arg(long)]
    today: Option<String>,
    /// Print what was done as JSON.
    #[arg(long)]
    json: bool,
}

pub fn reassess(kb: KnowledgeBase, args: ReassessArgs) -> Result<()> {
    crate::common::runtime()?.block_on(async {
        let app = app(kb, &args.database, args.today.as_deref()).await?;
        let today = app.clock.today();
        let done = app
            .reassess_all(today)
            .await
            .map_err(|e| anyhow!("re-running the assessments: {e}"))?;
        if args.json {
            crate::common::print_json(&done)?;
        } else {
            say!(
                "{} latest assessment{} made under another knowledge base re-run under {} (policy {}): {} now give a more urgent level or other plan rules, stored and escalated; {} left to another instance.",
                done.checked,
                if done.checked == 1 { "" } else { "s" },
                app.kb.version,
                app.kb.meta.policy_version,
                done.changed,
                done.skipped
            );
        }
        Ok(())
    })
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[arg(
        long,
        env = "KNEEPATH_DATABASE_URL",
        default_value = "sqlite://kneepath.db"
    )]
    database: String,
    /// Export as FHIR R4 (the only format).
    #[arg(long, required = true)]
    fhir: bool,
    /// The patient's email.
    #[arg(long, value_name = "EMAIL")]
    patient: String,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[arg(
        long,
        env = "KNEEPATH_DATABASE_URL",
        default_value = "sqlite://kneepath.db"
    )]
    database: String,
    /// Import FHIR R4 (the only format).
    #[arg(long, required = true)]
    fhir: bool,
    /// The patient's email (the account must exist).
    #[arg(long, value_name = "EMAIL")]
    patient: String,
    /// A QuestionnaireResponse or a Bundle (JSON).
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

async fn app(kb: KnowledgeBase, database: &str, today: Option<&str>) -> Result<App> {
    Ok(App::new(
        crate::common::open(database).await?,
        kb,
        crate::common::clock(today)?,
    ))
}

async fn patient(app: &App, email: &str) -> Result<kneepath_store::User> {
    crate::common::user_with_role(&app.store, email, Role::Patient).await
}

pub fn demo(kb: KnowledgeBase, args: DemoArgs) -> Result<()> {
    crate::common::runtime()?.block_on(async {
        let app = app(kb, &args.database, args.today.as_deref()).await?;
        let created = kneepath_app::synthetic::demo::ensure_demo(&app, 8)
            .await
            .map_err(|e| anyhow!("creating the demo: {e}"))?;
        say!(
            "demo {} in {}",
            if created {
                "created"
            } else {
                "already present"
            },
            args.database
        );
        Ok(())
    })
}

pub fn export(kb: KnowledgeBase, args: ExportArgs) -> Result<()> {
    crate::common::runtime()?.block_on(async {
        let app = app(kb, &args.database, None).await?;
        let user = patient(&app, &args.patient).await?;
        let bundle = app.fhir_bundle(&user).await.map_err(|e| anyhow!("{e}"))?;
        let text = serde_json::to_string_pretty(&bundle)?;
        match &args.out {
            Some(p) => std::fs::write(p, text + "\n")
                .with_context(|| format!("cannot write {}", p.display()))?,
            None => say!("{text}"),
        }
        Ok(())
    })
}

/// Returns false when the file was rejected (the OperationOutcome is
/// printed; nothing was stored).
pub fn import(kb: KnowledgeBase, args: ImportArgs) -> Result<bool> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", args.file.display()))?;
    crate::common::runtime()?.block_on(async {
        let app = app(kb, &args.database, None).await?;
        let user = patient(&app, &args.patient).await?;
        let today = app.clock.today_in(user.time_zone.as_deref());
        let responses = match kneepath_app::export::read_responses(&app.kb, &value, today) {
            Ok(r) => r,
            Err(kneepath_app::export::Rejected(outcome)) => {
                crate::common::print_json(&outcome)?;
                return Ok(false);
            }
        };
        if responses.is_empty() {
            bail!("nothing to import");
        }
        let ids = app
            .import_fhir(&user.id, &responses, None)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        for id in &ids {
            say!("stored assessment {id}");
        }
        Ok(true)
    })
}
