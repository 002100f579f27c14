"""A cycle with at least one row in every model that belongs to a cycle.

Rows are written by hand for the models known today; ``fill_missing`` adds one row, generically, to
any model an app adds later, so the round trip covers it before anyone writes a row here.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.db import IntegrityError, models, transaction

from accounts.models import Organisation, OrganisationGroup
from cycles.models import (
    AuditEvent,
    Cycle,
    CycleOrganisation,
    Invitation,
    Phase,
    PhasePlan,
    RoleLevel,
    Solution,
    SolutionRating,
    SupplyChainPartner,
    Theme,
    Workshop,
)
from findings.portability import cycle_models
from workshops.models import (
    FOP,
    Capability,
    CapabilityTag,
    DelphiItem,
    DelphiPlan,
    FOPCapability,
    FOPChange,
    FOPProposalRun,
    Function,
    FunctionalArea,
    FunctionalDomain,
    ItemResult,
    JoinCode,
    PublishedTagFrequency,
    Round,
    Tag,
    Vote,
)

T0 = dt.datetime(2025, 3, 4, 9, 30, 15, 123456, tzinfo=dt.UTC)


def build_rich_cycle(p) -> Cycle:
    """Fill the personas' cycle A with rows in every model (p: the personas fixture)."""
    cycle = p.cycle
    cycle.published_facts = {"headline": "54 capabilities", "nested": {"ok": [1, 2.5, None]}}
    cycle.created_by = p.convener
    cycle.save()
    PhasePlan.objects.create(
        cycle=cycle, phase=Phase.CONSIDER, planned_start=dt.date(2025, 1, 6), planned_end=dt.date(2025, 2, 1)
    )
    PhasePlan.objects.create(cycle=cycle, phase=Phase.CARRY_OUT, planned_start=dt.date(2025, 3, 1))
    Invitation.objects.create(
        cycle=cycle, email="new@a.test", name="New Person", role="employer", invited_by=p.convener, expires_at=T0
    )
    AuditEvent.objects.create(
        cycle=cycle, actor=p.convener, verb="phase", summary="Moved to Carry out", detail={"to": 4}, created_at=T0
    )
    Theme.objects.create(cycle=cycle, number=1, title="Automation at scale", description="Robots.")
    org = Organisation.objects.create(name="Skills College", group=OrganisationGroup.SKILLS)
    CycleOrganisation.objects.create(cycle=cycle, organisation=org, group=OrganisationGroup.SKILLS)
    solution = Solution.objects.create(
        cycle=cycle, title="Point-of-care units", proposed_by=p.technologist, prioritised=True
    )
    SolutionRating.objects.create(solution=solution, rater=p.employer, impact=4, feasibility=3, comment="Costly")
    partners = [SupplyChainPartner.objects.create(cycle=cycle, name=f"Partner {i}", order=i) for i in range(2)]
    levels = [
        RoleLevel.objects.create(cycle=cycle, name=name, academic_level_min=3 + i, academic_level_max=5 + i, order=i)
        for i, name in enumerate(["Technician", "Engineer"])
    ]
    workshop = Workshop.objects.create(
        cycle=cycle, kind=Workshop.Kind.TECHNOLOGIST, title="Capture", starts_at=T0, ends_at=T0 + dt.timedelta(hours=3),
        facilitator=p.convener,
    )  # fmt: skip

    function = Function.objects.create(name="Design", order=1)
    domain = FunctionalDomain.objects.create(function=function, name="Product design")
    area = FunctionalArea.objects.create(domain=domain, name="Requirements")
    caps = []
    for i in range(3):
        cap = Capability.objects.create(
            cycle=cycle, ref=f"C{i + 1:02d}", statement=f"Design point-of-care unit {i} <b>safely</b>",
            status=Capability.Status.ACCEPTED, function=function, domain=domain, area=area, workshop=workshop,
            submitted_by=p.technologist, created_at=T0 + dt.timedelta(minutes=i), published_provision={"C": 1},
        )  # fmt: skip
        cap.partners.set(partners[: i + 1])
        caps.append(cap)
    merged = Capability.objects.create(
        cycle=cycle,
        ref="C99",
        statement="Design units",
        status=Capability.Status.MERGED,
        merged_into=caps[0],
        created_at=T0,
    )
    merged.partners.set([partners[1]])

    DelphiPlan.objects.create(cycle=cycle, voting_roles=["technologist", "employer"], live_quorum=2, locked_at=T0)
    items = [
        DelphiItem.objects.create(cycle=cycle, capability=cap, role_level=level) for cap in caps for level in levels
    ]
    items[0].consensus_value = 2
    items[0].outcome = "consensus"
    items[0].outcome_round = 1
    items[0].save()
    round1 = Round.objects.create(
        cycle=cycle, number=1, status=Round.Status.CLOSED, workshop=workshop, opened_at=T0, closed_at=T0 + dt.timedelta(hours=1),
        sequence=17, summary={"response_rate": 0.75},
    )  # fmt: skip
    round1.items.set(items)
    round2 = Round.objects.create(cycle=cycle, number=2, status=Round.Status.OPEN, opened_at=T0, sequence=3)
    round2.items.set(items[1:3])
    round2.discussing = items[1]
    round2.save(update_fields=["discussing"])
    # The open round's join code, its open join settings preset but off (the permission matrix's
    # world is this cycle: an outsider holding the code is refused).
    JoinCode.objects.create(
        cycle=cycle, code="K7QM2XPA", round=round2, open_join=False, role="employer", group="industry", max_uses=40
    )
    for person, value in [(p.technologist, 2), (p.employer, 3)]:
        for item in items:
            Vote.objects.create(
                round=round1, item=item, panellist=person, value=value, rationale=f"{person.email} thinks {value}",
                client_id=f"{person.pk}-{item.pk}", created_at=T0, updated_at=T0,
            )  # fmt: skip
    Vote.objects.create(round=round2, item=items[1], panellist=p.employer, value=1, created_at=T0, updated_at=T0)
    ItemResult.objects.create(
        round=round1, item=items[0], n=2, counts=[0, 0, 1, 1], median=2.5, q1=2.0, q3=3.0, iqr=1.0, agreement=0.5,
        modal_value=2, changed_share=None,
    )  # fmt: skip

    run = FOPProposalRun.objects.create(
        cycle=cycle, parameters={"threshold": 0.6}, summary={"fops": 1}, created_by=p.convener
    )
    fop = FOP.objects.create(
        cycle=cycle, role_level=levels[0], name="Point-of-care technician", source=FOP.Source.PROPOSED, proposal_run=run,
        suggested_names=["PoC tech"], status=FOP.Status.RATIFIED,
    )  # fmt: skip
    fop.reviewers.set([p.employer, p.convener])
    FOPCapability.objects.create(fop=fop, capability=caps[0], proficiency=2)
    FOPCapability.objects.create(fop=fop, capability=caps[1], proficiency=3)
    FOPChange.objects.create(
        fop=fop, actor=p.convener, action="create", after={"name": fop.name}, created_at=T0, hash="a" * 64
    )
    FOPChange.objects.create(
        fop=fop, actor=p.employer, action="ratify", created_at=T0, prev_hash="a" * 64, hash="b" * 64
    )

    kept = Tag.objects.create(kind="S", name="Quality assurance", normalised="quality assurance")
    old = Tag.objects.create(kind="S", name="QA", normalised="qa", merged_into=kept)
    CapabilityTag.objects.create(capability=caps[0], tag=kept, added_by=p.educator, created_at=T0)
    CapabilityTag.objects.create(capability=caps[1], tag=old, added_by=p.educator, created_at=T0)
    PublishedTagFrequency.objects.create(cycle=cycle, kind="K", tag="GMP", count=7)

    # Matching: a reference framework (outside the cycle) and a run, its scores, results and a review.
    from matching.models import Framework, MatchResult, MatchReview, MatchRun, MatchScores

    framework = Framework.objects.create(kind="ifate", name="Standards")
    version = framework.versions.create(label="v1", source="test", checksum="c" * 64, has_levels=True, imported_at=T0)
    standard = version.standards.create(ref="ST0001", title="Technician", level=3)
    statement = version.statements.create(
        standard=standard, ref="D1", kind="duty", text="Build units", text_hash="d" * 64
    )
    match = MatchRun.objects.create(
        cycle=cycle, framework_version=version, model_name="m", threshold=0.5, status="done", created_at=T0,
        windows={str(caps[0].pk): [2, 6]}, fop_snapshot={str(fop.pk): {"capabilities": [caps[0].pk], "window": None}},
    )  # fmt: skip
    # Valid arrays (one capability × one statement column), so pages that read the scores work too.
    MatchScores.objects.create(
        run=match, capability_ids=np.array([caps[0].pk], dtype=np.int64).tobytes(),
        column_hashes=bytes.fromhex(statement.text_hash), matrix=np.array([[0.75]], dtype=np.float16).tobytes(),
        rows=1, columns=1,
    )  # fmt: skip
    MatchResult.objects.create(run=match, capability=caps[0], rank=1, statement=statement, score=0.75)
    MatchReview.objects.create(capability=caps[0], statement=statement, decision="confirm", reviewer=p.educator, at=T0)

    # Something in the other cycle, which must never leak into cycle A's export.
    Theme.objects.create(cycle=p.other_cycle, number=1, title="Other cycle theme")
    fill_missing(cycle)
    return cycle


