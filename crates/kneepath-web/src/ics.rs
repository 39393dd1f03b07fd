//! The exercise schedule as iCalendar (RFC 5545), so reminders come from
//! the person's own calendar: one weekly recurring event per weekday that
//! has exercises, at the person's chosen time in their time zone (a
//! `TZID` with its `VTIMEZONE`), lasting as long as that day's sessions
//! take ([`kneepath_core::kb::Dosage::session_minutes`]), with an alarm
//! (`VALARM`) when it starts. The weekly `RRULE`s follow the same schedule
//! as the plan page (`progress::scheduled_on`); the feed is served at a
//! secret, revocable `/calendar/<secret>.ics`.

use jiff::Timestamp;
use jiff::tz::{Dst, TimeZone};
use kneepath_core::Day;
use kneepath_core::kb::Exercise;
use kneepath_core::progress::scheduled_on;

const BYDAY: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

/// Years of the zone's transitions the `VTIMEZONE` lists from the
/// calendar's start (the feed is fetched again long before they run out).
const ZONE_YEARS: i64 = 5;

/// Where and when the events are: a time zone (IANA name) and a time of
/// day in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct When {
    pub zone: String,
    pub hour: u8,
    pub minute: u8,
}

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

/// A UTC offset as `+HHMM` (or `+HHMMSS` when it has seconds).
fn offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    let (h, m, sec) = (s / 3600, s % 3600 / 60, s % 60);
    if sec == 0 {
        format!("{sign}{h:02}{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}{sec:02}")
    }
}

