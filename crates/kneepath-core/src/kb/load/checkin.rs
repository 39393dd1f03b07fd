//! `checkin.toml`: the daily check-in's questions. Every field the
//! check-in stores is worded once, with the kind of answer it stores
//! ([`CheckinForm::expected`]); a missing, unknown or repeated id, another
//! kind, a range the stored type cannot hold, or a choice's answers other
//! than the stored ones is a problem naming the field.

use serde::Deserialize;

use super::{At, Loader};
use crate::checkin::{CheckinForm, Field, FieldKind, Swelling};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    id: String,
    kind: String,
    label: String,
    short: String,
    #[serde(default)]
    hint: Option<String>,
    #[serde(default)]
    optional_note: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    options: Vec<RawOption>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOption {
    value: String,
    label: String,
}

/// The largest whole-number answer each integer field's stored type holds
/// and its meaning allows (effort is a 0-10 rating).
fn integer_ceiling(id: &str) -> u32 {
    match id {
        "effort" => 10,
        _ => u32::from(u16::MAX),
    }
}

impl Loader {
    pub(super) fn load_checkin_form(&mut self) -> CheckinForm {
        let mut fields = Vec::new();
        for (at, raw) in self.typed_entries::<RawField>("checkin.toml", "field", "field") {
            let Some(&(_, kind_name, required)) = CheckinForm::expected()
                .iter()
                .find(|(id, _, _)| *id == raw.id)
            else {
                self.problem(
                    &at,
                    format!(
                        "`{}` is not a field of the check-in (expected one of: {})",
                        raw.id,
                        CheckinForm::expected()
                            .iter()
                            .map(|(id, _, _)| *id)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                continue;
            };
            if fields.iter().any(|f: &Field| f.id == raw.id) {
                self.problem(&at, "the field is worded twice");
                continue;
            }
            self.text(&at, "label", &raw.label);
            self.text(&at, "short", &raw.short);
            if raw.kind != kind_name {
                self.problem(
                    &at,
                    format!(
                        "`kind` is `{}`, but the check-in stores this field as `{kind_name}`",
                        raw.kind
                    ),
                );
                continue;
            }
            if raw.required != required {
                self.problem(
                    &at,
                    if required {
                        "`required` must be true: the check-in cannot be stored without it"
                    } else {
                        "`required` must be false: the check-in stores it as unanswered when left blank"
                    },
                );
            }
            let Some(kind) = self.checkin_kind(&at, &raw) else {
                continue;
            };
            let options: Vec<(String, String)> = raw
                .options
                .into_iter()
                .map(|o| (o.value, o.label))
                .collect();
            let stored: Option<Vec<&str>> = match kind {
                FieldKind::Choice => Some(Swelling::ALL.iter().map(|s| s.as_str()).collect()),
                FieldKind::YesNo => Some(vec!["yes", "no"]),
                _ => None,
            };
            match stored {
                Some(values) => {
                    let given: Vec<&str> = options.iter().map(|(v, _)| v.as_str()).collect();
                    if given != values {
                        self.problem(
                            &at,
                            format!(
                                "`options` must be, in this order: {} (the answers the check-in stores)",
                                values.join(", ")
                            ),
                        );
                    }
                    for (v, label) in &options {
                        self.text(&at, &format!("options.{v}.label"), label);
                    }
                }
                None if !options.is_empty() => {
                    self.problem(&at, "`options` is only for a choice or a yes/no question");
                }
                None => {}
            }
            fields.push(Field {
                id: raw.id,
                kind,
                label: raw.label,
                short: raw.short,
                hint: raw.hint,
                optional_note: raw.optional_note,
                required: raw.required,
                options,
            });
        }
        for (id, _, _) in CheckinForm::expected() {
            if !fields.iter().any(|f| f.id == *id) {
                self.problem(
                    &At::file("checkin.toml"),
                    format!("the check-in's field `{id}` has no entry"),
                );
            }
        }
        CheckinForm { fields }
    }

    /// The kind with its range; a range only where the kind takes one, and
    /// within what the stored type holds.
    fn checkin_kind(&mut self, at: &At, raw: &RawField) -> Option<FieldKind> {
        let ranged = matches!(raw.kind.as_str(), "integer" | "decimal");
        if !ranged {
            if raw.min.is_some() || raw.max.is_some() {
                self.problem(
                    at,
                    "`min` and `max` are only for an integer or decimal field",
                );
            }
            return Some(match raw.kind.as_str() {
                "date" => FieldKind::Date,
                "warning_signs" => FieldKind::WarningSigns,
                "scale" => FieldKind::Scale,
                "choice" => FieldKind::Choice,
                "yes_no" => FieldKind::YesNo,
                _ => FieldKind::Exercises,
            });
        }
        let (Some(min), Some(max)) = (raw.min, raw.max) else {
            self.problem(at, "`min` and `max` are required");
            return None;
        };
        if min != 0.0 {
            self.problem(at, "`min` must be 0 (the check-in counts from nothing)");
            return None;
        }
        if max.is_nan() || max <= min {
            self.problem(at, format!("`max` ({max}) must be above `min` ({min})"));
            return None;
        }
        if raw.kind == "integer" {
            let ceiling = integer_ceiling(&raw.id);
            if max.fract() != 0.0 || max > f64::from(ceiling) {
                self.problem(
                    at,
                    format!("`max` ({max}) must be a whole number up to {ceiling}"),
                );
                return None;
            }
            Some(FieldKind::Integer {
                min: 0,
                max: max as u32,
            })
        } else {
            if max > 24.0 {
                self.problem(
                    at,
                    format!("`max` ({max}) must be at most 24 (hours of a day)"),
                );
                return None;
            }
            Some(FieldKind::Decimal { min, max })
        }
    }
}
