//! `kneepath`: the one binary. This file parses the command line and hands
//! each subcommand to its module; errors become one line on stderr and a
//! non-zero exit status here, at the edge, and nowhere else.

/// `println!` that returns a write error (such as a closed pipe) with `?`
/// instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*)?
    }};
}

mod alloc;
mod backup;
mod cases_cmd;
mod common;
mod interview;
mod kbdir;
mod records_cmd;
mod render;
mod seed;
mod serve;
mod users_cmd;

use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use kneepath_core::{KnowledgeBase, assess};

#[derive(Parser, Debug)]
#[command(
    name = "kneepath",
    version,
    about = "An explainable care pathway for hamstring-related knee pain."
)]
struct Cli {
    /// Use the knowledge base in this folder instead of the built-in one.
    #[arg(long, global = true, env = "KNEEPATH_KNOWLEDGE", value_name = "DIR")]
    knowledge: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Assess knee pain: asks the questions in the terminal, or reads a facts file.
    Assess {
        /// A facts file (TOML or JSON, in the case vocabulary; a case file works too).
        #[arg(long, value_name = "FILE")]
        facts: Option<PathBuf>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run every case file in a folder and compare with its expectations.
    Cases {
        /// Folder of case files (`*.toml`).
        dir: PathBuf,
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the web app.
    Serve(serve::ServeArgs),
    /// Create synthetic patients (for demonstrations and benchmarks).
    Seed(seed::SeedArgs),
    /// Write a logical backup of the database (JSON lines, any backend).
    Backup(backup::BackupArgs),
    /// Restore a backup into an empty database (SQLite or PostgreSQL).
    Restore(backup::RestoreArgs),
    /// Measure bare inserts into the database (the check-in benchmark's reference).
    BenchInsert(seed::BenchInsertArgs),
    /// Measure the caseload dashboard's work per page (every clinician's).
    BenchCaseload(seed::BenchCaseloadArgs),
    /// Accounts: create (e.g. the first admin or a clinician), list, link.
    User {
        #[command(subcommand)]
        command: users_cmd::UserCommand,
    },
    /// One patient's report for their clinician, as PDF or HTML.
    Report(users_cmd::ReportArgs),
    /// Create the demo accounts (patient, clinician with a caseload, admin) and exit.
    Demo(records_cmd::DemoArgs),
    /// Re-run every person's latest assessment under the current knowledge
    /// base (after a policy change): a more urgent level or other plan
    /// rules are stored as a new assessment and shown to the person and
    /// their clinician.
    Reassess(records_cmd::ReassessArgs),
    /// Export a patient's whole record as a FHIR R4 Bundle.
    Export(records_cmd::ExportArgs),
    /// Import assessment QuestionnaireResponses (FHIR R4, alone or in a Bundle) for a patient.
    Import(records_cmd::ImportArgs),
    /// FHIR R4 resources.
    Fhir {
        #[command(subcommand)]
        command: FhirCommand,
    },
    /// Knowledge-base tools.
    Kb {
        #[command(subcommand)]
        command: KbCommand,
    },
}

#[derive(Subcommand, Debug)]
enum FhirCommand {
    /// Print a questionnaire as a FHIR R4 Questionnaire.
    Questionnaire {
        /// assessment, checkin, koos, lefs or nprs.
        #[arg(long, default_value = "assessment", value_parser = ["assessment", "checkin", "koos", "lefs", "nprs"])]
        name: String,
    },
    /// Print a facts file as a FHIR R4 QuestionnaireResponse.
    Response {
        #[arg(long, value_name = "FILE")]
        facts: PathBuf,
    },
    /// Read a QuestionnaireResponse and print the assessment (problems as an OperationOutcome).
    Import {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
enum KbCommand {
    /// Validate a knowledge-base folder (default: the built-in knowledge base).
    Check {
        dir: Option<PathBuf>,
        /// Print a JSON summary.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    alloc::tune();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        // Output into a pipe that closed early (`| head`) is not a failure.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kneepath: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// An error and its causes on one line, each cause once: many errors
/// (sqlx's, the store's) already repeat their cause in their own message.
fn one_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        let kind = c
            .downcast_ref::<io::Error>()
            .map(io::Error::kind)
            .or_else(|| {
                c.downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind)
            });
        kind == Some(io::ErrorKind::BrokenPipe)
    })
}

fn load_kb(dir: Option<&Path>) -> Result<KnowledgeBase> {
    match dir {
        Some(d) => Ok(kbdir::load(d)?),
        None => Ok(KnowledgeBase::bundled()?),
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::User { command } => {
            users_cmd::user(command)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Report(args) => {
            users_cmd::report(load_kb(cli.knowledge.as_deref())?, args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => {
            records_cmd::demo(load_kb(cli.knowledge.as_deref())?, args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Reassess(args) => {
            records_cmd::reassess(load_kb(cli.knowledge.as_deref())?, args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Export(args) => {
            records_cmd::export(load_kb(cli.knowledge.as_deref())?, args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import(args) => {
            if records_cmd::import(load_kb(cli.knowledge.as_deref())?, args)? {
                Ok(ExitCode::SUCCESS)
            } else {
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Backup(args) => {
            backup::backup(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore(args) => {
            backup::restore(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Seed(args) => {
            seed::seed(load_kb(cli.knowledge.as_deref())?, args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchInsert(args) => {
            seed::bench_insert(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchCaseload(args) => {
            seed::bench_caseload(load_kb(cli.knowledge.as_deref())?, args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => {
            let kb = load_kb(cli.knowledge.as_deref())?;
            serve::run(kb, args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Assess { facts, json } => {
            let kb = load_kb(cli.knowledge.as_deref())?;
            let facts = match facts {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    let is_json = path.extension().is_some_and(|e| e == "json");
                    let parsed = if is_json {
                        kb.facts_from_json_str(&text)
                    } else {
                        kb.facts_from_toml_str(&text)
                    };
                    parsed.with_context(|| format!("{}", path.display()))?
                }
                None => {
                    let stdin = io::stdin();
                    let mut input = stdin.lock();
                    let mut out = io::stdout().lock();
                    interview::run(
                        &kb,
                        &mut input as &mut dyn BufRead,
                        &mut out as &mut dyn Write,
                    )?
                }
            };
            let a = assess(&kb, &facts);
            if json {
                common::print_json(&a.report())?;
            } else {
                render::assessment(&mut io::stdout().lock(), &a)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Cases { dir, json } => {
            let kb = load_kb(cli.knowledge.as_deref())?;
            let summary = cases_cmd::run(&kb, &dir)?;
            if json {
                common::print_json(&summary)?;
            } else {
                cases_cmd::print_table(&mut io::stdout().lock(), &summary)?;
            }
            Ok(if summary.failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Fhir { command } => {
            let kb = load_kb(cli.knowledge.as_deref())?;
            let read = |path: &Path| {
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))
            };
            match command {
                FhirCommand::Questionnaire { name } => {
                    let q = match name.as_str() {
                        "assessment" => kneepath_fhir::assessment_questionnaire(&kb),
                        other => kneepath_app::export::questionnaire(&kb, other)
                            .ok_or_else(|| anyhow::anyhow!("no questionnaire {other}"))?,
                    };
                    common::print_json(&q)?;
                }
                FhirCommand::Response { facts } => {
                    let text = read(&facts)?;
                    let f = if facts.extension().is_some_and(|e| e == "json") {
                        kb.facts_from_json_str(&text)
                    } else {
                        kb.facts_from_toml_str(&text)
                    }
                    .with_context(|| format!("{}", facts.display()))?;
                    common::print_json(&kneepath_fhir::facts_to_response(&kb, &f))?;
                }
                FhirCommand::Import { file, json } => {
                    let value: serde_json::Value = serde_json::from_str(&read(&file)?)
                        .with_context(|| format!("{} is not JSON", file.display()))?;
                    match kneepath_fhir::response_to_facts(&kb, &value) {
                        Ok(facts) => {
                            let a = assess(&kb, &facts);
                            if json {
                                common::print_json(&a.report())?;
                            } else {
                                render::assessment(&mut io::stdout().lock(), &a)?;
                            }
                        }
                        Err(issues) => {
                            common::print_json(&kneepath_fhir::operation_outcome(&issues))?;
                            bail!(
                                "{}: {}",
                                file.display(),
                                issues
                                    .iter()
                                    .map(|i| i.message.clone())
                                    .collect::<Vec<_>>()
                                    .join("; ")
                            );
                        }
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Kb {
            command: KbCommand::Check { dir, json },
        } => {
            let dir = dir.or(cli.knowledge);
            let kb = match load_kb(dir.as_deref()) {
                Ok(kb) => kb,
                Err(e) => {
                    if json {
                        let problems: Vec<String> =
                            match e.downcast_ref::<kneepath_core::kb::KbError>() {
                                Some(k) => k.problems.iter().map(ToString::to_string).collect(),
                                None => vec![one_line(&e)],
                            };
                        say!(
                            "{}",
                            serde_json::json!({ "valid": false, "problems": problems })
                        );
                        return Ok(ExitCode::FAILURE);
                    }
                    bail!(e);
                }
            };
            let counts = serde_json::json!({
                "valid": true,
                "version": kb.version,
                "policy_version": kb.meta.policy_version,
                "questions": kb.questions.len(),
                "rules": kb.rules.len(),
                "flags": kb.flags.len(),
                "contributors": kb.contributors.len(),
                "phases": kb.phases.len(),
                "exercises": kb.exercises.len(),
                "advice": kb.advice.len(),
                "treatments": kb.treatments.len(),
                "citations": kb.citations.len(),
            });
            if json {
                say!("{counts}");
            } else {
                say!(
                    "knowledge base OK ({}): {} questions, {} rules, {} flags, {} contributing factors, {} phases, {} exercises, {} advice, {} treatments, {} citations",
                    kb.version,
                    kb.questions.len(),
                    kb.rules.len(),
                    kb.flags.len(),
                    kb.contributors.len(),
                    kb.phases.len(),
                    kb.exercises.len(),
                    kb.advice.len(),
                    kb.treatments.len(),
                    kb.citations.len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