/// A timestamp as local date-time text at `offset_seconds`.
fn local(ts: Timestamp, offset_seconds: i32) -> String {
    let at = ts
        .checked_add(jiff::SignedDuration::from_secs(i64::from(offset_seconds)))
        .unwrap_or(ts)
        .to_zoned_datetime(TimeZone::UTC)
        .datetime();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// The zone's `VTIMEZONE`: the observance in force at `from`, then every
/// transition for [`ZONE_YEARS`] years.
fn vtimezone(out: &mut String, name: &str, tz: &TimeZone, from: Timestamp) {
    let until = from
        .checked_add(jiff::SignedDuration::from_hours(24 * 366 * ZONE_YEARS))
        .unwrap_or(from);
    line(out, "BEGIN:VTIMEZONE");
    line(out, &format!("TZID:{name}"));
    let observance =
        |out: &mut String, dst: Dst, start: String, before: i32, after: i32, abbr: &str| {
            let kind = if dst.is_dst() { "DAYLIGHT" } else { "STANDARD" };
            line(out, &format!("BEGIN:{kind}"));
            line(out, &format!("DTSTART:{start}"));
            line(out, &format!("TZOFFSETFROM:{}", offset(before)));
            line(out, &format!("TZOFFSETTO:{}", offset(after)));
            if !abbr.is_empty() {
                line(out, &format!("TZNAME:{}", text(abbr)));
            }
            line(out, &format!("END:{kind}"));
        };
    // The observance in force at `from`, from its own start (or from 1970
    // in a zone that never changes).
    let now = tz.to_offset_info(from);
    let now_offset = now.offset().seconds();
    match tz.preceding(from).next() {
        Some(t) => {
            let before = tz
                .to_offset(
                    t.timestamp()
                        .checked_sub(jiff::SignedDuration::from_secs(1))
                        .unwrap_or(t.timestamp()),
                )
                .seconds();
            observance(
                out,
                now.dst(),
                local(t.timestamp(), before),
                before,
                now_offset,
                now.abbreviation(),
            );
        }
        None => observance(
            out,
            now.dst(),
            "19700101T000000".into(),
            now_offset,
            now_offset,
            now.abbreviation(),
        ),
    }
    let mut before = now_offset;
    for t in tz.following(from).take_while(|t| t.timestamp() < until) {
        let after = t.offset().seconds();
        observance(
            out,
            t.dst(),
            local(t.timestamp(), before),
            before,
            after,
            t.abbreviation(),
        );
        before = after;
    }
    line(out, "END:VTIMEZONE");
}

/// A calendar for `exercises`, recurring weekly from `start`: one event on
/// each weekday that has exercises, at `when`. `stamp` is the DTSTAMP
/// (UTC, `YYYYMMDDTHHMMSSZ`); `uid_seed` makes the events' UIDs the
/// person's own and stable across fetches.
pub fn calendar(
    name: &str,
    exercises: &[&Exercise],
    start: Day,
    when: &When,
    stamp: &str,
    uid_seed: &str,
) -> String {
    let (zone_name, tz) = match jiff::tz::db().get(&when.zone) {
        Ok(tz) => (when.zone.as_str(), tz),
        Err(_) => ("UTC", TimeZone::UTC),
    };
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
    line(&mut out, &format!("X-WR-TIMEZONE:{zone_name}"));
    let (y, m, d) = start.ymd();
    let from = jiff::civil::date(y as i16, m as i8, d as i8)
        .to_zoned_datetime(tz.clone())
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH);
    vtimezone(&mut out, zone_name, &tz, from);
    for weekday in 0..7u32 {
        let todays: Vec<&&Exercise> = exercises
            .iter()
            .filter(|e| scheduled_on(e.dosage.days_per_week, weekday))
            .collect();
        if todays.is_empty() {
            continue;
        }
        // First occurrence: the first such weekday on or after `start`.
        let first = (0..7)
            .map(|i| start.plus(i))
            .find(|d| d.weekday() == weekday)
            .unwrap_or(start);
        let minutes: u32 = todays
            .iter()
            .map(|e| e.dosage.session_minutes() * e.dosage.per_day.max(1))
            .sum();
        let mut desc = String::new();
        for e in &todays {
            desc.push_str(&format!(
                "{} ({}, about {} min a session)\n",
                e.name,
                e.dosage.summary(),
                e.dosage.session_minutes()
            ));
        }
        desc.push_str(
            "Stop an exercise if it brings on sharp pain, and check the plan's warning signs.",
        );
        let title = if todays.len() == 1 {
            format!("kneepath: {}", todays[0].name)
        } else {
            format!("kneepath: {} exercises, about {minutes} min", todays.len())
        };
        line(&mut out, "BEGIN:VEVENT");
        line(
            &mut out,
            &format!("UID:{uid_seed}-{}@kneepath", BYDAY[weekday as usize]),
        );
        line(&mut out, &format!("DTSTAMP:{stamp}"));
        line(
            &mut out,
            &format!(
                "DTSTART;TZID={zone_name}:{}T{:02}{:02}00",
                date(first),
                when.hour,
                when.minute
            ),
        );
        line(&mut out, &format!("DURATION:PT{minutes}M"));
        line(
            &mut out,
            &format!("RRULE:FREQ=WEEKLY;BYDAY={}", BYDAY[weekday as usize]),
        );
        line(&mut out, &format!("SUMMARY:{}", text(&title)));
        line(&mut out, &format!("DESCRIPTION:{}", text(&desc)));
        line(&mut out, "BEGIN:VALARM");
        line(&mut out, "ACTION:DISPLAY");
        line(&mut out, "TRIGGER:PT0M");
        line(&mut out, &format!("DESCRIPTION:{}", text(&title)));
        line(&mut out, "END:VALARM");
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kneepath_core::KnowledgeBase;

    fn feed(zone: &str) -> String {
        let kb = KnowledgeBase::bundled().expect("kb");
        let ex: Vec<&Exercise> = ["nordic_curl", "heel_slides"]
            .iter()
            .filter_map(|id| kb.exercise_by_id(id).map(|i| &kb.exercises[i]))
            .collect();
        // 2026-11-24 is a Tuesday; the Nordic curl (once a week) is on
        // Wednesdays, heel slides every day.
        calendar(
            "My plan",
            &ex,
            "2026-11-24".parse().expect("day"),
            &When {
                zone: zone.into(),
                hour: 7,
                minute: 30,
            },
            "20261124T070000Z",
            "u1",
        )
    }

    #[test]
    fn one_event_a_weekday_at_the_chosen_time_with_an_alarm_and_lines_fold() {
        let kb = KnowledgeBase::bundled().expect("kb");
        let minutes = |id: &str| {
            let e = &kb.exercises[kb.exercise_by_id(id).expect("exercise")];
            e.dosage.session_minutes() * e.dosage.per_day
        };
        let ics = feed("Europe/Berlin");
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"));
        assert_eq!(ics.matches("BEGIN:VEVENT").count(), 7, "one a weekday");
        assert_eq!(ics.matches("BEGIN:VALARM").count(), 7);
        assert!(ics.contains("RRULE:FREQ=WEEKLY;BYDAY=WE\r\n"));
        // The first Wednesday, at 07:30 Berlin time, with both exercises.
        assert!(ics.contains("DTSTART;TZID=Europe/Berlin:20261125T073000\r\n"));
        let both = minutes("nordic_curl") + minutes("heel_slides");
        let wednesday = ics
            .split("BEGIN:VEVENT")
            .find(|e| e.contains("BYDAY=WE"))
            .expect("a Wednesday");
        assert!(
            wednesday.contains(&format!("DURATION:PT{both}M\r\n")),
            "{wednesday}"
        );
        assert!(ics.contains(&format!("DURATION:PT{}M\r\n", minutes("heel_slides"))));
        assert!(ics.split("\r\n").all(|l| l.len() <= 75), "folded");
        assert!(!ics.replace("\r\n", "").contains('\n'), "no bare newlines");
    }

    #[test]
    fn the_zone_is_described_with_its_changes() {
        let ics = feed("Europe/Berlin");
        assert!(ics.contains("BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n"));
        // In force on 24 November 2026: winter time since 25 October.
        assert!(
            ics.contains(
                "BEGIN:STANDARD\r\nDTSTART:20261025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\n"
            ),
            "{ics}"
        );
        // Summer time from 28 March 2027, 02:00 local.
        assert!(ics.contains(
            "BEGIN:DAYLIGHT\r\nDTSTART:20270328T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
        ));
        // A zone that never changes has one observance; an unknown name
        // falls back to UTC.
        let tokyo = feed("Asia/Tokyo");
        assert_eq!(tokyo.matches("BEGIN:STANDARD").count(), 1, "{tokyo}");
        assert!(tokyo.contains("TZOFFSETTO:+0900"));
        let nowhere = feed("Mars/Olympus");
        assert!(nowhere.contains("DTSTART;TZID=UTC:20261125T073000"));
    }
}
