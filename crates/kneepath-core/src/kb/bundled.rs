//! The repository's own knowledge base (`knowledge/` at the workspace root),
//! compiled into the binary so that `kneepath` works from any directory.
//! Compiling text in is not I/O: the core still reads no file at run time.

use super::Source;

/// The files a knowledge base consists of, all required.
pub const BUNDLED_FILES: &[&str] = &[
    "meta.toml",
    "citations.toml",
    "questionnaire.toml",
    "definitions.toml",
    "levels.toml",
    "flags.toml",
    "rules.toml",
    "plan_rules.toml",
    "contributors.toml",
    "phases.toml",
    "exercises.toml",
    "advice.toml",
    "treatments.toml",
    "instruments.toml",
    "progression.toml",
    "checkin.toml",
];

macro_rules! kb_file {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../../../knowledge/", $name)),
        )
    };
}

const TEXTS: &[(&str, &str)] = &[
    kb_file!("meta.toml"),
    kb_file!("citations.toml"),
    kb_file!("questionnaire.toml"),
    kb_file!("definitions.toml"),
    kb_file!("levels.toml"),
    kb_file!("flags.toml"),
    kb_file!("rules.toml"),
    kb_file!("plan_rules.toml"),
    kb_file!("contributors.toml"),
    kb_file!("phases.toml"),
    kb_file!("exercises.toml"),
    kb_file!("advice.toml"),
    kb_file!("treatments.toml"),
    kb_file!("instruments.toml"),
    kb_file!("progression.toml"),
    kb_file!("checkin.toml"),
];

/// The bundled files as sources, in [`BUNDLED_FILES`] order.
pub fn bundled_sources() -> Vec<Source> {
    TEXTS
        .iter()
        .map(|(name, text)| Source {
            name: (*name).to_string(),
            text: (*text).to_string(),
        })
        .collect()
}
