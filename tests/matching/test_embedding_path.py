"""One embedding path: FOP names and KSB suggestions come from imported frameworks through the
embedding store, with the real model; nothing else loads the model or caches vectors in files."""

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from matching import embeddings, proposals
from matching.importers import import_framework
from matching.suggestions import prepare, suggest_tags
from tests.matching.frameworks import write_esco, write_onet
from workshops.fops.types import NeededCapability, ProposalParameters, RoleLevelNeeds

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]

ESCO_OCCUPATIONS = [
    (
        "cold chain logistics coordinator",
        "Coordinates refrigerated transport of temperature-sensitive goods.",
        "4323.2",
    ),
    ("nurse", "Cares for patients in hospital wards.", "2221.1"),
]
ONET_OCCUPATIONS = [
    ("15-1252.00", "Software Developers", "Write and test computer programs and applications."),
    ("11-3071.04", "Supply Chain Managers", "Direct the movement of goods between suppliers and sites."),
]
COLD_CHAIN = RoleLevelNeeds(
    role_level_id=1,
    role_level_name="Professional",
    capabilities=(
        NeededCapability(1, "C1", "Maintain cold chain integrity of medicines during transport.", (), 2),
        NeededCapability(2, "C2", "Track the temperature of refrigerated shipments.", (), 3),
    ),
)
PARAMS = ProposalParameters(max_size=4, min_size=1, similarity=0.2)


def test_fop_names_come_from_the_imported_esco_and_onet_occupations(tmp_path, embedding_model):
    import_framework("esco", str(write_esco(tmp_path / "esco", occupations=ESCO_OCCUPATIONS)))
    import_framework("onet", str(write_onet(tmp_path / "onet", ONET_OCCUPATIONS)))
    occupations, vectors = proposals.occupation_corpus()
    assert [(o.name, o.source, o.code) for o in occupations] == [
        ("cold chain logistics coordinator", "ESCO", "4323.2"),
        ("nurse", "ESCO", "2221.1"),
        ("Software Developers", "O*NET", "15-1252.00"),
        ("Supply Chain Managers", "O*NET", "11-3071.04"),
    ]
    # Label and description, embedded through the store like every other text.
    assert occupations[0].text == "cold chain logistics coordinator. " + ESCO_OCCUPATIONS[0][1]
    assert vectors == pytest.approx(embeddings.encode([o.text for o in occupations]))
    (profile,) = proposals.propose_profiles([COLD_CHAIN], PARAMS)
    assert profile.name == "Cold Chain Logistics Coordinator"
    assert [(n["name"], n["source"]) for n in profile.suggested_names[:2]] == [
        ("Cold Chain Logistics Coordinator", "ESCO"),
        ("Supply Chain Managers", "O*NET"),
    ]


def test_without_esco_or_onet_imported_profiles_get_a_plain_name_and_no_suggestions(embedding_model):
    assert proposals.occupation_corpus()[0] == []
    (profile,) = proposals.propose_profiles([COLD_CHAIN], PARAMS)
    assert (profile.name, profile.suggested_names) == ("Professional profile 1", [])
    assert set(profile.entries) == {1, 2}


def test_only_an_imported_framework_names_profiles(tmp_path, embedding_model):
    import_framework("onet", str(write_onet(tmp_path / "onet", ONET_OCCUPATIONS)))
    (profile,) = proposals.propose_profiles([COLD_CHAIN], PARAMS)
    assert profile.name == "Supply Chain Managers"
    assert {n["source"] for n in profile.suggested_names} == {"O*NET"}


def test_without_esco_imported_only_the_tags_in_use_are_suggested(embedding_model):
    assert suggest_tags("Maintain cold chain integrity during transport.", "K", [], 5) == []
    used = suggest_tags("Maintain cold chain integrity.", "K", [(7, "Cold chain logistics", 2)], 5)
    assert [(s["name"], s["source"], s["ref"]) for s in used] == [
        ("Cold chain logistics", "Used in 2 capabilities", "7")
    ]


