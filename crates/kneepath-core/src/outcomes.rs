//! Outcome measures, scored exactly as their manuals define.
//!
//! - **KOOS** (Roos 1998; scoring guide 2012): 42 items in five subscales,
//!   each item 0 (no problems) to 4 (extreme). A subscale score is
//!   `100 - mean(answered items) x 100 / 4`, computed only when at least half
//!   of its items are answered (Pain 5 of 9, Symptoms 4 of 7, ADL 9 of 17,
//!   Sport/Rec 3 of 5, QOL 2 of 4). There is no total score. Items S4 and S5
//!   ask whether the knee straightens and bends fully, so their options run
//!   the other way on the form ("Always" first); as for every item, the
//!   first option scores 0, no problem ([`koos_item_score`]), so an item's
//!   score is the index of the option ticked. (Reversing S4 and S5 a second
//!   time in code scored "Always able to straighten" as an extreme problem.)
//! - **LEFS** (Binkley 1999): 20 items, each 0 (extreme difficulty) to 4 (no
//!   difficulty); the score is the sum, 0-80. The form asks for an answer to
//!   every activity, so an incomplete form is not scored.
//! - **NPRS**: one rating, 0-10.
//!
//! The minimal important changes: KOOS 8 points (Roos & Lohmander 2003:
//! 8-10), LEFS 9 points (Binkley 1999). For pain on the 0-10 scale the
//! policy's meaningful change is 2 points or 30% of the starting value,
//! whichever is smaller ([`meaningful_pain_change`], Farrar 2001, who
//! derived it for improvement; kneepath uses the same size for worsening).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KoosSubscale {
    Pain,
    Symptoms,
    Adl,
    SportRec,
    Qol,
}

/// Item-id prefix, item count and the fewest answered items needed.
const KOOS: [(KoosSubscale, &str, u8, usize); 5] = [
    (KoosSubscale::Pain, "P", 9, 5),
    (KoosSubscale::Symptoms, "S", 7, 4),
    (KoosSubscale::Adl, "A", 17, 9),
    (KoosSubscale::SportRec, "SP", 5, 3),
    (KoosSubscale::Qol, "Q", 4, 2),
];

pub const KOOS_MIC: f64 = 8.0;
pub const LEFS_MIC: f64 = 9.0;
pub const NPRS_MIC: f64 = 2.0;

/// The 42 KOOS item ids in form order: P1-P9, S1-S7, A1-A17, SP1-SP5, Q1-Q4.
pub fn koos_items() -> Vec<String> {
    KOOS.iter()
        .flat_map(|(_, p, n, _)| (1..=*n).map(move |i| format!("{p}{i}")))
        .collect()
}

/// The 20 LEFS item ids: L1-L20.
pub fn lefs_items() -> Vec<String> {
    (1..=20).map(|i| format!("L{i}")).collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OutcomeError {
    #[error("item `{0}` is not part of this questionnaire")]
    UnknownItem(String),
    #[error("item `{item}`: {value} is not one of its answers")]
    OutOfRange { item: String, value: u8 },
}

/// The score of a KOOS answer given as the index of the option ticked
/// (0 = the first option on the form, which is always the answer meaning
/// no problem: "Always" for S4 and S5, whose option lists the knowledge
/// base writes the other way round).
pub fn koos_item_score(item: &str, option: u8) -> Result<u8, OutcomeError> {
    if !koos_items().iter().any(|i| i == item) {
        return Err(OutcomeError::UnknownItem(item.to_string()));
    }
    if option > 4 {
        return Err(OutcomeError::OutOfRange {
            item: item.to_string(),
            value: option,
        });
    }
    Ok(option)
}

/// A score rounded half up to one decimal, as published calculators show
/// it (56.25 is 56.3; Rust's `{:.1}` would round it to even, 56.2). The
/// nudge keeps a value computed as 56.249999... from a true 56.25 on the
/// right side.
pub fn round1(x: f64) -> f64 {
    (x * 10.0 + 1e-9_f64.copysign(x)).round() / 10.0
}

/// [`round1`] as text, always with one decimal ("56.3", "100.0").
pub fn format1(x: f64) -> String {
    format!("{:.1}", round1(x))
}

/// KOOS subscale scores, 0 (extreme problems) to 100 (none). `None` where
/// too few items were answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KoosScores {
    pub pain: Option<f64>,
    pub symptoms: Option<f64>,
    pub adl: Option<f64>,
    pub sport_rec: Option<f64>,
    pub qol: Option<f64>,
}

