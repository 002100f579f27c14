"""Similarity by wording, for the moments the embedding model is not loaded in this process.

Character n-grams (3–5, within word boundaries) weighted by TF-IDF and compared by cosine: the
same numbers as scikit-learn's ``TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5),
sublinear_tf=True)`` (``tests/matching/test_lexical.py`` checks it), written out here because
importing scikit-learn costs a web process about a second on its first keystroke, and this is
the one thing we need from it. Character n-grams catch "implement"/"implementing" and typos,
which word counts miss; on the published statements they separated paraphrases from distinct
statements better than words did (the measurements are in ``matching/assist.py``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse

NGRAM_RANGE = (3, 5)
_SPACE = re.compile(r"\s\s+")


def char_ngrams(text: str) -> list[str]:
    """The character n-grams of each word padded with one space on either side."""
    low, high = NGRAM_RANGE
    grams: list[str] = []
    for word in _SPACE.sub(" ", (text or "").lower()).split():
        padded = f" {word} "
        length = len(padded)
        for n in range(low, high + 1):
            if length <= n:
                grams.append(padded)  # a word no longer than n counts once, whole, and no longer n-grams
                break
            grams.extend(padded[i : i + n] for i in range(length - n + 1))
    return grams


class LexicalIndex:
    """TF-IDF vectors of a fixed set of texts; ``scores(queries)`` gives cosine similarities.

    ``background`` texts count towards how common an n-gram is (its IDF) without being searched:
    the statements being classified, so that "manufacturing", in most of a cycle's statements,
    weighs little when they are compared with the taxonomy's short names.
    """

    def __init__(self, texts: Sequence[str], background: Sequence[str] = ()):
        counts = [Counter(char_ngrams(text)) for text in texts]
        document_frequency: Counter[str] = Counter()
        for count in [*counts, *(Counter(char_ngrams(text)) for text in background)]:
            document_frequency.update(count.keys())
        self.vocabulary = {gram: i for i, gram in enumerate(sorted(document_frequency))}
        n = len(texts) + len(background)
        self.idf = np.ones(len(self.vocabulary), dtype=np.float64)
        for gram, df in document_frequency.items():
            self.idf[self.vocabulary[gram]] = math.log((1 + n) / (1 + df)) + 1.0
        self.matrix = self._vectors(counts)

    def __len__(self) -> int:
        return self.matrix.shape[0]

    def _vectors(self, counts: list[Counter]) -> sparse.csr_matrix:
        rows, cols, values = [], [], []
        for row, count in enumerate(counts):
            for gram, tf in count.items():
                col = self.vocabulary.get(gram)
                if col is not None:
                    rows.append(row)
                    cols.append(col)
                    values.append((1.0 + math.log(tf)) * self.idf[col])
        matrix = sparse.csr_matrix((values, (rows, cols)), shape=(len(counts), len(self.vocabulary)))
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.diags(1.0 / norms) @ matrix

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        """(len(queries), len(self)) cosine similarities in [0, 1]."""
        if not len(self) or not queries:
            return np.zeros((len(queries), len(self)))
        vectors = self._vectors([Counter(char_ngrams(q)) for q in queries])
        return np.asarray((vectors @ self.matrix.T).todense())
