"""Parse a calendar feed saved by the browser tests with the icalendar
package and check its events: weekly, at 18:00 in the feed's own time zone
(ZONE when given: the person's), described by a VTIMEZONE, each lasting
its DURATION and with a display alarm when it starts.

Usage: python ics-validate.py FILE [ZONE]"""
import sys
from datetime import timedelta

from icalendar import Calendar

cal = Calendar.from_ical(open(sys.argv[1], "rb").read())
zone = sys.argv[2] if len(sys.argv) > 2 else str(cal["X-WR-TIMEZONE"])
zones = [str(z["TZID"]) for z in cal.walk("VTIMEZONE")]
assert zones == [zone], f"VTIMEZONE {zones}, expected {zone}"
events = [c for c in cal.walk("VEVENT")]
assert events, "no events"
for e in events:
    assert str(e["SUMMARY"]).startswith("kneepath: "), e["SUMMARY"]
    assert e["RRULE"]["FREQ"] == ["WEEKLY"], e["RRULE"]
    assert e["RRULE"]["BYDAY"], e["RRULE"]
    start = e.decoded("DTSTART")
    assert e["DTSTART"].params["TZID"] == zone, e["DTSTART"].params
    assert start.tzinfo is not None, "a zoned start"
    assert (start.hour, start.minute) == (18, 0), start
    assert timedelta(minutes=1) <= e.decoded("DURATION") <= timedelta(hours=3), e["DURATION"]
    alarms = [a for a in e.walk("VALARM")]
    assert len(alarms) == 1, f"{len(alarms)} alarms"
    assert str(alarms[0]["ACTION"]) == "DISPLAY"
    assert alarms[0].decoded("TRIGGER") == timedelta(0), alarms[0]["TRIGGER"]
print(f"calendar feed {sys.argv[1]}: {len(events)} weekly events in {zone}, each with an alarm, parsed by icalendar")
