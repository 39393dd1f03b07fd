//! The daily check-in: what a person logs in under a minute, checked field by
//! field. Checking is pure: a [`RawCheckIn`] (the answers as given, from the
//! web form's name/value pairs or the JSON API's body) becomes a [`CheckIn`]
//! or one message per bad field ([`RawCheckIn::validate`]).
//!
//! Nothing is recorded on the person's behalf (policy v2): swelling,
//! walking, full movement and sleep start blank, and a blank answer is
//! unknown (`None`). An unknown answer is never a warning sign, never
//! changes the person's facts ([`facts_after`] keeps what was known) and so
//! never re-runs triage. Only pain now and stiffness are required.
//!
//! A stored check-in goes back to the form's pairs ([`checkin_fields`]) so
//! that its owner can correct it; reading those pairs again gives the same
//! check-in (property test
//! `a_stored_check_in_shown_again_reads_back_the_same`).

use serde::{Deserialize, Serialize};

use crate::day::Day;
use crate::facts::{Facts, Value};
use crate::kb::{KnowledgeBase, QuestionKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Swelling {
    None,
    Mild,
    Significant,
}

impl Swelling {
    /// Every answer, least first.
    pub const ALL: [Swelling; 3] = [Swelling::None, Swelling::Mild, Swelling::Significant];

    pub fn as_str(self) -> &'static str {
        match self {
            Swelling::None => "none",
            Swelling::Mild => "mild",
            Swelling::Significant => "significant",
        }
    }

    pub fn parse(s: &str) -> Option<Swelling> {
        match s {
            "none" => Some(Swelling::None),
            "mild" => Some(Swelling::Mild),
            "significant" => Some(Swelling::Significant),
            _ => None,
        }
    }
}

/// One question of the daily check-in, worded by `checkin.toml`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    /// The check-in's own name for it ([`RawCheckIn`]'s field).
    pub id: String,
    pub kind: FieldKind,
    /// The question as the form asks it.
    pub label: String,
    /// Its name in messages ("Pain now").
    pub short: String,
    pub hint: Option<String>,
    /// Words after the label saying it may be left blank.
    pub optional_note: Option<String>,
    /// The check-in is refused without it.
    pub required: bool,
    /// A choice's or a yes/no question's answers (yes first): the value
    /// sent, and the words shown.
    pub options: Vec<(String, String)>,
}

/// What kind of answer a check-in question takes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum FieldKind {
    /// A calendar day.
    Date,
    /// Ticks among the knowledge base's warning signs.
    WarningSigns,
    /// 0 to 10.
    Scale,
    /// One of `options`.
    Choice,
    /// Yes or no (`options` words them).
    YesNo,
    /// Ticks among the day's planned exercises.
    Exercises,
    /// A whole number in a range.
    Integer { min: u32, max: u32 },
    /// A number in a range.
    Decimal { min: f64, max: f64 },
}

impl FieldKind {
    /// Its name in `checkin.toml`.
    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Date => "date",
            FieldKind::WarningSigns => "warning_signs",
            FieldKind::Scale => "scale",
            FieldKind::Choice => "choice",
            FieldKind::YesNo => "yes_no",
            FieldKind::Exercises => "exercises",
            FieldKind::Integer { .. } => "integer",
            FieldKind::Decimal { .. } => "decimal",
        }
    }
}

/// The check-in's questions, one per field of [`RawCheckIn`], in the order
/// the form asks them. The one definition the form, the check, FHIR and
/// the API's schema read; the knowledge base's loader builds it only when
/// `checkin.toml` words every field with the kind the check-in stores
/// ([`CheckinForm::expected`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckinForm {
    /// In the form's order.
    pub fields: Vec<Field>,
}

