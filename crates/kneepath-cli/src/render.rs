//! Plain-text rendering of an assessment for the terminal: the level first,
//! then what to do, why, the contributing factors and the plan.

use std::io::{self, Write};

use kneepath_core::engine::{Evidence, Grade};
use kneepath_core::plan::{Because, Plan, StartReason};
use kneepath_core::{Assessment, TriageLevel};

const WIDTH: usize = 78;

/// Word-wrap `text` to `WIDTH`, each line starting with `indent`.
fn wrap(out: &mut dyn Write, indent: &str, text: &str) -> io::Result<()> {
    let mut line = String::from(indent);
    let mut empty = true;
    for word in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + word.chars().count() > WIDTH {
            writeln!(out, "{line}")?;
            line = String::from(indent);
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    if !empty {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn evidence_text(ev: &[Evidence<'_>]) -> String {
    ev.iter()
        .map(|e| {
            format!(
                "{}: {}",
                e.question.label,
                e.question.display_value(&e.value)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn heading(out: &mut dyn Write, title: &str) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "{title}")?;
    writeln!(out, "{}", "-".repeat(title.chars().count()))
}

pub fn assessment(out: &mut dyn Write, a: &Assessment<'_>) -> io::Result<()> {
    let kb = a.kb;
    let level = kb.level(a.level);
    let report = a.report();
    let bar = "=".repeat(WIDTH);
    writeln!(out, "{bar}")?;
    writeln!(
        out,
        "  {}: {}",
        a.level.as_str().to_uppercase().replace('_', " "),
        level.title
    )?;
    writeln!(out, "{bar}")?;
    wrap(out, "", &level.do_now)?;

    heading(out, "Why")?;
    if a.fired.is_empty() {
        wrap(
            out,
            "  ",
            "No warning sign and no reason to see a professional was found in your answers.",
        )?;
    }
    for (f, r) in a.fired.iter().zip(&report.fired) {
        let flag = kb.flag_of(f.rule);
        let level = if f.level == f.rule.level {
            f.level.to_string()
        } else {
            format!(
                "{}, one less than {} because you were not sure",
                f.level, f.rule.level
            )
        };
        writeln!(out, "  * {} [rule {}, {level}]", flag.title, f.rule.id)?;
        wrap(out, "    ", &f.rule.reason)?;
        if !f.evidence.is_empty() {
            wrap(
                out,
                "    ",
                &format!("Because you answered: {}", evidence_text(&f.evidence)),
            )?;
        }
        match &r.unsure_text {
            Some(u) => wrap(out, "    ", &format!("Check it now: {u}"))?,
            None => wrap(out, "    ", &format!("What to do: {}", flag.do_now))?,
        }
    }

    match &a.plan {
        Plan::SeekCare { advice } => {
            for adv in advice {
                heading(out, &adv.title)?;
                wrap(out, "  ", &adv.text)?;
            }
        }
        Plan::Home(_) => {}
    }

    if !a.contributors.is_empty() {
        let title = if a.level.allows_home_plan() {
            "What is probably contributing"
        } else {
            "What may be contributing (to discuss when you are seen, not a training plan)"
        };
        heading(out, title)?;
        for f in &a.contributors {
            let c = f.contributor;
            let grade = match f.grade {
                Grade::Measured => "measured",
                Grade::Reported => "reported",
            };
            writeln!(out, "  * {} ({grade}) [{}]", c.title, c.rule)?;
            wrap(out, "    ", &c.mechanism)?;
            if !f.evidence.is_empty() {
                wrap(
                    out,
                    "    ",
                    &format!("Based on: {}", evidence_text(&f.evidence)),
                )?;
            }
            wrap(out, "    ", &format!("What helps: {}", c.helps))?;
        }
    }

    if let Plan::Home(home) = &a.plan {
        let phase = &kb.phases[home.phase];
        heading(
            out,
            &format!("Your plan: {} phase ({})", phase.title, phase.typical_days),
        )?;
        wrap(out, "  ", &phase.goal)?;
        if let StartReason::Matched(ev) = &home.start {
            wrap(
                out,
                "  ",
                &format!("Starting here because: {}", evidence_text(ev)),
            )?;
        }
        for (i, item) in home.items.iter().enumerate() {
            let e = item.exercise;
            writeln!(out)?;
            writeln!(out, "  {}. {} - {}", i + 1, e.name, e.dosage.summary())?;
            if let Because::Contributor(c) = item.because {
                wrap(out, "     ", &format!("(Added for: {})", c.title))?;
            }
            wrap(out, "     ", &e.purpose)?;
            if let (Some(rule), Some(text)) = (item.supported, &e.supported) {
                wrap(
                    out,
                    "     ",
                    &format!("Do the supported version (rule {}): {text}", rule.id),
                )?;
            }
            for (n, step) in e.steps.iter().enumerate() {
                wrap(out, "       ", &format!("{}) {step}", n + 1))?;
            }
            if let Some(note) = &e.dosage.note {
                wrap(out, "     ", &format!("Dose: {note}"))?;
            }
            wrap(out, "     ", &format!("Easier: {}", e.easier))?;
            wrap(out, "     ", &format!("Harder: {}", e.harder))?;
            wrap(out, "     ", &format!("Stop if: {}", e.stop_if))?;
        }
        heading(out, "Advice")?;
        for adv in &home.advice {
            writeln!(out, "  * {}", adv.advice.title)?;
            wrap(out, "    ", &adv.advice.text)?;
        }
    }

    if !report.plan_rules.is_empty() {
        heading(
            out,
            if a.level.allows_home_plan() {
                "Left out of your plan"
            } else {
                "What any plan must leave out for now"
            },
        )?;
        for p in &report.plan_rules {
            writeln!(out, "  * {} [rule {}]", p.leaves_out, p.id)?;
            wrap(out, "    ", &format!("Left out because {}.", p.because))?;
            if !p.exercises.is_empty() {
                wrap(
                    out,
                    "    ",
                    &format!(
                        "Not in your plan for that reason: {}.",
                        p.exercises.join(", ")
                    ),
                )?;
            }
        }
    }

    if a.level > TriageLevel::Emergency && !report.watch_for.is_empty() {
        heading(
            out,
            "Warning signs to watch for: if one appears, do what it says",
        )?;
        for w in &report.watch_for {
            writeln!(out, "  * {}: {}", w.sign, w.action)?;
        }
    }

    if let Plan::Home(home) = &a.plan {
        heading(out, "Other treatment options")?;
        for t in &home.treatments {
            writeln!(out, "  * {} ({})", t.name, t.evidence.label())?;
            wrap(out, "    ", &format!("{} Ask: {}", t.summary, t.who))?;
        }
    }

    writeln!(out)?;
    wrap(out, "", &kb.meta.disclaimer)?;
    writeln!(
        out,
        "{}, version {} of {}; knowledge base {}",
        kb.meta.policy, kb.meta.policy_version, kb.meta.policy_date, kb.version
    )?;
    Ok(())
}
