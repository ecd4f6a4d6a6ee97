"""Every weight and tuning constant of the matcher, in one place (see docs/matching.md for the why)."""
from __future__ import annotations

from dataclasses import dataclass

FACTORS = ("text", "title_keywords", "field", "maturity", "budget", "mode", "region")
STRUCTURED_FACTORS = ("maturity", "budget", "mode", "region")
"""Fits that say nothing about the subject: they count only for a pair whose subjects are close (see the gates)."""


@dataclass(frozen=True)
class MatchWeights:
    """Weights of the score's factors and the constants of retrieval, field inference and suggestion.

    A pair's score is 100 * sum(weight * similarity) / sum(weight) over the factors known for
    both sides (a factor one side leaves empty is left out, not counted as a mismatch), so the
    per-factor contributions shown in the explanation always add up to the score.
    """

    # Factor weights (relative; only their ratios matter).
    text: float = 0.60            # BM25 over characters and bigrams, relative to the query's self-match
    title_keywords: float = 0.12  # rapidfuzz on titles and on keyword lists (when both sides have them)
    field: float = 0.08           # field-tree similarity (inferred from the candidates when not given)
    maturity: float = 0.07        # achievement TRL against the demand's minimum TRL
    budget: float = 0.06          # demand budget against achievement price (integer fen)
    mode: float = 0.05            # transfer modes in common
    region: float = 0.02          # same city

    # The structured fits add points only when the pair's text similarity reaches structured_gate_text or its
    # field similarity reaches structured_gate_field (same field, or parent and child); otherwise they count
    # in the denominator with no points, so that TRL, budget, mode and city cannot lift unrelated subjects.
    # On the demo data 0.10 is above 95% of the text similarities between listings of different top-level
    # fields (their 90th percentile is 0.084) and below most of the pairs people would call related.
    structured_gate_text: float = 0.10
    structured_gate_field: float = 0.5
    # Match lists on listing pages leave out pairs scoring below this many points: with the gates, unrelated
    # pairs score under about 15 on the demo data and related ones from about 25.
    min_listing_score: float = 20.0
    # Shared terms in explanations: a word found in more than this share of the indexed listings (an upper
    # bound from its rarest character bigram) is too common to explain a match, once the index holds at least
    # shared_term_min_listings listings; stop words and units are left out by market.text.is_telling_term.
    shared_term_max_share: float = 0.10
    shared_term_min_listings: int = 40

    # BM25 over character unigrams/bigrams and letter/digit words.
    bm25_k1: float = 1.2
    bm25_b: float = 0.75

    # Candidate generation: how many text candidates are re-ranked with every factor.
    rerank_pool: int = 100
    # Speed only: terms in more than 1/common_term_share of the listings are left out of the first
    # pass and added exactly for the best first_pass_per_pool * pool (at least first_pass_minimum).
    common_term_share: int = 20
    first_pass_per_pool: int = 4
    first_pass_minimum: int = 400
    # Field inference for a query without a field: the fields of its strongest candidates vote,
    # each with weight exp((text - best_text) / field_vote_temperature).
    field_vote_candidates: int = 20
    field_vote_temperature: float = 0.04
    # Field-tree similarity: tree_decay ** (edges between the two nodes); 0 across top-level fields.
    tree_decay: float = 0.5
    # Maturity: each TRL level short of the demand's minimum costs this share of the factor.
    trl_shortfall_step: float = 0.25
    # Transfer modes that are close without being equal (licence kinds, assignment vs exclusive licence).
    related_mode_similarity: float = 0.5
    # Longest query analysed: the rarest terms are kept when a text has more distinct terms.
    max_query_terms: int = 1024

    # Field suggestion: nearest class centroid over character unigrams/bigrams weighted
    # (1 + log tf) * idf ** suggest_idf_power, plus a linear SVM (C = suggest_linear_c) over TF-IDF character
    # unigrams/bigrams trained on at most suggest_linear_examples texts (an even sample beyond); both views'
    # scores are z-scored per text and added, the SVM's times suggest_linear_weight (0.5: on 5 random halves
    # of the development data 0.3-1.0 all gain 0.01 on the centroids alone). Confidences are a softmax of the
    # sums with this temperature (relative, not calibrated probabilities).
    suggest_idf_power: float = 2.0
    suggest_linear_weight: float = 0.5
    suggest_linear_c: float = 1.0
    suggest_linear_examples: int = 20_000
    suggest_temperature: float = 1.0

    def factor_weight(self, name: str) -> float:
        """The weight of one named factor."""
        return float(getattr(self, name))

    def __post_init__(self) -> None:
        for name in FACTORS:
            if self.factor_weight(name) < 0:
                raise ValueError(f"weight of {name} must not be negative")
        if self.factor_weight("text") <= 0:
            raise ValueError("the text weight must be positive")
        if not (0 <= self.structured_gate_text <= 1 and 0 <= self.structured_gate_field <= 1):
            raise ValueError("the structured gates are similarities between 0 and 1")


DEFAULT_WEIGHTS = MatchWeights()
