//! Facts: one person's answers, typed and checked against the questionnaire.
//!
//! Raw input (a TOML or JSON table, or a line typed in a terminal or a form)
//! is first turned into [`RawValue`]s, then each is checked against its
//! [`Question`] and becomes a typed [`Value`]. Nothing is guessed: an unknown
//! fact, a wrong type or a value out of range is a [`FactError`] that names
//! the fact. This module owns the *shape* of facts; what they mean clinically
//! lives in the knowledge base.

use std::fmt;

use thiserror::Error;

use crate::kb::{KnowledgeBase, Question, QuestionKind};

/// Index of a fact (= of its question) in [`KnowledgeBase::questions`].
pub type FactId = usize;

/// A checked answer. `Choice` holds the index of the option in the
/// question's option list; `List` holds option values (or free words for an
/// open list such as `sports`), without duplicates, in the order given.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    /// A yes/no question answered "not sure" (policy v2): what it counts as
    /// depends on who reads it (`condition::Reading`).
    Unsure,
    Int(i64),
    Num(f64),
    Choice(u16),
    List(Vec<String>),
}

impl Value {
    /// The numeric value of an integer or number fact.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Num(n) => Some(*n),
            _ => None,
        }
    }
}

/// One person's facts. Always sized to the knowledge base it was built for;
/// `None` means "not reported".
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    values: Vec<Option<Value>>,
}

impl Facts {
    /// No facts reported, for a knowledge base with `len` questions.
    pub fn empty(kb: &KnowledgeBase) -> Facts {
        Facts {
            values: vec![None; kb.questions.len()],
        }
    }

    pub fn get(&self, fact: FactId) -> Option<&Value> {
        self.values.get(fact).and_then(Option::as_ref)
    }

    pub fn set(&mut self, fact: FactId, value: Option<Value>) {
        if let Some(slot) = self.values.get_mut(fact) {
            *slot = value;
        }
    }

    /// The reported facts, in questionnaire order.
    pub fn present(&self) -> impl Iterator<Item = (FactId, &Value)> {
        self.values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.as_ref().map(|v| (i, v)))
    }

    pub fn is_empty(&self) -> bool {
        self.values.iter().all(Option::is_none)
    }
}

/// The facts with a warning sign appearing new: the sign present (its
/// warning answer), and the facts its question names in `when_new_unknown`
/// unknown, unless the sign was already reported present.
pub fn with_new_sign(kb: &KnowledgeBase, facts: &Facts, sign: FactId) -> Facts {
    let mut f = facts.clone();
    let q = &kb.questions[sign];
    let was = facts.get(sign) == Some(&Value::Bool(q.warning_answer));
    if !was {
        for &u in &q.when_new_unknown {
            f.set(u, None);
        }
    }
    f.set(sign, Some(Value::Bool(q.warning_answer)));
    f
}

/// How a "not sure" answer to a yes/no question is written in facts files,
/// JSON and stored facts.
pub const UNSURE: &str = "unsure";

/// A value as it arrives from outside, before it is checked.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<RawValue>),
    /// Anything else (a table, a date, null), named by its type.
    Other(&'static str),
}

impl RawValue {
    fn describe(&self) -> String {
        match self {
            RawValue::Bool(b) => format!("the boolean {b}"),
            RawValue::Int(i) => format!("the integer {i}"),
            RawValue::Float(f) => format!("the number {f}"),
            RawValue::Str(s) => format!("the text \"{s}\""),
            RawValue::List(_) => "a list".to_string(),
            RawValue::Other(t) => format!("a {t}"),
        }
    }
}

impl From<&toml::Value> for RawValue {
    fn from(v: &toml::Value) -> Self {
        match v {
            toml::Value::Boolean(b) => RawValue::Bool(*b),
            toml::Value::Integer(i) => RawValue::Int(*i),
            toml::Value::Float(f) => RawValue::Float(*f),
            toml::Value::String(s) => RawValue::Str(s.clone()),
            toml::Value::Array(a) => RawValue::List(a.iter().map(RawValue::from).collect()),
            toml::Value::Datetime(_) => RawValue::Other("date"),
            toml::Value::Table(_) => RawValue::Other("table"),
        }
    }
}

