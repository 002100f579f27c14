import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import SupplyChainPartnerFactory, WorkshopFactory
from tests.workshops.capture.factories import CapabilityFactory, FunctionalDomainFactory
from workshops.models import Capability, Workshop

pytestmark = pytest.mark.django_db
STATEMENT = "Develop automated fill-finish processes for spoke sites."


def capture_url(slug="cycle-a"):
    return reverse("workshops:capture", args=[slug])


@pytest.mark.parametrize("role", ["technologist", "convener"])
def test_technologists_and_conveners_submit_statements(personas, role):
    client = personas.client_for(getattr(personas, role))
    response = client.post(capture_url(), {"statement": STATEMENT}, follow=True)
    assert response.status_code == 200
    capability = Capability.objects.get(cycle=personas.cycle)
    assert capability.ref == "C01"
    assert capability.submitted_by == getattr(personas, role)
    assert "C01 submitted" in response.content.decode()


@pytest.mark.parametrize("role", ["observer", "employer", "educator"])
def test_other_members_see_the_page_but_cannot_submit(personas, role):
    client = personas.client_for(getattr(personas, role))
    page = client.get(capture_url())
    assert page.status_code == 200
    assert "Submit a capability statement" not in page.content.decode()
    assert client.post(capture_url(), {"statement": STATEMENT}).status_code == 403
    assert not Capability.objects.exists()


def test_a_member_of_another_cycle_gets_404(personas):
    client = personas.client_for(personas.outsider)
    assert client.get(capture_url()).status_code == 404
    assert client.post(capture_url(), {"statement": STATEMENT}).status_code == 404
    capability = CapabilityFactory(cycle=personas.cycle)
    assert client.get(reverse("workshops:capability_detail", args=["cycle-a", capability.pk])).status_code == 404
    assert not Capability.objects.filter(submitted_by=personas.outsider).exists()


def test_anonymous_visitors_are_sent_to_log_in(personas):
    response = personas.client_for(None).get(capture_url())
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_a_too_short_statement_re_renders_the_form_with_the_error(personas):
    client = personas.client_for(personas.technologist)
    response = client.post(capture_url(), {"statement": "Develop plans."})
    assert response.status_code == 200
    body = response.content.decode()
    assert "at least 20 characters" in body
    assert "Develop plans." in body  # what they typed is kept
    assert not Capability.objects.exists()


def test_a_statement_that_is_not_verb_first_is_stored_with_a_hint(personas):
    client = personas.client_for(personas.technologist)
    response = client.post(capture_url(), {"statement": "The site should develop automated processes."}, follow=True)
    assert Capability.objects.count() == 1
    assert "A suggestion for the wording" in response.content.decode()


