"""iCalendar (.ics) files for workshops, so members can add them to their own calendars."""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, vText

from core.links import site_base
from cycles.models import Cycle, Workshop


def calendar_for(cycle: Cycle, workshops: Iterable[Workshop], *, request=None) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Workforce foresighting//Foresight//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{cycle.title}")
    base = site_base(request)
    for workshop in workshops:
        tz = ZoneInfo(workshop.timezone)
        event = Event()
        event.add("uid", f"workshop-{workshop.pk}@{cycle.slug}.foresight")
        event.add("dtstamp", timezone.now())
        event.add("dtstart", workshop.starts_at.astimezone(tz))
        event.add("dtend", workshop.ends_at.astimezone(tz))
        event.add("summary", f"{workshop.title} · {cycle.title}")
        description = [f"{workshop.get_kind_display()} of the foresighting cycle “{cycle.title}”."]
        if workshop.video_link:
            description.append(f"Video link: {workshop.video_link}")
        if workshop.facilitator_id:
            description.append(f"Facilitator: {workshop.facilitator}")
        description.append(base + reverse("cycles:workshops", args=[cycle.slug]))
        event.add("description", "\n".join(description))
        if workshop.place or workshop.video_link:
            event["location"] = vText(workshop.place or workshop.video_link)
        if workshop.video_link:
            event.add("url", workshop.video_link)
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
