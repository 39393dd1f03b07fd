//! Outcome questionnaires (KOOS, LEFS, NPRS): answers checked the way each
//! manual asks and scored, which are due, and the scores over time with
//! the change from the first response judged against the minimal important
//! change.

use std::collections::BTreeMap;

use kneepath_core::Day;
use kneepath_core::clinic::{Due, outcome_due};
use kneepath_core::kb::{Instrument, InstrumentKind, KnowledgeBase};
use kneepath_core::outcomes::score_instrument;

use kneepath_store::UserId;

use crate::{App, AppError, FieldError, PlanContext};

/// Answers (item -> option index) and their scores.
pub type Checked = (BTreeMap<String, u8>, Vec<kneepath_core::outcomes::Score>);

/// Why answers could not be scored: messages for people, and the items
/// unanswered or invalid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unanswered {
    pub messages: Vec<String>,
    pub missing: Vec<String>,
}

/// What an item unanswered or invalid is told, when it is named alone.
pub const NOT_ANSWERED: &str = "not answered, or not one of the answers";

impl From<Unanswered> for AppError {
    /// The messages about the answers as a whole, then each item marked.
    fn from(u: Unanswered) -> AppError {
        AppError::Invalid(
            u.messages
                .into_iter()
                .map(FieldError::whole)
                .chain(
                    u.missing
                        .into_iter()
                        .map(|m| FieldError::new(m, NOT_ANSWERED)),
                )
                .collect(),
        )
    }
}

impl Unanswered {
    /// Back from [`AppError::Invalid`]'s fields ([`From<Unanswered>`]).
    pub fn of(fields: &[FieldError]) -> Unanswered {
        let (whole, items): (Vec<&FieldError>, Vec<&FieldError>) =
            fields.iter().partition(|f| f.is_whole());
        Unanswered {
            messages: whole.into_iter().map(|f| f.message.clone()).collect(),
            missing: items.into_iter().map(|f| f.field.clone()).collect(),
        }
    }
}

/// Check a questionnaire's answers (`raw(item)` = the option index as
/// text, empty when unanswered) the way its manual asks: KOOS may miss
/// items (subscales with too few are left unscored, but at least one must
/// score); LEFS and NPRS need every item. Ok: the answers and scores.
pub fn check_answers(
    ins: &Instrument,
    raw: impl Fn(&str) -> String,
) -> Result<Checked, Unanswered> {
    let mut answers: BTreeMap<String, u8> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut missing = Vec::new();
    for item in &ins.items {
        let value = raw(&item.id);
        let value = value.trim();
        if value.is_empty() {
            missing.push(item.id.clone());
            continue;
        }
        match value.parse::<u8>() {
            Ok(v) if usize::from(v) < item.options.len() => {
                answers.insert(item.id.clone(), v);
            }
            _ => {
                errors.push(format!(
                    "{} “{}”: choose one of the answers given (0 to {}).",
                    item.id,
                    item.text,
                    item.options.len() - 1
                ));
                missing.push(item.id.clone());
            }
        }
    }
    let refused = |messages, missing| Unanswered { messages, missing };
    if !errors.is_empty() {
        return Err(refused(errors, missing));
    }
    let scores = score_instrument(ins.kind, &answers)
        .map_err(|e| refused(vec![e.to_string()], Vec::new()))?;
    if ins.kind == InstrumentKind::Koos {
        if scores.iter().all(|s| s.value.is_none()) {
            return Err(refused(
                vec!["Answer at least half of the questions in a section so it can be scored. Unanswered questions are marked.".into()],
                missing,
            ));
        }
    } else if !missing.is_empty() {
        return Err(refused(
            vec![format!(
                "Answer every question: {} of {} are still open (marked below).",
                missing.len(),
                ins.items.len()
            )],
            missing,
        ));
    }
    Ok((answers, scores))
}

impl App {
    /// The instrument with this id (`koos`, `lefs`, `nprs`).
    pub fn instrument(&self, id: &str) -> Result<&Instrument, AppError> {
        self.kb
            .instruments
            .iter()
            .find(|i| i.id == id)
            .ok_or(AppError::NotFound)
    }

    /// A person fills in a questionnaire: the answers checked
    /// ([`check_answers`]; refused: [`AppError::Invalid`], see
    /// [`Unanswered::of`]), scored and stored for `day`. Returns its id.
    pub async fn record_outcome(
        &self,
        user_id: &UserId,
        ins: &Instrument,
        raw: impl Fn(&str) -> String,
        day: Day,
        ip: Option<&str>,
    ) -> Result<String, AppError> {
        let (answers, scores) = check_answers(ins, raw)?;
        Ok(self
            .store
            .insert_outcome(user_id, &ins.id, day, &answers, &scores, ip)
            .await?)
    }

