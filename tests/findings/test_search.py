"""Search across cycles: capabilities, FOPs and tags of every cycle the user may see, with their cycle."""

from tests.findings.conftest import client_for


def test_search_finds_capabilities_fops_and_tags_with_their_cycle(mini, mini_people):
    response = client_for(mini_people["convener"]).get("/findings/search/", {"q": "valid"})
    results = response.context["results"]
    assert [f["name"] for f in results["fops"]] == ["Validation Engineer"]
    assert results["fops"][0]["cycle_slug"] == "mini"
    caps = (
        client_for(mini_people["convener"]).get("/findings/search/", {"q": "batch"}).context["results"]["capabilities"]
    )
    assert [(c["ref"], c["cycle_title"]) for c in caps] == [("C2", "Mini cycle")]
    tags = client_for(mini_people["convener"]).get("/findings/search/", {"q": "gmp"}).context["results"]["tags"]
    assert [(t["name"], t["capabilities"], t["cycle_slug"]) for t in tags] == [("GMP", 2, "mini")]


def test_search_never_shows_cycles_the_user_is_not_in(mini, mini_people):
    outsider = client_for(mini_people["outsider"]).get("/findings/search/", {"q": "valid"}).context["results"]
    assert [(f["name"], f["cycle_slug"]) for f in outsider["fops"]] == [
        ("Validation Specialist (other cycle)", "mini-other")
    ]
    assert (
        client_for(mini_people["outsider"]).get("/findings/search/", {"q": "batch"}).context["results"]["capabilities"]
        == []
    )


def test_search_excludes_rejected_and_merged_statements(mini, mini_people):
    results = (
        client_for(mini_people["convener"]).get("/findings/search/", {"q": "rejected statement"}).context["results"]
    )
    assert results["capabilities"] == []


def test_search_needs_two_characters_and_a_login_and_serves_an_htmx_fragment(mini, mini_people):
    client = client_for(mini_people["convener"])
    assert client.get("/findings/search/", {"q": "v"}).context["total"] == 0
    fragment = client.get("/findings/search/", {"q": "valid"}, HTTP_HX_REQUEST="true")
    assert b"search-results" in fragment.content and b"<html" not in fragment.content
    assert client_for(None).get("/findings/search/").status_code == 302
