//! Parsing and validating the knowledge base from its TOML text.
//!
//! Loading never stops at the first problem: every problem found is
//! collected as a [`Problem`] naming the file, the entry and what is wrong,
//! and the caller gets them all in one [`KbError`]. Only a knowledge base
//! without problems is returned.
//!
//! Each file is read as a TOML table; each entry is deserialized on its own
//! (so a missing field is reported against that entry), then its references
//! are resolved and its conditions are parsed and type-checked against the
//! questionnaire. Beyond that, every citation must be defined and used,
//! every flag raised by some rule, every definition, exercise and advice
//! item used, and the outcome instruments (`instruments.toml`) must hold
//! exactly the item ids their scoring in `outcomes.rs` expects: a validated
//! questionnaire is only valid in its own published wording. Every triage
//! rule must come with examples (`[rule.examples]`: fact sets on which it
//! fires and on which it does not); they are read as a facts file is read,
//! against the finished questionnaire, so only once the rest is valid.
//!
//! The knowledge base's version is `sha256:` and the first 16 hex digits of
//! the hash of every file's name and text, so any edit to any file gives a
//! new version; stored results keep the version they were made under.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::*;
use crate::condition::{CmpOp, Condition, Operand};

mod checkin;

/// One knowledge-base file's text, named by its file name (`rules.toml`).
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub name: String,
    pub text: String,
}

