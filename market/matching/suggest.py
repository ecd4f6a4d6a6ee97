"""Field suggestion: nearest field centroids over character n-grams combined with a linear SVM, from labelled listings."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from market.matching.ngrams import MAX_TEXTS_PER_CALL, term_counts
from market.matching.weights import DEFAULT_WEIGHTS, MatchWeights


@dataclass(frozen=True)
class FieldSuggestion:
    """A field label with a confidence in [0, 1] (the confidences of all labels add up to 1)."""

    label: str
    confidence: float


def _count_matrix(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, term key, count) of every distinct term of every text."""
    rows, keys, counts = [], [], []
    for start in range(0, len(texts), MAX_TEXTS_PER_CALL // 16):
        owner, key, count = term_counts(texts[start: start + MAX_TEXTS_PER_CALL // 16])
        rows.append(owner + start)
        keys.append(key)
        counts.append(count)
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    return np.concatenate(rows), np.concatenate(keys), np.concatenate(counts)


class FieldSuggester:
    """Suggests a field for a text from labelled listings; any labels work, inside the tree or not.

    Two views of the same labelled texts vote. The centroid view: each text becomes (1 + log tf) * idf ** p
    over character unigrams/bigrams and letter/digit words, scaled to unit length; a field's centroid is the
    normalised sum of its texts and a text's score is its cosine with it. The linear view: a linear SVM over
    sublinear TF-IDF character unigrams/bigrams. Each view's scores are standardised per text (z-scores over
    the labels) and added, the linear one with weight suggest_linear_weight; the best sum wins.
    """

    def __init__(self, weights: MatchWeights = DEFAULT_WEIGHTS) -> None:
        """An empty suggester; add labelled texts with add() or add_many()."""
        self.weights = weights
        self._texts: list[str] = []
        self._labels: list[str] = []
        self._model: tuple[np.ndarray, np.ndarray, sp.csr_matrix, list[str]] | None = None
        self._linear = None

    @classmethod
    def from_listings(cls, listings: Iterable, weights: MatchWeights = DEFAULT_WEIGHTS) -> FieldSuggester:
        """Learn from listings that have a field (title, keywords and text are used)."""
        suggester = cls(weights)
        suggester.add_many((listing.indexed_text(), listing.field) for listing in listings if listing.field)
        return suggester

    def add(self, text: str, label: str) -> None:
        """Learn one labelled text."""
        self.add_many([(text, label)])

    def add_many(self, examples: Iterable[tuple[str, str]]) -> None:
        """Learn labelled texts (text, label); texts without a label are ignored."""
        for text, label in examples:
            if label:
                self._texts.append(text or "")
                self._labels.append(str(label))
                self._model = None
                self._linear = None

    def __len__(self) -> int:
        return len(self._labels)

    @property
    def labels(self) -> list[str]:
        """The labels learnt so far, most frequent first."""
        return [label for label, _ in sorted(Counter(self._labels).items(), key=lambda kv: (-kv[1], kv[0]))]

    def _fit(self) -> tuple[np.ndarray, np.ndarray, sp.csr_matrix, list[str]]:
        """(vocabulary keys, term weights, centroids, labels), computed again after changes."""
        if self._model is not None:
            return self._model
        rows, keys, counts = _count_matrix(self._texts)
        vocabulary, columns = np.unique(keys, return_inverse=True)
        n = len(self._texts)
        df = np.bincount(columns, minlength=len(vocabulary))
        term_weights = np.log1p((n - df + 0.5) / (df + 0.5)) ** self.weights.suggest_idf_power
        docs = sp.csr_matrix(((1 + np.log(counts)) * term_weights[columns], (rows, columns.reshape(-1))),
                             shape=(n, len(vocabulary)))
        docs = _unit_rows(docs)
        labels = sorted(set(self._labels))
        label_index = {label: i for i, label in enumerate(labels)}
        membership = sp.csr_matrix((np.ones(n), ([label_index[x] for x in self._labels], np.arange(n))),
                                   shape=(len(labels), n))
        centroids = _unit_rows(sp.csr_matrix(membership @ docs))
        self._model = (vocabulary, term_weights, centroids, labels)
        return self._model

    def _similarities(self, texts: Sequence[str]) -> np.ndarray:
        """Cosine of each text with each label's centroid (rows: texts, columns: sorted labels)."""
        vocabulary, term_weights, centroids, labels = self._fit()
        rows, keys, counts = _count_matrix(texts)
        if len(vocabulary) == 0:
            return np.zeros((len(texts), len(labels)))
        pos = np.minimum(np.searchsorted(vocabulary, keys), len(vocabulary) - 1)
        known = vocabulary[pos] == keys
        rows, pos, counts = rows[known], pos[known], counts[known]
        queries = sp.csr_matrix(((1 + np.log(counts)) * term_weights[pos], (rows, pos)),
                                shape=(len(texts), len(vocabulary)))
        return np.asarray((_unit_rows(queries) @ centroids.T).todense())

    def _fit_linear(self):
        """(vectoriser, linear SVM) over the labelled texts, or None with fewer than two labels."""
        if self._linear is None:
            labels = self._fit()[3]
            if len(labels) < 2:
                return None
            from sklearn.feature_extraction.text import TfidfVectorizer
            from sklearn.svm import LinearSVC

            step = max(1, -(-len(self._texts) // self.weights.suggest_linear_examples))
            texts, targets = self._texts[::step], self._labels[::step]
            vectoriser = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 2), sublinear_tf=True)
            model = LinearSVC(C=self.weights.suggest_linear_c).fit(vectoriser.fit_transform(texts), targets)
            self._linear = (vectoriser, model)
        return self._linear

    def _linear_scores(self, texts: Sequence[str]) -> np.ndarray | None:
        """The linear SVM's decision value of each text for each label (columns: sorted labels), or None."""
        fitted = self._fit_linear()
        if fitted is None:
            return None
        vectoriser, model = fitted
        decisions = np.asarray(model.decision_function(vectoriser.transform(texts)), dtype=np.float64)
        if decisions.ndim == 1:  # two labels: one decision value for the second
            decisions = np.column_stack([-decisions, decisions])
        labels = self._fit()[3]
        scores = np.full((len(texts), len(labels)), decisions.min(initial=0.0))
        position = {label: i for i, label in enumerate(labels)}
        for column, label in enumerate(model.classes_):
            scores[:, position[label]] = decisions[:, column]
        return scores

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Combined scores (rows: texts, columns: sorted labels); rows of texts without a known term are all 0."""
        similarities = self._similarities(list(texts))
        combined = _standardised(similarities)
        linear = self._linear_scores(list(texts)) if len(texts) else None
        if linear is not None:
            combined += self.weights.suggest_linear_weight * _standardised(linear)
        combined[~similarities.any(axis=1)] = 0.0
        return combined

    def suggest_many(self, texts: Sequence[str], top: int = 3) -> list[list[FieldSuggestion]]:
        """The `top` most likely labels for each text, best first (ties in label order)."""
        if not self._labels:
            return [[] for _ in texts]
        labels = self._fit()[3]
        combined = self.scores(list(texts))
        prior = Counter(self._labels)
        results = []
        for row in combined:
            if not row.any():
                total = sum(prior.values())
                ranked = sorted(prior, key=lambda label: (-prior[label], label))[:top]
                results.append([FieldSuggestion(label, prior[label] / total) for label in ranked])
                continue
            scaled = (row - row.max()) / self.weights.suggest_temperature
            confidences = np.exp(scaled) / np.exp(scaled).sum()
            order = sorted(range(len(labels)), key=lambda i: (-row[i], labels[i]))[:top]
            results.append([FieldSuggestion(labels[i], float(confidences[i])) for i in order])
        return results

    def suggest(self, text: str, top: int = 3) -> list[FieldSuggestion]:
        """The `top` most likely labels for one text (for the listing form), best first."""
        return self.suggest_many([text], top)[0]

    def best(self, text: str) -> str | None:
        """The single most likely label, or None before anything was learnt."""
        suggestions = self.suggest(text, top=1)
        return suggestions[0].label if suggestions else None


def _standardised(scores: np.ndarray) -> np.ndarray:
    """Each row shifted to mean 0 and scaled to standard deviation 1 (constant rows become 0)."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.size == 0:
        return scores.copy()
    spread = scores.std(axis=1, keepdims=True)
    centred = scores - scores.mean(axis=1, keepdims=True)
    return np.divide(centred, spread, out=np.zeros_like(centred), where=spread > 0)


def _unit_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to unit Euclidean length (empty rows stay empty)."""
    matrix = sp.csr_matrix(matrix, dtype=np.float64)
    lengths = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    scale = np.divide(1.0, lengths, out=np.zeros_like(lengths), where=lengths > 0)
    return sp.csr_matrix(sp.diags(scale) @ matrix)

