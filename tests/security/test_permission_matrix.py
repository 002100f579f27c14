"""Every URL × every role, checked against the table in tests/security/matrix.py.

The URL list comes from the URL configuration itself, so a view added without a row fails
``test_every_url_has_a_row``. Each request runs inside a savepoint that is rolled back, so a POST
that succeeds (a phase advanced, a member removed) does not change what the next row sees.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from findings.models import ActionItem, ExportJob, ReportSection, ShareLink
from matching.models import FrameworkImport, MatchRun
from tests.portability.fixtures import build_rich_cycle
from tests.security.matrix import (
    ANONYMOUS,
    FORBIDDEN,
    LOGIN,
    NOT_ALLOWED,
    NOT_FOUND,
    OK,
    OUTSIDER,
    ROLES,
    ROWS,
)
from workshops.join.services import join_code_for_round
from workshops.models import FOP, Capability, Round

# The admin site has its own staff login; checked separately below.
SKIPPED_NAMESPACES = ("admin",)


def url_names() -> list[str]:
    """Every named URL of the project (namespace:name), walking the resolver."""
    names: list[str] = []

    def walk(patterns, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or None
                full = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
                if full and full.split(":")[0] in SKIPPED_NAMESPACES:
                    continue
                walk(pattern.url_patterns, full)
            elif isinstance(pattern, URLPattern):
                if pattern.name is None:
                    names.append(f"(unnamed) {pattern.pattern}")
                else:
                    names.append(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, None)
    return names


@dataclass
class World:
    slug: str
    membership_pk: int
    invitation_pk: int
    invitation_token: str
    solution_pk: int
    partner_pk: int
    role_level_pk: int
    workshop_pk: int
    capability_pk: int
    round_number: int
    run_pk: int
    fop_pk: int
    export_job_pk: int
    share_pk: int
    share_token: str
    action_pk: int
    section_key: str
    page_key: str
    tag_pk: int
    join_code: str
    framework_import_pk: int


@pytest.fixture
def world(personas, settings, tmp_path) -> World:
    settings.MEDIA_ROOT = tmp_path
    cycle = build_rich_cycle(personas)
    invitation = cycle.invitations.first()
    invitation.expires_at = timezone.now() + timezone.timedelta(days=7)
    invitation.save()
    share = ShareLink.objects.create(cycle=cycle, label="Sponsor board", created_by=personas.convener)
    job = ExportJob.objects.filter(cycle=cycle).first()
    job.requested_by = personas.convener
    job.status = ExportJob.Status.DONE
    job.filename = "findings.csv"
    job.file.save("findings.csv", ContentFile(b"a,b\n1,2\n"), save=False)
    job.save()
    section = ReportSection.objects.filter(cycle=cycle).first()
    fop = FOP.objects.filter(cycle=cycle).first()
    fop.status = FOP.Status.IN_REVIEW
    fop.save()
    capability = Capability.objects.filter(cycle=cycle, status="accepted").first()
    return World(
        slug=cycle.slug,
        membership_pk=cycle.memberships.get(user=personas.technologist).pk,
        invitation_pk=invitation.pk,
        invitation_token=invitation.token,
        solution_pk=cycle.solutions.first().pk,
        partner_pk=cycle.partners.first().pk,
        role_level_pk=cycle.role_levels.first().pk,
        workshop_pk=cycle.workshops.first().pk,
        capability_pk=capability.pk,
        round_number=Round.objects.get(cycle=cycle, status="open").number,
        run_pk=MatchRun.objects.filter(cycle=cycle).first().pk,
        fop_pk=fop.pk,
        export_job_pk=job.pk,
        share_pk=share.pk,
        share_token=share.token,
        action_pk=ActionItem.objects.filter(cycle=cycle).first().pk,
        section_key=section.key if section else "executive_summary",
        page_key="overview",
        tag_pk=capability.tag_links.first().tag_id,
        join_code=join_code_for_round(rnd=Round.objects.get(cycle=cycle, status="open")).code,
        framework_import_pk=FrameworkImport.objects.create(kind="ifate", files=[]).pk,
    )


def classify(response) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        location = response.get("Location", "")
        return LOGIN if location.startswith(reverse("accounts:login")) else OK
    if status in (200, 201, 204, 400):
        return OK
    return {403: FORBIDDEN, 404: NOT_FOUND, 405: NOT_ALLOWED}.get(status, f"status {status}")


def client_for(personas, role: str) -> Client:
    client = Client()
    user = None if role == ANONYMOUS else personas.outsider if role == OUTSIDER else getattr(personas, role)
    if user is not None:
        client.force_login(user)
    return client


def test_every_url_has_a_row():
    missing = [name for name in url_names() if name not in ROWS]
    assert missing == [], (
        "These URLs have no row in tests/security/matrix.py (add one saying who may GET/POST them): "
        + ", ".join(missing)
    )


def test_the_matrix_has_no_rows_for_urls_that_are_gone():
    names = set(url_names())
    assert [name for name in ROWS if name not in names] == []


def test_every_row_says_what_happens_to_every_role():
    incomplete = [
        (name, method)
        for name, row in ROWS.items()
        for method, expect in (("GET", row.get), ("POST", row.post))
        if expect is not None and set(expect) != set(ROLES)
    ]
    assert incomplete == []


@pytest.mark.parametrize("role", ROLES)
def test_every_view_answers_the_role_as_the_matrix_says(world, personas, role):
    client = client_for(personas, role)
    mismatches = []
    for name in url_names():
        row = ROWS.get(name)
        if row is None:
            continue
        url = reverse(name, kwargs=row.kwargs(world))
        for method, expect in (("get", row.get), ("post", row.post)):
            if expect is None:
                continue
            cookies = copy.deepcopy(client.cookies)
            savepoint = transaction.savepoint()
            try:
                response = getattr(client, method)(url, row.data(world) if method == "post" else None)
                actual = classify(response)
            except Exception as exc:  # a crash is a finding too, reported with the rest
                actual = f"crash {type(exc).__name__}: {exc}"[:120]
            finally:
                transaction.savepoint_rollback(savepoint)
                client.cookies = cookies
            if actual != expect[role]:
                mismatches.append(f"{method.upper():4} {name:40} expected {expect[role]:6} got {actual}")
    assert mismatches == [], f"{role}:\n" + "\n".join(mismatches)


def test_the_admin_site_turns_away_everyone_who_is_not_staff(personas):
    for role in ROLES:
        response = client_for(personas, role).get(reverse("admin:index"))
        assert response.status_code == 302, role
        assert response["Location"].startswith(reverse("admin:login")), role
