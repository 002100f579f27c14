"""Small display helpers of the FOP and tag pages."""

from django import template

register = template.Library()

ACTIONS = {
    "create": "created",
    "import": "imported from the published report",
    "propose": "proposed by the algorithm",
    "split_from": "created by a split",
    "rename": "renamed",
    "edit_description": "description edited",
    "mark_priority": "marked priority",
    "unmark_priority": "priority removed",
    "set_role_level": "role level changed",
    "add_capability": "capability added",
    "remove_capability": "capability removed",
    "split_off": "capability split off",
    "uprate": "proficiency uprated",
    "downrate": "proficiency downrated",
    "assign_reviewers": "reviewers assigned",
    "send_for_review": "sent for review",
    "ratify": "ratified",
    "return": "returned",
    "reopen": "reopened",
    "merge": "merged",
}


@register.filter
def actor_display(name: str) -> str:
    """'Emma Employer <employer@demo.test>' → 'Emma Employer' (the frozen name without the email)."""
    return (name or "").split(" <")[0]


@register.filter
def action_label(action: str) -> str:
    return ACTIONS.get(action, (action or "").replace("_", " "))


@register.filter
def get_item(mapping, key):
    if mapping is None:
        return None
    return mapping.get(key) if hasattr(mapping, "get") else None
