//! `kneepath cases DIR`: run a folder of case files and summarise.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use kneepath_core::KnowledgeBase;
use kneepath_core::cases::{Case, CaseOutcome, check_case};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Row {
    pub file: String,
    pub passed: bool,
    #[serde(flatten)]
    pub outcome: Option<CaseOutcome>,
    /// Why the file could not be run (then it counts as failed).
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub kb_version: String,
    pub cases: Vec<Row>,
    pub passed: usize,
    pub failed: usize,
    pub under_triage: usize,
}

pub fn run(kb: &KnowledgeBase, dir: &Path) -> Result<Summary> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read case folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut rows = Vec::with_capacity(files.len());
    for path in files {
        let file = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parsed = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| Case::parse(kb, &text).map_err(|e| e.to_string()));
        rows.push(match parsed {
            Ok(case) => {
                let outcome = check_case(kb, &case);
                Row {
                    file,
                    passed: outcome.passed(),
                    outcome: Some(outcome),
                    error: None,
                }
            }
            Err(error) => Row {
                file,
                passed: false,
                outcome: None,
                error: Some(error),
            },
        });
    }
    let passed = rows.iter().filter(|r| r.passed).count();
    let under_triage = rows
        .iter()
        .filter(|r| r.outcome.as_ref().is_some_and(CaseOutcome::under_triage))
        .count();
    Ok(Summary {
        kb_version: kb.version.clone(),
        failed: rows.len() - passed,
        cases: rows,
        passed,
        under_triage,
    })
}

pub fn print_table(out: &mut dyn Write, s: &Summary) -> Result<()> {
    writeln!(
        out,
        "{:<14} {:<10} {:<10} {:<6} differences",
        "case", "expected", "got", "result"
    )?;
    for r in &s.cases {
        match (&r.outcome, &r.error) {
            (Some(o), _) => writeln!(
                out,
                "{:<14} {:<10} {:<10} {:<6} {}",
                o.id,
                o.expected.as_str(),
                o.got.as_str(),
                if r.passed { "pass" } else { "FAIL" },
                o.differences()
            )?,
            (None, e) => writeln!(
                out,
                "{:<14} {:<10} {:<10} {:<6} cannot run {}: {}",
                r.file.trim_end_matches(".toml"),
                "-",
                "-",
                "FAIL",
                r.file,
                e.as_deref().unwrap_or("")
            )?,
        }
    }
    writeln!(out, "knowledge base {}", s.kb_version)?;
    writeln!(out, "under-triage: {}", s.under_triage)?;
    writeln!(out, "{} passed, {} failed", s.passed, s.failed)?;
    Ok(())
}
