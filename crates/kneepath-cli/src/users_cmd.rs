//! `kneepath user ...` (accounts from the command line: the first admin,
//! clinicians) and `kneepath report` (one patient's report as HTML or PDF).

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand};
use kneepath_core::KnowledgeBase;
use kneepath_store::Role;

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an account. The password is read from standard input
    /// (`--password-stdin`) or made up and printed once.
    Add {
        #[arg(
            long,
            env = "KNEEPATH_DATABASE_URL",
            default_value = "sqlite://kneepath.db"
        )]
        database: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// patient, clinician or admin.
        #[arg(long, value_parser = ["patient", "clinician", "admin"])]
        role: String,
        /// Read the password from standard input instead of making one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts.
    List {
        #[arg(
            long,
            env = "KNEEPATH_DATABASE_URL",
            default_value = "sqlite://kneepath.db"
        )]
        database: String,
        #[arg(long, value_parser = ["patient", "clinician", "admin"])]
        role: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Make a personal access token for a patient's JSON API use (printed once).
    Token {
        #[arg(
            long,
            env = "KNEEPATH_DATABASE_URL",
            default_value = "sqlite://kneepath.db"
        )]
        database: String,
        #[arg(long, value_name = "EMAIL")]
        email: String,
        /// A name for the program using it.
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["read", "write"], default_value = "read")]
        scope: String,
    },
    /// Link a patient to a clinician (as if an invitation had been accepted).
    Link {
        #[arg(
            long,
            env = "KNEEPATH_DATABASE_URL",
            default_value = "sqlite://kneepath.db"
        )]
        database: String,
        #[arg(long, value_name = "EMAIL")]
        clinician: String,
        #[arg(long, value_name = "EMAIL")]
        patient: String,
    },
}

fn made_up_password() -> String {
    let t = kneepath_store::random_token();
    format!("{}-{}-{}-{}", &t[0..5], &t[5..10], &t[10..15], &t[15..20])
}

pub fn user(cmd: UserCommand) -> Result<()> {
    crate::common::runtime()?.block_on(async {
        match cmd {
            UserCommand::Add {
                database,
                email,
                name,
                role,
                password_stdin,
            } => {
                let role = Role::parse(&role).ok_or_else(|| anyhow!("unknown role {role}"))?;
                let (password, show) = if password_stdin {
                    let mut s = String::new();
                    std::io::stdin()
                        .read_to_string(&mut s)
                        .context("cannot read the password from standard input")?;
                    let s = s.trim_end_matches(['\n', '\r']).to_string();
                    if s.chars().count() < 10 {
                        bail!("the password must have at least 10 characters");
                    }
                    (s, false)
                } else {
                    (made_up_password(), true)
                };
                if !email.contains('@') || name.trim().is_empty() {
                    bail!("give a valid --email and a non-empty --name");
                }
                let store = crate::common::open(&database).await?;
                let u = store
                    .create_user(&email, &name, &password, role)
                    .await
                    .map_err(crate::common::said)?;
                say!("created {} {} ({})", u.role.as_str(), u.email, u.id);
                if show {
                    say!("password: {password}");
                }
                Ok(())
            }
            UserCommand::List {
                database,
                role,
                json,
            } => {
                let store = crate::common::open(&database).await?;
                let users = store
                    .users(role.as_deref().and_then(Role::parse), "", 100_000)
                    .await?;
                if json {
                    return crate::common::print_json(&users);
                }
                let mut out = std::io::stdout().lock();
                for u in &users {
                    writeln!(
                        out,
                        "{:<10} {:<8} {:<40} {}",
                        u.role.as_str(),
                        if u.disabled { "disabled" } else { "active" },
                        u.email,
                        u.display_name
                    )?;
                }
                Ok(())
            }
            UserCommand::Token {
                database,
                email,
                name,
                scope,
            } => {
                let store = crate::common::open(&database).await?;
                let u = crate::common::user_with_role(&store, &email, Role::Patient).await?;
                say!(
                    "{}",
                    store.create_api_token(&u.id, &name, &scope, None).await?
                );
                Ok(())
            }
            UserCommand::Link {
                database,
                clinician,
                patient,
            } => {
                let store = crate::common::open(&database).await?;
                let c = crate::common::user_with_role(&store, &clinician, Role::Clinician).await?;
                let p = crate::common::user_with_role(&store, &patient, Role::Patient).await?;
                if store.is_linked(&c.id, &p.id).await? {
                    say!("already linked");
                } else {
                    store.link(&c.id, &p.id).await?;
                    say!("linked {} to {}", p.email, c.email);
                }
                Ok(())
            }
        }
    })
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    #[arg(
        long,
        env = "KNEEPATH_DATABASE_URL",
        default_value = "sqlite://kneepath.db"
    )]
    database: String,
    /// The patient's email.
    #[arg(long, value_name = "EMAIL")]
    patient: String,
    /// The clinician the report is made by (must be linked to the patient).
    #[arg(long, value_name = "EMAIL")]
    clinician: String,
    /// Output file: `.pdf` (printed with Chromium) or `.html`.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// The day the report is made on (YYYY-MM-DD; default: today).
    #[arg(long)]
    today: Option<String>,
}

pub fn report(kb: KnowledgeBase, args: ReportArgs) -> Result<()> {
    crate::common::runtime()?.block_on(async {
        let store = crate::common::open(&args.database).await?;
        let c = crate::common::user_with_role(&store, &args.clinician, Role::Clinician).await?;
        let p = crate::common::user_with_role(&store, &args.patient, Role::Patient).await?;
        if !store.is_linked(&c.id, &p.id).await? {
            bail!("{} is not linked to {}", p.email, c.email);
        }
        let app = kneepath_app::App::new(store, kb, crate::common::clock(args.today.as_deref())?);
        let actor = kneepath_app::Actor {
            id: &c.id,
            name: &c.display_name,
            ip: None,
        };
        let pdf = args
            .out
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("pdf"));
        let data = app
            .report_data(actor, &p)
            .await
            .map_err(|e| anyhow!("{e}"))?;
        let html = kneepath_report::render(&data, pdf)?;
        let bytes = if pdf {
            kneepath_report::pdf::html_to_pdf(html).await?
        } else {
            html.into_bytes()
        };
        std::fs::write(&args.out, &bytes)
            .with_context(|| format!("cannot write {}", args.out.display()))?;
        say!("wrote {} ({} bytes)", args.out.display(), bytes.len());
        Ok(())
    })
}
