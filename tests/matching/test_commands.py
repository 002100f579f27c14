import io
import json

import pytest
from django.core.management import CommandError, call_command

from matching import embeddings
from tests.matching.conftest import make_framework

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

STANDARDS = [
    (
        "ST1",
        "Laboratory technician",
        3,
        ["Maintain laboratory equipment and keep calibration records", "Prepare budgets"],
    ),
    ("ST2", "Chef", 2, ["Cook meals to order in a busy kitchen"]),
]


def test_match_statements_prints_one_json_line_per_statement_best_first(tmp_path, embedding_model):
    make_framework("ifate", STANDARDS)
    path = tmp_path / "statements.txt"
    path.write_text("Keep lab instruments calibrated\n\nPrepare food for restaurant guests\n", encoding="utf-8")
    out = io.StringIO()
    call_command("match_statements", str(path), "--framework", "ifate", "--top", "2", stdout=out, stderr=io.StringIO())
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["statement"] for line in lines] == [
        "Keep lab instruments calibrated",
        "Prepare food for restaurant guests",
    ]
    first = lines[0]["matches"]
    assert set(first[0]) == {"standard_ref", "standard_title", "level", "statement_ref", "text", "score"}
    assert (first[0]["standard_ref"], first[0]["level"]) == ("ST1", 3)
    assert first[0]["text"].startswith("Maintain laboratory equipment")
    assert 1.0 >= first[0]["score"] >= first[1]["score"] >= 0.0
    assert lines[1]["matches"][0]["standard_title"] == "Chef"


def test_match_statements_without_the_framework_says_how_to_import_it(tmp_path, db):
    path = tmp_path / "s.txt"
    path.write_text("x\n", encoding="utf-8")
    with pytest.raises(CommandError, match="No onet framework is imported"):
        call_command("match_statements", str(path), "--framework", "onet")


def test_embed_frameworks_a_second_time_encodes_nothing(embedding_model, db):
    version = make_framework("ifate", STANDARDS)
    call_command("embed_frameworks", "ifate", stdout=io.StringIO())
    version.refresh_from_db()
    assert version.embedded_at is not None
    encoded = embeddings.STATS.encoded
    embeddings.forget_corpora()
    out = io.StringIO()
    call_command("embed_frameworks", stdout=out)
    assert embeddings.STATS.encoded == encoded
    assert "0 texts encoded" in out.getvalue()
