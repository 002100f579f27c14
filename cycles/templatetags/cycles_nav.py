"""``{% cycle_nav_groups cycle as groups %}``: the cycle navigation for the current user."""

from django import template

from cycles.access import access_for
from cycles.navigation import cycle_nav

register = template.Library()


@register.simple_tag(takes_context=True)
def cycle_nav_groups(context, cycle):
    request = context.get("request")
    access = context.get("access")
    if access is None or getattr(access, "cycle", None) != cycle:
        access = access_for(request.user, cycle) if request is not None else None
    role = access.role if access is not None else None
    return cycle_nav(cycle, role, request.path if request is not None else "")


@register.filter
def phase_state(cycle, phase: int) -> str:
    return "done" if phase < cycle.phase else "current" if phase == cycle.phase else "upcoming"
