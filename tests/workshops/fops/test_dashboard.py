"""The convener's dashboard: FOPs that employers returned with comments wait for the convener."""

import pytest
from django.urls import reverse

from cycles import selectors
from cycles.models import Role
from tests.factories import MembershipFactory, UserFactory
from workshops.fops.services import fop_assign_reviewers, fop_return
from workshops.models import FOP

pytestmark = pytest.mark.django_db


def returned(items):
    return [w for w in items if w.kind == "fop_returned"]


def test_fops_returned_by_employers_wait_for_the_convener(personas):
    for name in ("Validation engineer", "QA officer"):
        fop = FOP.objects.create(cycle=personas.cycle, name=name)
        fop_assign_reviewers(fop=fop, actor=None, reviewers=[personas.employer])
        fop_return(fop=FOP.objects.get(pk=fop.pk), actor=personas.employer, comment="Too many capabilities.")
    FOP.objects.create(cycle=personas.cycle, name="Still in review", status=FOP.Status.IN_REVIEW)
    FOP.objects.create(cycle=personas.other_cycle, name="Another cycle's", status=FOP.Status.RETURNED)
    items = returned(selectors.dashboard_for(personas.convener).waiting)
    assert [(w.count, w.cycle, w.text) for w in items] == [
        (2, personas.cycle, "2 FOP(s) returned by employers with comments")
    ]
    assert items[0].url == reverse("workshops:fops", args=["cycle-a"])
    html = personas.client_for(personas.convener).get(reverse("cycles:dashboard")).content.decode()
    assert "2 FOP(s) returned by employers with comments" in html


@pytest.mark.parametrize("who", ["technologist", "employer", "educator", "observer", "outsider"])
def test_only_conveners_are_told(personas, who):
    FOP.objects.create(cycle=personas.cycle, name="Returned", status=FOP.Status.RETURNED)
    FOP.objects.create(cycle=personas.other_cycle, name="Returned", status=FOP.Status.RETURNED)
    if who == "outsider":  # the convener of cycle B hears about cycle B only
        assert [w.cycle for w in returned(selectors.dashboard_for(personas.outsider).waiting)] == [personas.other_cycle]
        return
    assert not returned(selectors.dashboard_for(getattr(personas, who)).waiting)


def test_a_reopened_fop_no_longer_waits(personas):
    fop = FOP.objects.create(cycle=personas.cycle, name="Returned", status=FOP.Status.RETURNED)
    assert returned(selectors.dashboard_for(personas.convener).waiting)
    FOP.objects.filter(pk=fop.pk).update(status=FOP.Status.IN_REVIEW)
    assert not returned(selectors.dashboard_for(personas.convener).waiting)


def test_a_site_administrator_sees_them_as_the_convener_would(personas):
    admin = UserFactory(email="admin@site.test", is_superuser=True, is_staff=True)
    FOP.objects.create(cycle=personas.cycle, name="Returned", status=FOP.Status.RETURNED)
    assert [w.cycle for w in returned(selectors.dashboard_for(admin).waiting)] == [personas.cycle]
    MembershipFactory(cycle=personas.cycle, user=admin, role=Role.OBSERVER)  # a member acts in their role
    assert not returned(selectors.dashboard_for(admin).waiting)


def test_the_convener_fop_list_shows_the_returned_fops_and_their_comments(personas):
    fop = FOP.objects.create(cycle=personas.cycle, name="Validation engineer")
    fop_assign_reviewers(fop=fop, actor=None, reviewers=[personas.employer])
    fop_return(fop=FOP.objects.get(pk=fop.pk), actor=personas.employer, comment="Add the cold chain capability.")
    url = reverse("workshops:fops", args=["cycle-a"])
    html = personas.client_for(personas.convener).get(url).content.decode()
    assert "1 FOP returned by employers with comments" in html and "Add the cold chain capability." in html
    assert "returned by employers" not in personas.client_for(personas.employer).get(url).content.decode()


def test_the_source_reads_in_one_query_whatever_the_number_of_cycles(personas, django_assert_num_queries):
    from cycles.selectors import DashboardScope
    from workshops.fops.selectors import dashboard_fops_returned

    scope = DashboardScope(
        user=personas.convener,
        roles={personas.cycle.pk: Role.CONVENER, personas.other_cycle.pk: Role.CONVENER},
        cycles={personas.cycle.pk: personas.cycle, personas.other_cycle.pk: personas.other_cycle},
    )
    for cycle in (personas.cycle, personas.other_cycle):
        FOP.objects.create(cycle=cycle, name="Returned", status=FOP.Status.RETURNED)
    with django_assert_num_queries(1):
        items = dashboard_fops_returned(scope)
    assert sorted(w.count for w in items) == [1, 1]