impl KoosScores {
    pub fn get(&self, s: KoosSubscale) -> Option<f64> {
        match s {
            KoosSubscale::Pain => self.pain,
            KoosSubscale::Symptoms => self.symptoms,
            KoosSubscale::Adl => self.adl,
            KoosSubscale::SportRec => self.sport_rec,
            KoosSubscale::Qol => self.qol,
        }
    }
}

fn check(answers: &BTreeMap<String, u8>, items: &[String]) -> Result<(), OutcomeError> {
    for (item, &value) in answers {
        if !items.contains(item) {
            return Err(OutcomeError::UnknownItem(item.clone()));
        }
        if value > 4 {
            return Err(OutcomeError::OutOfRange {
                item: item.clone(),
                value,
            });
        }
    }
    Ok(())
}

/// Score KOOS from item scores (0 = no problems ... 4 = extreme); missing
/// items are simply absent.
pub fn score_koos(answers: &BTreeMap<String, u8>) -> Result<KoosScores, OutcomeError> {
    check(answers, &koos_items())?;
    let sub = |prefix: &str, n: u8, min: usize| {
        let got: Vec<f64> = (1..=n)
            .filter_map(|i| answers.get(&format!("{prefix}{i}")).map(|v| f64::from(*v)))
            .collect();
        (got.len() >= min).then(|| 100.0 - got.iter().sum::<f64>() / got.len() as f64 * 25.0)
    };
    let [p, s, a, sp, q] = KOOS.map(|(_, prefix, n, min)| sub(prefix, n, min));
    Ok(KoosScores {
        pain: p,
        symptoms: s,
        adl: a,
        sport_rec: sp,
        qol: q,
    })
}

/// Score LEFS from item scores (0 = extreme difficulty ... 4 = none):
/// `None` unless all 20 are answered.
pub fn score_lefs(answers: &BTreeMap<String, u8>) -> Result<Option<u32>, OutcomeError> {
    let items = lefs_items();
    check(answers, &items)?;
    Ok((answers.len() == items.len()).then(|| answers.values().map(|v| u32::from(*v)).sum()))
}

/// The one NPRS item.
pub const NPRS_ITEM: &str = "N1";

/// One score of a questionnaire: a KOOS subscale, the LEFS total or the
/// pain rating. `value` is none when too few items were answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// `pain`, `symptoms`, `adl`, `sport_rec`, `qol`, `total` or `rating`.
    pub key: String,
    pub label: String,
    pub value: Option<f64>,
    /// Best and worst possible values: (0, 100), (0, 80) or (0, 10).
    pub min: f64,
    pub max: f64,
}

fn score(key: &str, label: &str, value: Option<f64>, max: f64) -> Score {
    Score {
        key: key.to_string(),
        label: label.to_string(),
        value,
        min: 0.0,
        max,
    }
}

/// Score a questionnaire from the options ticked (index of the option on
/// the form, 0 = first), item id -> option.
pub fn score_instrument(
    kind: crate::kb::InstrumentKind,
    options: &BTreeMap<String, u8>,
) -> Result<Vec<Score>, OutcomeError> {
    use crate::kb::InstrumentKind;
    match kind {
        InstrumentKind::Koos => {
            let mut items = BTreeMap::new();
            for (item, &o) in options {
                items.insert(item.clone(), koos_item_score(item, o)?);
            }
            let k = score_koos(&items)?;
            Ok(vec![
                score("pain", "Pain", k.pain, 100.0),
                score("symptoms", "Symptoms", k.symptoms, 100.0),
                score("adl", "Daily living", k.adl, 100.0),
                score("sport_rec", "Sport and recreation", k.sport_rec, 100.0),
                score("qol", "Quality of life", k.qol, 100.0),
            ])
        }
        InstrumentKind::Lefs => {
            let total = score_lefs(options)?;
            Ok(vec![score("total", "Total", total.map(f64::from), 80.0)])
        }
        InstrumentKind::Nprs => {
            for (item, &v) in options {
                if item != NPRS_ITEM {
                    return Err(OutcomeError::UnknownItem(item.clone()));
                }
                if v > 10 {
                    return Err(OutcomeError::OutOfRange {
                        item: item.clone(),
                        value: v,
                    });
                }
            }
            Ok(vec![score(
                "rating",
                "Pain",
                options.get(NPRS_ITEM).map(|v| f64::from(*v)),
                10.0,
            )])
        }
    }
}