def test_each_tag_kind_suggests_the_imported_esco_concepts_of_its_list(tmp_path, embedding_model):
    skills = [
        ("knowledge", "cold chain logistics"),
        ("skill/competence", "monitor refrigerated storage temperatures"),
        ("skill/competence", "work in teams"),
        ("", "keep medicines cold"),  # no skill type: neither a Skill nor a Knowledge suggestion
    ]
    import_framework("esco", str(write_esco(tmp_path / "esco", skills=skills, transversal=["work in teams"])))
    prepare()  # as the worker's warm-up does
    statement = "Keep medicines cold in the cold chain and work with the team."
    names = {kind: {s["name"] for s in suggest_tags(statement, kind, [], 5)} for kind in "KSB"}
    assert names == {
        "K": {"cold chain logistics"},
        "S": {"monitor refrigerated storage temperatures", "work in teams"},
        "B": {"work in teams"},
    }
    (first,) = suggest_tags(statement, "B", [], 1)
    assert (first["source"], first["ref"]) == ("ESCO transversal skill", "http://esco/skill/3")


def test_embed_frameworks_also_embeds_the_naming_and_suggestion_corpora(tmp_path, embedding_model):
    import_framework("esco", str(write_esco(tmp_path / "esco", occupations=ESCO_OCCUPATIONS)))
    call_command("embed_frameworks", "esco", stdout=io.StringIO())
    embeddings.forget_corpora()
    before = embeddings.STATS.encoded
    proposals.occupation_corpus()
    assert embeddings.STATS.encoded == before


def test_the_model_is_loaded_in_one_place_and_no_vectors_are_cached_in_files():
    sources = [
        p
        for folder in ("matching", "workshops", "findings", "cycles", "core", "accounts", "config", "bench")
        for p in (ROOT / folder).rglob("*.py")
    ]
    call = "SentenceTransformer" + "("  # spelt in two so a grep of the code finds only the real one
    loaders = [p for p in sources if call in p.read_text(encoding="utf-8")]
    assert loaders == [ROOT / "matching" / "encoders.py"]
    file_caches = [p for p in sources if re.search(r"\.npy\b|np\.(save|load)\(", p.read_text(encoding="utf-8"))]
    assert file_caches == []


def test_a_first_proposal_says_it_is_embedding_the_occupations_that_name_profiles(tmp_path, embedding_model):
    import_framework("esco", str(write_esco(tmp_path / "esco", occupations=ESCO_OCCUPATIONS)))
    heard: list[tuple[str, int, int]] = []
    proposals.propose_profiles([COLD_CHAIN], PARAMS, lambda what, done, total: heard.append((what, done, total)))
    assert heard[-1] == ("Embedding ESCO occupations to name the profiles", 2, 2)
    heard.clear()
    proposals.propose_profiles([COLD_CHAIN], PARAMS, lambda *told: heard.append(told))
    assert heard == []  # embedded once: nothing more to say


def test_suggestions_discount_the_accent_every_statement_of_the_cycle_shares(tmp_path, embedding_model):
    import json

    data = json.loads((Path(__file__).parents[1] / "workshops" / "tags" / "ksb_cycle_accent.json").read_text())
    food = data["cycles"]["food"]["statements"]
    skills = [
        ("knowledge", "lean manufacturing"),
        ("knowledge", "food waste monitoring systems"),
        ("knowledge", "six sigma methods"),
    ]
    import_framework("esco", str(write_esco(tmp_path / "esco", skills=skills)))
    prepare()
    statement = "Apply lean methods to remove waste from food production processes."
    alone = {s["name"]: s["score"] for s in suggest_tags(statement, "K", [], 3)}
    in_cycle = {s["name"]: s["score"] for s in suggest_tags(statement, "K", [], 3, context=food)}
    # Inside the food cycle, where every statement says "food", a suggestion that shares only that
    # word loses more than the method the statement names.
    lost = {name: alone[name] - in_cycle[name] for name in alone}
    assert lost["food waste monitoring systems"] > 2 * lost["lean manufacturing"] > 0
    assert in_cycle["lean manufacturing"] - in_cycle["food waste monitoring systems"] > 0.05
    # Too small a cycle has no accent to discount.
    assert {s["name"]: s["score"] for s in suggest_tags(statement, "K", [], 3, context=food[:3])} == alone