def test_the_hint_endpoint_answers_as_you_type(personas):
    client = personas.client_for(personas.technologist)
    response = client.post(
        reverse("workshops:capture_check", args=["cycle-a"]),
        {"statement": "Developing new processes for sites."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="statement-hints"' in body
    assert "rather than “Developing …”" in body
    assert "<html" not in body


def test_an_htmx_submission_returns_a_fresh_form_and_the_list_out_of_band(personas):
    client = personas.client_for(personas.technologist)
    response = client.post(
        capture_url(), {"statement": STATEMENT}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="capture-form"
    )
    body = response.content.decode()
    assert 'id="capture-form"' in body
    assert 'id="capture-list" hx-swap-oob="true"' in body
    assert STATEMENT in body
    assert "<html" not in body


def test_the_list_refresh_returns_only_the_list_partial(personas):
    CapabilityFactory(cycle=personas.cycle, statement=STATEMENT)
    client = personas.client_for(personas.observer)
    response = client.get(capture_url(), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="capture-list")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="capture-list"')
    assert STATEMENT in body


def test_the_domain_select_is_narrowed_to_the_chosen_function(personas):
    chosen = FunctionalDomainFactory(name="Chosen Domain")
    FunctionalDomainFactory(name="Other Domain")
    client = personas.client_for(personas.technologist)
    response = client.get(
        reverse("workshops:capture_classification", args=["cycle-a"]), {"function": chosen.function_id}
    )
    body = response.content.decode()
    assert "Chosen Domain" in body
    assert "Other Domain" not in body


def test_submissions_with_partners_and_classification_from_the_form(personas):
    partner = SupplyChainPartnerFactory(cycle=personas.cycle, name="NHS workforce")
    domain = FunctionalDomainFactory()
    client = personas.client_for(personas.technologist)
    client.post(
        capture_url(),
        {"statement": STATEMENT, "partners": [partner.pk], "function": domain.function_id, "domain": domain.pk},
    )
    capability = Capability.objects.get()
    assert list(capability.partners.all()) == [partner]
    assert capability.domain == domain


def test_a_workshop_page_tags_its_submissions(personas):
    workshop = WorkshopFactory(cycle=personas.cycle, kind=Workshop.Kind.TECHNOLOGIST)
    client = personas.client_for(personas.technologist)
    url = reverse("workshops:capture_workshop", args=["cycle-a", workshop.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"statement": STATEMENT})
    assert Capability.objects.get().workshop == workshop
    foreign = WorkshopFactory(cycle=personas.other_cycle)
    assert client.get(reverse("workshops:capture_workshop", args=["cycle-a", foreign.pk])).status_code == 404


def test_only_the_convener_accepts_rejects_edits_and_merges(personas):
    capability = CapabilityFactory(cycle=personas.cycle)
    other = CapabilityFactory(cycle=personas.cycle)
    technologist = personas.client_for(personas.technologist)
    for name in ["capability_accept", "capability_reject", "capability_merge", "capability_edit"]:
        url = reverse(f"workshops:{name}", args=["cycle-a", capability.pk])
        assert technologist.post(url, {"reason": "x", "sources": [other.pk], "statement": STATEMENT}).status_code == 403
    capability.refresh_from_db()
    assert capability.status == Capability.Status.SUBMITTED


def test_the_convener_accepts_from_the_list(personas):
    capability = CapabilityFactory(cycle=personas.cycle)
    client = personas.client_for(personas.convener)
    response = client.post(reverse("workshops:capability_accept", args=["cycle-a", capability.pk]), {"next": "list"})
    assert response["Location"] == capture_url()
    capability.refresh_from_db()
    assert capability.status == Capability.Status.ACCEPTED


def test_rejecting_without_a_reason_shows_an_error_and_changes_nothing(personas):
    capability = CapabilityFactory(cycle=personas.cycle)
    client = personas.client_for(personas.convener)
    url = reverse("workshops:capability_reject", args=["cycle-a", capability.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 400
    assert "Say why the statement is rejected" in response.content.decode()
    capability.refresh_from_db()
    assert capability.status == Capability.Status.SUBMITTED
    client.post(url, {"reason": "Duplicate of the first."})
    capability.refresh_from_db()
    assert capability.status == Capability.Status.REJECTED


def test_the_convener_merges_and_the_survivor_page_lists_its_sources(personas):
    survivor = CapabilityFactory(cycle=personas.cycle, ref="C01")
    duplicate = CapabilityFactory(
        cycle=personas.cycle, ref="C02", statement="Develop duplicate automated processes here."
    )
    client = personas.client_for(personas.convener)
    response = client.post(
        reverse("workshops:capability_merge", args=["cycle-a", survivor.pk]), {"sources": [duplicate.pk]}, follow=True
    )
    body = response.content.decode()
    assert "C02 merged into C01" in body
    assert "Develop duplicate automated processes here." in body
    duplicate.refresh_from_db()
    assert duplicate.merged_into == survivor


def test_the_merge_form_offers_no_statement_of_another_cycle(personas):
    survivor = CapabilityFactory(cycle=personas.cycle)
    foreign = CapabilityFactory(cycle=personas.other_cycle)
    client = personas.client_for(personas.convener)
    response = client.post(
        reverse("workshops:capability_merge", args=["cycle-a", survivor.pk]), {"sources": [foreign.pk]}
    )
    assert response.status_code == 400
    foreign.refresh_from_db()
    assert foreign.status == Capability.Status.SUBMITTED


def test_the_convener_edits_a_statement(personas):
    capability = CapabilityFactory(cycle=personas.cycle)
    client = personas.client_for(personas.convener)
    url = reverse("workshops:capability_edit", args=["cycle-a", capability.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"statement": STATEMENT}, follow=True)
    assert f"{capability.ref} saved" in response.content.decode()
    capability.refresh_from_db()
    assert capability.statement == STATEMENT


def test_the_convener_imports_a_csv_and_sees_row_errors_when_it_is_bad(personas):
    SupplyChainPartnerFactory(cycle=personas.cycle, name="NHS workforce")
    client = personas.client_for(personas.convener)
    url = reverse("workshops:capabilities_import", args=["cycle-a"])
    bad = SimpleUploadedFile("c.csv", f"statement,partners\n{STATEMENT},Nobody\n".encode(), content_type="text/csv")
    response = client.post(url, {"file": bad, "accept": "on"})
    assert response.status_code == 400
    assert "Row 2, field &#x27;partners&#x27;" in response.content.decode()
    assert not Capability.objects.exists()
    good = SimpleUploadedFile(
        "c.csv", f"statement,partners\n{STATEMENT},nhs WORKFORCE\n".encode(), content_type="text/csv"
    )
    response = client.post(url, {"file": good, "accept": "on"})
    assert response.status_code == 302
    assert Capability.objects.get().status == Capability.Status.ACCEPTED


def test_a_technologist_cannot_import(personas):
    client = personas.client_for(personas.technologist)
    assert client.get(reverse("workshops:capabilities_import", args=["cycle-a"])).status_code == 403


def test_members_download_the_statements_as_csv(personas):
    CapabilityFactory(cycle=personas.cycle, ref="C01", statement=STATEMENT)
    response = personas.client_for(personas.observer).get(reverse("workshops:capabilities_export", args=["cycle-a"]))
    assert response["Content-Type"].startswith("text/csv")
    assert f"C01,{STATEMENT},submitted" in response.content.decode()


def test_the_submitter_is_shown_to_the_convener_only(personas):
    capability = CapabilityFactory(cycle=personas.cycle, submitted_by=personas.technologist)
    url = reverse("workshops:capability_detail", args=["cycle-a", capability.pk])
    assert "Technologist A" in personas.client_for(personas.convener).get(url).content.decode()
    assert "Technologist A" not in personas.client_for(personas.employer).get(url).content.decode()


def test_the_cycle_navigation_links_to_capture(personas):
    response = personas.client_for(personas.technologist).get(reverse("cycles:cycle_detail", args=["cycle-a"]))
    assert f'href="{capture_url()}"' in response.content.decode()
