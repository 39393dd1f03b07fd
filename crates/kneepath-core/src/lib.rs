//! kneepath's domain core: the clinical knowledge base, the triage engine,
//! contributing factors, the home plan and the progression rules.
//!
//! # Layout
//! - [`kb`]: the knowledge base (TOML text -> validated, index-linked types).
//! - [`facts`]: one person's answers, checked against the questionnaire.
//! - [`condition`]: the condition language and its one evaluator.
//! - [`engine`]: `assess(kb, facts) -> Assessment` (triage + factors + plan).
//! - [`plan`]: starting phase, exercises and advice, each with its reason.
//! - [`report`]: the owned, serializable form of an assessment.
//! - [`cases`]: clinical case files and their check.
//!
//! # Invariants
//! - No I/O: nothing here reads files, the network, the clock or randomness.
//!   Callers hand in text and get values back.
//! - Deterministic: the same knowledge base and facts give the same result.
//! - A result is the most urgent level of all fired rules; `urgent` and above
//!   never carry an exercise plan.

pub mod cases;
pub mod condition;
pub mod engine;
pub mod facts;
pub mod kb;
pub mod level;
pub mod plan;
pub mod report;

pub use engine::{Assessment, Grade, assess};
pub use facts::{FactId, Facts, FactsError, Value};
pub use kb::KnowledgeBase;
pub use level::TriageLevel;
