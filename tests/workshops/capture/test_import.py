import pytest
from django.core.management import CommandError, call_command

from tests.factories import SupplyChainPartnerFactory
from tests.workshops.capture.factories import CapabilityFactory
from workshops.capture.services import (
    CapabilityImportError,
    capabilities_export_csv,
    capabilities_import,
)
from workshops.capture.taxonomy import taxonomy_load_default
from workshops.models import Capability

pytestmark = pytest.mark.django_db
HEADER = "statement,partners,function,domain,area\n"


@pytest.fixture
def partners(personas):
    return [
        SupplyChainPartnerFactory(cycle=personas.cycle, name="Logistics & supply chain"),
        SupplyChainPartnerFactory(cycle=personas.cycle, name="NHS workforce"),
    ]


def test_a_good_file_creates_classified_statements_with_partners_and_next_refs(personas, partners):
    taxonomy_load_default()
    CapabilityFactory(cycle=personas.cycle, ref="C07")
    data = (
        HEADER
        + "Develop processes for spoke sites to follow.,Logistics & Supply Chain; nhs workforce,design,Process Design & Implementation,develop processes\n"
        + "Maintain cold-chain records for every shipment.,,,,\n"
    )
    created = capabilities_import(cycle=personas.cycle, actor=personas.convener, data=data.encode("utf-8-sig"))
    assert [c.ref for c in created] == ["C08", "C09"]
    first = created[0]
    assert set(first.partners.all()) == set(partners)
    assert (first.function.name, first.domain.name, first.area.name) == (
        "Design",
        "Process Design & Implementation",
        "Develop Processes",
    )
    assert all(c.status == Capability.Status.ACCEPTED for c in created)


def test_a_bad_file_imports_nothing_and_names_every_row_and_field(personas, partners):
    taxonomy_load_default()
    data = (
        HEADER
        + "Develop processes for spoke sites to follow.,NHS workforce,Design,,\n"  # fine
        + "Too short.,,,,\n"
        + "Develop processes for spoke sites to follow.,Hospital porters,,,\n"
        + "Develop processes for spoke sites to follow.,,Marketing,,\n"
        + "Develop processes for spoke sites to follow.,,Design,Quality Control,\n"
        + "Develop processes for spoke sites to follow.,,Implement,Quality Control,Nowhere\n"
    )
    with pytest.raises(CapabilityImportError) as caught:
        capabilities_import(cycle=personas.cycle, actor=personas.convener, data=data)
    errors = caught.value.errors
    assert errors[0].startswith("Row 3, field 'statement': A capability statement needs at least 20 characters")
    assert errors[1] == "Row 4, field 'partners': no supply-chain partner named “Hospital porters” in this cycle."
    assert errors[2] == "Row 5, field 'function': no function named “Marketing”."
    assert errors[3] == "Row 6, field 'domain': no domain named “Quality Control” under Design."
    assert errors[4] == "Row 7, field 'area': no area named “Nowhere” under Quality Control."
    assert len(errors) == 5
    assert not Capability.objects.exists()


def test_refs_in_the_file_are_kept_and_clashes_are_errors(personas):
    CapabilityFactory(cycle=personas.cycle, ref="C01")
    data = "ref,statement\nC01,Develop processes for spoke sites to follow.\nC05,Develop processes for hub sites to follow.\nC05,Develop processes for any sites to follow.\n"
    with pytest.raises(CapabilityImportError) as caught:
        capabilities_import(cycle=personas.cycle, actor=personas.convener, data=data)
    assert caught.value.errors == [
        "Row 2, field 'ref': The reference C01 is already used in this cycle.",
        "Row 4, field 'ref': the reference C05 appears twice in the file (first on row 3).",
    ]
    created = capabilities_import(
        cycle=personas.cycle,
        actor=personas.convener,
        data="statement,ref\nDevelop processes for spoke sites to follow.,\nDevelop processes for hub sites to follow.,C02\n",
    )
    assert [c.ref for c in created] == ["C03", "C02"]


def test_a_file_without_a_statement_column_or_in_another_encoding_is_refused(personas):
    with pytest.raises(CapabilityImportError, match="lacks the column statement"):
        capabilities_import(cycle=personas.cycle, actor=None, data="text\nDevelop things for sites.\n")
    with pytest.raises(CapabilityImportError, match="not UTF-8"):
        capabilities_import(cycle=personas.cycle, actor=None, data="statement\nDévelop\n".encode("utf-16"))
    with pytest.raises(CapabilityImportError, match="no statements"):
        capabilities_import(cycle=personas.cycle, actor=None, data="statement\n")


def test_an_export_imports_into_another_cycle_unchanged(personas, partners):
    taxonomy_load_default()
    capabilities_import(
        cycle=personas.cycle,
        actor=None,
        data=HEADER + "Develop processes for spoke sites to follow.,NHS workforce,Design,,\n",
    )
    SupplyChainPartnerFactory(cycle=personas.other_cycle, name="NHS workforce")
    exported = capabilities_export_csv(Capability.objects.filter(cycle=personas.cycle))
    copied = capabilities_import(cycle=personas.other_cycle, actor=None, data=exported)
    assert [(c.ref, c.statement, c.function.name) for c in copied] == [
        ("C01", "Develop processes for spoke sites to follow.", "Design")
    ]
    assert [p.name for p in copied[0].partners.all()] == ["NHS workforce"]


def test_the_import_command_reports_errors_and_imports_nothing(personas, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("statement\nShort.\n")
    with pytest.raises(CommandError, match="Row 2, field 'statement'"):
        call_command("import_capabilities", "cycle-a", str(path))
    path.write_text("statement\nDevelop processes for spoke sites to follow.\n")
    call_command("import_capabilities", "cycle-a", str(path), "--submitted")
    assert Capability.objects.get().status == Capability.Status.SUBMITTED
