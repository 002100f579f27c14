"""The three real sets in ../shared/data import whole (they must run in `make test`)."""

import pytest
from django.conf import settings

from matching.importers import import_framework
from matching.models import Standard, Statement, WorkActivity

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
DATA = settings.SHARED_DATA_DIR


def test_the_ifate_2020_extract_imports_515_standards_and_911_duties():
    version = import_framework("ifate", str(DATA / "ifate" / "standards_2020.json")).version
    assert version.standards.count() == 515
    assert Statement.objects.filter(version=version, kind="duty").count() == 911
    assert set(version.standards.values_list("level", flat=True)) == {2, 3, 4, 5, 6, 7}


def test_onet_29_3_imports_every_task_and_the_activity_hierarchy():
    version = import_framework("onet", str(DATA / "onet")).version
    assert version.label == "O*NET 29.3"
    assert Standard.objects.filter(version=version).count() == 1016
    assert Statement.objects.filter(version=version, kind="task").count() == 18796
    assert WorkActivity.objects.filter(version=version, level="dwa").count() == 2087
    assert WorkActivity.statements.through.objects.filter(workactivity__version=version).count() > 20000


def test_esco_1_1_1_imports_occupations_skills_and_knowledge_from_the_zips():
    version = import_framework("esco", str(DATA / "esco")).version
    assert version.label == "ESCO v1.1.1"
    assert version.standards.count() == 3007
    assert Statement.objects.filter(version=version, standard__isnull=True).count() == 13896
    assert Statement.objects.filter(version=version, kind="essential_skill").count() > 45000
    assert Statement.objects.filter(version=version, standard__isnull=True, extra__transversal=True).exists()
