"""A text model of what people tagged: TF-IDF over words and characters, a linear model, reasons.

Trained from :class:`Example` records (an item's learning text and the tag a person gave it:
``value:<id>`` or ``method:<id>``), it scores an untagged item's text with a probability per tag
and says why: the words that pushed most toward the tag (their weight in the model times their
weight in the text) and the tagged items whose text is nearest.

Decisions:

- Word unigrams and bigrams of the whole text (what people search for) plus character 3-5 grams
  within the title's words (so "retry", "retries" and "retrying" share evidence, and any script is
  read: no tokenizer or stop list per language; the title only, since a description's characters
  would multiply the features of every item for little more). Both sublinear TF-IDF, bounded in
  size so training memory stays bounded.
- Multinomial logistic regression: its probabilities come from minimising log loss, so they are
  calibrated without a second fit; ``suggest evaluate`` (:mod:`v2mom.suggest.quality`) measures
  how well, as precision per confidence level on held-out items.
- A tag with fewer than :data:`MIN_EXAMPLES` people-tagged items is not learned (it could only be
  guessed); fewer than two learnable tags train nothing, and :class:`NotTrainable` says why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

__all__ = ["MIN_EXAMPLES", "Example", "NotTrainable", "Scored", "TextModel", "train", "vectorizer"]

MIN_EXAMPLES = 5  # people-tagged items a tag needs before it is learned
WORD = r"(?u)\b\w[\w'-]*\w\b"  # a word: two or more word characters, hyphens and apostrophes inside
WORD_FEATURES = 100_000
CHAR_FEATURES = 100_000
NEIGHBOURS_KEPT = 2_000  # per tag: the items nearest ones are looked for among (the newest ones)


class NotTrainable(ValueError):
    """The examples cannot train a model; the message says why (in a person's words)."""


@dataclass(frozen=True)
class Example:
    """An item a person tagged: its reference (``tracker:key``), learning text and tag."""

    ref: str
    text: str
    tag: str


@dataclass(frozen=True)
class Scored:
    """One tag for a text: its probability, the words for it and the nearest items people gave it."""

    tag: str
    confidence: float
    words: tuple[str, ...]
    neighbours: tuple[str, ...]


def _headline(text: str) -> str:
    """The first line of a learning text (the item's title), lower-cased: what characters are read of."""
    return text.partition("\n")[0].lower()


def vectorizer() -> FeatureUnion:
    """The two TF-IDF vectorizers a model reads texts with (see the module docstring), unfitted."""
    return FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    strip_accents="unicode",
                    token_pattern=WORD,
                    max_features=WORD_FEATURES,
                    dtype=np.float32,
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    preprocessor=_headline,
                    ngram_range=(3, 5),
                    sublinear_tf=True,
                    min_df=2,
                    max_features=CHAR_FEATURES,
                    dtype=np.float32,
                ),
            ),
        ]
    )


class TextModel:
    """A trained model: score a text, say why. Built by :func:`train`."""

    def __init__(
        self,
        features: FeatureUnion,
        classifier: LogisticRegression,
        examples: Sequence[Example],
        matrix: sparse.csr_matrix,
    ) -> None:
        """Wrap the fitted ``features`` and ``classifier`` and the training ``examples`` (with
        their rows in ``matrix``, L2-normalised, for nearest neighbours)."""
        self.features = features
        self.classifier = classifier
        self.tags: tuple[str, ...] = tuple(str(tag) for tag in classifier.classes_)
        refs = np.array([example.ref for example in examples], dtype=object)
        tags = np.array([example.tag for example in examples], dtype=object)
        # Per tag, its examples' rows and references (the last NEIGHBOURS_KEPT of them): the nearest
        # items are looked for among them, so a model's size and a score's time stay bounded.
        self._nearby = {
            tag: (
                sparse.csr_matrix(matrix[np.flatnonzero(tags == tag)[-NEIGHBOURS_KEPT:]]),
                refs[np.flatnonzero(tags == tag)[-NEIGHBOURS_KEPT:]],
            )
            for tag in self.tags
        }
        words: TfidfVectorizer = features.transformer_list[0][1]
        self._word_names = words.get_feature_names_out()
        self._word_count = len(self._word_names)

    def score(self, texts: Sequence[str], *, top: int = 3) -> list[list[Scored]]:
        """For each text, its ``top`` tags, most probable first, each with its reasons."""
        if not texts:
            return []
        vectors = sparse.csr_matrix(self.features.transform(list(texts)))
        probabilities = self.classifier.predict_proba(vectors)
        out: list[list[Scored]] = []
        for row, chances in enumerate(probabilities):
            vector = vectors.getrow(row)
            best = np.argsort(-chances)[:top]
            out.append([self._scored(vector, int(k), float(chances[k])) for k in best])
        return out

    def _scored(self, vector: sparse.csr_matrix, k: int, confidence: float) -> Scored:
        tag = self.tags[k]
        weights = self.classifier.coef_[k] if self.classifier.coef_.shape[0] > 1 else self.classifier.coef_[0]
        if self.classifier.coef_.shape[0] == 1 and k == 0:
            weights = -weights  # a two-tag model keeps one row: the first tag's weights are its negation
        words = vector[:, : self._word_count]
        contribution = words.multiply(weights[: self._word_count]).tocsr()
        pushing = [
            (value, index)
            for index, value in zip(contribution.indices, contribution.data, strict=True)
            if value > 0
        ]
        pushing.sort(reverse=True)
        reasons = tuple(str(self._word_names[index]) for _, index in pushing[:3])
        rows, refs = self._nearby[tag]
        similarity = (rows @ vector.T).toarray().ravel()
        nearest = np.argpartition(-similarity, 1)[:2] if similarity.size > 2 else np.arange(similarity.size)
        nearest = nearest[np.argsort(-similarity[nearest])]
        neighbours = tuple(str(ref) for ref in refs[nearest])
        return Scored(tag=tag, confidence=confidence, words=reasons, neighbours=neighbours)


def learnable(examples: Sequence[Example]) -> list[Example]:
    """The examples whose tag has at least :data:`MIN_EXAMPLES` of them; NotTrainable when fewer
    than two tags do."""
    counts = Counter(example.tag for example in examples)
    kept = {tag for tag, n in counts.items() if n >= MIN_EXAMPLES}
    if len(kept) < 2:
        few = ", ".join(f"{tag} ({n})" for tag, n in sorted(counts.items())) or "none"
        raise NotTrainable(
            f"suggestions need at least two values or methods with {MIN_EXAMPLES} or more items a person"
            f" tagged; people-tagged items per tag: {few}"
        )
    return [example for example in examples if example.tag in kept]


def train(examples: Sequence[Example], *, seed: int = 0) -> TextModel:
    """A model of ``examples`` (see the module docstring); NotTrainable says why none can be made."""
    kept = learnable(examples)
    features = vectorizer()
    matrix = sparse.csr_matrix(features.fit_transform([example.text for example in kept]))
    for _, fitted in features.transformer_list:
        fitted.stop_words_ = set()  # the terms cut by max_features: only ever grows a saved model
    classifier = LogisticRegression(C=4.0, max_iter=1000, random_state=seed)
    classifier.fit(matrix, [example.tag for example in kept])
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    normalised = sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)
    return TextModel(features, classifier, kept, normalised)
