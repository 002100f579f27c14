"""Shared factories for the foundation models. Apps add their own in tests/<app>/factories.py."""

import factory
from django.utils import timezone

from accounts.models import Organisation, OrganisationGroup, User
from cycles.models import Cycle, Membership, Role, RoleLevel, SupplyChainPartner, Workshop

PASSWORD = "correct-horse-battery"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Organisation {n}")
    group = OrganisationGroup.INDUSTRY


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    display_name = factory.Sequence(lambda n: f"Person {n}")
    organisation = factory.SubFactory(OrganisationFactory)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class CycleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cycle

    slug = factory.Sequence(lambda n: f"cycle-{n}")
    title = factory.Sequence(lambda n: f"Cycle {n}")
    challenge = "Adopt point-of-care manufacturing by 2030."


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    cycle = factory.SubFactory(CycleFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.TECHNOLOGIST


class SupplyChainPartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplyChainPartner

    cycle = factory.SubFactory(CycleFactory)
    name = factory.Sequence(lambda n: f"Partner {n}")
    order = factory.Sequence(lambda n: n)


class RoleLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleLevel

    cycle = factory.SubFactory(CycleFactory)
    name = factory.Sequence(lambda n: f"Role level {n}")
    academic_level_min = 3
    academic_level_max = 5
    order = factory.Sequence(lambda n: n)


class WorkshopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workshop

    cycle = factory.SubFactory(CycleFactory)
    kind = Workshop.Kind.TECHNOLOGIST
    title = factory.Sequence(lambda n: f"Workshop {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(days=7))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timezone.timedelta(hours=3))