impl CheckinForm {
    /// The ids, kinds and required flags the check-in stores (ranges and
    /// words are the file's; a choice's values are [`Swelling`]'s, a yes/no
    /// question's `yes` and `no`).
    pub fn expected() -> &'static [(&'static str, &'static str, bool)] {
        &[
            ("day", "date", false),
            ("warning_signs", "warning_signs", false),
            ("pain_now", "scale", true),
            ("morning_pain", "scale", false),
            ("exercise_pain", "scale", false),
            ("stiffness", "scale", true),
            ("swelling", "choice", false),
            ("walks_normally", "yes_no", false),
            ("full_range", "yes_no", false),
            ("done", "exercises", false),
            ("training_minutes", "integer", false),
            ("effort", "integer", false),
            ("sleep_hours", "decimal", false),
        ]
    }

    /// The question `id` (one of [`CheckinForm::expected`]'s, which a
    /// loaded form always has).
    pub fn field(&self, id: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// The name of `id` in messages; the id itself for one the form lacks.
    pub fn short<'a>(&'a self, id: &'a str) -> &'a str {
        self.field(id).map_or(id, |f| f.short.as_str())
    }

    /// The range of a number question `id`.
    fn range(&self, id: &str) -> Option<(f64, f64)> {
        match self.field(id)?.kind {
            FieldKind::Scale => Some((0.0, 10.0)),
            FieldKind::Integer { min, max } => Some((f64::from(min), f64::from(max))),
            FieldKind::Decimal { min, max } => Some((min, max)),
            _ => None,
        }
    }
}

/// One day's check-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckIn {
    pub day: Day,
    /// Pain now, 0-10.
    pub pain_now: u8,
    /// Pain during the exercises, 0-10; none when no exercise was done.
    pub exercise_pain: Option<u8>,
    /// Pain on waking this morning, 0-10.
    pub morning_pain: Option<u8>,
    /// Stiffness, 0-10.
    pub stiffness: u8,
    /// None: not answered (check-ins stored before policy v2 always hold
    /// the three).
    #[serde(default)]
    pub swelling: Option<Swelling>,
    #[serde(default)]
    pub walks_normally: Option<bool>,
    /// The knee bends and straightens as fully as the other.
    #[serde(default)]
    pub full_range: Option<bool>,
    /// Exercise ids scheduled for the day when the check-in was made.
    pub planned: Vec<String>,
    /// Exercise ids done (a subset of `planned`).
    pub done: Vec<String>,
    pub training_minutes: u16,
    /// Effort of the training, 0-10 (session RPE).
    pub effort: u8,
    /// Hours slept; none when not given (optional).
    #[serde(default)]
    pub sleep_hours: Option<f64>,
    /// Fact ids of the warning signs ticked.
    pub warning_signs: Vec<String>,
}

impl CheckIn {
    /// Share of the planned exercises done, 0.0-1.0 (1.0 when none planned).
    pub fn adherence(&self) -> f64 {
        if self.planned.is_empty() {
            return 1.0;
        }
        let done = self
            .planned
            .iter()
            .filter(|p| self.done.contains(p))
            .count();
        done as f64 / self.planned.len() as f64
    }

    /// Training load in arbitrary units: minutes x effort (session RPE).
    pub fn load(&self) -> f64 {
        f64::from(self.training_minutes) * f64::from(self.effort)
    }
}

/// A problem with one field of what a person sent (`field` names it), or,
/// with an empty `field`, with what they sent as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    /// A problem with the field `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A problem with the input as a whole, not one field of it.
    pub fn whole(message: impl Into<String>) -> FieldError {
        FieldError::new(String::new(), message)
    }

    /// Whether this is about the input as a whole ([`FieldError::whole`]).
    pub fn is_whole(&self) -> bool {
        self.field.is_empty()
    }
}

/// The name of the check-in form's field for a [`RawCheckIn`] field: the
/// same, except that a ticked warning sign is sent as `sign`.
pub fn form_field(field: &str) -> &str {
    match field {
        "warning_signs" => "sign",
        other => other,
    }
}