def rows_in_cycle(model, cycle) -> int:
    if model is Cycle:
        return 1
    pks = set()
    for path in cycle_models()[model]:
        pks.update(model._base_manager.filter(**{path: cycle}).values_list("pk", flat=True))
    return len(pks)


def _first_in_cycle(model, cycle):
    if model is Cycle:
        return cycle
    for path in cycle_models()[model]:
        obj = model._base_manager.filter(**{path: cycle}).order_by("pk").first()
        if obj is not None:
            return obj
    return None


def _guess(field: models.Field):
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, models.BooleanField):
        return False
    if isinstance(field, models.DateTimeField):
        return T0
    if isinstance(field, models.DateField):
        return T0.date()
    if isinstance(field, models.IntegerField):
        return 1
    if isinstance(field, models.FloatField | models.DecimalField):
        return 1
    if isinstance(field, models.JSONField):
        return {}
    if isinstance(field, models.EmailField):
        return "filled@a.test"
    if isinstance(field, models.CharField | models.TextField):
        return "filled"
    raise TypeError(f"cannot guess a value for {field!r}")


def fill_missing(cycle: Cycle) -> dict[str, str]:
    """Give every cycle model without a row one generated row; return the models that could not be filled."""
    from django.contrib.auth import get_user_model

    failures: dict[str, str] = {}
    owned = cycle_models()
    for _ in range(3):  # a model may need a row of another newly filled model
        for model in owned:
            if rows_in_cycle(model, cycle):
                continue
            kwargs = {}
            try:
                for field in model._meta.concrete_fields:
                    if isinstance(field, models.AutoField):
                        continue
                    if field.is_relation:
                        target = field.related_model
                        if target in owned:
                            value = _first_in_cycle(target, cycle)
                        elif target is get_user_model():
                            value = cycle.memberships.order_by("pk").first().user
                        else:
                            value = target._base_manager.order_by("pk").first()
                        if value is None and not field.null:
                            raise LookupError(f"no {target._meta.label} row for {field.name}")
                        kwargs[field.name] = value
                    elif (
                        field.has_default()
                        or field.null
                        or (field.blank and isinstance(field, models.CharField | models.TextField))
                    ):
                        continue
                    else:
                        kwargs[field.name] = _guess(field)
                with transaction.atomic():
                    model._base_manager.create(**kwargs)
                failures.pop(model._meta.label, None)
            except (LookupError, TypeError, IntegrityError, ValueError) as exc:
                failures[model._meta.label] = str(exc)
    return failures
