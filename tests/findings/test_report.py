"""The findings report: HTML with the conveners' sections, and the PDF of the point-of-care demo cycle."""

import pypdfium2 as pdfium
import pytest

from findings.models import ReportSection
from findings.report import report_html_document, report_pdf
from tests.findings.builders import POC, seed
from tests.findings.conftest import client_for


def test_the_report_follows_the_published_structure(demo, convener_client):
    text = convener_client.get(f"/cycles/{POC}/report/").content.decode()
    for heading in (
        "Executive summary",
        "1. The challenge and prioritised solutions",
        "Participants and stakeholders",
        "2.1 Industry: organisational change",
        "2.1.1 Highlighted capabilities",
        "2.2 Workforce insight",
        "Priority future occupational profiles",
        "2.3 Education and provision insight",
        "Most frequent Knowledge tags",
        "3. Conclusions and recommended actions",
        "Appendix A",
        "Appendix C",
    ):
        assert heading in text, heading
    data = seed(POC)
    assert text.count('class="capability-card"') == sum(1 for c in data["capabilities"] if c["highlighted"])
    assert "<svg" in text  # charts are drawn on the server
    for org in data["organisations"][:3]:
        assert org["name"].replace("'", "&#x27;") in text


def test_a_convener_writes_a_section_that_regeneration_keeps(mini, mini_people):
    client = client_for(mini_people["convener"])
    response = client.post(
        "/cycles/mini/report/sections/executive_summary/", {"body": "Our **key** finding.\n\n- one\n- two"}
    )
    assert response.status_code == 302 and response["Location"].endswith("#section-executive_summary")
    section = ReportSection.objects.get(cycle=mini["cycle"], key="executive_summary")
    assert section.updated_by == mini_people["convener"]
    for _ in range(2):  # the report is rebuilt on every view; the section stays
        text = client.get("/cycles/mini/report/").content.decode()
        assert "Our <strong>key</strong> finding." in text and "<li>one</li>" in text


def test_section_markdown_cannot_inject_html(mini, mini_people):
    client = client_for(mini_people["convener"])
    client.post(
        "/cycles/mini/report/sections/provision/", {"body": "<script>alert(1)</script> [x](javascript:alert(1))"}
    )
    text = client.get("/cycles/mini/report/").content.decode()
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text
    assert 'href="javascript:' not in text


def test_only_conveners_write_sections(mini, mini_people):
    for who, status in (("technologist", 403), ("observer", 403), ("outsider", 404)):
        assert (
            client_for(mini_people[who]).post("/cycles/mini/report/sections/ksb/", {"body": "x"}).status_code == status
        )
    assert client_for(mini_people["convener"]).get("/cycles/mini/report/sections/nope/").status_code == 404
    assert not ReportSection.objects.exists()
    assert client_for(mini_people["observer"]).get("/cycles/mini/report/").status_code == 200
    assert "Write this section" not in client_for(mini_people["observer"]).get("/cycles/mini/report/").content.decode()


def test_the_pdf_report_of_the_point_of_care_cycle_renders_non_blank_pages(demo):
    ReportSection.objects.create(
        cycle=demo[POC], key="executive_summary", body="Decentralised manufacturing needs new capabilities."
    )
    pdf = report_pdf(demo[POC])
    assert pdf.startswith(b"%PDF")
    document = pdfium.PdfDocument(pdf)
    assert len(document) >= 5
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    assert "Executive summary" in text and "Decentralised manufacturing needs new capabilities." in text
    assert "Appendix A" in text
    for i in range(len(document)):
        image = document[i].render(scale=0.5).to_pil().convert("L")
        low, high = image.getextrema()
        assert low < 128 < high, f"page {i + 1} is blank"
        # Some ink on the page, not just a stray mark.
        dark = sum(image.histogram()[:200])
        assert dark > 200, f"page {i + 1} has almost nothing on it"


@pytest.mark.parametrize("slug", [POC, "cgt_digitalisation_2024"])
def test_the_report_document_renders_for_both_demo_cycles(demo, slug):
    html = report_html_document(demo[slug])
    assert "<svg" in html or "No capability is highlighted" in html
    assert "Open Government Licence v3.0" in html


def _visible_text(page) -> str:
    """The text drawn inside the page's box (clipped text is in the file but not on the page)."""
    width, height = page.get_size()
    text = page.get_textpage().get_text_bounded(0, 0, width, height)
    return " ".join(text.replace("\ufffe", "-").split())


def test_the_pdf_fop_priorities_table_keeps_its_last_column_on_the_page(demo):
    from tests.findings.builders import build_demo_match, clear_matching_caches

    build_demo_match(demo[POC])
    try:
        document = pdfium.PdfDocument(report_pdf(demo[POC]))
        pages = [document[i] for i in range(len(document))]
        priorities = [p for p in pages if "Rank FOP" in _visible_text(p) and "In the match run" in _visible_text(p)]
        assert priorities, "the FOP priorities table is in the report"
        for page in priorities:
            text = _visible_text(page)
            assert "Capabilities of that partner %" in text  # the last column's header
            assert "Primary supply-chain partner" in text
    finally:
        clear_matching_caches()
