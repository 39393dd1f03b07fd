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
//! - [`questionnaire`]: what every way of asking the questions must do:
//!   which to show, which must be answered, when to stop at once.
//! - [`checkin`], [`progress`]: the daily check-in and the rules that move a
//!   person through the phases or tell them to see a professional.
//! - [`series`]: chart data from check-ins (averages, load, ACWR, spikes).
//! - [`day`]: calendar days; the clock is always passed in.
//! - [`clinic`]: the caseload status (who needs the clinician first), test
//!   results as facts, when an outcome questionnaire is due.
//! - [`outcomes`]: KOOS, LEFS and NPRS scoring and meaningful change.
//!
//! # Invariants
//! - No I/O: nothing here reads files, the network, the clock or randomness.
//!   Callers hand in text and get values back.
//! - Deterministic: the same knowledge base and facts give the same result.
//! - A result is the most urgent level of all fired rules; `urgent` and above
//!   never carry an exercise plan.

pub mod caseload;
pub mod cases;
pub mod checkin;
pub mod clinic;
pub mod condition;
pub mod day;
pub mod engine;
pub mod facts;
pub mod kb;
pub mod level;
pub mod outcomes;
pub mod phases;
pub mod plan;
pub mod progress;
pub mod questionnaire;
pub mod report;
pub mod series;

pub use day::Day;
pub use engine::{Assessment, Grade, assess};
pub use facts::{FactId, Facts, FactsError, Value};
pub use kb::KnowledgeBase;
pub use level::TriageLevel;
