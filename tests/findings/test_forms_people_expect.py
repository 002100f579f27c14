"""Forms people expect in the findings (issue 13, item 16): choices of several things are
checkboxes, never a Ctrl-click list box, and a count axis has whole-number ticks."""

import re

from findings.charts import bar_svg
from tests.findings.conftest import client_for


def _checkboxes(html: str, name: str) -> list[str]:
    return re.findall(rf'<input[^>]*type="checkbox"[^>]*name="{name}"[^>]*value="([^"]*)"', html)


def test_the_findings_filters_of_several_choices_are_checkboxes(mini, mini_people):
    html = client_for(mini_people["convener"]).get("/cycles/mini/findings/fop_matrix/").content.decode()
    filters = html[html.index('aria-label="Filters"') : html.index("</form>", html.index('aria-label="Filters"'))]
    assert not [tag for tag in re.findall(r"<select[^>]*>", filters) if "multiple" in tag], "no Ctrl-click list box"
    assert _checkboxes(html, "function") == ["Design", "Implement", "Logistics", "Unclassified"]
    assert _checkboxes(html, "partner") == [str(p.pk) for p in mini["partners"]]
    assert len(_checkboxes(html, "role_level")) == 3  # two levels and "no role level"


def test_a_ticked_filter_is_checked_and_named_in_its_summary(mini, mini_people):
    html = client_for(mini_people["convener"]).get("/cycles/mini/findings/functions/?function=Design").content.decode()
    assert re.search(r'<input[^>]*name="function" value="Design"[^>]*checked', html)
    assert not re.search(r'<input[^>]*name="function" value="Implement"[^>]*checked', html)
    assert re.search(r'<summary[^>]*data-all="All">Design</summary>', html)
    everything = client_for(mini_people["convener"]).get("/cycles/mini/findings/functions/").content.decode()
    assert re.search(r'<summary[^>]*data-all="All">All</summary>', everything)


def test_the_action_form_links_fops_and_capabilities_with_checkboxes(mini, mini_people):
    html = client_for(mini_people["convener"]).get("/cycles/mini/actions/new/").content.decode()
    assert "<select" not in " ".join(re.findall(r'<select[^>]*name="(?:fops|capabilities)"[^>]*>', html))
    assert len(_checkboxes(html, "fops")) == 3
    assert len(_checkboxes(html, "capabilities")) == 5  # the live ones: C1-C5
    assert "<legend" in html and "Linked capabilities" in html


def test_an_action_saves_the_ticked_links(mini, mini_people):
    fop = mini["fops"][0]
    c1, c2 = mini["caps"][:2]
    response = client_for(mini_people["convener"]).post(
        "/cycles/mini/actions/new/",
        {
            "horizon": "short",
            "topic": "CPD",
            "action": "Run a validation course.",
            "status": "planned",
            "fops": [fop.pk],
            "capabilities": [c1.pk, c2.pk],
        },
    )
    assert response.status_code == 302
    from findings.models import ActionItem

    item = ActionItem.objects.get(topic="CPD")
    assert list(item.fops.all()) == [fop] and set(item.capabilities.all()) == {c1, c2}


def _tick_labels(svg: str) -> list[str]:
    """The value axis labels of a vertical bar chart (right-aligned text left of the plot)."""
    return re.findall(r"<text x='40\.0'[^>]*text-anchor='end'[^>]*>([^<]+)</text>", svg)


def test_a_count_axis_of_the_report_has_whole_number_ticks():
    spec = {"title": "FOPs", "labels": ["C1", "C2"], "datasets": [{"label": "FOPs", "data": [2, 1]}]}
    ticks = _tick_labels(bar_svg(spec))
    assert ticks and all(t.isdigit() for t in ticks), ticks  # never "0.5" or "1.5"
    assert ticks == ["0", "1", "2"]


def test_a_larger_count_axis_steps_by_a_round_number():
    spec = {"title": "Tags", "labels": ["A", "B", "C"], "datasets": [{"label": "n", "data": [7, 3, 1]}]}
    assert _tick_labels(bar_svg(spec)) == ["0", "2", "4", "6", "8"]


def test_a_percent_axis_keeps_its_quarters():
    spec = {"title": "%", "labels": ["A"], "datasets": [{"label": "n", "data": [40]}], "percent": True}
    assert _tick_labels(bar_svg(spec)) == ["0 %", "25 %", "50 %", "75 %", "100 %"]