/// Whether a change between two scores matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Better,
    Worse,
    NotMeaningful,
}

/// Compare scores against the minimal important change `mic`.
/// `higher_is_better`: true for KOOS and LEFS, false for NPRS. A change of
/// zero is never meaningful, whatever `mic` is.
pub fn change(before: f64, after: f64, mic: f64, higher_is_better: bool) -> Change {
    let d = if higher_is_better {
        after - before
    } else {
        before - after
    };
    if d > 0.0 && d >= mic {
        Change::Better
    } else if d < 0.0 && d <= -mic {
        Change::Worse
    } else {
        Change::NotMeaningful
    }
}

/// The meaningful change in pain on the 0-10 scale from a starting value
/// (policy v2, "How advice is worded"): 2 points or 30% of the start,
/// whichever is smaller. Used for improvement and for worsening alike.
pub fn meaningful_pain_change(start: f64, points: f64, share: f64) -> f64 {
    points.min(share * start)
}

/// [`change`] for one instrument: the pain rating (NPRS) uses
/// [`meaningful_pain_change`] from the first score, the others their MIC.
pub fn instrument_change(
    kind: crate::kb::InstrumentKind,
    mic: f64,
    higher_is_better: bool,
    before: f64,
    after: f64,
) -> Change {
    let threshold = match kind {
        crate::kb::InstrumentKind::Nprs => {
            meaningful_pain_change(before, mic, PAIN_MEANINGFUL_SHARE)
        }
        _ => mic,
    };
    change(before, after, threshold, higher_is_better)
}

/// The share of the starting pain that is a meaningful change (30%).
pub const PAIN_MEANINGFUL_SHARE: f64 = 0.3;

#[cfg(test)]
mod tests {
    use super::*;

    fn answers(pairs: &[(&str, u8)]) -> BTreeMap<String, u8> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    fn all(prefix: &str, n: u8, v: u8) -> Vec<(String, u8)> {
        (1..=n).map(|i| (format!("{prefix}{i}"), v)).collect()
    }

    #[test]
    fn instruments_score_from_the_options_ticked() {
        use crate::kb::InstrumentKind;
        // KOOS: the first option everywhere means no problems, S4 and S5
        // included ("Always" able to straighten and bend fully).
        let first: BTreeMap<String, u8> = koos_items().into_iter().map(|i| (i, 0)).collect();
        let s = score_instrument(InstrumentKind::Koos, &first).expect("score");
        assert_eq!(s.len(), 5);
        assert_eq!(s[1].key, "symptoms");
        assert_eq!(s[1].value, Some(100.0));
        assert_eq!(s[0].value, Some(100.0));
        // LEFS: option index = item score; incomplete = no score.
        let lefs: BTreeMap<String, u8> = lefs_items().into_iter().map(|i| (i, 3)).collect();
        let s = score_instrument(InstrumentKind::Lefs, &lefs).expect("score");
        assert_eq!(s[0].value, Some(60.0));
        let mut short = lefs.clone();
        short.remove("L7");
        assert_eq!(
            score_instrument(InstrumentKind::Lefs, &short).expect("score")[0].value,
            None
        );
        // NPRS: 0-10; anything else refused.
        let s = score_instrument(InstrumentKind::Nprs, &answers(&[("N1", 7)])).expect("score");
        assert_eq!(s[0].value, Some(7.0));
        assert!(score_instrument(InstrumentKind::Nprs, &answers(&[("N1", 11)])).is_err());
        assert!(score_instrument(InstrumentKind::Nprs, &answers(&[("N2", 1)])).is_err());
        assert!(score_instrument(InstrumentKind::Koos, &answers(&[("P1", 5)])).is_err());
    }

