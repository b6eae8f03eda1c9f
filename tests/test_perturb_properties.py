"""Properties every perturbation keeps on random text mixing Latin, Cyrillic, Devanagari, Thai,
Han and Arabic with stray combining marks: valid UTF-8, deterministic, no grapheme cluster split,
and the level respected on average. Hypothesis is derandomized and bounded: the file runs in
seconds and fails the same way every time.
"""

from __future__ import annotations

import string
import unicodedata

import regex
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from benchmark.perturb import parse_perturbation
from benchmark.perturb.graphemes import clusters, is_letter, is_punctuation, is_space

# derandomized and without an example database: every run tests the same examples
FAST = settings(max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=8, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])


def span(first: int, last: int) -> str:
    return "".join(map(chr, range(first, last + 1)))


ALPHABET = (
    string.ascii_letters + "éèçñßøđİÉ"
    + span(0x410, 0x44F) + "ёЁйЙ"
    + span(0x905, 0x939) + span(0x93C, 0x94D) + span(0x958, 0x95F) + "।॥०१"
    + span(0xE01, 0xE3A) + span(0xE40, 0xE4E) + "๑"
    + "中国的首都是哪里北京上海人口"
    + span(0x621, 0x64A) + span(0x64B, 0x652) + "؟،"
    + span(0x300, 0x36F)
    + " \n.,?!-'" + "  "
)
# pieces whose neighbours decide where clusters end: a consonant with a virama joins the next
# consonant (GB9c), Hangul jamo join, regional indicators pair, a mark after a newline stands alone
TRICKY = ["क्", "न्", "ष", "त", "्", "ि", "ั", "่", "\n\u0301", "\u200d", "\u1100", "\u1161", "\U0001F1EB", "\U0001F1F7"]
TEXT = st.lists(st.one_of(st.sampled_from(ALPHABET), st.sampled_from(TRICKY)), max_size=30).map("".join)
QID = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=8)
KEYS = ["typo@0.1", "typo@0.5", "nodiacritics", "romanize", "punctuation@0.5", "distractor"]

VOCABULARY = [
    "where", "capital", "Paris", "river", "école", "где", "столица", "Москва", "река",
    "भारत", "राजधानी", "क्या", "हिन्दी", "नदी", "เมืองหลวง", "ประเทศ", "ไทย", "แม่น้ำ",
    "中国", "首都", "哪里", "河流", "عاصمة", "مصر", "نهر",
]


BRAHMIC = regex.compile(r"[\p{sc=Devanagari}\p{sc=Thai}]")


def valid_utf8(text: str) -> bool:
    text.encode("utf-8")  # raises on a lone surrogate
    return not any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


@FAST
@given(key=st.sampled_from(KEYS), text=TEXT, other=TEXT, qid=QID)
def test_valid_utf8_and_deterministic(key, text, other, qid):
    spec = parse_perturbation(key)
    out = spec.apply([text, other], [qid, qid + "-other"], "xx")
    assert all(valid_utf8(o) for o in out)
    assert spec.apply([text, other], [qid, qid + "-other"], "xx") == out
    fresh = parse_perturbation(key).apply([other, text], [qid + "-other", qid], "yy")
    assert fresh == out[::-1]  # same id, same text: same noise, whatever the batch order or language
    if key != "distractor":
        assert parse_perturbation(key).apply([text], [qid], "xx") == out[:1]


@FAST
@given(rate=st.sampled_from([0.1, 0.5, 1.0]), text=TEXT, qid=QID)
def test_typo_moves_whole_clusters_or_types_a_latin_neighbour(rate, text, qid):
    out = parse_perturbation(f"typo@{rate}").apply([text], [qid], "xx")[0]
    allowed = set(clusters(text)) | set(string.ascii_letters)
    assert set(clusters(out)) <= allowed
    assert (out == "") == (text == "")


@FAST
@given(rate=st.sampled_from([0.5, 1.0]), text=TEXT, qid=QID)
def test_punctuation_keeps_every_other_cluster_whole_and_in_order(rate, text, qid):
    out = parse_perturbation(f"punctuation@{rate}").apply([text], [qid], "xx")[0]
    assert set(clusters(out)) <= set(clusters(text))
    assert unpunctuated(out) == unpunctuated(text)


def unpunctuated(text: str) -> list[str]:
    return [c for c in clusters(text) if not (is_space(c) or is_punctuation(c))]


def skeleton(cluster: str) -> str:
    """A cluster without any nonspacing mark, lowercased (final sigma folded): what
    nodiacritics must leave of it, whatever script it is in."""
    bare = "".join(ch for ch in unicodedata.normalize("NFD", cluster) if unicodedata.category(ch) != "Mn")
    return bare.lower().replace("ς", "σ")


