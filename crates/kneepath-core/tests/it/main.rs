//! Integration tests of kneepath-core: one binary, one module per concern.

mod checkin_form;
mod contributors;
mod facts;
mod kb_validation;
mod plan;
mod progress;
mod properties;
mod rules;
mod v2;

use kneepath_core::{Assessment, Facts, KnowledgeBase, assess};
use std::sync::OnceLock;

/// The bundled knowledge base, loaded once per test binary.
pub fn kb() -> &'static KnowledgeBase {
    static KB: OnceLock<KnowledgeBase> = OnceLock::new();
    KB.get_or_init(|| match KnowledgeBase::bundled() {
        Ok(kb) => kb,
        Err(e) => panic!("bundled knowledge base is invalid: {e}"),
    })
}

/// Facts from TOML text in the case vocabulary; panics with the problem.
pub fn facts(toml: &str) -> Facts {
    match kb().facts_from_toml_str(toml) {
        Ok(f) => f,
        Err(e) => panic!("bad test facts {toml:?}: {e}"),
    }
}

pub fn run(toml: &str) -> Assessment<'static> {
    assess(kb(), &facts(toml))
}