    /// The instruments due today for a patient, with the reason.
    pub async fn outcomes_due(
        &self,
        patient_id: &UserId,
        outcomes: &[kneepath_store::OutcomeRow],
        today: Day,
    ) -> Result<Vec<(InstrumentKind, Due)>, AppError> {
        Ok(match self.plan_context(patient_id).await? {
            Some(ctx) => due_in(&self.kb, &ctx, outcomes, today),
            None => Vec::new(),
        })
    }
}

/// The instruments due for a plan already read. `today` is the patient's own.
pub fn due_in(
    kb: &KnowledgeBase,
    ctx: &PlanContext,
    outcomes: &[kneepath_store::OutcomeRow],
    today: Day,
) -> Vec<(InstrumentKind, Due)> {
    let final_since = ctx
        .phase
        .filter(|p| p.phase + 1 == kb.phases.len())
        .map(|p| p.since);
    kb.instruments
        .iter()
        .filter_map(|i| {
            let last = outcomes
                .iter()
                .filter(|o| o.instrument == i.id)
                .map(|o| o.day)
                .max();
            outcome_due(ctx.plan_start, last, final_since, today).map(|d| (i.kind, d))
        })
        .collect()
}

/// A score as published calculators show it: half up to one decimal.
pub fn fmt1(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), kneepath_core::outcomes::format1)
}

/// One response's scores.
#[derive(Debug, Clone)]
pub struct ScoreRow {
    pub day: String,
    /// (label, value, change) for each score; the change is against the
    /// first response, e.g. "+12.5 (better)", empty on the first.
    pub values: Vec<(String, String, String)>,
}

/// One instrument's responses over time.
#[derive(Debug, Clone)]
pub struct InstrumentScores {
    pub title: String,
    pub mic: String,
    pub higher_is_better: bool,
    pub rows: Vec<ScoreRow>,
}

/// Scores over time per instrument, with the change from the first
/// response judged against the minimal important change.
pub fn score_tables(
    kb: &KnowledgeBase,
    outcomes: &[kneepath_store::OutcomeRow],
) -> Vec<InstrumentScores> {
    use kneepath_core::outcomes::{Change, format1, instrument_change};
    kb.instruments
        .iter()
        .filter_map(|ins| {
            // Scored again from the answers as stored, so a response saved
            // before a scoring fix (KOOS S4/S5) shows its right score.
            let scored: Vec<(&kneepath_store::OutcomeRow, Vec<kneepath_core::outcomes::Score>)> =
                outcomes
                    .iter()
                    .filter(|o| o.instrument == ins.id)
                    .map(|o| {
                        let s = score_instrument(ins.kind, &o.answers)
                            .unwrap_or_else(|_| o.scores.clone());
                        (o, s)
                    })
                    .collect();
            let (first, first_scores) = scored.first()?;
            let rows = scored
                .iter()
                .map(|(o, scores)| ScoreRow {
                    day: o.day.to_string(),
                    values: scores
                        .iter()
                        .zip(first_scores)
                        .map(|(s, f)| {
                            let change = match (f.value, s.value) {
                                (Some(a), Some(b)) if o.id != first.id => {
                                    let word = match instrument_change(
                                        ins.kind,
                                        ins.mic,
                                        ins.higher_is_better,
                                        a,
                                        b,
                                    ) {
                                        Change::Better => "better",
                                        Change::Worse => "worse",
                                        Change::NotMeaningful => "not a meaningful change",
                                    };
                                    let d = format1(b - a);
                                    let sign = if d.starts_with('-') { "" } else { "+" };
                                    format!("{sign}{d} ({word})")
                                }
                                _ => String::new(),
                            };
                            (s.label.clone(), fmt1(s.value), change)
                        })
                        .collect(),
                })
                .collect();
            Some(InstrumentScores {
                title: ins.short.clone(),
                mic: match ins.kind {
                    InstrumentKind::Nprs => format!(
                        "{} points or 30% of the first score, whichever is smaller (the same size for worsening)",
                        ins.mic
                    ),
                    _ => format!("{} points", ins.mic),
                },
                higher_is_better: ins.higher_is_better,
                rows,
            })
        })
        .collect()
}
