"""Parse the calendar feed saved by the browser tests with the icalendar
package and check its events. Usage: python ics-validate.py FILE"""
import sys

from icalendar import Calendar

cal = Calendar.from_ical(open(sys.argv[1], "rb").read())
events = [c for c in cal.walk("VEVENT")]
assert events, "no events"
for e in events:
    assert str(e["SUMMARY"]).startswith("kneepath: "), e["SUMMARY"]
    assert e["RRULE"]["FREQ"] == ["WEEKLY"], e["RRULE"]
    assert e["RRULE"]["BYDAY"], e["RRULE"]
    assert e.decoded("DTSTART").hour == 18
print(f"calendar feed: {len(events)} weekly events parsed by icalendar")