/// A check-in as the person gave it, before any check: each answer as
/// entered (text, trimmed), `None` when left blank or out. Filled from the
/// web form ([`RawCheckIn::from_pairs`]) or from the JSON API's body; the
/// one check of it is [`RawCheckIn::validate`], whose field ids are this
/// struct's field names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawCheckIn {
    /// YYYY-MM-DD; `None`: today.
    pub day: Option<String>,
    pub pain_now: Option<String>,
    pub exercise_pain: Option<String>,
    pub morning_pain: Option<String>,
    pub stiffness: Option<String>,
    /// `none`, `mild` or `significant`.
    pub swelling: Option<String>,
    /// `yes` or `no`.
    pub walks_normally: Option<String>,
    /// `yes` or `no`.
    pub full_range: Option<String>,
    pub training_minutes: Option<String>,
    pub effort: Option<String>,
    pub sleep_hours: Option<String>,
    /// Exercise ids ticked as done.
    pub done: Vec<String>,
    /// Fact ids of the warning signs ticked.
    pub warning_signs: Vec<String>,
    /// The web form's "Any of these new today?" (`yes` or `no`), which
    /// opens its list of warning signs: checked against the ticks, so that
    /// a "no" with a sign still ticked, or a "yes" with none, is asked
    /// about rather than guessed. `None` where the signs come as a list
    /// alone (the JSON API).
    pub any_new_sign: Option<String>,
}

