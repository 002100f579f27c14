import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from workshops.capture.taxonomy import (
    TaxonomyImportError,
    taxonomy_export_csv,
    taxonomy_import,
    taxonomy_load_default,
)
from workshops.models import Function, FunctionalArea, FunctionalDomain

pytestmark = pytest.mark.django_db


def _counts():
    return Function.objects.count(), FunctionalDomain.objects.count(), FunctionalArea.objects.count()


def test_the_default_taxonomy_has_the_five_functions_in_order_with_their_descriptions():
    taxonomy_load_default()
    assert list(Function.objects.values_list("name", flat=True)) == [
        "Design",
        "Implement",
        "Logistics",
        "Support",
        "Enterprise",
    ]
    assert Function.objects.get(name="Design").description.startswith("The function of an organisation")
    assert FunctionalArea.objects.filter(
        name="Develop Processes", domain__name="Process Design & Implementation", domain__function__name="Design"
    ).exists()


def test_loading_the_default_taxonomy_twice_changes_nothing():
    taxonomy_load_default()
    before = _counts()
    result = taxonomy_load_default()
    assert _counts() == before
    assert (result.functions_created, result.domains_created, result.areas_created) == (0, 0, 0)


def test_an_export_imported_into_an_empty_database_gives_the_same_taxonomy():
    taxonomy_load_default()
    FunctionalArea.objects.create(domain=FunctionalDomain.objects.get(name="Procurement"), name="Select Suppliers, Ltd")
    exported = taxonomy_export_csv()
    counts = _counts()
    Function.objects.all().delete()
    taxonomy_import(data=exported.encode())
    assert _counts() == counts
    assert taxonomy_export_csv() == exported


def test_an_import_matches_names_regardless_of_capitals_and_adds_only_what_is_missing():
    taxonomy_load_default()
    before = _counts()
    result = taxonomy_import(
        data="function,domain,area\nDESIGN,process design & implementation,Develop Processes\nDESIGN,Process Design & Implementation,Validate Processes\n"
    )
    assert _counts() == (before[0], before[1], before[2] + 1)
    assert result.areas_created == 1


def test_a_bad_file_is_rejected_whole_with_errors_naming_row_and_field():
    taxonomy_load_default()
    before = _counts()
    data = (
        "function,function_description,domain,area\n"
        "Design,,New Domain,New Area\n"
        ",,Orphan Domain,\n"
        "Design,,,Area Without Domain\n"
        f"Design,,{'x' * 151},\n"
    )
    with pytest.raises(TaxonomyImportError) as caught:
        taxonomy_import(data=data)
    assert caught.value.errors == [
        "Row 3, field 'function': a value is required.",
        "Row 4, field 'domain': an area needs a domain.",
        "Row 5, field 'domain': at most 150 characters (this one has 151).",
    ]
    assert _counts() == before
    assert not FunctionalDomain.objects.filter(name="New Domain").exists()


def test_a_file_without_the_required_columns_is_rejected():
    with pytest.raises(TaxonomyImportError, match="lacks the column"):
        taxonomy_import(data="name,parent\nDesign,\n")


def test_the_taxonomy_command_exports_and_imports(tmp_path):
    taxonomy_load_default()
    target = tmp_path / "taxonomy.csv"
    call_command("taxonomy", "export", str(target))
    counts = _counts()
    Function.objects.all().delete()
    call_command("taxonomy", "import", str(target))
    assert _counts() == counts


def test_the_taxonomy_command_reports_row_errors_and_imports_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("function,domain,area\nDesign,,Lonely Area\n")
    with pytest.raises(CommandError, match="Row 2, field 'domain'"):
        call_command("taxonomy", "import", str(bad))
    assert Function.objects.count() == 0


def test_load_taxonomy_command_is_idempotent():
    call_command("load_taxonomy")
    counts = _counts()
    call_command("load_taxonomy")
    assert _counts() == counts == (5, counts[1], counts[2])


def test_every_member_can_read_and_download_the_taxonomy(personas):
    taxonomy_load_default()
    client = personas.client_for(personas.observer)
    page = client.get(reverse("workshops:taxonomy"))
    assert page.status_code == 200
    assert "Develop Processes" in page.content.decode()
    download = client.get(reverse("workshops:taxonomy_export"))
    assert download["Content-Type"].startswith("text/csv")
    assert download.content.decode().startswith("function,function_description,domain,area")


