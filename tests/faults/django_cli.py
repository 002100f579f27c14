"""Run one setup or inspection function inside Django against the fault tests' own database.

The test process is configured for the suite's database; the servers under test use another one
(DATABASE_URL of the harness), so anything that needs the ORM there runs here, in a subprocess:
``python -m tests.faults.django_cli <function> '<json kwargs>'`` prints the result as JSON.
"""

from __future__ import annotations

import json
import os
import sys


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def session_for(user) -> str:
    """A logged-in session for the user, stored where daphne reads sessions (the database)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def create_panel(*, slug: str, panellists: int, capabilities: int = 5, role_levels: int = 2) -> dict:
    """A cycle with a convener and ``panellists`` technologists, each with a live session."""
    from accounts.models import Organisation, OrganisationGroup, User
    from cycles.models import Cycle, Membership, Role, RoleLevel

    groups = [OrganisationGroup.TECHNOLOGY, OrganisationGroup.INDUSTRY, OrganisationGroup.SKILLS]
    orgs = [Organisation.objects.get_or_create(name=f"Org {g}", defaults={"group": g})[0] for g in groups]
    cycle = Cycle.objects.create(slug=slug, title=f"Fault cycle {slug}", challenge="Keep every vote.")
    convener = User.objects.create_user(f"convener@{slug}.test", None, display_name="Convener", organisation=orgs[0])
    Membership.objects.create(cycle=cycle, user=convener, role=Role.CONVENER)
    people = []
    for i in range(panellists):
        user = User.objects.create_user(
            f"p{i:03d}@{slug}.test", None, display_name=f"Panellist {i}", organisation=orgs[i % len(orgs)]
        )
        role = [Role.TECHNOLOGIST, Role.EMPLOYER, Role.EDUCATOR][i % 3]
        Membership.objects.create(cycle=cycle, user=user, role=role)
        people.append({"id": user.pk, "email": user.email, "session": session_for(user)})
    levels = [
        RoleLevel.objects.create(cycle=cycle, name=f"Level {j}", academic_level_min=3, academic_level_max=6, order=j)
        for j in range(role_levels)
    ]
    return {
        "cycle_id": cycle.pk,
        "slug": slug,
        "convener": {"id": convener.pk, "email": convener.email, "session": session_for(convener)},
        "panellists": people,
        "role_level_ids": [level.pk for level in levels],
        "capabilities": capabilities,
    }


def submit_capability(*, cycle_id: int, actor_id: int, statement: str) -> dict:
    """A capability statement submitted through the capture service (which broadcasts after commit)."""
    from accounts.models import User
    from cycles.models import Cycle
    from workshops.capture.services import capability_submit

    capability = capability_submit(
        cycle=Cycle.objects.get(pk=cycle_id), actor=User.objects.get(pk=actor_id), statement=statement
    )
    return {"id": capability.pk, "ref": capability.ref}


def main(argv: list[str]) -> None:
    _setup()
    name = argv[1]
    kwargs = json.loads(argv[2]) if len(argv) > 2 else {}
    module = sys.modules[__name__]
    function = getattr(module, name, None)
    if function is None:
        # Functions that need the Delphi services live in delphi_cli so this module imports cleanly
        # before those services exist.
        from tests.faults import delphi_cli

        function = getattr(delphi_cli, name)
    result = function(**kwargs)
    sys.stdout.write("\n@@RESULT@@" + json.dumps(result, default=str) + "\n")


if __name__ == "__main__":
    main(sys.argv)
