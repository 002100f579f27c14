"""The syntax check of a capability statement: one sentence, verb first.

Length is enforced (a statement outside the limits is refused); everything else is a gentle hint
shown next to the text, never a reason to refuse it — people in a workshop know their domain
better than a word list does.
"""

from __future__ import annotations

import re

STATEMENT_MIN_LENGTH = 20
STATEMENT_MAX_LENGTH = 400

TOO_SHORT = "A capability statement needs at least {limit} characters (this one has {length})."
TOO_LONG = "A capability statement may have at most {limit} characters (this one has {length})."

HINT_ARTICLE = "Start with what the organisation must do: a verb such as “Develop …”, not “{word} …”."
HINT_TO = "Drop the “To”: start with the verb itself (“{verb} …”)."
HINT_ING = "Use the imperative: “{verb} …” rather than “{word} …”."
HINT_THIRD_PERSON = "Use the imperative: “{verb} …” rather than “{word} …”."
HINT_PAST = "Use the imperative (e.g. “Develop …”) rather than the past tense “{word} …”."
HINT_UNKNOWN_VERB = (
    "“{word}” is not one of the usual capability verbs (Develop, Design, Implement, Ensure, Establish, Maintain …): "
    "check that the statement starts with what the organisation must be able to do."
)
HINT_LOWERCASE = "Start the sentence with a capital letter."
HINT_ONE_SENTENCE = "Keep it to one sentence: split separate capabilities into separate statements."
HINT_FULL_STOP = "End the sentence with a full stop."

# Verbs that open capability statements (the published cycles' and the hub's usual ones).
CAPABILITY_VERBS = frozenset(
    """
    adapt adhere adopt advise align allocate analyse analyze anticipate apply appraise approve archive
    assemble assess assign assure audit automate benchmark build calculate calibrate capture carry
    certify champion clean coach collaborate collate collect commission communicate compile comply
    conduct configure confirm connect consult contribute control coordinate create cultivate curate
    decommission define deliver demonstrate deploy describe design detect determine develop diagnose
    digitalise digitise digitize direct dispose distribute document drive educate embed empower
    enable encourage enforce engage engineer ensure establish estimate evaluate execute explore
    facilitate forecast format formulate foster gather generate govern guide handle harmonise identify
    implement improve incorporate influence inform inspect install integrate interpret introduce
    investigate label lead leverage liaise license maintain manage manufacture map measure mentor
    minimise mitigate model modernise monitor motivate negotiate network observe obtain operate
    optimise optimize organise outline oversee package perform pilot plan predict prepare present
    prevent prioritise procure produce programme promote protect prototype provide publish qualify
    quantify recognise recommend reconcile record recruit reduce refine regulate release report
    represent research resolve respond retain review revise run safeguard sample scale schedule
    scope secure select sequence set share simulate source specify standardise steer store
    streamline supervise supply support sustain synthesise test trace track train transfer transform
    translate transport troubleshoot understand update upgrade use utilise utilize validate verify
    visualise work write
    """.split()
)
# First words that show the statement does not start with a verb.
NON_VERB_STARTS = frozenset("the a an this that these those it its there they we our i you organisations".split())
_ABBREVIATIONS = ("e.g", "i.e", "etc", "incl", "approx", "vs", "no", "fig")
_SENTENCE_BREAK = re.compile(r"([.!?])\s+(?=[A-Z])")


def normalise_statement(text: str) -> str:
    """Collapse runs of whitespace (pasted text brings line breaks and double spaces)."""
    return " ".join((text or "").split())


def length_error(text: str) -> str | None:
    """The message refusing a statement outside the length limits, or None."""
    length = len(normalise_statement(text))
    if length < STATEMENT_MIN_LENGTH:
        return TOO_SHORT.format(limit=STATEMENT_MIN_LENGTH, length=length)
    if length > STATEMENT_MAX_LENGTH:
        return TOO_LONG.format(limit=STATEMENT_MAX_LENGTH, length=length)
    return None


def _stem_of(word: str) -> str | None:
    """The capability verb an -ing, -s or -ed form comes from, if it is one we know."""
    lowered = word.lower()
    candidates: list[str] = []
    if lowered.endswith("ing"):
        base = lowered[:-3]
        candidates += [base, base + "e", base[:-1] if len(base) > 2 and base[-1] == base[-2] else base]
    if lowered.endswith("ies"):
        candidates.append(lowered[:-3] + "y")
    if lowered.endswith("es"):
        candidates.append(lowered[:-2])
    if lowered.endswith("s"):
        candidates.append(lowered[:-1])
    if lowered.endswith("ed"):
        base = lowered[:-2]
        candidates += [base, base + "e", lowered[:-1], base[:-1] if len(base) > 2 and base[-1] == base[-2] else base]
    if lowered.endswith("ied"):
        candidates.append(lowered[:-3] + "y")
    for candidate in candidates:
        if candidate in CAPABILITY_VERBS:
            return candidate
    return None


def _sentence_count(text: str) -> int:
    count = 1
    for match in _SENTENCE_BREAK.finditer(text):
        before = text[: match.start()].rsplit(" ", 1)[-1].lower()
        if before.rstrip(".") in _ABBREVIATIONS:
            continue
        count += 1
    return count


def statement_hints(text: str) -> list[str]:
    """Gentle advice on a statement's form; an empty list when it reads well."""
    statement = normalise_statement(text)
    if not statement:
        return []
    hints: list[str] = []
    words = re.findall(r"[A-Za-z][A-Za-z'’-]*", statement)
    first = words[0] if words else ""
    lowered = first.lower()
    if lowered in NON_VERB_STARTS:
        hints.append(HINT_ARTICLE.format(word=first))
    elif lowered == "to":
        verb = words[1].capitalize() if len(words) > 1 else "Develop"
        hints.append(HINT_TO.format(verb=verb))
    elif first and lowered not in CAPABILITY_VERBS:
        stem = _stem_of(first)
        if stem and lowered.endswith("ing"):
            hints.append(HINT_ING.format(verb=stem.capitalize(), word=first))
        elif stem and lowered.endswith("s"):
            hints.append(HINT_THIRD_PERSON.format(verb=stem.capitalize(), word=first))
        elif stem and lowered.endswith("ed"):
            hints.append(HINT_PAST.format(word=first))
        elif lowered.endswith("ing") and len(lowered) > 5:
            hints.append(HINT_ING.format(verb=first[:-3].capitalize(), word=first))
        else:
            hints.append(HINT_UNKNOWN_VERB.format(word=first))
    if statement[0].isalpha() and statement[0].islower():
        hints.append(HINT_LOWERCASE)
    if _sentence_count(statement) > 1:
        hints.append(HINT_ONE_SENTENCE)
    if statement[-1] not in ".!?":
        hints.append(HINT_FULL_STOP)
    return hints