def test_only_staff_may_import_a_taxonomy(personas):
    upload = SimpleUploadedFile("t.csv", b"function,domain,area\nDesign,New Domain,\n", content_type="text/csv")
    response = personas.client_for(personas.convener).post(reverse("workshops:taxonomy_import"), {"file": upload})
    assert response.status_code == 403
    assert not FunctionalDomain.objects.filter(name="New Domain").exists()


def test_staff_import_a_taxonomy_on_the_page_and_see_row_errors(personas):
    staff = personas.convener
    staff.is_staff = True
    staff.save()
    client = personas.client_for(staff)
    good = SimpleUploadedFile("t.csv", b"function,domain,area\nDesign,New Domain,New Area\n", content_type="text/csv")
    response = client.post(reverse("workshops:taxonomy_import"), {"file": good}, follow=True)
    assert "Taxonomy imported" in response.content.decode()
    assert FunctionalArea.objects.filter(name="New Area").exists()
    bad = SimpleUploadedFile("t.csv", b"function,domain,area\n,Other Domain,\n", content_type="text/csv")
    response = client.post(reverse("workshops:taxonomy_import"), {"file": bad})
    assert response.status_code == 400
    assert "Row 2, field &#x27;function&#x27;" in response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(personas):
    response = personas.client_for(None).get(reverse("workshops:taxonomy"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_staff_edit_the_taxonomy_in_the_admin(personas):
    taxonomy_load_default()
    admin = personas.convener
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = personas.client_for(admin)
    design = Function.objects.get(name="Design")
    for url in [
        reverse("admin:workshops_function_changelist"),
        reverse("admin:workshops_function_change", args=[design.pk]),
        reverse("admin:workshops_functionaldomain_changelist"),
        reverse("admin:workshops_functionalarea_changelist"),
        reverse("admin:workshops_capability_changelist"),
    ]:
        assert client.get(url).status_code == 200, url


# The hub's names as the published reports print them (issue 13, item 14): report 1's capability
# screens (transcribed in seed_cycles/visualisation_examples.json, where "MANUFACTURING" is the
# hub's older name for Implement) and the domains its section 3.2 names in each function's
# description; report 2 prints no classification.
REPORT_FUNCTIONS = {"DESIGN": "Design", "MANUFACTURING": "Implement"}
DOMAINS_NAMED_IN_THE_DESCRIPTIONS = {
    "Logistics": ["Procurement", "Delivery", "Materials Management"],
    "Support": ["User Support", "In-service Support", "Repair & Maintenance", "Recycling & End-of-life Disposal"],
    "Enterprise": [
        "Strategic Planning",
        "Leadership & Management",
        "Human Resources",
        "Digital Backbone & Data Systems",
        "Statutory & Regulatory Compliance",
    ],
}


def _report_rows(node):
    if isinstance(node, dict):
        if "functional_domain" in node:
            yield REPORT_FUNCTIONS[node["function"]], node["functional_domain"], node["functional_area"]
        for value in node.values():
            yield from _report_rows(value)
    elif isinstance(node, list):
        for value in node:
            yield from _report_rows(value)


def test_the_default_taxonomy_covers_what_the_published_reports_name_and_every_domain_has_areas(settings):
    import json

    taxonomy_load_default()
    seeds = settings.SHARED_DATA_DIR / "seed_cycles"
    named = set(_report_rows(json.loads((seeds / "visualisation_examples.json").read_text(encoding="utf-8"))))
    assert len(named) >= 14  # the report's table: 18 rows, 14 distinct classifications
    for function, domain, area in sorted(named):
        assert FunctionalArea.objects.filter(
            name=area, domain__name=domain, domain__function__name=function
        ).exists(), f"{function} › {domain} › {area} is missing"
    for slug in ("cgt_digitalisation_2024", "poc_manufacturing_2025"):
        for function in json.loads((seeds / f"{slug}.json").read_text(encoding="utf-8"))["functions"]:
            assert Function.objects.get(name=function["name"]).description == function["description"]
    for function, domains in DOMAINS_NAMED_IN_THE_DESCRIPTIONS.items():
        for domain in domains:
            assert FunctionalDomain.objects.filter(function__name=function, name=domain).exists(), domain
    assert not FunctionalDomain.objects.filter(areas__isnull=True).exists(), "a domain without areas"
    assert not Function.objects.filter(domains__isnull=True).exists(), "a function without domains"