/// "a", "a or b", "a, b or c".
fn either(values: &[&str]) -> String {
    match values {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// The answer of a yes/no question as a [`RawCheckIn`] holds it.
pub fn yes_no(answer: bool) -> String {
    if answer { "yes" } else { "no" }.to_string()
}

impl RawCheckIn {
    /// The check-in form's name/value pairs: each field's first value,
    /// trimmed (blank is `None`), and every value of the repeated ones.
    pub fn from_pairs(fields: &[(String, String)]) -> RawCheckIn {
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == form_field(name))
                .map(|(_, v)| v.trim())
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let all = |name: &str| -> Vec<String> {
            fields
                .iter()
                .filter(|(k, _)| k == form_field(name))
                .map(|(_, v)| v.trim().to_string())
                .collect()
        };
        RawCheckIn {
            day: get("day"),
            pain_now: get("pain_now"),
            exercise_pain: get("exercise_pain"),
            morning_pain: get("morning_pain"),
            stiffness: get("stiffness"),
            swelling: get("swelling"),
            walks_normally: get("walks_normally"),
            full_range: get("full_range"),
            training_minutes: get("training_minutes"),
            effort: get("effort"),
            sleep_hours: get("sleep_hours"),
            done: all("done"),
            warning_signs: all("warning_signs"),
            any_new_sign: get("any_new_sign"),
        }
    }

    /// The day asked for, when it is a date.
    pub fn day(&self) -> Option<Day> {
        self.day.as_deref().and_then(|d| d.parse().ok())
    }

    /// Check every answer. `planned` is the schedule of the day asked for;
    /// `earliest` and `today` bound the date (no future days, no days
    /// before the plan started). Errors name the fields of this struct.
    pub fn validate(
        &self,
        kb: &KnowledgeBase,
        planned: &[String],
        earliest: Day,
        today: Day,
    ) -> Result<CheckIn, Vec<FieldError>> {
        let get = |v: &Option<String>| -> String { v.as_deref().map_or("", str::trim).to_string() };
        let mut errors: Vec<FieldError> = Vec::new();
        fn err(errors: &mut Vec<FieldError>, field: &str, message: String) {
            errors.push(FieldError::new(field, message));
        }
        fn number(
            errors: &mut Vec<FieldError>,
            raw: &str,
            field: &str,
            label: &str,
            max: u32,
            required: bool,
        ) -> Option<u32> {
            if raw.is_empty() {
                if required {
                    err(
                        errors,
                        field,
                        format!("{label}: please give a number from 0 to {max}."),
                    );
                }
                return None;
            }
            match raw.parse::<u32>() {
                Ok(n) if n <= max => Some(n),
                _ => {
                    err(
                        errors,
                        field,
                        format!("{label}: \"{raw}\" is not a whole number from 0 to {max}."),
                    );
                    None
                }
            }
        }
        /// A yes/no field; blank is not answered (`Ok(None)`).
        fn yes_no(
            errors: &mut Vec<FieldError>,
            raw: &str,
            field: &str,
            label: &str,
        ) -> Option<Option<bool>> {
            match raw {
                "" => Some(None),
                "yes" => Some(Some(true)),
                "no" => Some(Some(false)),
                _ => {
                    err(
                        errors,
                        field,
                        format!("{label}: please answer yes or no, or leave it blank."),
                    );
                    None
                }
            }
        }
        let e = &mut errors;
        // Names and ranges are the knowledge base's (`checkin.toml`).
        let form = &kb.checkin;
        let max_of = |id: &str| form.range(id).map_or(10, |(_, max)| max as u32);

        let day_raw = get(&self.day);
        let day = match day_raw.parse::<Day>() {
            Ok(d) if d > today => {
                err(
                    e,
                    "day",
                    "A check-in cannot be for a day in the future.".into(),
                );
                today
            }
            Ok(d) if d < earliest => {
                err(
                    e,
                    "day",
                    format!("Choose a day from {earliest} (when your plan started) to {today}."),
                );
                today
            }
            Ok(d) => d,
            Err(_) if day_raw.is_empty() => today,
            Err(msg) => {
                err(e, "day", format!("{msg}."));
                today
            }
        };
        let whole = |e: &mut Vec<FieldError>, raw: &Option<String>, id: &str, required: bool| {
            number(e, &get(raw), id, form.short(id), max_of(id), required)
        };
        let pain_now = whole(e, &self.pain_now, "pain_now", true);
        let exercise_pain = whole(e, &self.exercise_pain, "exercise_pain", false);
        let morning_pain = whole(e, &self.morning_pain, "morning_pain", false);
        let stiffness = whole(e, &self.stiffness, "stiffness", true);
        let training_minutes = whole(e, &self.training_minutes, "training_minutes", false);
        let effort = whole(e, &self.effort, "effort", false);
        let sleep_raw = get(&self.sleep_hours);
        let (sleep_min, sleep_max) = form.range("sleep_hours").unwrap_or((0.0, 24.0));
        let sleep_hours = if sleep_raw.is_empty() {
            Some(None)
        } else {
            match sleep_raw.replace(',', ".").parse::<f64>() {
                Ok(h) if (sleep_min..=sleep_max).contains(&h) => Some(Some(h)),
                _ => {
                    err(
                        e,
                        "sleep_hours",
                        format!(
                            "{}: \"{sleep_raw}\" is not a number of hours from {sleep_min} to {sleep_max}.",
                            form.short("sleep_hours")
                        ),
                    );
                    None
                }
            }
        };
        let swelling = match get(&self.swelling).as_str() {
            "" => Some(None),
            s => match Swelling::parse(s) {
                Some(sw) => Some(Some(sw)),
                None => {
                    let values: Vec<&str> = Swelling::ALL.iter().map(|s| s.as_str()).collect();
                    err(
                        e,
                        "swelling",
                        format!(
                            "{}: choose {}, or leave it blank.",
                            form.short("swelling"),
                            either(&values)
                        ),
                    );
                    None
                }
            },
        };
        let walks_normally = yes_no(
            e,
            &get(&self.walks_normally),
            "walks_normally",
            form.short("walks_normally"),
        );
        let full_range = yes_no(
            e,
            &get(&self.full_range),
            "full_range",
            form.short("full_range"),
        );
        let done: Vec<String> = self.done.iter().map(|d| d.trim().to_string()).collect();
        // `planned` is the plan of the day asked for: when that day is refused,
        // the day is what to fix, not the exercises ticked for it.
        let day_refused = e.iter().any(|x| x.field == "day");
        for d in done.iter().filter(|d| !day_refused && !planned.contains(d)) {
            let name = kb
                .exercise_by_id(d)
                .map_or_else(|| format!("\"{d}\""), |i| kb.exercises[i].name.clone());
            err(
                e,
                "done",
                format!("{name} is not one of today's exercises."),
            );
        }
        let warning_signs: Vec<String> = self
            .warning_signs
            .iter()
            .map(|s| s.trim().to_string())
            .collect();
        for s in &warning_signs {
            if !kb.warning_signs().any(|(_, q)| q.id == *s) {
                err(
                    e,
                    "warning_signs",
                    format!("\"{s}\" is not one of the warning signs."),
                );
            }
        }
        let sign_words = || -> String {
            let words: Vec<String> = warning_signs
                .iter()
                .filter_map(|s| kb.warning_signs().find(|(_, q)| q.id == *s))
                .filter_map(|(_, q)| q.warning_sign.as_deref())
                .map(|w| format!("\"{w}\""))
                .collect();
            either(&words.iter().map(String::as_str).collect::<Vec<_>>())
        };
        match get(&self.any_new_sign).as_str() {
            "" => {}
            "yes" if warning_signs.is_empty() => err(
                e,
                "warning_signs",
                "You answered yes: tick which of these is new today, or answer no.".into(),
            ),
            "no" if !warning_signs.is_empty() => err(
                e,
                "warning_signs",
                format!(
                    "You answered no, but ticked {}: answer yes if it is new today, or untick it.",
                    sign_words()
                ),
            ),
            "yes" | "no" => {}
            _ => err(
                e,
                "warning_signs",
                format!("{}: please answer yes or no.", form.short("warning_signs")),
            ),
        }
        let has = |e: &Vec<FieldError>, f: &str| e.iter().any(|x| x.field == f);
        // Pain during exercises none of which was done would be read by the
        // rules as if they had been (a phase stepped back on it): asked
        // about, never stored.
        if done.is_empty() && exercise_pain.is_some() && !has(e, "done") {
            err(
                e,
                "exercise_pain",
                format!(
                    "{}: tick the exercises you did, or leave this blank if you did none.",
                    form.short("exercise_pain")
                ),
            );
        }
        if !done.is_empty() && exercise_pain.is_none() && !has(e, "exercise_pain") {
            err(
                e,
                "exercise_pain",
                format!(
                    "{}: please rate it, since you did exercises.",
                    form.short("exercise_pain")
                ),
            );
        }
        if training_minutes.unwrap_or(0) > 0 && effort.is_none() && !has(e, "effort") {
            err(
                e,
                "effort",
                format!(
                    "{}: please rate how hard the training was, from 0 to {}.",
                    form.short("effort"),
                    max_of("effort")
                ),
            );
        }

        match (
            pain_now,
            stiffness,
            sleep_hours,
            swelling,
            walks_normally,
            full_range,
        ) {
            (Some(p), Some(st), Some(sl), Some(sw), Some(w), Some(f)) if errors.is_empty() => {
                Ok(CheckIn {
                    day,
                    pain_now: p as u8,
                    exercise_pain: exercise_pain.map(|v| v as u8),
                    morning_pain: morning_pain.map(|v| v as u8),
                    stiffness: st as u8,
                    swelling: sw,
                    walks_normally: w,
                    full_range: f,
                    planned: planned.to_vec(),
                    done,
                    training_minutes: training_minutes.unwrap_or(0) as u16,
                    effort: effort.unwrap_or(0) as u8,
                    sleep_hours: sl,
                    warning_signs,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Reads a check-in from the form's fields ([`RawCheckIn::from_pairs`],
/// then [`RawCheckIn::validate`]), its errors named by the form's fields
/// ([`form_field`]). `planned` is the day's schedule; `earliest` and
/// `today` bound the date (no future days, no days before the plan
/// started).
pub fn parse_checkin(
    kb: &KnowledgeBase,
    fields: &[(String, String)],
    planned: &[String],
    earliest: Day,
    today: Day,
) -> Result<CheckIn, Vec<FieldError>> {
    RawCheckIn::from_pairs(fields)
        .validate(kb, planned, earliest, today)
        .map_err(|errors| {
            errors
                .into_iter()
                .map(|e| FieldError::new(form_field(&e.field), e.message))
                .collect()
        })
}

/// A stored check-in as the form's name/value pairs, so that it can be
/// shown again for correction: [`parse_checkin`] reads them back to the same
/// check-in (property-tested).
pub fn checkin_fields(c: &CheckIn) -> Vec<(String, String)> {
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let mut out = vec![
        ("day".to_string(), c.day.to_string()),
        ("pain_now".to_string(), c.pain_now.to_string()),
        ("stiffness".to_string(), c.stiffness.to_string()),
    ];
    let mut push = |k: &str, v: String| out.push((k.to_string(), v));
    if let Some(sw) = c.swelling {
        push("swelling", sw.as_str().to_string());
    }
    if let Some(w) = c.walks_normally {
        push("walks_normally", yes_no(w).to_string());
    }
    if let Some(f) = c.full_range {
        push("full_range", yes_no(f).to_string());
    }
    if let Some(h) = c.sleep_hours {
        push("sleep_hours", h.to_string());
    }
    if let Some(p) = c.exercise_pain {
        push("exercise_pain", p.to_string());
    }
    if let Some(p) = c.morning_pain {
        push("morning_pain", p.to_string());
    }
    if c.training_minutes > 0 {
        push("training_minutes", c.training_minutes.to_string());
    }
    if c.training_minutes > 0 || c.effort > 0 {
        push("effort", c.effort.to_string());
    }
    for d in &c.done {
        push("done", d.clone());
    }
    for s in &c.warning_signs {
        push("sign", s.clone());
    }
    // A stored sign answers the form's "Any of these new?" with yes; with
    // none stored the question stays unanswered (the person may have left
    // it so).
    if !c.warning_signs.is_empty() {
        push("any_new_sign", "yes".to_string());
    }
    out
}

/// The person's facts as they stand after a check-in: the assessment's
/// facts, updated with what the check-in tells (pain, swelling, walking,
/// range of motion, pain when active, and any warning sign ticked). An
/// answer left blank tells nothing: the fact stays as it was.
pub fn facts_after(kb: &KnowledgeBase, base: &Facts, c: &CheckIn) -> Facts {
    let mut f = base.clone();
    let mut set = |name: &str, v: Value| {
        if let Some(id) = kb.fact_id(name) {
            f.set(id, Some(v));
        }
    };
    set("pain_now", Value::Int(i64::from(c.pain_now)));
    if let Some(p) = c.exercise_pain {
        set("pain_activity", Value::Int(i64::from(p)));
    }
    if let Some(full) = c.full_range {
        set("rom_reduced", Value::Bool(!full));
    }
    for s in &c.warning_signs {
        if let Some(id) = kb.fact_id(s) {
            f = crate::facts::with_new_sign(kb, &f, id);
        }
    }
    let choice = |name: &str, value: &str| {
        let id = kb.fact_id(name)?;
        match &kb.questions[id].kind {
            QuestionKind::Choice { options } => options
                .iter()
                .position(|o| o.value == value)
                .map(|i| (id, Value::Choice(i as u16))),
            _ => None,
        }
    };
    // "Unable to walk" comes only from the assessment or a warning sign.
    let keep_unable = kb
        .fact_id("weight_bearing")
        .and_then(|id| f.get(id))
        .zip(choice("weight_bearing", "unable"))
        .is_some_and(|(v, (_, unable))| *v == unable);
    if let Some(normally) = c.walks_normally
        && !keep_unable
    {
        let walking = if normally { "normal" } else { "limping" };
        if let Some((id, v)) = choice("weight_bearing", walking) {
            f.set(id, Some(v));
        }
    }
    if let Some(sw) = c.swelling
        && let Some((id, v)) = choice("swelling", sw.as_str())
    {
        f.set(id, Some(v));
    }
    f
}
