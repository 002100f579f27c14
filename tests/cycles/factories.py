"""Factories for the cycles models that tests/factories.py does not cover."""

from datetime import timedelta

import factory
from django.utils import timezone

from cycles.models import Invitation, PhasePlan, Role, Solution, SolutionRating
from tests.factories import CycleFactory, UserFactory


class SolutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Solution

    cycle = factory.SubFactory(CycleFactory)
    title = factory.Sequence(lambda n: f"Solution {n}")
    description = "A candidate technology."


class SolutionRatingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SolutionRating

    solution = factory.SubFactory(SolutionFactory)
    rater = factory.SubFactory(UserFactory)
    impact = 3
    feasibility = 3


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    cycle = factory.SubFactory(CycleFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.test")
    role = Role.TECHNOLOGIST
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))


class PhasePlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhasePlan
        django_get_or_create = ("cycle", "phase")

    cycle = factory.SubFactory(CycleFactory)
    phase = 1
