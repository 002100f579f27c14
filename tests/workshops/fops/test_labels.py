"""FOP names are unambiguous everywhere: two FOPs of one name read apart (their role level) on
every page, picker, table, CSV header and the report; a name that is unique stays as it is."""

import csv
import io
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from cycles.models import Role
from findings.forms import ActionItemForm
from findings.tables import build_page
from tests.factories import UserFactory
from tests.findings import builders
from workshops.fops.selectors import cycle_fop_labels, fop_labels
from workshops.models import FOP, Capability

pytestmark = pytest.mark.django_db

OPS = "Validation Engineer — Operational leadership"
PRO = "Validation Engineer — Professional & delivery"


@dataclass
class Row:
    id: int
    name: str
    role_level: str | None


# --- the rule -----------------------------------------------------------------------------------------


def test_a_unique_name_stays_short_and_a_repeated_one_gains_its_role_level():
    labels = fop_labels(
        [
            Row(1, "Food Safety Inspector", "Senior"),
            Row(2, "food safety  inspector", "Junior"),  # case and spacing do not make it different
            Row(3, "Food Safety Inspector", None),
            Row(4, "Quality Lead", "Senior"),
        ]
    )
    assert labels == {
        1: "Food Safety Inspector — Senior",
        2: "food safety  inspector — Junior",
        3: "Food Safety Inspector",
        4: "Quality Lead",
    }
    assert len(set(labels.values())) == 4


def test_the_same_name_at_the_same_role_level_is_numbered_in_creation_order():
    labels = fop_labels(
        [
            Row(7, "Food Safety Inspector", "Senior"),
            Row(3, "Food Safety Inspector", "Senior"),
            Row(5, "Food Safety Inspector", None),
            Row(9, "Food Safety Inspector", None),
        ]
    )
    assert labels == {
        3: "Food Safety Inspector — Senior (1)",
        7: "Food Safety Inspector — Senior (2)",
        5: "Food Safety Inspector (1)",
        9: "Food Safety Inspector (2)",
    }


def test_the_model_label_is_the_cycles_rule_and_costs_one_query(personas, django_assert_num_queries):
    from cycles.models import RoleLevel

    senior = RoleLevel.objects.create(cycle=personas.cycle, name="Senior", order=1)
    junior = RoleLevel.objects.create(cycle=personas.cycle, name="Junior", order=2)
    a = FOP.objects.create(cycle=personas.cycle, name="Food Safety Inspector", role_level=senior)
    FOP.objects.create(cycle=personas.cycle, name="Food Safety Inspector", role_level=junior)
    alone = FOP.objects.create(cycle=personas.cycle, name="Quality Lead", role_level=senior)
    FOP.objects.create(cycle=personas.other_cycle, name="Quality Lead", role_level=None)  # another cycle's
    fop = FOP.objects.get(pk=a.pk)
    with django_assert_num_queries(1):
        assert fop.label == "Food Safety Inspector — Senior"
        assert fop.label_suffix == " — Senior"
    assert FOP.objects.get(pk=alone.pk).label == "Quality Lead"
    assert sorted(cycle_fop_labels(personas.cycle.pk).values()) == [
        "Food Safety Inspector — Junior",
        "Food Safety Inspector — Senior",
        "Quality Lead",
    ]


# --- every page ---------------------------------------------------------------------------------------


@pytest.fixture
def twins(db):
    """The findings mini cycle with a match run, where two FOPs are both "Validation Engineer"
    (Operational leadership and Professional & delivery), both priority, one published."""
    mini = builders.build_mini()
    match = builders.build_mini_match(mini)
    f1, f2, _f3 = mini["fops"]
    FOP.objects.filter(pk=f1.pk).update(source=FOP.Source.PUBLISHED)
    FOP.objects.filter(pk=f2.pk).update(name="Validation Engineer", priority=True, source=FOP.Source.PROPOSED)
    Capability.objects.filter(pk=mini["caps"][1].pk).update(highlighted=True)  # C2 is in both FOPs
    convener = UserFactory(email="convener@twins.test")
    builders.add_member(mini["cycle"], convener, Role.CONVENER)
    client = Client()
    client.force_login(convener)
    yield {**mini, **match, "client": client}
    builders.clear_matching_caches()


def both(text: str) -> bool:
    return all(escape(label) in text or label in text for label in (OPS, PRO))


def get(twins, name, *args, **params) -> str:
    response = twins["client"].get(reverse(name, args=[twins["cycle"].slug, *args]), params)
    assert response.status_code == 200, name
    return response.content.decode()


def test_the_fop_pages_show_two_distinct_labels(twins):
    f1, f2, _ = twins["fops"]
    for name in ("workshops:fops", "workshops:fop_matrix", "workshops:fop_compare"):
        assert both(get(twins, name)), name
    assert escape(OPS) in get(twins, "workshops:fop_detail", f1.pk)
    assert escape(PRO) in get(twins, "workshops:fop_history", f2.pk)


def test_the_matrix_columns_read_apart(twins):
    from workshops.fops.selectors import fop_matrix

    matrix = fop_matrix(cycle=twins["cycle"])
    labels = [f.label for f in matrix.fops]
    assert OPS in labels and PRO in labels and len(set(labels)) == len(labels)
    # Filtered to one role level, the FOP still reads as it does everywhere else.
    only = fop_matrix(cycle=twins["cycle"], role_level_id=twins["levels"][0].pk)
    assert [f.label for f in only.fops] == [OPS]


def test_the_action_plan_picker_shows_two_distinct_labels(twins):
    form = ActionItemForm(cycle=twins["cycle"])
    labels = [label for _value, label in form.fields["fops"].choices]
    assert OPS in labels and PRO in labels


@pytest.mark.parametrize(
    ("key", "where"),
    [
        ("fop_matrix", "columns"),
        ("fop_detail", "picker"),
        ("fop_distribution", "rows"),
        ("highlighted", "rows"),
        ("fit_surplus", "picker"),
        ("fop_capability_matches", "picker"),
        ("fop_vs_provision", "picker"),
        ("fop_priorities", "rows"),
    ],
)
def test_every_findings_table_names_the_two_apart(twins, key, where):
    page = build_page(key, twins["cycle"], {})
    if where == "columns":
        texts = [c.label for t in page.tables for c in t.columns]
    elif where == "picker":
        texts = [label for f in page.filters if f.name == "fop" for _v, label in f.choices]
    else:
        texts = [str(row) for t in page.tables for row in t.rows]
    joined = "\n".join(texts)
    assert OPS in joined and PRO in joined, (key, joined)


def test_the_findings_page_and_its_csv_header_show_two_distinct_labels(twins):
    assert both(get(twins, "findings:page", "fop_matrix"))
    response = twins["client"].get(
        reverse("findings:download", args=[twins["cycle"].slug, "fop_matrix", "csv"]), {"table": "matrix"}
    )
    assert response.status_code == 200
    header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert any(h.startswith(OPS) for h in header) and any(h.startswith(PRO) for h in header), header
    assert len(set(header)) == len(header)


def test_the_report_shows_two_distinct_labels(twins):
    html = get(twins, "findings:report")
    assert html.count(escape(OPS)) >= 2 and html.count(escape(PRO)) >= 2  # priorities and best fits


def test_the_matching_pages_show_two_distinct_labels(twins):
    run = twins["run"]
    assert both(get(twins, "matching:run_detail", run.pk))
    assert escape(PRO) in get(twins, "matching:run_fop", run.pk, twins["fops"][1].pk)
