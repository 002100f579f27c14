"""Factories for capability capture and the taxonomy."""

import factory

from tests.factories import CycleFactory
from workshops.models import Capability, Function, FunctionalArea, FunctionalDomain


class FunctionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Function
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Function {n}")
    order = factory.Sequence(lambda n: n)


class FunctionalDomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FunctionalDomain

    function = factory.SubFactory(FunctionFactory)
    name = factory.Sequence(lambda n: f"Domain {n}")


class FunctionalAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FunctionalArea

    domain = factory.SubFactory(FunctionalDomainFactory)
    name = factory.Sequence(lambda n: f"Area {n}")


class CapabilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Capability

    cycle = factory.SubFactory(CycleFactory)
    ref = factory.Sequence(lambda n: f"C{n + 1:02d}")
    statement = factory.Sequence(lambda n: f"Develop automated process number {n} for point-of-care manufacturing.")
