//! Reading a knowledge-base folder from disk (`--knowledge DIR`, in place of
//! the bundled one). The core validates text; this is the I/O half: it
//! reads every `*.toml` file of the folder (so a stray file is reported
//! too) and hands them over as sources.

use std::path::Path;

use anyhow::{Context, Result};
use kneepath_core::KnowledgeBase;
use kneepath_core::kb::Source;

pub fn load(dir: &Path) -> Result<KnowledgeBase> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read knowledge-base folder {}", dir.display()))?;
    let mut sources = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        sources.push(Source { name, text });
    }
    sources.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(KnowledgeBase::from_sources(&sources)?)
}
