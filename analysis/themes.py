"""Free-text comments (意见和建议): keywords and themes (METHODS.md §7).

Pure computation: no database and no Django. The caller passes plain strings and
the polarity of the rating the same respondent gave (the unit's 总体评价), which
stands in for sentiment.

- :func:`themes` applies :func:`analysis.masking.mask_personal` to every
  comment, so its examples are masked; the caller masks the names of units and
  people with :class:`analysis.masking.NameMask` before they reach it.
- :func:`keywords` ranks jieba words by TF-IDF, with a campus user dictionary
  (``data/campus_dict.txt``) and a stop-word list (``data/stopwords.txt``). Both
  live on a private ``jieba.Tokenizer`` and extractor (jieba's TF-IDF with its IDF
  table, without importing ``jieba.analyse``), so the global ``jieba.dt`` stays
  untouched.
- :func:`themes` clusters comments by character 2–3-gram TF-IDF (scikit-learn's,
  computed here), cosine distance and average-linkage agglomerative clustering; :func:`negative_candidates` picks
  the themes that may become findings (the office confirms them).

Output depends only on the multiset of comments: input is sorted first, and
nothing is random.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cache
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING

import jieba
import numpy as np

from analysis.stats.rates import POLARITIES

from .masking import MASK_TOKEN_RE, mask_personal

# scipy.cluster and jieba's dictionary and IDF table cost about half a second
# and 100 MB; they are loaded on first use, so that a view importing only
# mask_personal stays light.
if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

DATA_DIR = Path(__file__).resolve().parent / "data"
USER_DICT = DATA_DIR / "campus_dict.txt"
STOP_WORDS = DATA_DIR / "stopwords.txt"

# Cut the dendrogram where the average cosine distance between two groups passes
# this. With the n-grams of _vectorize, comments of one topic in different words
# sit at about 0.45–0.9 from each other (median 0.7), comments of different
# topics at 0.95–1.0. On the two corpora of tests/analysis/test_themes.py any
# threshold from 0.85 to 0.95 recovers the topics; 0.9 is the middle. Lower it
# for finer themes.
DISTANCE_THRESHOLD = 0.9
THEME_KEYWORDS = 8  # keywords reported per theme
KEY_KEYWORDS = 5  # of which the key hashes this many, sorted
EXAMPLES = 3
_BLOCK_ROWS = 512  # rows of the similarity matrix held densely at once

# ------------------------------------------------------------------ keywords


class _Tokenizer(jieba.Tokenizer):
    """A jieba tokenizer that cuts by its dictionary only.

    ``TFIDF.extract_tags`` calls ``cut(text)`` with jieba's default HMM=True,
    whose guessed new words ("人管", "灯坏", "还贵" from "没人管", "灯坏了",
    "还贵") made poor keywords. Without it, unknown words fall apart into single
    characters, which extract_tags drops.
    """

    def cut(
        self,
        sentence: str,
        cut_all: bool = False,
        HMM: bool = False,
        use_paddle: bool = False,
    ) -> Iterator[str]:
        return super().cut(sentence, cut_all=cut_all, HMM=HMM, use_paddle=use_paddle)


# jieba.analyse.tfidf.KeywordExtractor.STOP_WORDS, which the extractor starts from.
_JIEBA_STOP_WORDS = frozenset(
    (
        "the", "of", "is", "and", "to", "in", "that", "we", "for", "an", "are",
        "by", "be", "as", "on", "with", "can", "if", "from", "which", "you", "it",
        "this", "then", "at", "have", "all", "not", "one", "has", "or",
    )
)  # fmt: skip


class _TFIDF:
    """``jieba.analyse.TFIDF.extract_tags`` without parts of speech, on a given
    tokenizer, with jieba's IDF table.

    Importing ``jieba.analyse`` would load jieba's part-of-speech tables and a
    default extractor of its own with a second copy of the IDF table (~130 MB and
    ~1 s per process) that keywords() never uses; this is the same computation,
    step by step, on the same inputs.
    """

    def __init__(self, tokenizer: jieba.Tokenizer, stop: frozenset[str]) -> None:
        self.tokenizer = tokenizer
        self.stop_words = stop
        # jieba.analyse.tfidf.IDFLoader.set_new_path
        path = Path(jieba.__file__).resolve().parent / "analyse" / "idf.txt"
        content = path.read_bytes().decode("utf-8")
        self.idf_freq: dict[str, float] = {}
        for line in content.splitlines():
            word, freq = line.strip().split(" ")
            self.idf_freq[word] = float(freq)
        self.median_idf = sorted(self.idf_freq.values())[len(self.idf_freq) // 2]

    def extract_tags(self, sentence: str) -> list[tuple[str, float]]:
        """Every keyword with its weight, heaviest first (topK=None, withWeight)."""
        freq: dict[str, float] = {}
        for w, n in self.term_counts(sentence).items():
            freq[w] = freq.get(w, 0.0) + n
        return self.weigh(freq)

    def term_counts(self, sentence: str) -> dict[str, int]:
        """How often each word extract_tags keeps occurs in ``sentence``."""
        counts: dict[str, int] = {}
        for w in self.tokenizer.cut(sentence):
            if len(w.strip()) < 2 or w.lower() in self.stop_words:
                continue
            counts[w] = counts.get(w, 0) + 1
        return counts

    def weigh(self, freq: dict[str, float]) -> list[tuple[str, float]]:
        """TF-IDF weights from term frequencies, heaviest first (in place)."""
        total = sum(freq.values())
        for k in freq:
            freq[k] *= self.idf_freq.get(k, self.median_idf) / total
        return sorted(freq.items(), key=itemgetter(1), reverse=True)


@cache
def _extractor() -> _TFIDF:
    """A TF-IDF keyword extractor on a private tokenizer, built once per process.

    jieba's own extractor points at the global tokenizer; the private one gets
    the campus dictionary instead, so nothing else in the process sees these
    words. Loading takes about 0.6 s (jieba keeps a cache of its main dictionary
    in the temp directory).
    """
    tokenizer = _Tokenizer()
    # jieba opens a path without closing it; hand it an open file instead.
    with USER_DICT.open("rb") as user_dict:
        tokenizer.load_userdict(user_dict)
    return _TFIDF(tokenizer, _JIEBA_STOP_WORDS | stop_words())


def prepare() -> None:
    """Load what :func:`themes` and :func:`keywords` need ahead of their first use:
    scipy's clustering and jieba's dictionaries (about 0.7 s, once per process).
    The analysis calls it in a thread while the database counts; nothing here
    touches the database."""
    from scipy.cluster.hierarchy import fcluster, linkage  # noqa: F401
    from scipy.sparse import csr_matrix  # noqa: F401

    _extractor()
    _stop_word_pattern()


@cache
def stop_words() -> frozenset[str]:
    """The words :func:`keywords` never returns (lower-cased, from the data file)."""
    lines = STOP_WORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower()
        for line in lines
        if line.strip() and not line.startswith("#")
    )


def keywords(texts: Sequence[str], top_k: int = 10) -> list[tuple[str, float]]:
    """The ``top_k`` keywords of ``texts`` taken together, with TF-IDF weights.

    TF counts over all texts, IDF from jieba's general-language table (words it
    does not know, such as most campus terms, get its median IDF). Texts are
    masked first, and tokens without a letter or Chinese character (numbers) are
    dropped. Ties break alphabetically, and the order of ``texts`` does not
    matter.
    """
    if top_k <= 0:
        return []
    # The TF of the texts joined into one document, one text per line, which is
    # the sum of each text's: jieba cuts at every line break (and at every
    # character outside its word classes), and keeps nothing shorter than two
    # characters. So each distinct text is masked and cut once, its counts
    # multiplied by how often it occurs. The counts are integers, exact in
    # floats, whatever the order they are added in.
    extractor = _extractor()
    freq: dict[str, float] = {}
    for text, times in Counter(texts).items():
        cleaned = MASK_TOKEN_RE.sub(" ", mask_personal(text))
        for word, n in extractor.term_counts(cleaned).items():
            freq[word] = freq.get(word, 0.0) + n * times
    weighted = extractor.weigh(freq)
    ranked = sorted(
        (
            (word, weight)
            for word, weight in weighted
            if any(char.isalpha() for char in word)
        ),
        key=lambda pair: (-pair[1], pair[0]),
    )
    return ranked[:top_k]


# ------------------------------------------------------------------ themes


@dataclass(frozen=True)
class Comment:
    text: str
    polarity: str  # of the respondent's 总体评价: positive/neutral/negative/dont_know


@dataclass(frozen=True)
class Theme:
    """A group of similar comments.

    ``negative_share`` is over the ``n_rated`` comments whose respondent gave a
    rating other than dont_know (0.0 when there are none); ``count`` includes
    every comment of the theme. ``examples`` are masked, the most central first.
    ``members`` are the positions of the theme's comments in the sequence given
    to :func:`themes`, ascending, so that the office can read them all before
    confirming a finding.
    """

    key: str
    keywords: list[str]
    count: int
    negative_share: float
    examples: list[str]
    n_rated: int
    members: list[int]


# Answers that say "no comment": left out of themes, or they would form the
# largest one. Compared after normalisation (see _normalize), spaces removed.
NULL_ANSWERS = frozenset(
    {
        "无",
        "无无",
        "没",
        "没有",
        "暂无",
        "暂时没有",
        "无意见",
        "没有意见",
        "暂无意见",
        "暂时没有意见",
        "无建议",
        "没有建议",
        "暂无建议",
        "暂时没有建议",
        "无意见和建议",
        "没有意见和建议",
        "暂无意见和建议",
        "无意见建议",
        "没有意见建议",
        "暂无意见建议",
        "none",
        "no",
        "nothing",
        "na",
        "null",
    }
)
_NON_WORD = re.compile(r"[\W_]+")


def _normalize(text: str) -> str:
    """Masked text reduced to words for n-grams: no tokens, punctuation or emoji."""
    text = MASK_TOKEN_RE.sub(" ", text)
    text = unicodedata.normalize("NFKC", text).lower()
    return _NON_WORD.sub(" ", text).strip()


def themes(
    comments: Sequence[Comment],
    *,
    max_themes: int = 8,
    min_size: int = 2,
    distance_threshold: float = DISTANCE_THRESHOLD,
) -> list[Theme]:
    """Group comments into at most ``max_themes`` themes, largest first.

    Each comment is masked, reduced to its letters, digits and Chinese characters
    and turned into a TF-IDF vector of character 2- and 3-grams (within clauses,
    stop words cut out, only n-grams shared by two comments; sublinear TF, rows
    of unit length). Average-linkage clustering on cosine distance is cut at
    ``distance_threshold``; clusters of at least ``min_size`` comments become
    themes, the ``max_themes`` largest of them if there are more. The dendrogram
    is never cut coarser to meet ``max_themes``: that would merge unrelated
    topics. Comments in no theme (smaller clusters, "无"-style null answers and
    comments with no word at all, such as emoji only) are simply not returned;
    there is no catch-all "其他" theme, whose mixed comments would make a
    meaningless keyword list and could turn into a false candidate finding.

    A theme's ``key`` is a short hash of its top keywords, sorted, so the same
    comments give the same keys on every run and in any input order.
    """
    if max_themes < 1 or min_size < 1:
        raise ValueError("max_themes and min_size must be at least 1")
    for comment in comments:
        if comment.polarity not in POLARITIES:
            raise ValueError(f"unknown polarity {comment.polarity!r}")

    # Each distinct text masked and normalised once (comments repeat: "很好").
    cleaned: dict[str, tuple[str, str]] = {}
    for comment in comments:
        if comment.text not in cleaned:
            masked = mask_personal(comment.text)
            cleaned[comment.text] = (masked, _normalize(masked))
    # Sorted by content, so that the clustering never sees the input order; the
    # position rides along last, only to report members.
    items = sorted(
        (normalized, masked, comment.polarity, position)
        for position, comment in enumerate(comments)
        for masked, normalized in [cleaned[comment.text]]
        if normalized and normalized.replace(" ", "") not in NULL_ANSWERS
    )
    if not items:
        return []

    vectors = _vectorize([item[0] for item in items])
    if len(items) == 1:
        labels = np.ones(1, dtype=int)
    else:
        from scipy.cluster.hierarchy import fcluster, linkage

        tree = linkage(_cosine_distances(vectors), method="average")
        labels = fcluster(tree, t=distance_threshold, criterion="distance")

    # Rows of each cluster, ascending; clusters by size, then by first row.
    clusters: dict[int, list[int]] = {}
    for row, label in enumerate(labels):
        clusters.setdefault(int(label), []).append(row)
    kept = sorted(
        (rows for rows in clusters.values() if len(rows) >= min_size),
        key=lambda rows: (-len(rows), rows[0]),
    )[:max_themes]

    found = [_theme(vectors, rows, [items[row] for row in rows]) for rows in kept]
    return _with_unique_keys(found)


def _vectorize(texts: list[str]) -> csr_matrix:
    """TF-IDF rows of unit length over the n-grams that two or more texts share.

    An n-gram found in one comment only cannot make two comments similar, but it
    would dilute the shared ones; without it, comments of one topic in different
    words still come out close. A text with no shared n-gram is a zero row, at
    distance 1 from everything.

    scikit-learn's ``TfidfVectorizer(analyzer=_ngrams, min_df=2,
    sublinear_tf=True)``, computed as it computes it, to the last bit (the test
    compares the two): columns are the kept n-grams in alphabetical order, the
    entries of a row in the order the corpus first met their n-grams; TF is
    1 + ln(count), IDF ln((1 + n) / (1 + df)) + 1, and each row is divided by
    its Euclidean norm, summed in that order. Importing scikit-learn for this
    cost about a second per process, which every analysis paid.
    """
    from scipy.sparse import csr_matrix

    n = len(texts)
    if n < 2:
        return csr_matrix((n, 0))
    counted: dict[str, dict[str, int]] = {}  # each distinct text cut once
    vocabulary: dict[str, int] = {}  # n-gram -> first-met id
    ids: list[int] = []
    values: list[int] = []
    indptr = [0]
    for text in texts:
        counts = counted.get(text)
        if counts is None:
            counts = counted[text] = {}
            for gram in _ngrams(text):
                counts[gram] = counts.get(gram, 0) + 1
        for gram, count in counts.items():
            ids.append(vocabulary.setdefault(gram, len(vocabulary)))
            values.append(count)
        indptr.append(len(ids))
    if not vocabulary:
        return csr_matrix((n, 0))
    counts_matrix = csr_matrix(
        (np.array(values, dtype=np.float64), np.array(ids), np.array(indptr)),
        shape=(n, len(vocabulary)),
    )
    counts_matrix.sort_indices()  # each row by first-met id
    first_met = counts_matrix.indices
    df = np.bincount(first_met, minlength=len(vocabulary))
    kept = df >= 2
    if not kept.any():
        return csr_matrix((n, 0))
    # Column of a kept n-gram: its rank in alphabetical order among the kept.
    column = np.full(len(vocabulary), -1, dtype=np.int64)
    kept_grams = sorted(gram for gram, i in vocabulary.items() if kept[i])
    column[[vocabulary[gram] for gram in kept_grams]] = np.arange(len(kept_grams))
    keep = kept[first_met]
    rows = np.repeat(np.arange(n), np.diff(counts_matrix.indptr))[keep]
    indices = column[first_met[keep]]
    data = counts_matrix.data[keep]
    row_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=row_ptr[1:])
    # TF, IDF.
    np.log(data, out=data)
    data += 1.0
    df_kept = np.array([df[vocabulary[gram]] for gram in kept_grams], dtype=np.float64)
    df_kept += 1.0
    idf = np.full_like(df_kept, n + 1, dtype=np.float64)
    idf /= df_kept
    np.log(idf, out=idf)
    idf += 1.0
    data *= idf[indices]
    # Row norms summed entry by entry in row order: one pass per position,
    # across all rows at once (padding adds exact zeros).
    position = np.arange(len(data)) - row_ptr[rows]
    squares = np.zeros((n, int(position.max()) + 1 if len(data) else 0))
    squares[rows, position] = data * data
    norms = np.zeros(n)
    for j in range(squares.shape[1]):
        norms += squares[:, j]
    norms = np.sqrt(norms)
    nonzero = norms[rows] != 0.0
    data[nonzero] /= norms[rows][nonzero]
    return csr_matrix((data, indices, row_ptr), shape=(n, len(kept_grams)))


def _ngrams(text: str) -> list[str]:
    """Character 2- and 3-grams within each clause, after removing stop words.

    Stop words ("希望", "建议", "没有", "问题" …) are what comments on different
    topics share most, so they would pull those comments together; they are cut
    out as substrings. Clauses (split at the spaces that replaced punctuation)
    are n-grammed separately, so no n-gram spans "，". A one-character clause
    counts as itself. A comment of stop words only keeps them.
    """
    grams = []
    for stripped in (_stop_word_pattern().sub(" ", text), text):
        for clause in stripped.split():
            if len(clause) < 2:
                grams.append(clause)
            for size in (2, 3):
                grams.extend(
                    clause[i : i + size] for i in range(len(clause) - size + 1)
                )
        if grams:
            break
    return grams


@cache
def _stop_word_pattern() -> re.Pattern[str]:
    # Longest first, so that "有没有" goes before "没有" can split it.
    words = sorted(stop_words(), key=lambda word: (-len(word), word))
    return re.compile("|".join(re.escape(word) for word in words))


def _cosine_distances(vectors: csr_matrix) -> np.ndarray:
    """Condensed cosine distances (the order of ``scipy.spatial.distance.pdist``).

    Rows are already of unit length, so the distance is 1 − the dot product.
    Computed from the sparse matrix in blocks of rows: ``pdist(..., "cosine")``
    would need the dense matrix (comments × n-grams), far larger than the
    n·(n−1)/2 distances themselves.
    """
    n = vectors.shape[0]
    distances = np.empty(n * (n - 1) // 2)
    position = 0
    for start in range(0, n - 1, _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, n - 1)
        block = (vectors[start:stop] @ vectors[start:].T).toarray()
        for offset, row in enumerate(block):
            tail = row[offset + 1 :]
            distances[position : position + tail.size] = 1.0 - tail
            position += tail.size
    # Rounding can take identical rows a hair below 0.
    return np.clip(distances, 0.0, 1.0, out=distances)


def _theme(
    vectors: csr_matrix, rows: list[int], items: list[tuple[str, str, str, int]]
) -> Theme:
    texts = [masked for _, masked, _, _ in items]
    polarities = [polarity for _, _, polarity, _ in items]
    n_rated = sum(polarity != "dont_know" for polarity in polarities)
    n_negative = polarities.count("negative")

    # Most central first: highest mean similarity to the theme's comments, which
    # is the dot product with their mean vector.
    block = vectors[rows]
    centrality = block @ np.asarray(block.mean(axis=0)).ravel()
    examples: list[str] = []
    for _, text in sorted(zip(-centrality, texts, strict=True)):
        if text not in examples:
            examples.append(text)
        if len(examples) == EXAMPLES:
            break

    words = [word for word, _ in keywords(texts, top_k=THEME_KEYWORDS)]
    # A theme of one-character comments ("好") has no keywords; its texts key it.
    basis = sorted(words[:KEY_KEYWORDS]) or sorted(set(texts))
    key = hashlib.sha256("\n".join(basis).encode()).hexdigest()[:10]
    return Theme(
        key=key,
        keywords=words,
        count=len(items),
        negative_share=n_negative / n_rated if n_rated else 0.0,
        examples=examples,
        n_rated=n_rated,
        members=sorted(position for _, _, _, position in items),
    )


def _with_unique_keys(found: list[Theme]) -> list[Theme]:
    """Sort by count, then key; suffix "-2", "-3" to a key that repeats."""
    found.sort(key=lambda theme: (-theme.count, theme.key, theme.examples))
    seen: dict[str, int] = {}
    unique = []
    for theme in found:
        seen[theme.key] = seen.get(theme.key, 0) + 1
        if seen[theme.key] > 1:
            theme = replace(theme, key=f"{theme.key}-{seen[theme.key]}")
        unique.append(theme)
    return unique


def negative_candidates(
    themes: Sequence[Theme], *, min_count: int = 5, min_negative_share: float = 0.6
) -> list[Theme]:
    """Themes strong enough to propose as findings (METHODS.md §7).

    A theme qualifies when at least ``min_count`` of its comments come with a
    rating (``n_rated``; dont_know does not count) and at least
    ``min_negative_share`` of those ratings are negative. The office confirms or
    rejects each candidate; nothing becomes a finding on its own.
    """
    return [
        theme
        for theme in themes
        if theme.n_rated >= min_count and theme.negative_share >= min_negative_share
    ]