@FAST
@given(text=TEXT, qid=QID)
@example(text="a\u094d\u0915\u094d", qid="q")  # one cluster for regex: a Latin base, a Devanagari virama
def test_nodiacritics_maps_each_cluster_to_itself_less_marks(text, qid):
    out = parse_perturbation("nodiacritics").apply([text], [qid], "xx")[0]
    assert [s for s in map(skeleton, clusters(out)) if s] == [s for s in map(skeleton, clusters(text)) if s]
    assert out == out.lower()
    brahmic = [c for c in clusters(text) if BRAHMIC.match(c)]
    assert all(c in out for c in brahmic)  # Devanagari and Thai clusters come through as typed


@FAST
@given(text=TEXT, qid=QID)
def test_romanize_writes_ascii_for_foreign_clusters_and_keeps_the_rest(text, qid):
    out = parse_perturbation("romanize").apply([text], [qid], "xx")[0]
    allowed = set(clusters(text)) | {chr(i) for i in range(128)}
    assert set(clusters(out)) <= allowed


# the combining marks U+0300..U+036F less U+0342 and U+0345, whose Script_Extensions is Greek alone
LATIN_MARKS = span(0x300, 0x341) + span(0x343, 0x344) + span(0x346, 0x36F)
LATIN_TEXT = st.text(alphabet=st.sampled_from(string.ascii_letters + "éèçñßøđİÉ" + LATIN_MARKS + " \n.,?!'0123456789€"), max_size=40)


@FAST
@given(text=LATIN_TEXT)
def test_romanize_leaves_latin_script_text_unchanged(text):
    assert parse_perturbation("romanize").apply([text], ["q"], "xx") == [text]


@FAST
@given(texts=st.lists(TEXT, min_size=1, max_size=6))
def test_distractor_appends_another_question_of_the_list(texts):
    ids = [f"id{i}" for i in range(len(texts))]
    out = parse_perturbation("distractor").apply(texts, ids, "xx")
    units = {unit for t in texts for unit in clusters(t)} | {" "}
    for i, (text, result) in enumerate(zip(texts, out)):
        if len(texts) == 1:
            assert result == text
            continue
        assert any(result == f"{text} {texts[j]}" for j in range(len(texts)) if j != i)
        assert all(made_of(c, units) for c in clusters(result))


def made_of(cluster: str, units: set[str]) -> bool:
    """Whether ``cluster`` is a concatenation of whole ``units`` (a fragment of one is not)."""
    ends = {0}
    for end in range(1, len(cluster) + 1):
        if any(start in ends and cluster[start:end] in units for start in range(end)):
            ends.add(end)
    return len(cluster) in ends


# --- the level, on average ----------------------------------------------------------------------

def osa_distance(a: list[str], b: list[str]) -> int:
    """Edit distance with adjacent transpositions (optimal string alignment) over clusters: one
    typo of any of the four kinds costs 1."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


SENTENCE = st.lists(st.sampled_from(VOCABULARY), min_size=8, max_size=12).map(" ".join)


@SLOW
@given(rate=st.sampled_from([0.05, 0.1, 0.2]), text=SENTENCE)
def test_typo_edits_the_rate_of_letter_clusters_on_average(rate, text):
    source = clusters(text)
    letters = sum(map(is_letter, source))
    spec = parse_perturbation(f"typo@{rate}")
    ids = [f"q{i}" for i in range(150)]
    edits = sum(osa_distance(source, clusters(out)) for out in spec.apply([text] * len(ids), ids, "xx"))
    # a swap moves the next cluster, which is then not edited itself: slightly under the rate
    assert abs(edits / (letters * len(ids)) - rate * (1 - rate / 4)) < 0.15 * rate + 0.005


PUNCTUATED = st.lists(st.tuples(st.sampled_from(VOCABULARY), st.sampled_from(["", ",", "?", "।", "。", "؟"])), min_size=8, max_size=12)


@SLOW
@given(rate=st.sampled_from([0.1, 0.5, 0.9]), words=PUNCTUATED)
def test_punctuation_hits_the_rate_of_sites_on_average(rate, words):
    text = " ".join(word + mark for word, mark in words)
    marks, gaps = sum(1 for _, mark in words if mark), len(words) - 1
    spec = parse_perturbation(f"punctuation@{rate}")
    ids = [f"q{i}" for i in range(200)]
    deleted = removed = doubled = 0
    for out in spec.apply([text] * len(ids), ids, "xx"):
        units = clusters(out)
        deleted += marks - sum(map(is_punctuation, units))
        runs = "".join("s" if is_space(u) else "x" for u in units).split("x")
        runs = [r for r in runs if r]
        removed += gaps - len(runs)
        doubled += sum(len(r) == 2 for r in runs)
    if marks:
        assert abs(deleted / (marks * len(ids)) - rate) < 0.06
    assert abs(removed / (gaps * len(ids)) - rate / 2) < 0.05
    assert abs(doubled / (gaps * len(ids)) - rate / 2) < 0.05