/// One thing wrong with the knowledge base.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub file: String,
    /// The entry, e.g. `rule U3` or `exercise nordic_curl`; `None` for a
    /// problem with the file as a whole.
    pub entry: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.entry {
            Some(e) => write!(f, "{}: {}: {}", self.file, e, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// The knowledge base is invalid; every problem found is listed.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("knowledge base is invalid ({} problem{}):\n{}", .problems.len(),
    if .problems.len() == 1 { "" } else { "s" },
    .problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
pub struct KbError {
    pub problems: Vec<Problem>,
}

use super::bundled::BUNDLED_FILES as FILES;

impl KnowledgeBase {
    /// Parse and validate a knowledge base from the text of its files.
    pub fn from_sources(sources: &[Source]) -> Result<KnowledgeBase, KbError> {
        Loader::default().load(sources)
    }
}

// ---------------------------------------------------------------------------
// Raw, file-shaped types. They live only here.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCitation {
    id: String,
    text: String,
    url: Option<String>,
    doi: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    id: String,
    title: String,
    intro: String,
    gate: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOption {
    value: String,
    label: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: String,
    section: String,
    kind: String,
    label: String,
    prompt: String,
    help: Option<String>,
    unit: Option<String>,
    min: Option<toml::Value>,
    max: Option<toml::Value>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    must_answer: bool,
    absent: Option<String>,
    warning_answer: Option<bool>,
    how_to_check: Option<String>,
    show_if: Option<toml::Value>,
    warning_sign: Option<String>,
    #[serde(default)]
    when_new_unknown: Vec<String>,
    options: Option<Vec<RawOption>>,
    open: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefinition {
    id: String,
    description: String,
    when: toml::Value,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    id: String,
    title: String,
    do_now: String,
    sign_action: String,
    advice: Vec<String>,
    citations: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlag {
    id: String,
    title: String,
    meaning: String,
    do_now: String,
    citations: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    level: String,
    flag: String,
    when: toml::Value,
    reason: String,
    citations: Vec<String>,
    examples: Option<RawExamples>,
}

/// `[rule.examples]`: fact sets as a facts file writes them, read once the
/// questionnaire is complete.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawExamples {
    #[serde(default)]
    fires: Vec<toml::Table>,
    #[serde(default)]
    quiet: Vec<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContributor {
    id: String,
    rule: String,
    title: String,
    what: String,
    mechanism: String,
    evidence: String,
    helps: String,
    measured: Option<toml::Value>,
    reported: Option<toml::Value>,
    plan_exercises: Vec<String>,
    plan_advice: Vec<String>,
    citations: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExit {
    text: String,
    when: toml::Value,
    #[serde(default)]
    unless_unknown: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhase {
    id: String,
    title: String,
    goal: String,
    typical_days: String,
    start_when: Option<toml::Value>,
    exercises: Vec<String>,
    advice: Vec<String>,
    citations: Vec<String>,
    exit: Vec<RawExit>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDosage {
    sets: Option<u32>,
    reps: Option<u32>,
    hold_seconds: Option<u32>,
    minutes: Option<u32>,
    per_day: Option<u32>,
    days_per_week: u32,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPose {
    id: String,
    trunk: f64,
    thigh: f64,
    shin: f64,
    thigh2: f64,
    shin2: f64,
    arm: f64,
    forearm: f64,
    foot: Option<f64>,
    prop: Option<Prop>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExercise {
    id: String,
    name: String,
    phases: Vec<String>,
    purpose: String,
    steps: Vec<String>,
    dosage: RawDosage,
    easier: String,
    harder: String,
    stop_if: String,
    #[serde(default)]
    properties: Vec<String>,
    supported: Option<String>,
    /// A sport-return session, shown and timed apart from the exercises.
    #[serde(default)]
    sport_session: bool,
    figure: [String; 2],
    citations: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlanRule {
    id: String,
    leaves_out: String,
    because: String,
    when: Option<toml::Value>,
    #[serde(default)]
    flags: Vec<String>,
    #[serde(default)]
    no_exercise: bool,
    #[serde(default)]
    only: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    supported: Vec<String>,
    max_phase: Option<String>,
    max_start_phase: Option<String>,
    #[serde(default)]
    swap_advice: Vec<[String; 2]>,
    #[serde(default)]
    exclude_treatments: Vec<String>,
    #[serde(default)]
    liftable: bool,
    citations: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdvice {
    id: String,
    title: String,
    text: String,
    citations: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTreatment {
    id: String,
    name: String,
    evidence: EvidenceLevel,
    summary: String,
    who: String,
    citations: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstrument {
    id: String,
    title: String,
    short: String,
    intro: String,
    attribution: String,
    higher_is_better: bool,
    mic: f64,
    citations: Vec<String>,
    scales: std::collections::BTreeMap<String, Vec<String>>,
    section: Vec<RawInstrumentSection>,
    item: Vec<RawInstrumentItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstrumentSection {
    id: String,
    title: String,
    prompt: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstrumentItem {
    id: String,
    section: String,
    text: String,
    options: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdvance {
    consecutive_checkins: usize,
    max_exercise_pain: u8,
    min_adherence_pct: u8,
    citations: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStepBack {
    morning_pain_rise: u8,
    consecutive_days: usize,
    max_exercise_pain: u8,
    citations: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEscalate {
    days_in_plan: u32,
    meaningful_change: f64,
    citations: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProgression {
    advance: RawAdvance,
    step_back: RawStepBack,
    escalate: RawEscalate,
}

// ---------------------------------------------------------------------------

/// Where a problem is: file and entry label.
#[derive(Clone)]
struct At {
    file: &'static str,
    entry: Option<String>,
}

impl At {
    fn file(file: &'static str) -> At {
        At { file, entry: None }
    }
}

#[derive(Default)]
struct Loader {
    problems: Vec<Problem>,
    files: HashMap<&'static str, toml::Table>,
    citations: Vec<Citation>,
    citation_index: HashMap<String, CitationId>,
    cited: HashSet<CitationId>,
    questions: Vec<Question>,
    fact_index: HashMap<String, FactId>,
    definitions: Vec<Definition>,
    used_definitions: HashSet<usize>,
    advice_index: HashMap<String, AdviceId>,
    used_advice: HashSet<AdviceId>,
    phase_index: HashMap<String, PhaseId>,
    exercise_index: HashMap<String, ExerciseId>,
    used_exercises: HashSet<ExerciseId>,
    /// While parsing definitions, `ref` may name only an earlier definition.
    in_definitions: bool,
    /// Questions' `show_if`, parsed once the definitions are known.
    pending_show_ifs: Vec<Option<(At, toml::Value)>>,
    /// Each loaded rule's examples, in rule order, read into facts once the
    /// knowledge base is built.
    pending_examples: Vec<(At, RawExamples)>,
}

fn join(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

impl Loader {
    fn problem(&mut self, at: &At, message: impl Into<String>) {
        self.problems.push(Problem {
            file: at.file.to_string(),
            entry: at.entry.clone(),
            message: message.into(),
        });
    }

    fn load(mut self, sources: &[Source]) -> Result<KnowledgeBase, KbError> {
        let version = content_hash(sources);
        // Without every file parsed, later checks would only cascade; a stray
        // extra file does not stop the rest from being checked.
        self.parse_files(sources);
        if FILES.iter().any(|f| !self.files.contains_key(f)) {
            return Err(KbError {
                problems: self.problems,
            });
        }
        self.load_citations();
        let meta = self.load_meta();
        let sections = self.load_sections();
        self.load_question_kinds(&sections);
        self.load_definitions();
        self.load_show_ifs();
        let advice = self.load_advice();
        let levels = self.load_levels();
        let flags = self.load_flags();
        let rules = self.load_rules(&flags);
        self.mark_must_answer(&rules);
        let (phase_ids, default_start) = self.load_phase_ids();
        let poses = self.load_poses();
        let exercises = self.load_exercises(&phase_ids, &poses);
        let phases = self.load_phases(&exercises);
        let contributors = self.load_contributors();
        let treatments = self.load_treatments();
        let plan_rules = self.load_plan_rules(&flags, &phases, &exercises, &treatments);
        let instruments = self.load_instruments();
        let progression = self.load_progression();
        let checkin = self.load_checkin_form();
        self.check_unused(&flags, &rules, &advice, &exercises);
        for (i, p) in poses.iter().enumerate() {
            if !exercises.iter().any(|e| e.figure.0 == i || e.figure.1 == i) {
                self.problems.push(Problem {
                    file: "exercises.toml".into(),
                    entry: Some(format!("pose {}", p.id)),
                    message: "no exercise's figure uses this pose".into(),
                });
            }
        }

        let pending_examples = std::mem::take(&mut self.pending_examples);
        match (meta, levels, default_start, progression) {
            (Some(meta), Some(levels), Some(default_start), Some(progression))
                if self.problems.is_empty() =>
            {
                let mut kb = KnowledgeBase {
                    meta,
                    version,
                    sections,
                    questions: self.questions,
                    definitions: self.definitions,
                    levels,
                    flags,
                    rules,
                    plan_rules,
                    contributors,
                    phases,
                    default_start,
                    exercises,
                    poses,
                    advice,
                    treatments,
                    instruments,
                    citations: self.citations,
                    progression,
                    checkin,
                    fact_index: self.fact_index,
                };
                let mut problems = super::visibility::hidden_question_problems(&kb);
                problems.extend(attach_examples(&mut kb, pending_examples));
                if problems.is_empty() {
                    Ok(kb)
                } else {
                    Err(KbError { problems })
                }
            }
            _ => Err(KbError {
                problems: self.problems,
            }),
        }
    }

    fn parse_files(&mut self, sources: &[Source]) {
        for src in sources {
            let Some(&name) = FILES.iter().find(|f| **f == src.name) else {
                self.problems.push(Problem {
                    file: src.name.clone(),
                    entry: None,
                    message: format!(
                        "not a knowledge-base file (expected one of: {})",
                        FILES.join(", ")
                    ),
                });
                continue;
            };
            match toml::from_str::<toml::Table>(&src.text) {
                Ok(t) => {
                    self.files.insert(name, t);
                }
                Err(e) => self.problem(&At::file(name), format!("invalid TOML: {e}")),
            }
        }
        for f in FILES {
            if !sources.iter().any(|s| s.name == *f) {
                self.problem(&At::file(f), "file is missing");
            }
        }
    }

    /// The `[[key]]` entries of a file, each with its label ("rule U3").
    fn entries(&mut self, file: &'static str, key: &str, kind: &str) -> Vec<(At, toml::Value)> {
        let value = self.files.get(file).and_then(|t| t.get(key)).cloned();
        let Some(value) = value else {
            self.problem(&At::file(file), format!("has no [[{key}]] entries"));
            return Vec::new();
        };
        let toml::Value::Array(items) = value else {
            self.problem(
                &At::file(file),
                format!("`{key}` must be a list of [[{key}]] tables"),
            );
            return Vec::new();
        };
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let label = match item.get("id").and_then(toml::Value::as_str) {
                Some(id) => format!("{kind} {id}"),
                None => format!("{kind} #{} (no id)", i + 1),
            };
            let at = At {
                file,
                entry: Some(label),
            };
            if let Some(id) = item.get("id").and_then(toml::Value::as_str)
                && !seen.insert(id.to_string())
            {
                self.problem(&at, format!("id `{id}` is used twice"));
                continue;
            }
            out.push((at, item));
        }
        out
    }

    fn de<T: DeserializeOwned>(&mut self, at: &At, v: toml::Value) -> Option<T> {
        match v.try_into::<T>() {
            Ok(t) => Some(t),
            Err(e) => {
                self.problem(at, e.message().trim().to_string());
                None
            }
        }
    }

    fn typed_entries<T: DeserializeOwned>(
        &mut self,
        file: &'static str,
        key: &str,
        kind: &str,
    ) -> Vec<(At, T)> {
        let entries = self.entries(file, key, kind);
        entries
            .into_iter()
            .filter_map(|(at, v)| self.de::<T>(&at, v).map(|t| (at, t)))
            .collect()
    }

    fn text(&mut self, at: &At, field: &str, value: &str) {
        if value.trim().is_empty() {
            self.problem(at, format!("text missing: `{field}` is empty"));
        }
    }

    fn cite(&mut self, at: &At, ids: &[String]) -> Vec<CitationId> {
        if ids.is_empty() {
            self.problem(at, "cites no source: `citations` is empty");
        }
        let mut out = Vec::new();
        for id in ids {
            match self.citation_index.get(id) {
                Some(&c) => {
                    self.cited.insert(c);
                    out.push(c);
                }
                None => self.problem(
                    at,
                    format!("cites `{id}`, which citations.toml does not define"),
                ),
            }
        }
        out
    }

    fn advice_refs(&mut self, at: &At, ids: &[String]) -> Vec<AdviceId> {
        let mut out = Vec::new();
        for id in ids {
            match self.advice_index.get(id) {
                Some(&a) => {
                    self.used_advice.insert(a);
                    out.push(a);
                }
                None => self.problem(
                    at,
                    format!("names advice `{id}`, which advice.toml does not define"),
                ),
            }
        }
        out
    }

    fn exercise_refs(&mut self, at: &At, ids: &[String]) -> Vec<ExerciseId> {
        let mut out = Vec::new();
        for id in ids {
            match self.exercise_index.get(id) {
                Some(&e) => {
                    self.used_exercises.insert(e);
                    out.push(e);
                }
                None => self.problem(
                    at,
                    format!("names exercise `{id}`, which exercises.toml does not define"),
                ),
            }
        }
        out
    }

    // --- files -------------------------------------------------------------

    fn load_citations(&mut self) {
        for (at, raw) in self.typed_entries::<RawCitation>("citations.toml", "citation", "citation")
        {
            self.text(&at, "text", &raw.text);
            self.citation_index
                .insert(raw.id.clone(), self.citations.len());
            self.citations.push(Citation {
                id: raw.id,
                text: raw.text,
                url: raw.url,
                doi: raw.doi,
            });
        }
    }

    fn load_meta(&mut self) -> Option<Meta> {
        let table = self.files.get("meta.toml").cloned()?;
        let meta: Meta = self.de(&At::file("meta.toml"), toml::Value::Table(table))?;
        let at = At::file("meta.toml");
        for (field, v) in [
            ("name", &meta.name),
            ("policy", &meta.policy),
            ("policy_version", &meta.policy_version),
            ("policy_date", &meta.policy_date),
            ("disclaimer", &meta.disclaimer),
        ] {
            self.text(&at, field, v);
        }
        Some(meta)
    }

    fn load_sections(&mut self) -> Vec<Section> {
        let mut out = Vec::new();
        for (at, raw) in
            self.typed_entries::<RawSection>("questionnaire.toml", "section", "section")
        {
            self.text(&at, "title", &raw.title);
            self.text(&at, "intro", &raw.intro);
            if let Some(g) = &raw.gate {
                self.text(&at, "gate", g);
            }
            out.push(Section {
                id: raw.id,
                title: raw.title,
                intro: raw.intro,
                gate: raw.gate,
            });
        }
        out
    }

    /// First pass over the questions: ids, kinds and texts, so conditions can
    /// be checked against the vocabulary. `show_if` comes in a second pass.
    fn load_question_kinds(&mut self, sections: &[Section]) {
        let mut raw_show_ifs = Vec::new();
        let mut raw_new_unknown: Vec<(At, Vec<String>)> = Vec::new();
        for (at, raw) in
            self.typed_entries::<RawQuestion>("questionnaire.toml", "question", "question")
        {
            self.text(&at, "prompt", &raw.prompt);
            self.text(&at, "label", &raw.label);
            let Some(section) = sections.iter().position(|s| s.id == raw.section) else {
                self.problem(
                    &at,
                    format!("names section `{}`, which is not defined", raw.section),
                );
                continue;
            };
            let Some(kind) = self.question_kind(&at, &raw) else {
                continue;
            };
            let yes_no_or_list = matches!(kind, QuestionKind::Bool | QuestionKind::Multi { .. });
            let absent_false = match (yes_no_or_list, raw.absent.as_deref()) {
                (true, None | Some("false")) => true,
                (true, Some("unknown")) => false,
                (true, Some(other)) => {
                    self.problem(
                        &at,
                        format!("`absent` must be \"false\" or \"unknown\", got \"{other}\""),
                    );
                    true
                }
                (false, Some(_)) => {
                    self.problem(&at, "`absent` is only for yes/no and list questions");
                    false
                }
                (false, None) => false,
            };
            if raw.warning_answer.is_some() && kind != QuestionKind::Bool {
                self.problem(&at, "`warning_answer` is only for yes/no questions");
            }
            if let Some(h) = &raw.how_to_check {
                self.text(&at, "how_to_check", h);
            }
            if raw.warning_sign.is_some() && kind != QuestionKind::Bool {
                self.problem(&at, "`warning_sign` is only for yes/no questions");
            }
            if let Some(w) = &raw.warning_sign {
                self.text(&at, "warning_sign", w);
            }
            if !raw.when_new_unknown.is_empty() && raw.warning_sign.is_none() {
                self.problem(&at, "`when_new_unknown` is only for a warning sign");
            }
            self.fact_index.insert(raw.id.clone(), self.questions.len());
            raw_new_unknown.push((at.clone(), raw.when_new_unknown.clone()));
            raw_show_ifs.push(raw.show_if.map(|c| (at.clone(), c)));
            self.questions.push(Question {
                id: raw.id,
                section,
                kind,
                label: raw.label,
                prompt: raw.prompt,
                help: raw.help,
                unit: raw.unit,
                required: raw.required,
                must_answer: raw.must_answer || raw.required,
                absent_false,
                warning_answer: raw.warning_answer.unwrap_or(true),
                how_to_check: raw.how_to_check,
                show_if: None,
                warning_sign: raw.warning_sign,
                when_new_unknown: Vec::new(),
            });
        }
        self.pending_show_ifs = raw_show_ifs;
        // Names resolve once every question is known.
        for (i, (at, names)) in raw_new_unknown.into_iter().enumerate() {
            for n in names {
                match self.fact_index.get(&n) {
                    Some(&f) => self.questions[i].when_new_unknown.push(f),
                    None => self.problem(
                        &at,
                        format!("`when_new_unknown` names `{n}`, which is not a fact"),
                    ),
                }
            }
        }
    }

    fn question_kind(&mut self, at: &At, raw: &RawQuestion) -> Option<QuestionKind> {
        let numeric = matches!(raw.kind.as_str(), "integer" | "number");
        if !numeric && (raw.min.is_some() || raw.max.is_some()) {
            self.problem(
                at,
                "`min` and `max` are only for integer and number questions",
            );
        }
        let listy = matches!(raw.kind.as_str(), "choice" | "multi");
        if !listy && raw.options.is_some() {
            self.problem(at, "`options` are only for choice and multi questions");
        }
        if raw.open.is_some() && raw.kind != "multi" {
            self.problem(at, "`open` is only for multi questions");
        }
        match raw.kind.as_str() {
            "bool" => Some(QuestionKind::Bool),
            "integer" => {
                let min = raw.min.as_ref().and_then(toml::Value::as_integer);
                let max = raw.max.as_ref().and_then(toml::Value::as_integer);
                match (min, max) {
                    (Some(min), Some(max)) if min <= max => {
                        Some(QuestionKind::Integer { min, max })
                    }
                    (Some(_), Some(_)) => {
                        self.problem(at, "`min` is greater than `max`");
                        None
                    }
                    _ => {
                        self.problem(at, "an integer question needs whole-number `min` and `max`");
                        None
                    }
                }
            }
            "number" => {
                let num = |v: &Option<toml::Value>| {
                    v.as_ref()
                        .and_then(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)))
                };
                match (num(&raw.min), num(&raw.max)) {
                    (Some(min), Some(max)) if min <= max => Some(QuestionKind::Number { min, max }),
                    (Some(_), Some(_)) => {
                        self.problem(at, "`min` is greater than `max`");
                        None
                    }
                    _ => {
                        self.problem(at, "a number question needs numeric `min` and `max`");
                        None
                    }
                }
            }
            "choice" | "multi" => {
                let open = raw.open.unwrap_or(false);
                let options = self.options(at, raw.options.as_deref().unwrap_or(&[]));
                if raw.kind == "choice" && options.len() < 2 {
                    self.problem(at, "a choice question needs at least two `options`");
                    return None;
                }
                if raw.kind == "multi" && options.is_empty() && !open {
                    self.problem(at, "a closed multi question needs `options`");
                    return None;
                }
                Some(if raw.kind == "choice" {
                    QuestionKind::Choice { options }
                } else {
                    QuestionKind::Multi { options, open }
                })
            }
            other => {
                self.problem(
                    at,
                    format!(
                        "unknown kind \"{other}\" (expected bool, integer, number, choice or multi)"
                    ),
                );
                None
            }
        }
    }

    fn options(&mut self, at: &At, raw: &[RawOption]) -> Vec<ChoiceOption> {
        let mut out: Vec<ChoiceOption> = Vec::new();
        for o in raw {
            if o.value.trim().is_empty() || o.label.trim().is_empty() {
                self.problem(
                    at,
                    "text missing: an option has an empty `value` or `label`",
                );
            }
            if out.iter().any(|p| p.value == o.value) {
                self.problem(at, format!("option `{}` is listed twice", o.value));
                continue;
            }
            out.push(ChoiceOption {
                value: o.value.clone(),
                label: o.label.clone(),
            });
        }
        out
    }

    fn load_definitions(&mut self) {
        self.in_definitions = true;
        for (at, raw) in
            self.typed_entries::<RawDefinition>("definitions.toml", "definition", "definition")
        {
            self.text(&at, "description", &raw.description);
            if let Some(when) = self.condition(&at, "when", &raw.when) {
                self.definitions.push(Definition {
                    id: raw.id,
                    description: raw.description,
                    when,
                });
            }
        }
        self.in_definitions = false;
    }

    fn load_show_ifs(&mut self) {
        let pending = std::mem::take(&mut self.pending_show_ifs);
        for (i, p) in pending.into_iter().enumerate() {
            if let Some((at, raw)) = p {
                let c = self.condition(&at, "show_if", &raw);
                self.questions[i].show_if = c;
            }
        }
    }

    fn load_advice(&mut self) -> Vec<Advice> {
        let mut out = Vec::new();
        for (at, raw) in self.typed_entries::<RawAdvice>("advice.toml", "advice", "advice") {
            self.text(&at, "title", &raw.title);
            self.text(&at, "text", &raw.text);
            let citations = self.cite(&at, &raw.citations);
            self.advice_index.insert(raw.id.clone(), out.len());
            out.push(Advice {
                id: raw.id,
                title: raw.title,
                text: raw.text,
                citations,
            });
        }
        out
    }

    fn load_levels(&mut self) -> Option<Vec<Level>> {
        let mut slots: Vec<Option<Level>> = vec![None; TriageLevel::ALL.len()];
        for (at, raw) in self.typed_entries::<RawLevel>("levels.toml", "level", "level") {
            let Some(level) = TriageLevel::parse(&raw.id) else {
                self.problem(
                    &at,
                    format!(
                        "unknown level `{}` (expected one of: {})",
                        raw.id,
                        TriageLevel::names()
                    ),
                );
                continue;
            };
            self.text(&at, "title", &raw.title);
            self.text(&at, "do_now", &raw.do_now);
            self.text(&at, "sign_action", &raw.sign_action);
            let advice = self.advice_refs(&at, &raw.advice);
            let citations = self.cite(&at, &raw.citations);
            slots[level as usize] = Some(Level {
                level,
                title: raw.title,
                do_now: raw.do_now,
                sign_action: raw.sign_action,
                advice,
                citations,
            });
        }
        let mut out = Vec::new();
        for (i, slot) in slots.into_iter().enumerate() {
            match slot {
                Some(l) => out.push(l),
                None => self.problem(
                    &At::file("levels.toml"),
                    format!("level `{}` is not defined", TriageLevel::ALL[i].as_str()),
                ),
            }
        }
        (out.len() == TriageLevel::ALL.len()).then_some(out)
    }

    fn load_flags(&mut self) -> Vec<Flag> {
        let mut out = Vec::new();
        for (at, raw) in self.typed_entries::<RawFlag>("flags.toml", "flag", "flag") {
            self.text(&at, "title", &raw.title);
            self.text(&at, "meaning", &raw.meaning);
            self.text(&at, "do_now", &raw.do_now);
            let citations = self.cite(&at, &raw.citations);
            out.push(Flag {
                id: raw.id,
                title: raw.title,
                meaning: raw.meaning,
                do_now: raw.do_now,
                citations,
            });
        }
        out
    }

    fn load_rules(&mut self, flags: &[Flag]) -> Vec<Rule> {
        let mut out = Vec::new();
        for (at, raw) in self.typed_entries::<RawRule>("rules.toml", "rule", "rule") {
            self.text(&at, "reason", &raw.reason);
            let level = TriageLevel::parse(&raw.level);
            if level.is_none() {
                self.problem(
                    &at,
                    format!(
                        "unknown level `{}` (expected one of: {})",
                        raw.level,
                        TriageLevel::names()
                    ),
                );
            }
            let flag = flags.iter().position(|f| f.id == raw.flag);
            if flag.is_none() {
                self.problem(
                    &at,
                    format!(
                        "raises flag `{}`, which flags.toml does not define",
                        raw.flag
                    ),
                );
            }
            let citations = self.cite(&at, &raw.citations);
            let when = self.condition(&at, "when", &raw.when);
            let examples = self.examples(&at, raw.examples);
            if let (Some(level), Some(flag), Some(when)) = (level, flag, when) {
                out.push(Rule {
                    id: raw.id,
                    level,
                    flag,
                    when,
                    reason: raw.reason,
                    citations,
                    examples: RuleExamples::default(),
                });
                self.pending_examples.push((at, examples));
            }
        }
        out
    }

    /// A rule must come with at least one example on which it fires and one
    /// on which it does not; the examples themselves are read later.
    fn examples(&mut self, at: &At, raw: Option<RawExamples>) -> RawExamples {
        let Some(raw) = raw else {
            self.problem(
                at,
                "has no examples: give `[rule.examples]` with `fires` (fact sets on which it \
                 fires) and `quiet` (fact sets on which it does not)",
            );
            return RawExamples::default();
        };
        for (field, list, what) in [
            ("fires", &raw.fires, "on which the rule fires"),
            ("quiet", &raw.quiet, "on which the rule does not fire"),
        ] {
            if list.is_empty() {
                self.problem(
                    at,
                    format!("`examples.{field}` is empty: give at least one fact set {what}"),
                );
            }
        }
        raw
    }

    /// Policy v2: every yes/no question an `urgent` or more urgent rule
    /// reads must be answered (yes, no or not sure) whenever it is asked;
    /// one an `ambulance` or `emergency` rule reads must also say how to
    /// check, for the person who answers "not sure".
    fn mark_must_answer(&mut self, rules: &[Rule]) {
        let mut problems = Vec::new();
        for r in rules.iter().filter(|r| r.level <= TriageLevel::Urgent) {
            r.when.each_fact(&mut |f| {
                let q = &mut self.questions[f];
                if q.kind == QuestionKind::Bool {
                    q.must_answer = true;
                    if r.level <= TriageLevel::Emergency && q.how_to_check.is_none() {
                        problems.push((q.id.clone(), r.id.clone()));
                    }
                }
            });
        }
        problems.sort();
        problems.dedup();
        for (q, r) in problems {
            self.problems.push(Problem {
                file: "questionnaire.toml".into(),
                entry: Some(format!("question {q}")),
                message: format!(
                    "rule {r} (ambulance or emergency) reads it: give `how_to_check`, shown when \
                     the person is not sure"
                ),
            });
        }
    }

    fn load_phase_ids(&mut self) -> (Vec<String>, Option<PhaseId>) {
        let entries = self.entries("phases.toml", "phase", "phase");
        let ids: Vec<String> = entries
            .iter()
            .filter_map(|(_, v)| v.get("id").and_then(toml::Value::as_str).map(String::from))
            .collect();
        for (i, id) in ids.iter().enumerate() {
            self.phase_index.insert(id.clone(), i);
        }
        let default = self
            .files
            .get("phases.toml")
            .and_then(|t| t.get("default_start"))
            .and_then(toml::Value::as_str)
            .map(String::from);
        let default_start = match default {
            None => {
                self.problem(
                    &At::file("phases.toml"),
                    "`default_start` (a phase id) is missing",
                );
                None
            }
            Some(d) => {
                let p = self.phase_index.get(&d).copied();
                if p.is_none() {
                    self.problem(
                        &At::file("phases.toml"),
                        format!("`default_start` names phase `{d}`, which is not defined"),
                    );
                }
                p
            }
        };
        (ids, default_start)
    }

    fn load_poses(&mut self) -> Vec<Pose> {
        let mut out = Vec::new();
        for (at, raw) in self.typed_entries::<RawPose>("exercises.toml", "pose", "pose") {
            let angles = [
                raw.trunk,
                raw.thigh,
                raw.shin,
                raw.thigh2,
                raw.shin2,
                raw.arm,
                raw.forearm,
            ];
            if angles
                .iter()
                .chain(raw.foot.iter())
                .any(|a| !(-360.0..=360.0).contains(a))
            {
                self.problem(&at, "angles must be degrees from -360 to 360");
            }
            out.push(Pose {
                id: raw.id,
                trunk: raw.trunk,
                thigh: raw.thigh,
                shin: raw.shin,
                thigh2: raw.thigh2,
                shin2: raw.shin2,
                arm: raw.arm,
                forearm: raw.forearm,
                foot: raw.foot,
                prop: raw.prop,
            });
        }
        out
    }

    fn load_exercises(&mut self, phase_ids: &[String], poses: &[Pose]) -> Vec<Exercise> {
        let mut out = Vec::new();
        for (at, raw) in self.typed_entries::<RawExercise>("exercises.toml", "exercise", "exercise")
        {
            for (field, v) in [
                ("name", &raw.name),
                ("purpose", &raw.purpose),
                ("easier", &raw.easier),
                ("harder", &raw.harder),
                ("stop_if", &raw.stop_if),
            ] {
                self.text(&at, field, v);
            }
            if raw.steps.is_empty() || raw.steps.iter().any(|s| s.trim().is_empty()) {
                self.problem(&at, "text missing: `steps` is empty or has an empty step");
            }
            let mut phases = Vec::new();
            for p in &raw.phases {
                match phase_ids.iter().position(|id| id == p) {
                    Some(i) => phases.push(i),
                    None => self.problem(
                        &at,
                        format!("names phase `{p}`, which phases.toml does not define"),
                    ),
                }
            }
            if raw.phases.is_empty() {
                self.problem(&at, "`phases` is empty: name the phases it suits");
            }
            let d = raw.dosage;
            if d.reps.is_none() && d.hold_seconds.is_none() && d.minutes.is_none() {
                self.problem(&at, "dosage needs `reps`, `hold_seconds` or `minutes`");
            }
            if !(1..=7).contains(&d.days_per_week) {
                self.problem(
                    &at,
                    format!(
                        "dosage `days_per_week` must be 1 to 7, got {}",
                        d.days_per_week
                    ),
                );
            }
            let per_day = d.per_day.unwrap_or(1);
            if !(1..=12).contains(&per_day) {
                self.problem(
                    &at,
                    format!("dosage `per_day` must be 1 to 12, got {per_day}"),
                );
            }
            let citations = self.cite(&at, &raw.citations);
            let mut figure = [0usize; 2];
            for (slot, name) in raw.figure.iter().enumerate() {
                match poses.iter().position(|p| p.id == *name) {
                    Some(i) => figure[slot] = i,
                    None => self.problem(
                        &at,
                        format!("figure names pose `{name}`, which is not defined"),
                    ),
                }
            }
            let properties = self.properties(&at, "properties", &raw.properties);
            let balance = properties.contains(&ExerciseProperty::Balance);
            match &raw.supported {
                Some(t) => {
                    self.text(&at, "supported", t);
                    if !balance {
                        self.problem(&at, "`supported` is only for an exercise with the property `balance`");
                    }
                }
                None if balance => self.problem(
                    &at,
                    "an exercise with the property `balance` needs `supported`: its version holding on to a chair or wall",
                ),
                None => {}
            }
            self.exercise_index.insert(raw.id.clone(), out.len());
            out.push(Exercise {
                id: raw.id,
                name: raw.name,
                phases,
                purpose: raw.purpose,
                steps: raw.steps,
                dosage: Dosage {
                    sets: d.sets,
                    reps: d.reps,
                    hold_seconds: d.hold_seconds,
                    minutes: d.minutes,
                    per_day,
                    days_per_week: d.days_per_week,
                    note: d.note,
                },
                easier: raw.easier,
                harder: raw.harder,
                stop_if: raw.stop_if,
                properties,
                supported: raw.supported,
                sport_session: raw.sport_session,
                figure: (figure[0], figure[1]),
                citations,
            });
        }
        out
    }

    fn load_phases(&mut self, exercises: &[Exercise]) -> Vec<Phase> {
        let mut out = Vec::new();
        for (at, raw) in self.typed_entries::<RawPhase>("phases.toml", "phase", "phase") {
            let index = out.len();
            for (field, v) in [
                ("title", &raw.title),
                ("goal", &raw.goal),
                ("typical_days", &raw.typical_days),
            ] {
                self.text(&at, field, v);
            }
            let ex = self.exercise_refs(&at, &raw.exercises);
            if ex.is_empty() {
                self.problem(&at, "`exercises` is empty");
            }
            for &e in &ex {
                if !exercises[e].phases.contains(&index) {
                    self.problem(
                        &at,
                        format!(
                            "lists exercise `{}`, whose `phases` do not include `{}`",
                            exercises[e].id, raw.id
                        ),
                    );
                }
            }
            let advice = self.advice_refs(&at, &raw.advice);
            let citations = self.cite(&at, &raw.citations);
            let start_when = raw
                .start_when
                .as_ref()
                .and_then(|c| self.condition(&at, "start_when", c));
            let mut exit = Vec::new();
            for e in &raw.exit {
                self.text(&at, "exit.text", &e.text);
                if let Some(when) = self.condition(&at, "exit.when", &e.when) {
                    exit.push(ExitCriterion {
                        text: e.text.clone(),
                        when,
                        unless_unknown: e.unless_unknown,
                    });
                }
            }
            out.push(Phase {
                id: raw.id,
                title: raw.title,
                goal: raw.goal,
                typical_days: raw.typical_days,
                start_when,
                exercises: ex,
                advice,
                exit,
                citations,
            });
        }
        out
    }

    fn load_contributors(&mut self) -> Vec<Contributor> {
        let mut out = Vec::new();
        for (at, raw) in
            self.typed_entries::<RawContributor>("contributors.toml", "contributor", "contributor")
        {
            for (field, v) in [
                ("rule", &raw.rule),
                ("title", &raw.title),
                ("what", &raw.what),
                ("mechanism", &raw.mechanism),
                ("evidence", &raw.evidence),
                ("helps", &raw.helps),
            ] {
                self.text(&at, field, v);
            }
            if raw.measured.is_none() && raw.reported.is_none() {
                self.problem(&at, "needs a `measured` or a `reported` condition");
            }
            let measured = raw
                .measured
                .as_ref()
                .and_then(|c| self.condition(&at, "measured", c));
            let reported = raw
                .reported
                .as_ref()
                .and_then(|c| self.condition(&at, "reported", c));
            let plan_exercises = self.exercise_refs(&at, &raw.plan_exercises);
            let plan_advice = self.advice_refs(&at, &raw.plan_advice);
            let citations = self.cite(&at, &raw.citations);
            out.push(Contributor {
                id: raw.id,
                rule: raw.rule,
                title: raw.title,
                what: raw.what,
                mechanism: raw.mechanism,
                evidence: raw.evidence,
                helps: raw.helps,
                measured,
                reported,
                plan_exercises,
                plan_advice,
                citations,
            });
        }
        out
    }

    fn properties(&mut self, at: &At, field: &str, names: &[String]) -> Vec<ExerciseProperty> {
        let mut out = Vec::new();
        for n in names {
            match ExerciseProperty::parse(n) {
                Some(p) if !out.contains(&p) => out.push(p),
                Some(_) => self.problem(at, format!("`{field}` names `{n}` twice")),
                None => self.problem(
                    at,
                    format!(
                        "`{field}`: unknown exercise property `{n}` (expected one of: {})",
                        ExerciseProperty::ALL
                            .map(ExerciseProperty::as_str)
                            .join(", ")
                    ),
                ),
            }
        }
        out
    }

    fn load_plan_rules(
        &mut self,
        flags: &[Flag],
        phases: &[Phase],
        exercises: &[Exercise],
        treatments: &[Treatment],
    ) -> Vec<PlanRule> {
        let mut out = Vec::new();
        for (at, raw) in
            self.typed_entries::<RawPlanRule>("plan_rules.toml", "plan_rule", "plan rule")
        {
            self.text(&at, "leaves_out", &raw.leaves_out);
            self.text(&at, "because", &raw.because);
            let when = raw
                .when
                .as_ref()
                .and_then(|w| self.condition(&at, "when", w));
            if raw.when.is_none() && raw.flags.is_empty() {
                self.problem(&at, "needs `when` or `flags`: say when it applies");
            }
            let mut flag_ids = Vec::new();
            for f in &raw.flags {
                match flags.iter().position(|x| x.id == *f) {
                    Some(i) => flag_ids.push(i),
                    None => self.problem(
                        &at,
                        format!("names flag `{f}`, which flags.toml does not define"),
                    ),
                }
            }
            let only = self.properties(&at, "only", &raw.only);
            let exclude = self.properties(&at, "exclude", &raw.exclude);
            let supported = self.properties(&at, "supported", &raw.supported);
            for (field, props) in [
                ("only", &only),
                ("exclude", &exclude),
                ("supported", &supported),
            ] {
                for p in props.iter() {
                    if !exercises.iter().any(|e| e.properties.contains(p)) {
                        self.problem(
                            &at,
                            format!("`{field}` names `{}`, which no exercise has", p.as_str()),
                        );
                    }
                }
            }
            let mut phase_ref = |name: &Option<String>, field: &str| {
                let n = name.as_ref()?;
                let found = phases.iter().position(|p| p.id == *n);
                if found.is_none() {
                    self.problem(
                        &at,
                        format!("`{field}` names phase `{n}`, which phases.toml does not define"),
                    );
                }
                found
            };
            let max_phase = phase_ref(&raw.max_phase, "max_phase");
            let max_start_phase = phase_ref(&raw.max_start_phase, "max_start_phase");
            let mut swap_advice = Vec::new();
            for [from, to] in &raw.swap_advice {
                let refs = self.advice_refs(&at, &[from.clone(), to.clone()]);
                if let [a, b] = refs[..] {
                    swap_advice.push((a, b));
                }
            }
            let mut exclude_treatments = Vec::new();
            for t in &raw.exclude_treatments {
                match treatments.iter().position(|x| x.id == *t) {
                    Some(i) => exclude_treatments.push(i),
                    None => self.problem(
                        &at,
                        format!("names treatment `{t}`, which treatments.toml does not define"),
                    ),
                }
            }
            let effects = raw.no_exercise
                || !only.is_empty()
                || !exclude.is_empty()
                || !supported.is_empty()
                || max_phase.is_some()
                || max_start_phase.is_some()
                || !swap_advice.is_empty()
                || !exclude_treatments.is_empty();
            if !effects {
                self.problem(&at, "changes nothing: give it an effect (no_exercise, only, exclude, supported, max_phase, max_start_phase, swap_advice or exclude_treatments)");
            }
            let only_excludes = !raw.no_exercise
                && only.is_empty()
                && supported.is_empty()
                && max_phase.is_none()
                && max_start_phase.is_none()
                && swap_advice.is_empty()
                && exclude_treatments.is_empty();
            if raw.liftable && !only_excludes {
                self.problem(&at, "`liftable`: only a rule that merely excludes exercises may be lifted by a clinician");
            }
            let citations = self.cite(&at, &raw.citations);
            out.push(PlanRule {
                id: raw.id,
                leaves_out: raw.leaves_out,
                because: raw.because,
                when,
                flags: flag_ids,
                no_exercise: raw.no_exercise,
                only,
                exclude,
                supported,
                max_phase,
                max_start_phase,
                swap_advice,
                exclude_treatments,
                liftable: raw.liftable,
                citations,
            });
        }
        out
    }

    fn load_treatments(&mut self) -> Vec<Treatment> {
        let mut out = Vec::new();
        for (at, raw) in
            self.typed_entries::<RawTreatment>("treatments.toml", "treatment", "treatment")
        {
            for (field, v) in [
                ("name", &raw.name),
                ("summary", &raw.summary),
                ("who", &raw.who),
            ] {
                self.text(&at, field, v);
            }
            let citations = self.cite(&at, &raw.citations);
            out.push(Treatment {
                id: raw.id,
                name: raw.name,
                evidence: raw.evidence,
                summary: raw.summary,
                who: raw.who,
                citations,
            });
        }
        out
    }

    fn load_instruments(&mut self) -> Vec<Instrument> {
        let mut out = Vec::new();
        for (at, raw) in
            self.typed_entries::<RawInstrument>("instruments.toml", "instrument", "instrument")
        {
            let Some(kind) = InstrumentKind::parse(&raw.id) else {
                self.problem(
                    &at,
                    "unknown instrument: the core scores `koos`, `lefs` and `nprs`",
                );
                continue;
            };
            for (field, v) in [
                ("title", &raw.title),
                ("short", &raw.short),
                ("intro", &raw.intro),
                ("attribution", &raw.attribution),
            ] {
                self.text(&at, field, v);
            }
            if raw.mic.is_nan() || raw.mic <= 0.0 {
                self.problem(&at, "`mic` (minimal important change) must be above 0");
            }
            let citations = self.cite(&at, &raw.citations);
            let options_per_item = kind.options_per_item();
            for (name, scale) in &raw.scales {
                if scale.len() != options_per_item {
                    self.problem(
                        &at,
                        format!(
                            "scale `{name}` has {} options; this instrument's items have {options_per_item}",
                            scale.len()
                        ),
                    );
                }
                if scale.iter().any(|o| o.trim().is_empty()) {
                    self.problem(&at, format!("scale `{name}` has an empty option"));
                }
            }
            let mut sections: Vec<InstrumentSection> = Vec::new();
            for sec in raw.section {
                if sections.iter().any(|s| s.id == sec.id) {
                    self.problem(&at, format!("section `{}` is defined twice", sec.id));
                }
                self.text(&at, &format!("section {} title", sec.id), &sec.title);
                sections.push(InstrumentSection {
                    id: sec.id,
                    title: sec.title,
                    prompt: sec.prompt,
                });
            }
            let mut items: Vec<InstrumentItem> = Vec::new();
            for item in raw.item {
                let Some(section) = sections.iter().position(|s| s.id == item.section) else {
                    self.problem(
                        &at,
                        format!(
                            "item `{}` is in section `{}`, which is not defined",
                            item.id, item.section
                        ),
                    );
                    continue;
                };
                let Some(options) = raw.scales.get(&item.options) else {
                    self.problem(
                        &at,
                        format!(
                            "item `{}` uses scale `{}`, which is not defined",
                            item.id, item.options
                        ),
                    );
                    continue;
                };
                self.text(&at, &format!("item {} text", item.id), &item.text);
                if items.iter().any(|i| i.id == item.id) {
                    self.problem(&at, format!("item `{}` is defined twice", item.id));
                }
                items.push(InstrumentItem {
                    id: item.id,
                    section,
                    text: item.text,
                    options: options.clone(),
                });
            }
            let expected = kind.item_ids();
            let missing: Vec<&String> = expected
                .iter()
                .filter(|e| !items.iter().any(|i| &i.id == *e))
                .collect();
            let extra: Vec<&String> = items
                .iter()
                .map(|i| &i.id)
                .filter(|i| !expected.contains(i))
                .collect();
            if !missing.is_empty() {
                self.problem(
                    &at,
                    format!("items missing that the scoring needs: {}", join(&missing)),
                );
            }
            if !extra.is_empty() {
                self.problem(
                    &at,
                    format!("items the scoring does not know: {}", join(&extra)),
                );
            }
            out.push(Instrument {
                id: raw.id,
                kind,
                title: raw.title,
                short: raw.short,
                intro: raw.intro,
                attribution: raw.attribution,
                higher_is_better: raw.higher_is_better,
                mic: raw.mic,
                citations,
                sections,
                items,
            });
        }
        for kind in InstrumentKind::ALL {
            if !out.iter().any(|i| i.kind == kind) {
                self.problem(
                    &At::file("instruments.toml"),
                    format!("instrument `{}` is missing", kind.as_str()),
                );
            }
        }
        out
    }

    fn load_progression(&mut self) -> Option<Progression> {
        let at = At::file("progression.toml");
        let table = self.files.get("progression.toml").cloned()?;
        let raw: RawProgression = self.de(&at, toml::Value::Table(table))?;
        let pain = |v: u8| v <= 10;
        if raw.advance.consecutive_checkins == 0 || raw.step_back.consecutive_days == 0 {
            self.problem(
                &at,
                "`consecutive_checkins` and `consecutive_days` must be at least 1",
            );
        }
        if !pain(raw.advance.max_exercise_pain)
            || !pain(raw.step_back.max_exercise_pain)
            || !pain(raw.step_back.morning_pain_rise)
        {
            self.problem(&at, "pain thresholds must be on the 0-10 scale");
        }
        if raw.advance.min_adherence_pct > 100 {
            self.problem(&at, "`min_adherence_pct` must be 0 to 100");
        }
        if !(raw.escalate.meaningful_change > 0.0 && raw.escalate.meaningful_change <= 10.0) {
            self.problem(&at, "`meaningful_change` must be above 0 and at most 10");
        }
        let mut citations = self.cite(&at, &raw.advance.citations);
        citations.extend(self.cite(&at, &raw.step_back.citations));
        citations.extend(self.cite(&at, &raw.escalate.citations));
        citations.dedup();
        Some(Progression {
            advance_checkins: raw.advance.consecutive_checkins,
            advance_max_exercise_pain: raw.advance.max_exercise_pain,
            advance_min_adherence_pct: raw.advance.min_adherence_pct,
            step_back_morning_rise: raw.step_back.morning_pain_rise,
            step_back_days: raw.step_back.consecutive_days,
            step_back_max_exercise_pain: raw.step_back.max_exercise_pain,
            escalate_days_in_plan: raw.escalate.days_in_plan,
            escalate_meaningful_change: raw.escalate.meaningful_change,
            citations,
        })
    }

    fn check_unused(
        &mut self,
        flags: &[Flag],
        rules: &[Rule],
        advice: &[Advice],
        exercises: &[Exercise],
    ) {
        for (i, f) in flags.iter().enumerate() {
            if !rules.iter().any(|r| r.flag == i) {
                self.problems.push(Problem {
                    file: "flags.toml".into(),
                    entry: Some(format!("flag {}", f.id)),
                    message: "no rule raises this flag".into(),
                });
            }
        }
        for (i, c) in self.citations.clone().iter().enumerate() {
            if !self.cited.contains(&i) {
                self.problems.push(Problem {
                    file: "citations.toml".into(),
                    entry: Some(format!("citation {}", c.id)),
                    message: "nothing cites this source".into(),
                });
            }
        }
        for (i, a) in advice.iter().enumerate() {
            if !self.used_advice.contains(&i) {
                self.problems.push(Problem {
                    file: "advice.toml".into(),
                    entry: Some(format!("advice {}", a.id)),
                    message: "no level, phase or contributing factor uses this advice".into(),
                });
            }
        }
        for (i, e) in exercises.iter().enumerate() {
            if !self.used_exercises.contains(&i) {
                self.problems.push(Problem {
                    file: "exercises.toml".into(),
                    entry: Some(format!("exercise {}", e.id)),
                    message: "no phase or contributing factor uses this exercise".into(),
                });
            }
        }
        for (i, d) in self.definitions.clone().iter().enumerate() {
            if !self.used_definitions.contains(&i) {
                self.problems.push(Problem {
                    file: "definitions.toml".into(),
                    entry: Some(format!("definition {}", d.id)),
                    message: "nothing refers to this definition".into(),
                });
            }
        }
    }

    // --- conditions ----------------------------------------------------------

    fn condition(&mut self, at: &At, field: &str, v: &toml::Value) -> Option<Condition> {
        let mut errors = Vec::new();
        let c = self.parse_condition(v, &mut errors);
        for e in &errors {
            self.problem(at, format!("`{field}`: {e}"));
        }
        if errors.is_empty() { c } else { None }
    }

    fn parse_condition(&mut self, v: &toml::Value, errors: &mut Vec<String>) -> Option<Condition> {
        let Some(t) = v.as_table() else {
            errors.push(format!(
                "a condition must be a table such as {{ fact = \"fever\", is = true }}, got {}",
                v.type_str()
            ));
            return None;
        };
        if let Some(parts) = t.get("all").or_else(|| t.get("any")) {
            let is_all = t.contains_key("all");
            let key = if is_all { "all" } else { "any" };
            if t.len() != 1 {
                errors.push(format!("`{key}` must stand alone in its table"));
                return None;
            }
            let Some(items) = parts.as_array().filter(|a| !a.is_empty()) else {
                errors.push(format!("`{key}` needs a non-empty list of conditions"));
                return None;
            };
            let parsed: Vec<_> = items
                .iter()
                .map(|i| self.parse_condition(i, errors))
                .collect();
            let parsed: Option<Vec<_>> = parsed.into_iter().collect();
            return parsed.map(|p| {
                if is_all {
                    Condition::All(p)
                } else {
                    Condition::Any(p)
                }
            });
        }
        for key in ["not", "unless"] {
            let Some(inner) = t.get(key) else { continue };
            if t.len() != 1 {
                errors.push(format!("`{key}` must stand alone in its table"));
                return None;
            }
            let inner = self.parse_condition(inner, errors)?;
            // A "not sure" answer must never count as absent: under `not` a
            // yes/no test would make it so in one reading or the other, and
            // under `unless` a test for the warning answer would.
            let mut bad = Vec::new();
            inner.each_leaf(&mut |leaf| {
                if let Condition::Bool {
                    fact,
                    value,
                    warning,
                    ..
                } = leaf
                    && (key == "not" || value == warning)
                {
                    bad.push(self.questions[*fact].id.clone());
                }
            });
            for fact in bad {
                errors.push(format!(
                    "`{key}` may not contain the yes/no test of `{fact}`: a \"not sure\" answer \
                     would then count as absent; test for the answer itself (`is = false`), or \
                     use `unless` around a test for the reassuring answer"
                ));
            }
            return Some(if key == "not" {
                Condition::Not(Box::new(inner))
            } else {
                Condition::Unless(Box::new(inner))
            });
        }
        if let Some(r) = t.get("ref") {
            if t.len() != 1 {
                errors.push("`ref` must stand alone in its table".into());
                return None;
            }
            let name = r.as_str().unwrap_or_default();
            return match self.definitions.iter().position(|d| d.id == name) {
                Some(i) => {
                    self.used_definitions.insert(i);
                    Some(self.definitions[i].when.clone())
                }
                None if self.in_definitions => {
                    errors.push(format!(
                        "refers to definition `{name}`, which is not defined above it \
                         (a definition may only refer to one defined before it)"
                    ));
                    None
                }
                None => {
                    errors.push(format!(
                        "refers to definition `{name}`, which definitions.toml does not define"
                    ));
                    None
                }
            };
        }
        self.parse_leaf(t, errors)
    }

    fn parse_leaf(&mut self, t: &toml::Table, errors: &mut Vec<String>) -> Option<Condition> {
        const OPS: [&str; 11] = [
            "is",
            "eq",
            "in",
            "lt",
            "le",
            "gt",
            "ge",
            "any_of",
            "other_than",
            "not_empty",
            "known",
        ];
        let ops: Vec<&str> = t
            .keys()
            .map(String::as_str)
            .filter(|k| OPS.contains(k))
            .collect();
        let others: Vec<&str> = t
            .keys()
            .map(String::as_str)
            .filter(|k| !OPS.contains(k) && !matches!(*k, "fact" | "difference" | "or_unknown"))
            .collect();
        if !others.is_empty() {
            errors.push(format!(
                "unknown key `{}` (a condition uses all, any, not, ref, or fact/difference with one of: {})",
                others.join("`, `"),
                OPS.join(", ")
            ));
            return None;
        }
        let [op] = ops[..] else {
            errors.push(format!(
                "a fact test needs exactly one operator of: {}",
                OPS.join(", ")
            ));
            return None;
        };
        let value = &t[op];
        let or_unknown = match t.get("or_unknown") {
            None => false,
            Some(toml::Value::Boolean(b)) => *b,
            Some(other) => {
                errors.push(format!(
                    "`or_unknown` needs true or false, got {}",
                    describe_toml(other)
                ));
                return None;
            }
        };
        if or_unknown && !matches!(op, "eq" | "in" | "lt" | "le" | "gt" | "ge" | "any_of") {
            errors.push(format!(
                "`or_unknown` is only for eq, in, lt, le, gt, ge and any_of, not `{op}`"
            ));
            return None;
        }

        if let Some(diff) = t.get("difference") {
            let names: Vec<&str> = diff
                .as_array()
                .map(|a| a.iter().filter_map(toml::Value::as_str).collect())
                .unwrap_or_default();
            let [a, b] = names[..] else {
                errors.push("`difference` needs a list of two fact names".into());
                return None;
            };
            let (a, b) = (self.numeric_fact(a, errors)?, self.numeric_fact(b, errors)?);
            let (op, threshold) = self.comparison(op, value, "a difference", errors)?;
            return Some(Condition::Compare {
                left: Operand::Difference(a, b),
                op,
                threshold,
                or_unknown,
            });
        }

        let Some(name) = t.get("fact").and_then(toml::Value::as_str) else {
            errors.push("a fact test needs `fact = \"name\"`".into());
            return None;
        };
        let Some(&fact) = self.fact_index.get(name) else {
            errors.push(format!("unknown fact `{name}`"));
            return None;
        };
        let q = &self.questions[fact];
        let kind = q.kind.clone();
        let absent_false = q.absent_false;
        let warning = q.warning_answer;
        let mismatch =
            |what: &str| format!("`{op}` {what}, but `{name}` is a {} fact", kind.name());
        match op {
            "known" => {
                let expect = value.as_bool().or_else(|| {
                    errors.push("`known` needs true or false".into());
                    None
                })?;
                Some(Condition::Known { fact, expect })
            }
            "is" => {
                if kind != QuestionKind::Bool {
                    errors.push(mismatch("needs a yes/no fact"));
                    return None;
                }
                let Some(b) = value.as_bool() else {
                    errors.push(format!(
                        "`is` needs true or false, got {}",
                        value.type_str()
                    ));
                    return None;
                };
                Some(Condition::Bool {
                    fact,
                    value: b,
                    absent_false,
                    warning,
                })
            }
            "eq" | "in" => {
                let QuestionKind::Choice { options } = &kind else {
                    errors.push(mismatch("compares a choice fact with its options"));
                    return None;
                };
                let wanted: Vec<&toml::Value> = match (op, value) {
                    ("eq", v) => vec![v],
                    (_, toml::Value::Array(a)) if !a.is_empty() => a.iter().collect(),
                    _ => {
                        errors.push("`in` needs a non-empty list of options".into());
                        return None;
                    }
                };
                let mut idx = Vec::new();
                for w in wanted {
                    let Some(s) = w.as_str() else {
                        errors.push(format!(
                            "`{name}` is a choice fact and cannot be compared with {}",
                            describe_toml(w)
                        ));
                        return None;
                    };
                    match options.iter().position(|o| o.value == s) {
                        Some(i) => idx.push(i as u16),
                        None => {
                            errors.push(format!(
                                "\"{s}\" is not an option of `{name}` (options: {})",
                                options
                                    .iter()
                                    .map(|o| o.value.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ));
                            return None;
                        }
                    }
                }
                Some(Condition::Choice {
                    fact,
                    options: idx,
                    or_unknown,
                })
            }
            "lt" | "le" | "gt" | "ge" => {
                if !kind.is_numeric() {
                    errors.push(format!(
                        "`{name}` is a {} fact and cannot be compared with a number",
                        kind.name()
                    ));
                    return None;
                }
                let (op, threshold) = self.comparison(op, value, name, errors)?;
                Some(Condition::Compare {
                    left: Operand::Fact(fact),
                    op,
                    threshold,
                    or_unknown,
                })
            }
            "any_of" | "other_than" => {
                let QuestionKind::Multi { options, open } = &kind else {
                    errors.push(mismatch("needs a list fact"));
                    return None;
                };
                let Some(items) = value.as_array().filter(|a| !a.is_empty()) else {
                    errors.push(format!("`{op}` needs a non-empty list of values"));
                    return None;
                };
                let mut values = Vec::new();
                for i in items {
                    let Some(s) = i.as_str() else {
                        errors.push(format!(
                            "`any_of` needs text values, got {}",
                            describe_toml(i)
                        ));
                        return None;
                    };
                    if !open && !options.iter().any(|o| o.value == s) {
                        errors.push(format!("\"{s}\" is not an option of `{name}`"));
                        return None;
                    }
                    values.push(s.to_string());
                }
                Some(if op == "any_of" {
                    Condition::ContainsAny {
                        fact,
                        values,
                        absent_unknown: !absent_false,
                        or_unknown,
                    }
                } else {
                    Condition::ContainsOther {
                        fact,
                        values,
                        absent_unknown: !absent_false,
                    }
                })
            }
            "not_empty" => {
                if !matches!(kind, QuestionKind::Multi { .. }) {
                    errors.push(mismatch("needs a list fact"));
                    return None;
                }
                let expect = value.as_bool().or_else(|| {
                    errors.push("`not_empty` needs true or false".into());
                    None
                })?;
                Some(Condition::NotEmpty {
                    fact,
                    expect,
                    absent_unknown: !absent_false,
                })
            }
            _ => None,
        }
    }

    fn numeric_fact(&self, name: &str, errors: &mut Vec<String>) -> Option<FactId> {
        match self.fact_index.get(name) {
            None => {
                errors.push(format!("unknown fact `{name}`"));
                None
            }
            Some(&f) if !self.questions[f].kind.is_numeric() => {
                errors.push(format!(
                    "`{name}` is a {} fact and cannot be used in a difference",
                    self.questions[f].kind.name()
                ));
                None
            }
            Some(&f) => Some(f),
        }
    }

    fn comparison(
        &self,
        op: &str,
        value: &toml::Value,
        what: &str,
        errors: &mut Vec<String>,
    ) -> Option<(CmpOp, f64)> {
        let op = match op {
            "lt" => CmpOp::Lt,
            "le" => CmpOp::Le,
            "gt" => CmpOp::Gt,
            "ge" => CmpOp::Ge,
            other => {
                errors.push(format!(
                    "`{other}` cannot be used with {what}; use lt, le, gt or ge"
                ));
                return None;
            }
        };
        let threshold = match value {
            toml::Value::Integer(i) => *i as f64,
            toml::Value::Float(f) => *f,
            other => {
                errors.push(format!(
                    "`{}` compares {what} with a number, got {}",
                    op.symbol(),
                    describe_toml(other)
                ));
                return None;
            }
        };
        Some((op, threshold))
    }
}

/// Read each rule's examples into facts, as a facts file or a case file is
/// read: against the finished questionnaire, so only once the rest of the
/// knowledge base is valid. A problem names the rule and the example
/// (`examples.fires` #2 is the second fact set of `fires`).
fn attach_examples(kb: &mut KnowledgeBase, pending: Vec<(At, RawExamples)>) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut read = |at: &At, field: &str, tables: &[toml::Table]| -> Vec<Facts> {
        let mut out = Vec::new();
        for (i, t) in tables.iter().enumerate() {
            match kb.facts_from_toml_table(t) {
                Ok(f) => out.push(f),
                Err(e) => problems.push(Problem {
                    file: at.file.to_string(),
                    entry: at.entry.clone(),
                    message: format!("`examples.{field}` #{}: {e}", i + 1),
                }),
            }
        }
        out
    };
    let examples: Vec<RuleExamples> = pending
        .iter()
        .map(|(at, raw)| RuleExamples {
            fires: read(at, "fires", &raw.fires),
            quiet: read(at, "quiet", &raw.quiet),
        })
        .collect();
    for (rule, ex) in kb.rules.iter_mut().zip(examples) {
        rule.examples = ex;
    }
    problems
}

fn describe_toml(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("the text \"{s}\""),
        toml::Value::Integer(i) => format!("the number {i}"),
        toml::Value::Float(f) => format!("the number {f}"),
        toml::Value::Boolean(b) => format!("the boolean {b}"),
        other => format!("a {}", other.type_str()),
    }
}

/// `sha256:` and the first 16 hex digits of the hash of every file's name and
/// text, in file-name order. Any change to any file changes it.
fn content_hash(sources: &[Source]) -> String {
    let mut sorted: Vec<&Source> = sources.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut h = Sha256::new();
    for s in sorted {
        h.update(s.name.as_bytes());
        h.update([0u8]);
        h.update((s.text.len() as u64).to_le_bytes());
        h.update(s.text.as_bytes());
    }
    let digest = h.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}
