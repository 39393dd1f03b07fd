//! The terminal interview: asks the questionnaire question by question,
//! skipping what `show_if` hides given the answers so far, and re-asking on
//! an invalid answer with a message that says what is wrong.

use std::io::{BufRead, Write};

use anyhow::{Result, bail};
use kneepath_core::condition::Tri;
use kneepath_core::kb::QuestionKind;
use kneepath_core::{Facts, KnowledgeBase};

fn read_line(input: &mut dyn BufRead) -> Result<String> {
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        bail!("input ended before the questionnaire was finished");
    }
    Ok(line.trim().to_string())
}

pub fn run(kb: &KnowledgeBase, input: &mut dyn BufRead, out: &mut dyn Write) -> Result<Facts> {
    let mut facts = Facts::empty(kb);
    writeln!(
        out,
        "kneepath assessment: about 5 minutes. Press Enter to skip a question you are not sure about."
    )?;
    writeln!(out, "{}", kb.meta.disclaimer)?;
    for (s, section) in kb.sections.iter().enumerate() {
        let questions: Vec<usize> = (0..kb.questions.len())
            .filter(|&q| kb.questions[q].section == s)
            .collect();
        if questions.is_empty() {
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
        for q in questions {
            let question = &kb.questions[q];
            if question
                .show_if
                .as_ref()
                .is_some_and(|c| c.eval(&facts) == Tri::False)
            {
                continue;
            }
            writeln!(out)?;
            writeln!(out, "{}", question.prompt)?;
            if let Some(help) = &question.help {
                writeln!(out, "  ({help})")?;
            }
            let hint = match &question.kind {
                QuestionKind::Bool => "y/n".to_string(),
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
            let skip = if question.required {
                ""
            } else {
                ", Enter to skip"
            };
            loop {
                write!(out, "[{hint}{skip}] > ")?;
                out.flush()?;
                let line = read_line(input)?;
                match question.parse_text(&line) {
                    Ok(None) if question.required => {
                        writeln!(out, "  An answer is needed here.")?;
                    }
                    Ok(v) => {
                        facts.set(q, v);
                        break;
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
    }
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
