import pytest

from workshops.capture.checks import (
    HINT_FULL_STOP,
    HINT_LOWERCASE,
    HINT_ONE_SENTENCE,
    length_error,
    statement_hints,
)


def test_a_verb_first_sentence_gets_no_hint():
    assert statement_hints("Implement maintenance plans to sustain equipment uptime and qualified status.") == []


def test_length_limits_are_20_to_400_characters_after_collapsing_whitespace():
    assert length_error("Develop   plans now.") is not None  # 18 characters once collapsed
    assert length_error("Develop plans for the site.") is None
    assert length_error("Develop " + "x" * 392) is None
    assert "at most 400" in length_error("Develop " + "x" * 393)


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("The organisation should develop maintenance plans.", "not “The …”"),
        ("To develop maintenance plans for equipment.", "Drop the “To”"),
        ("Developing maintenance plans for equipment.", "“Develop …” rather than “Developing …”"),
        ("Develops maintenance plans for equipment.", "“Develop …” rather than “Develops …”"),
        ("Analysed the uptime of equipment in the plant.", "past tense"),
        ("Frobnicate the maintenance plans of the site.", "not one of the usual capability verbs"),
    ],
)
def test_it_hints_when_the_statement_does_not_start_with_an_imperative_verb(statement, expected):
    hints = statement_hints(statement)
    assert any(expected in hint for hint in hints), hints


def test_it_hints_at_a_second_sentence_but_not_at_abbreviations():
    assert HINT_ONE_SENTENCE in statement_hints("Develop plans for sites. Maintain them every year.")
    assert HINT_ONE_SENTENCE not in statement_hints("Develop plans, e.g. Maintenance plans, for sites.")


def test_it_hints_at_a_missing_full_stop_and_capital():
    hints = statement_hints("develop maintenance plans for the equipment")
    assert HINT_FULL_STOP in hints
    assert HINT_LOWERCASE in hints