    #[test]
    fn koos_extremes() {
        let none: BTreeMap<String, u8> = koos_items().into_iter().map(|i| (i, 0)).collect();
        let s = score_koos(&none).expect("score");
        assert_eq!(
            s,
            KoosScores {
                pain: Some(100.0),
                symptoms: Some(100.0),
                adl: Some(100.0),
                sport_rec: Some(100.0),
                qol: Some(100.0)
            }
        );
        let extreme: BTreeMap<String, u8> = koos_items().into_iter().map(|i| (i, 4)).collect();
        assert_eq!(score_koos(&extreme).expect("score").pain, Some(0.0));
        assert_eq!(koos_items().len(), 42);
    }

    #[test]
    fn koos_hand_worked_pain() {
        // P1..P9 = 1,2,1,0,0,1,2,1,0: mean 8/9 = 0.889; 100 - 22.22 = 77.78.
        let a = answers(&[
            ("P1", 1),
            ("P2", 2),
            ("P3", 1),
            ("P4", 0),
            ("P5", 0),
            ("P6", 1),
            ("P7", 2),
            ("P8", 1),
            ("P9", 0),
        ]);
        let p = score_koos(&a).expect("score").pain.expect("pain");
        assert!((p - 77.777_777).abs() < 1e-4, "{p}");
    }

    #[test]
    fn koos_missing_items_follow_the_2012_rule() {
        // Pain: 5 of 9 answered is enough (mean 6/5 = 1.2 -> 70); 4 is not.
        let five = answers(&[("P1", 1), ("P2", 1), ("P3", 1), ("P4", 1), ("P5", 2)]);
        assert_eq!(score_koos(&five).expect("score").pain, Some(70.0));
        let four = answers(&[("P1", 1), ("P2", 1), ("P3", 1), ("P4", 1)]);
        assert_eq!(score_koos(&four).expect("score").pain, None);
        // The other subscales at their limits.
        for (prefix, n_ok, n_short) in [("S", 4u8, 3u8), ("A", 9, 8), ("SP", 3, 2), ("Q", 2, 1)] {
            let ok: BTreeMap<String, u8> = all(prefix, n_ok, 2).into_iter().collect();
            let short: BTreeMap<String, u8> = all(prefix, n_short, 2).into_iter().collect();
            let sub = KOOS.iter().find(|k| k.1 == prefix).expect("subscale").0;
            assert_eq!(
                score_koos(&ok).expect("score").get(sub),
                Some(50.0),
                "{prefix} with {n_ok}"
            );
            assert_eq!(
                score_koos(&short).expect("score").get(sub),
                None,
                "{prefix} with {n_short}"
            );
        }
    }

    #[test]
    fn koos_s4_s5_first_option_is_no_problem() {
        // "Always" able to straighten (S4) or bend (S5) fully is the first
        // option on the form and scores 0, as the KOOS scoring guide says.
        assert_eq!(koos_item_score("S4", 0), Ok(0));
        assert_eq!(koos_item_score("S5", 4), Ok(4));
        assert_eq!(koos_item_score("S3", 0), Ok(0));
        assert!(koos_item_score("S8", 0).is_err());
    }

    /// Reference values: the first option everywhere (all best) is 100 on
    /// every subscale, the middle option 50, the last (all worst) 0.
    #[test]
    fn koos_reference_values_from_the_form() {
        for (option, want) in [(0u8, 100.0), (2, 50.0), (4, 0.0)] {
            let ticked: BTreeMap<String, u8> =
                koos_items().into_iter().map(|i| (i, option)).collect();
            let scores = score_instrument(crate::kb::InstrumentKind::Koos, &ticked).expect("score");
            for s in scores {
                assert_eq!(s.value, Some(want), "{} with option {option}", s.key);
            }
        }
    }

