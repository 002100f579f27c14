"""The cycle navigation bar: one list of links per phase, which every app can extend.

Each entry names a URL that takes the cycle's slug as its only argument
(``/cycles/<slug>/...``). cycles lists its own pages below; a higher app (workshops, matching,
findings) adds its links with ``register_link(NavLink(...))`` from its ``AppConfig.ready``, so
cycles never names another app's URLs. Within a phase, links show in the order they were added
(INSTALLED_APPS order, then registration order).

``roles`` limits a link to some member roles (empty: everyone in the cycle).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

from cycles.models import Phase, Role

C, T, EM, ED, OB = Role.CONVENER, Role.TECHNOLOGIST, Role.EMPLOYER, Role.EDUCATOR, Role.OBSERVER


@dataclass(frozen=True)
class NavLink:
    label: str
    url_name: str
    phase: int | None = None  # None: cycle-wide (shown before the phases)
    roles: tuple[str, ...] = ()
    icon: str = ""


LINKS: list[NavLink] = [
    # Cycle-wide
    NavLink("Overview", "cycles:cycle_detail", None, (), "house"),
    NavLink("Timeline", "cycles:timeline", None, (), "calendar-range"),
    NavLink("Members", "cycles:members", None, (C,), "people"),
    NavLink("Audit log", "cycles:audit", None, (C, OB), "journal-text"),
    # Consider / Identify
    NavLink("Solutions", "cycles:solutions", Phase.CONSIDER, (), "lightbulb"),
    NavLink("Rate solutions", "cycles:solution_rate", Phase.IDENTIFY, (C, T, EM, ED), "star-half"),
    NavLink("Results", "cycles:solution_results", Phase.IDENTIFY, (), "bar-chart"),
    # Prepare
    NavLink("Partners", "cycles:partners", Phase.PREPARE, (), "diagram-3"),
    NavLink("Role levels", "cycles:role_levels", Phase.PREPARE, (), "ladder"),
    NavLink("Workshops", "cycles:workshops", Phase.PREPARE, (), "calendar-event"),
    # Carry out, Communicate and Cause action: the higher apps register their links (AppConfig.ready).
]


def register_link(link: NavLink) -> None:
    """Add a link from another app (idempotent: the same url_name is registered once)."""
    if all(existing.url_name != link.url_name for existing in LINKS):
        LINKS.append(link)


def cycle_url(url_name: str, cycle) -> str | None:
    """The URL of a cycle page, or None when that page does not exist (yet)."""
    try:
        return reverse(url_name, args=[cycle.slug])
    except NoReverseMatch:
        return None


@dataclass
class NavEntry:
    label: str
    url: str
    icon: str
    active: bool


@dataclass
class NavGroup:
    phase: int | None
    label: str
    state: str  # done, current, upcoming, cycle
    entries: list[NavEntry]


def cycle_nav(cycle, role: str | None, current_path: str = "") -> list[NavGroup]:
    """The links the caller may follow, grouped by phase (the cycle-wide group first)."""
    groups: dict[int | None, NavGroup] = {None: NavGroup(None, "Cycle", "cycle", [])}
    for number, label in Phase.choices:
        state = "done" if number < cycle.phase else "current" if number == cycle.phase else "upcoming"
        groups[number] = NavGroup(number, label, state, [])
    visible: list[tuple[NavLink, str]] = []
    for link in LINKS:
        if link.roles and role not in link.roles:
            continue
        url = cycle_url(link.url_name, cycle)
        if url is not None:
            visible.append((link, url))
    # The active entry is the one whose URL is the longest prefix of the current path
    # (Results lives under Solutions; only Results is marked on the results page).
    matches = [url for _, url in visible if current_path == url or current_path.startswith(url.rstrip("/") + "/")]
    home = reverse("cycles:cycle_detail", args=[cycle.slug])
    active_url = max(matches, key=len) if matches else None
    if active_url == home and current_path != home:
        active_url = None
    for link, url in visible:
        groups.setdefault(link.phase, NavGroup(link.phase, str(link.phase), "upcoming", [])).entries.append(
            NavEntry(link.label, url, link.icon, url == active_url)
        )
    return list(groups.values())
