"""Navigation context: the cycles the user belongs to, and the current cycle and role."""

from cycles.access import cycles_for_user


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_cycles": cycles_for_user(user).only("slug", "title", "phase")[:20]}