impl From<&serde_json::Value> for RawValue {
    fn from(v: &serde_json::Value) -> Self {
        match v {
            serde_json::Value::Bool(b) => RawValue::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => RawValue::Int(i),
                None => n
                    .as_f64()
                    .map_or(RawValue::Other("number"), RawValue::Float),
            },
            serde_json::Value::String(s) => RawValue::Str(s.clone()),
            serde_json::Value::Array(a) => RawValue::List(a.iter().map(RawValue::from).collect()),
            serde_json::Value::Null => RawValue::Other("null"),
            serde_json::Value::Object(_) => RawValue::Other("object"),
        }
    }
}

/// What is wrong with one fact.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum FactProblem {
    #[error("is not a fact of the questionnaire")]
    Unknown,
    #[error("is required")]
    Missing,
    #[error("expected {expected}, got {got}")]
    WrongType { expected: String, got: String },
    #[error("{got} is out of range: allowed {min} to {max}")]
    OutOfRange {
        got: String,
        min: String,
        max: String,
    },
    #[error("\"{got}\" is not one of: {allowed}")]
    NotAnOption { got: String, allowed: String },
    #[error("{0}")]
    Invalid(String),
}

/// A problem with a named fact.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("fact `{fact}`: {problem}")]
pub struct FactError {
    pub fact: String,
    pub problem: FactProblem,
}

/// Why a set of facts could not be read.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum FactsError {
    #[error("not valid {format}: {message}")]
    Syntax {
        format: &'static str,
        message: String,
    },
    #[error("{}", join_problems(.0))]
    Invalid(Vec<FactError>),
}

impl FactsError {
    /// The individual fact problems (empty for a syntax error).
    pub fn problems(&self) -> &[FactError] {
        match self {
            FactsError::Invalid(p) => p,
            FactsError::Syntax { .. } => &[],
        }
    }
}