    /// A hand-worked mixed form: Symptoms S1..S7 ticked 1, 0 (Always
    /// straightens), 2, 1 (Often straightens), 0, 3, 2: sum 9 of 7 items,
    /// mean 1.2857, 100 - 32.14 = 67.857..., shown 67.9.
    #[test]
    fn koos_hand_worked_symptoms_with_s4_s5() {
        let ticked = answers(&[
            ("S1", 1),
            ("S2", 0),
            ("S3", 2),
            ("S4", 1),
            ("S5", 0),
            ("S6", 3),
            ("S7", 2),
        ]);
        let scores = score_instrument(crate::kb::InstrumentKind::Koos, &ticked).expect("score");
        let s = scores
            .iter()
            .find(|s| s.key == "symptoms")
            .and_then(|s| s.value)
            .expect("symptoms");
        assert!((s - 67.857_142).abs() < 1e-4, "{s}");
        assert_eq!(format1(s), "67.9");
    }

    #[test]
    fn scores_round_half_up() {
        assert_eq!(format1(56.25), "56.3");
        assert_eq!(format1(56.24), "56.2");
        assert_eq!(format1(100.0), "100.0");
        assert_eq!(format1(0.05), "0.1");
        assert_eq!(format1(-2.25), "-2.3");
        // 100 - 7/16 x 100 = 56.25 exactly, from a computation.
        assert_eq!(format1(100.0 - 7.0 / 16.0 * 100.0), "56.3");
    }

    #[test]
    fn bad_answers_are_named() {
        assert_eq!(
            score_koos(&answers(&[("P1", 5)])),
            Err(OutcomeError::OutOfRange {
                item: "P1".into(),
                value: 5
            })
        );
        assert_eq!(
            score_koos(&answers(&[("P10", 1)])),
            Err(OutcomeError::UnknownItem("P10".into()))
        );
        assert_eq!(
            score_lefs(&answers(&[("L21", 1)])),
            Err(OutcomeError::UnknownItem("L21".into()))
        );
    }

    #[test]
    fn lefs_sum_and_incomplete_forms() {
        let full: BTreeMap<String, u8> = lefs_items()
            .into_iter()
            .enumerate()
            .map(|(i, k)| (k, (i % 5) as u8))
            .collect();
        // 0+1+2+3+4 four times = 40.
        assert_eq!(score_lefs(&full), Ok(Some(40)));
        let mut nineteen = full.clone();
        nineteen.remove("L7");
        assert_eq!(score_lefs(&nineteen), Ok(None));
    }

    #[test]
    fn meaningful_change_at_the_minimal_important_change() {
        assert_eq!(change(50.0, 58.0, KOOS_MIC, true), Change::Better);
        assert_eq!(change(50.0, 57.9, KOOS_MIC, true), Change::NotMeaningful);
        assert_eq!(change(40.0, 31.0, LEFS_MIC, true), Change::Worse);
        assert_eq!(change(6.0, 4.0, NPRS_MIC, false), Change::Better);
        assert_eq!(change(6.0, 5.0, NPRS_MIC, false), Change::NotMeaningful);
    }

    /// Pain: 2 points or 30% of the start, whichever is smaller, both ways.
    #[test]
    fn pain_change_is_two_points_or_thirty_percent_whichever_is_smaller() {
        use crate::kb::InstrumentKind::Nprs;
        assert!((meaningful_pain_change(8.0, 2.0, 0.3) - 2.0).abs() < 1e-9);
        assert!((meaningful_pain_change(4.0, 2.0, 0.3) - 1.2).abs() < 1e-9);
        // From 4: a fall of 2 (50%) is better, of 1 (25%) is not; a rise
        // of 1.2 (30%) is worse.
        assert_eq!(
            instrument_change(Nprs, 2.0, false, 4.0, 2.0),
            Change::Better
        );
        assert_eq!(
            instrument_change(Nprs, 2.0, false, 4.0, 3.0),
            Change::NotMeaningful
        );
        assert_eq!(instrument_change(Nprs, 2.0, false, 4.0, 5.2), Change::Worse);
        // From 0 nothing can improve, and a rise is a rise.
        assert_eq!(
            instrument_change(Nprs, 2.0, false, 0.0, 0.0),
            Change::NotMeaningful
        );
        assert_eq!(instrument_change(Nprs, 2.0, false, 0.0, 1.0), Change::Worse);
    }
}
