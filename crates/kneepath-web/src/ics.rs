//! The exercise schedule as iCalendar (RFC 5545): one weekly recurring
//! event per exercise of the current plan, on the days the schedule puts it,
//! so reminders come from the person's own calendar. The weekly `RRULE`s
//! follow the same schedule as the plan page (`progress::scheduled_on`);
//! the feed is served at a secret, revocable `/calendar/<secret>.ics`.

use kneepath_core::Day;
use kneepath_core::kb::Exercise;
use kneepath_core::progress::scheduled_on;

const BYDAY: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// Escape a TEXT value.
fn text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
}

/// Append a content line, folded at 75 octets, ended by CRLF.
fn line(out: &mut String, l: &str) {
    let mut width = 0;
    for ch in l.chars() {
        let n = ch.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(ch);
        width += n;
    }
    out.push_str("\r\n");
}

fn date(d: Day) -> String {
    let (y, m, dd) = d.ymd();
    format!("{y:04}{m:02}{dd:02}")
}

/// A calendar for `exercises`, recurring weekly from `start`. Events are at
/// 18:00 floating local time, 15 minutes long. `stamp` is the DTSTAMP
/// (UTC, `YYYYMMDDTHHMMSSZ`).
pub fn calendar(
    name: &str,
    exercises: &[&Exercise],
    start: Day,
    stamp: &str,
    uid_seed: &str,
) -> String {
    let mut out = String::new();
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//kneepath//exercise plan//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        line(&mut out, l);
    }
    line(&mut out, &format!("X-WR-CALNAME:{}", text(name)));
    for e in exercises {
        let days: Vec<&str> = (0..7)
            .filter(|&d| scheduled_on(e.dosage.days_per_week, d))
            .map(|d| BYDAY[d as usize])
            .collect();
        if days.is_empty() {
            continue;
        }
        // First occurrence: the first scheduled day on or after `start`.
        let first = (0..7)
            .map(|i| start.plus(i))
            .find(|d| scheduled_on(e.dosage.days_per_week, d.weekday()))
            .unwrap_or(start);
        let mut desc = format!("{}\n{}\n", e.dosage.summary(), e.purpose);
        for (i, s) in e.steps.iter().enumerate() {
            desc.push_str(&format!("{}. {s}\n", i + 1));
        }
        desc.push_str(&format!("Stop if: {}", e.stop_if));
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{uid_seed}-{}@kneepath", e.id));
        line(&mut out, &format!("DTSTAMP:{stamp}"));
        line(&mut out, &format!("DTSTART:{}T180000", date(first)));
        line(&mut out, "DURATION:PT15M");
        line(
            &mut out,
            &format!("RRULE:FREQ=WEEKLY;BYDAY={}", days.join(",")),
        );
        line(
            &mut out,
            &format!("SUMMARY:{}", text(&format!("kneepath: {}", e.name))),
        );
        line(&mut out, &format!("DESCRIPTION:{}", text(&desc)));
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kneepath_core::KnowledgeBase;

    #[test]
    fn events_recur_on_the_scheduled_days_and_lines_fold() {
        let kb = KnowledgeBase::bundled().expect("kb");
        let ex: Vec<&Exercise> = ["nordic_curl", "heel_slides"]
            .iter()
            .filter_map(|id| kb.exercise_by_id(id).map(|i| &kb.exercises[i]))
            .collect();
        // 2026-11-24 is a Tuesday; the Nordic curl (once a week) is on Wednesdays.
        let ics = calendar(
            "My plan",
            &ex,
            "2026-11-24".parse().expect("day"),
            "20261124T070000Z",
            "u1",
        );
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"));
        assert_eq!(ics.matches("BEGIN:VEVENT").count(), 2);
        assert!(ics.contains("RRULE:FREQ=WEEKLY;BYDAY=WE\r\n"));
        assert!(ics.contains("DTSTART:20261125T180000"));
        assert!(ics.contains("RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU"));
        assert!(ics.split("\r\n").all(|l| l.len() <= 75), "folded");
        assert!(!ics.replace("\r\n", "").contains('\n'), "no bare newlines");
    }
}