fn join_problems(problems: &[FactError]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

struct Num(f64);

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.fract() == 0.0 && self.0.abs() < 1e15 {
            write!(f, "{}", self.0 as i64)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl Question {
    /// Check one raw value against this question.
    pub fn accept(&self, raw: &RawValue) -> Result<Value, FactProblem> {
        let wrong = |expected: &str| FactProblem::WrongType {
            expected: expected.to_string(),
            got: raw.describe(),
        };
        match &self.kind {
            QuestionKind::Bool => match raw {
                RawValue::Bool(b) => Ok(Value::Bool(*b)),
                RawValue::Str(s) if s == UNSURE => Ok(Value::Unsure),
                _ => Err(wrong("true, false or \"unsure\"")),
            },
            QuestionKind::Integer { min, max } => {
                let i = match raw {
                    RawValue::Int(i) => *i,
                    // 62.0 is exactly 62: accepted; 62.5 is not an integer.
                    RawValue::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => *f as i64,
                    _ => return Err(wrong("a whole number")),
                };
                if i < *min || i > *max {
                    return Err(FactProblem::OutOfRange {
                        got: i.to_string(),
                        min: min.to_string(),
                        max: max.to_string(),
                    });
                }
                Ok(Value::Int(i))
            }
            QuestionKind::Number { min, max } => {
                let n = match raw {
                    RawValue::Int(i) => *i as f64,
                    RawValue::Float(f) if f.is_finite() => *f,
                    _ => return Err(wrong("a number")),
                };
                if n < *min || n > *max {
                    return Err(FactProblem::OutOfRange {
                        got: Num(n).to_string(),
                        min: Num(*min).to_string(),
                        max: Num(*max).to_string(),
                    });
                }
                Ok(Value::Num(n))
            }
            QuestionKind::Choice { options } => match raw {
                RawValue::Str(s) => options
                    .iter()
                    .position(|o| o.value == *s)
                    .map(|i| Value::Choice(i as u16))
                    .ok_or_else(|| FactProblem::NotAnOption {
                        got: s.clone(),
                        allowed: self.option_list(),
                    }),
                _ => Err(wrong("one of the options as text")),
            },
            QuestionKind::Multi { options, open } => {
                // One value stands for a list of one (`mechanism = "fall"`).
                let one;
                let items = match raw {
                    RawValue::List(items) => items.as_slice(),
                    RawValue::Str(_) => {
                        one = [raw.clone()];
                        &one[..]
                    }
                    _ => return Err(wrong("a list")),
                };
                let mut out: Vec<String> = Vec::with_capacity(items.len());
                for item in items {
                    let RawValue::Str(s) = item else {
                        return Err(FactProblem::WrongType {
                            expected: "a list of words".to_string(),
                            got: format!("a list containing {}", item.describe()),
                        });
                    };
                    let s = s.trim();
                    if *open {
                        check_open_word(s)?;
                    } else if !options.iter().any(|o| o.value == s) {
                        return Err(FactProblem::NotAnOption {
                            got: s.to_string(),
                            allowed: self.option_list(),
                        });
                    }
                    if !out.iter().any(|v| v == s) {
                        out.push(s.to_string());
                    }
                }
                Ok(Value::List(out))
            }
        }
    }

    /// Parse an answer typed by a person (terminal or form field). An empty
    /// answer means "not reported" and gives `Ok(None)`. Choices may be given
    /// by value or by their 1-based number in the option list; yes/no as
    /// `y`, `yes`, `n`, `no`, `true`, `false`, and "not sure" as `not sure`,
    /// `unsure`, `ns` or `?`; lists separated by commas.
    pub fn parse_text(&self, text: &str) -> Result<Option<Value>, FactProblem> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(None);
        }
        let raw = match &self.kind {
            QuestionKind::Bool => match t.to_ascii_lowercase().as_str() {
                "y" | "yes" | "true" => RawValue::Bool(true),
                "n" | "no" | "false" => RawValue::Bool(false),
                "?" | "unsure" | "not sure" | "ns" => RawValue::Str(UNSURE.to_string()),
                _ => {
                    return Err(FactProblem::WrongType {
                        expected: "yes, no or not sure".to_string(),
                        got: format!("\"{t}\""),
                    });
                }
            },
            QuestionKind::Integer { .. } => match t.parse::<i64>() {
                Ok(i) => RawValue::Int(i),
                Err(_) => {
                    return Err(FactProblem::WrongType {
                        expected: "a whole number".to_string(),
                        got: format!("\"{t}\""),
                    });
                }
            },
            QuestionKind::Number { .. } => match t.replace(',', ".").parse::<f64>() {
                Ok(n) if n.is_finite() => RawValue::Float(n),
                _ => {
                    return Err(FactProblem::WrongType {
                        expected: "a number".to_string(),
                        got: format!("\"{t}\""),
                    });
                }
            },
            QuestionKind::Choice { options } => RawValue::Str(option_by_number(options, t)),
            QuestionKind::Multi { options, .. } => RawValue::List(
                t.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| RawValue::Str(option_by_number(options, s)))
                    .collect(),
            ),
        };
        self.accept(&raw).map(Some)
    }

    fn option_list(&self) -> String {
        match &self.kind {
            QuestionKind::Choice { options } | QuestionKind::Multi { options, .. } => options
                .iter()
                .map(|o| o.value.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            _ => String::new(),
        }
    }

    /// The value in its external form (as in a case file or JSON).
    pub fn value_to_json(&self, value: &Value) -> serde_json::Value {
        match (value, &self.kind) {
            (Value::Bool(b), _) => serde_json::Value::Bool(*b),
            (Value::Unsure, _) => serde_json::Value::from(UNSURE),
            (Value::Int(i), _) => serde_json::Value::from(*i),
            (Value::Num(n), _) => serde_json::Value::from(*n),
            (Value::Choice(i), QuestionKind::Choice { options }) => options
                .get(*i as usize)
                .map_or(serde_json::Value::Null, |o| o.value.clone().into()),
            (Value::Choice(_), _) => serde_json::Value::Null,
            (Value::List(items), _) => items.clone().into(),
        }
    }

    /// The value in plain words, for explanations: option labels, yes/no,
    /// numbers with their unit.
    pub fn display_value(&self, value: &Value) -> String {
        let unit = self.unit.as_deref().map_or(String::new(), |u| {
            if u == "%" {
                "%".to_string()
            } else {
                format!(" {u}")
            }
        });
        match (value, &self.kind) {
            (Value::Bool(true), _) => "yes".to_string(),
            (Value::Bool(false), _) => "no".to_string(),
            (Value::Unsure, _) => "not sure".to_string(),
            (Value::Int(1), _) => format!("1{}", singular(&unit)),
            (Value::Int(i), _) => format!("{i}{unit}"),
            (Value::Num(n), _) => format!("{}{unit}", Num(*n)),
            (Value::Choice(i), QuestionKind::Choice { options }) => options
                .get(*i as usize)
                .map_or_else(String::new, |o| o.label.clone()),
            (Value::Choice(_), _) => String::new(),
            (Value::List(items), QuestionKind::Multi { options, .. }) => {
                if items.is_empty() {
                    return "none".to_string();
                }
                items
                    .iter()
                    .map(|v| {
                        options
                            .iter()
                            .find(|o| o.value == *v)
                            .map_or(v.as_str(), |o| o.label.as_str())
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            }
            (Value::List(items), _) => items.join(", "),
        }
    }
}

/// " days" -> " day", " sessions per week" -> " session per week".
fn singular(unit: &str) -> String {
    let trimmed = unit.trim_start();
    let (first, rest) = trimmed.split_once(' ').unwrap_or((trimmed, ""));
    let first = first.strip_suffix('s').unwrap_or(first);
    let lead = &unit[..unit.len() - trimmed.len()];
    if rest.is_empty() {
        format!("{lead}{first}")
    } else {
        format!("{lead}{first} {rest}")
    }
}

fn option_by_number(options: &[crate::kb::ChoiceOption], t: &str) -> String {
    match t.parse::<usize>() {
        Ok(n) if n >= 1 && n <= options.len() => options[n - 1].value.clone(),
        _ => t.to_string(),
    }
}

fn check_open_word(s: &str) -> Result<(), FactProblem> {
    let ok = !s.is_empty()
        && s.len() <= 40
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == ' ');
    if ok {
        Ok(())
    } else {
        Err(FactProblem::Invalid(format!(
            "\"{s}\" is not a valid entry: use a word of up to 40 letters, digits, spaces, '-' or '_'"
        )))
    }
}

impl KnowledgeBase {
    /// Check a set of named raw values. Every problem is reported, not just
    /// the first; facts are only returned when all of them are valid.
    pub fn facts_from_pairs<'a, I>(&self, pairs: I) -> Result<Facts, FactsError>
    where
        I: IntoIterator<Item = (&'a str, RawValue)>,
    {
        let mut facts = Facts::empty(self);
        let mut problems = Vec::new();
        for (name, raw) in pairs {
            match self.fact_id(name) {
                None => problems.push(FactError {
                    fact: name.to_string(),
                    problem: FactProblem::Unknown,
                }),
                Some(id) => match self.questions[id].accept(&raw) {
                    Ok(v) => facts.set(id, Some(v)),
                    Err(problem) => problems.push(FactError {
                        fact: name.to_string(),
                        problem,
                    }),
                },
            }
        }
        for (id, q) in self.questions.iter().enumerate() {
            if q.required && facts.get(id).is_none() && !problems.iter().any(|p| p.fact == q.id) {
                problems.push(FactError {
                    fact: q.id.clone(),
                    problem: FactProblem::Missing,
                });
            }
        }
        if problems.is_empty() {
            Ok(facts)
        } else {
            Err(FactsError::Invalid(problems))
        }
    }

    /// Facts from a TOML table (the `[facts]` table of a case file).
    pub fn facts_from_toml_table(&self, table: &toml::Table) -> Result<Facts, FactsError> {
        self.facts_from_pairs(table.iter().map(|(k, v)| (k.as_str(), RawValue::from(v))))
    }

    /// Facts from a TOML document: either a bare table of facts, or a
    /// document with a `[facts]` table (so a case file works as a facts file).
    pub fn facts_from_toml_str(&self, text: &str) -> Result<Facts, FactsError> {
        let doc: toml::Table = toml::from_str(text).map_err(|e| FactsError::Syntax {
            format: "TOML",
            message: e.message().to_string(),
        })?;
        match doc.get("facts") {
            Some(toml::Value::Table(t)) => self.facts_from_toml_table(t),
            _ => self.facts_from_toml_table(&doc),
        }
    }

    /// Facts from a JSON object (bare, or with a `facts` object inside).
    pub fn facts_from_json_str(&self, text: &str) -> Result<Facts, FactsError> {
        let doc: serde_json::Value =
            serde_json::from_str(text).map_err(|e| FactsError::Syntax {
                format: "JSON",
                message: e.to_string(),
            })?;
        let obj = match doc.get("facts") {
            Some(serde_json::Value::Object(o)) => o,
            _ => match &doc {
                serde_json::Value::Object(o) => o,
                _ => {
                    return Err(FactsError::Syntax {
                        format: "JSON",
                        message: "expected an object of facts".to_string(),
                    });
                }
            },
        };
        self.facts_from_pairs(obj.iter().map(|(k, v)| (k.as_str(), RawValue::from(v))))
    }

    /// The facts as a JSON object in the case vocabulary.
    pub fn facts_to_json(&self, facts: &Facts) -> serde_json::Map<String, serde_json::Value> {
        facts
            .present()
            .map(|(id, v)| {
                let q = &self.questions[id];
                (q.id.clone(), q.value_to_json(v))
            })
            .collect()
    }
}
