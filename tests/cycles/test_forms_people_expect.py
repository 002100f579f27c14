"""Forms people expect (issue 13, item 16) in the cycles app: the sign-up keeps the name the
convener typed and focuses the field left to fill; "Advance to <phase>" asks first; every
solution is rated in one form with one Save, all or nothing."""

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from cycles.forms import SCORE_MISSING
from cycles.models import Cycle, Phase, SolutionRating
from cycles.views.cycles import ADVANCE_EFFECTS
from cycles.views.solutions import RATINGS_NONE_GIVEN, RATINGS_SAVED
from tests.cycles.factories import InvitationFactory, SolutionFactory, SolutionRatingFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _autofocused(html: str) -> list[str]:
    """The names of the inputs that carry ``autofocus``."""
    return [
        re.search(r'name="([^"]+)"', tag).group(1)
        for tag in re.findall(r"<input[^>]*>", html)
        if re.search(r"\sautofocus(\s|>|=)", tag) and 'name="' in tag
    ]


def _row(html: str, solution) -> str:
    """One solution's card of the rating form."""
    start = html.rindex("<section", 0, html.index(f'id="rate-{solution.pk}"'))
    return html[start : html.index("</section>", start)]


def _input_value(html: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    value = re.search(r'value="([^"]*)"', tag.group(0)) if tag else None
    return value.group(1) if value else None


# --- The invitation's sign-up ---------------------------------------------------------------------


def test_the_sign_up_starts_with_the_name_the_convener_typed(personas, client):
    invitation = InvitationFactory(cycle=personas.cycle, email="priya@example.test", name="Priya Patel")
    html = client.get(reverse("cycles:invitation_accept", args=[invitation.token])).content.decode()
    assert _input_value(html, "signup-display_name") == "Priya Patel"


def test_with_the_name_filled_in_the_sign_up_focuses_the_password(personas, client):
    invitation = InvitationFactory(cycle=personas.cycle, email="priya@example.test", name="Priya Patel")
    html = client.get(reverse("cycles:invitation_accept", args=[invitation.token])).content.decode()
    assert _autofocused(html) == ["signup-password1"]  # not the login form's email, already filled


def test_without_a_name_the_sign_up_focuses_the_name(personas, client):
    invitation = InvitationFactory(cycle=personas.cycle, email="nameless@example.test")
    html = client.get(reverse("cycles:invitation_accept", args=[invitation.token])).content.decode()
    assert _autofocused(html) == ["signup-display_name"]


def test_a_refused_sign_up_focuses_the_field_in_error(personas, client):
    invitation = InvitationFactory(cycle=personas.cycle, email="priya@example.test", name="Priya Patel")
    response = client.post(
        reverse("cycles:invitation_accept", args=[invitation.token]),
        {
            "action": "signup",
            "signup-display_name": "Priya Patel",
            "signup-password1": "a-long-passphrase-1",
            "signup-password2": "something else",
        },
    )
    assert response.status_code == 400
    assert _autofocused(response.content.decode()) == ["signup-password2"]


def test_someone_with_an_account_is_focused_on_the_login_password(personas, client):
    UserFactory(email="known@example.test")
    invitation = InvitationFactory(cycle=personas.cycle, email="known@example.test")
    html = client.get(reverse("cycles:invitation_accept", args=[invitation.token])).content.decode()
    assert _autofocused(html) == ["login-password"]


# --- Advance to <phase> asks first ---------------------------------------------------------------


def test_the_advance_button_leads_to_a_confirmation_not_straight_to_the_next_phase(personas):
    html = personas.client_for(personas.convener).get(reverse("cycles:cycle_detail", args=["cycle-a"])).content.decode()
    advance = re.search(r'<a[^>]*id="advance-phase"[^>]*>', html)
    assert advance, "the Advance control is a link to the confirmation"
    assert f'href="{reverse("cycles:phase_advance", args=["cycle-a"])}"' in advance.group(0)
    assert 'data-dialog="advance-dialog"' in advance.group(0)
    dialog = html[html.index('<dialog class="confirm-dialog') : html.index("</dialog>")]
    assert "Advance to Identify?" in dialog and "Cancel" in dialog and escape(ADVANCE_EFFECTS[Phase.IDENTIFY]) in dialog


def test_the_confirmation_page_says_what_happens_and_changes_nothing(personas):
    SolutionFactory(cycle=personas.cycle)  # Identify needs a solution to rate
    client = personas.client_for(personas.convener)
    response = client.get(reverse("cycles:phase_advance", args=["cycle-a"]))
    text = response.content.decode()
    assert response.status_code == 200
    assert "Advance to Identify?" in text
    assert "The cycle moves from <strong>Consider</strong> to <strong>Identify</strong>" in text
    assert escape(ADVANCE_EFFECTS[Phase.IDENTIFY]) in text
    assert f'href="{reverse("cycles:cycle_detail", args=["cycle-a"])}">Cancel' in text
    assert Cycle.objects.get(slug="cycle-a").phase == Phase.CONSIDER
    client.post(reverse("cycles:phase_advance", args=["cycle-a"]))
    assert Cycle.objects.get(slug="cycle-a").phase == Phase.IDENTIFY


def test_the_confirmation_page_is_the_conveners_only(personas):
    response = personas.client_for(personas.technologist).get(reverse("cycles:phase_advance", args=["cycle-a"]))
    assert response.status_code == 403


# --- Solutions rated in one form ------------------------------------------------------------------


@pytest.fixture
def identify(personas):
    Cycle.objects.filter(pk=personas.cycle.pk).update(phase=Phase.IDENTIFY)
    return [SolutionFactory(cycle=personas.cycle, title=t) for t in ("Robots", "Closed systems", "Batch records")]


def _scores(solutions, **rows) -> dict:
    data = {}
    for index, (impact, feasibility) in rows.items():
        pk = solutions[int(index[1:])].pk
        if impact:
            data[f"s{pk}-impact"] = str(impact)
        if feasibility:
            data[f"s{pk}-feasibility"] = str(feasibility)
    return data


def test_the_rating_page_is_one_form_with_one_save(personas, identify):
    html = personas.client_for(personas.technologist).get(reverse("cycles:solution_rate", args=["cycle-a"]))
    html = html.content.decode()
    ratings = html[html.index('<div id="rating-list">') : html.index("</form>", html.index('<div id="rating-list">'))]
    assert ratings.count("<form") == 1 and ratings.count('type="submit"') == 1
    assert "Save my ratings" in ratings
    for solution in identify:
        assert f'name="s{solution.pk}-impact"' in ratings and f'name="s{solution.pk}-feasibility"' in ratings


def test_one_save_rates_every_scored_solution(personas, identify):
    client = personas.client_for(personas.technologist)
    response = client.post(
        reverse("cycles:solution_rate", args=["cycle-a"]), _scores(identify, r0=(4, 3), r1=(5, 2)), follow=True
    )
    assert RATINGS_SAVED.format(n=2, s="s") in [str(m) for m in response.context["messages"]]
    mine = {
        r.solution.title: (r.impact, r.feasibility) for r in SolutionRating.objects.filter(rater=personas.technologist)
    }
    assert mine == {"Robots": (4, 3), "Closed systems": (5, 2)}  # the blank third is left for later


def test_an_incomplete_row_saves_nothing_and_is_marked(personas, identify):
    client = personas.client_for(personas.technologist)
    response = client.post(
        reverse("cycles:solution_rate", args=["cycle-a"]), _scores(identify, r0=(4, 3), r1=(5, None))
    )
    assert response.status_code == 400
    assert not SolutionRating.objects.exists()  # all or nothing: the complete row is not saved either
    html = response.content.decode()
    incomplete = _row(html, identify[1])
    assert SCORE_MISSING in incomplete and "border-danger" in incomplete
    complete = _row(html, identify[0])
    assert SCORE_MISSING not in complete and "border-danger" not in complete
    assert re.search(rf'<input[^>]*name="s{identify[0].pk}-impact" value="4"[^>]*checked', complete), "kept as typed"


def test_saving_with_nothing_scored_says_so(personas, identify):
    response = personas.client_for(personas.technologist).post(reverse("cycles:solution_rate", args=["cycle-a"]), {})
    assert response.status_code == 400
    assert RATINGS_NONE_GIVEN in response.content.decode()


def test_changing_one_stored_rating_keeps_the_others(personas, identify):
    SolutionRatingFactory(solution=identify[0], rater=personas.employer, impact=2, feasibility=2)
    SolutionRatingFactory(solution=identify[1], rater=personas.employer, impact=3, feasibility=3)
    client = personas.client_for(personas.employer)
    response = client.post(
        reverse("cycles:solution_rate", args=["cycle-a"]), _scores(identify, r0=(2, 2), r1=(5, 3)), follow=True
    )
    assert RATINGS_SAVED.format(n=1, s="") in [str(m) for m in response.context["messages"]]
    assert SolutionRating.objects.get(solution=identify[1]).impact == 5


def test_the_service_saves_all_rows_or_none(personas, identify):
    from cycles import services

    good, bad = identify[0], identify[1]
    with pytest.raises(services.RatingsNotSaved) as refused:
        services.solutions_rate(
            cycle=personas.cycle,
            rater=personas.employer,
            ratings={good: {"impact": 4, "feasibility": 3}, bad: {"impact": 9, "feasibility": 3}},
        )
    assert list(refused.value.errors) == [bad.pk]
    assert not SolutionRating.objects.exists()  # the good row was undone with the bad one


def test_the_invitation_form_preselects_no_role_so_nobody_is_made_convener_by_accident(personas):
    from django.urls import reverse

    client = personas.client_for(personas.convener)
    page = client.get(reverse("cycles:invite", args=[personas.cycle.slug])).content.decode()
    assert re.search(r'<option value="" selected>Choose a role…</option>', page)
    response = client.post(reverse("cycles:invite", args=[personas.cycle.slug]), {"email": "hurried@a.test"})
    assert response.status_code in (200, 400) and "This field is required" in response.content.decode()
    from cycles.models import Invitation

    assert not Invitation.objects.filter(email="hurried@a.test").exists()
