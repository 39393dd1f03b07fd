//! The terminal interview: asks the questionnaire question by question,
//! skipping what `show_if` hides given the answers so far, and re-asking on
//! an invalid answer with a message that says what is wrong.
//!
//! As the policy's "What the questionnaire must do" says: nothing is
//! answered for the person (Enter on an optional question leaves it not
//! reported; a must-answer question is asked again until it is answered
//! yes, no or not sure), and the interview stops at once when the answers
//! make an `ambulance` rule fire (for an `emergency` rule, after the
//! questions the `ambulance` rules read), so the action comes first.

use std::io::{BufRead, Write};

use anyhow::{Result, bail};
use kneepath_core::kb::{Question, QuestionKind};
use kneepath_core::questionnaire::{Stop, stop, visible};
use kneepath_core::{Facts, KnowledgeBase};

fn read_line(input: &mut dyn BufRead) -> Result<String> {
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        bail!("input ended before the questionnaire was finished");
    }
    Ok(line.trim().to_string())
}

/// Ask one question until it gets an acceptable answer.
fn ask(
    kb: &KnowledgeBase,
    q: usize,
    facts: &mut Facts,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<()> {
    let question: &Question = &kb.questions[q];
    writeln!(out)?;
    writeln!(out, "{}", question.prompt)?;
    if let Some(help) = &question.help {
        writeln!(out, "  ({help})")?;
    }
    if let Some(how) = &question.how_to_check {
        writeln!(out, "  How to check: {how}")?;
    }
    let hint = match &question.kind {
        QuestionKind::Bool => "y, n or ? for not sure".to_string(),
        QuestionKind::Integer { min, max } => format!("a whole number from {min} to {max}"),
        QuestionKind::Number { min, max } => format!("a number from {min} to {max}"),
        QuestionKind::Choice { options } | QuestionKind::Multi { options, .. } => {
            for (i, o) in options.iter().enumerate() {
                writeln!(out, "  {}) {}", i + 1, o.label)?;
            }
            if matches!(question.kind, QuestionKind::Multi { open: true, .. }) {
                "numbers or words, separated by commas".to_string()
            } else if matches!(question.kind, QuestionKind::Multi { .. }) {
                "numbers, separated by commas".to_string()
            } else {
                format!("a number from 1 to {}", options.len())
            }
        }
    };
    let skip = if question.must_answer {
        ", an answer is needed"
    } else {
        ", Enter to skip"
    };
    loop {
        write!(out, "[{hint}{skip}] > ")?;
        out.flush()?;
        let line = read_line(input)?;
        match question.parse_text(&line) {
            Ok(None) if question.must_answer => {
                let what = if question.kind == QuestionKind::Bool {
                    "An answer is needed here: y, n, or ? if you are not sure."
                } else {
                    "An answer is needed here."
                };
                writeln!(out, "  {what}")?;
            }
            Ok(v) => {
                facts.set(q, v);
                return Ok(());
            }
            Err(problem) => {
                writeln!(
                    out,
                    "  That answer does not fit: {problem}. Please try again."
                )?;
            }
        }
    }
}

pub fn run(kb: &KnowledgeBase, input: &mut dyn BufRead, out: &mut dyn Write) -> Result<Facts> {
    let mut facts = Facts::empty(kb);
    let mut answered = vec![false; kb.questions.len()];
    writeln!(
        out,
        "kneepath assessment: about 5 minutes. Press Enter to skip a question that is not marked as needing an answer; answer ? if you are not sure."
    )?;
    writeln!(out, "{}", kb.meta.disclaimer)?;
    for (s, section) in kb.sections.iter().enumerate() {
        if !kb.questions.iter().any(|q| q.section == s) {
            continue;
        }
        writeln!(out)?;
        writeln!(out, "== {} ==", section.title)?;
        writeln!(out, "{}", section.intro)?;
        if let Some(gate) = &section.gate
            && !ask_yes_no(input, out, gate)?
        {
            continue;
        }
        // Later answers in a section can show or hide its questions, as
        // the answers to earlier sections do.
        let mut done: Vec<usize> = Vec::new();
        while let Some(q) = visible(kb, s, &facts)
            .into_iter()
            .find(|q| !done.contains(q))
        {
            ask(kb, q, &mut facts, input, out)?;
            answered[q] = facts.get(q).is_some();
            done.push(q);
            match stop(kb, &facts, &|f| answered[f]) {
                Stop::GoOn => {}
                Stop::Now(_) => return stopped(out, facts),
                Stop::AskFirst(first) => {
                    writeln!(out)?;
                    writeln!(
                        out,
                        "Your answers point to an emergency. Before the result, {} more question{}:",
                        first.len(),
                        if first.len() == 1 { "" } else { "s" }
                    )?;
                    for f in first {
                        ask(kb, f, &mut facts, input, out)?;
                        answered[f] = facts.get(f).is_some();
                    }
                    return stopped(out, facts);
                }
            }
        }
    }
    writeln!(out)?;
    Ok(facts)
}

fn stopped(out: &mut dyn Write, facts: Facts) -> Result<Facts> {
    writeln!(out)?;
    writeln!(
        out,
        "Stopping here: your answers need help now. The remaining questions can wait."
    )?;
    writeln!(out)?;
    Ok(facts)
}

fn ask_yes_no(input: &mut dyn BufRead, out: &mut dyn Write, prompt: &str) -> Result<bool> {
    loop {
        write!(out, "{prompt} [y/n] > ")?;
        out.flush()?;
        match read_line(input)?.to_ascii_lowercase().as_str() {
            "y" | "yes" => return Ok(true),
            "n" | "no" | "" => return Ok(false),
            _ => writeln!(out, "  Please answer y or n.")?,
        }
    }
}
