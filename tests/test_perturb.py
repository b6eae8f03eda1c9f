"""The query perturbations on hand-checked examples in five scripts, and their specs.

Every expected string below was worked out by hand from the rules in the modules' docstrings and
the query's stream (benchmark/perturb/stream.py): the comments give, for each edit, the
cluster it hit, the edit drawn and what was typed. Stream words are read in order: a letter
cluster (typo) or a site (punctuation) takes a uniform u (hit when u < level), a hit then takes
an edit (typo: word mod 4, 0 insert / 1 delete / 2 substitute / 3 swap; a white-space run:
word mod 2, 0 removed / 1 doubled), then what to type (word mod the number of choices).
"""

from __future__ import annotations

import unicodedata
from importlib import metadata

import pytest
import regex

from benchmark.errors import UsageError
from benchmark.perturb import PERTURBATIONS, SUITES, PerturbationSpec, parse_perturbation, suite
from benchmark.perturb.graphemes import clusters, fits
from benchmark.perturb.typo import NEIGHBOURS


def perturb(key: str, text: str, qid: str) -> str:
    return parse_perturbation(key).apply([text], [qid], "xx")[0]


# --- typo ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, qid, level, expected", [
    # Latin. e(2): insert, a neighbour of e (drsw) -> s; s(7): substitute, neighbour of s
    # (adewxz) -> a; a(10) and i(12): deleted.
    ("Where is Paris?", "q3", 0.2, "Whesre ia Prs?"),
    # r(3): insert f (deft); i(6): insert k (jkou); a(10): substitute s (qswz); i(12): swapped
    # with the s after it.
    ("Where is Paris?", "q6", 0.2, "Wherfe iks Psrsi?"),
    # S: insert a neighbour of s -> e, typed uppercase; ß (no key: drawn from the query) deleted.
    ("ÉCOLE Straße", "u3", 0.3, "ÉCOLE SEtrae"),
    # É: substitute on the e key -> R (the accent goes with the key); t deleted; r substituted
    # by t (so it reads as if r were deleted); the final e hit a swap with nothing after it.
    ("ÉCOLE Straße", "u10", 0.3, "RCOLE Staße"),
    # Cyrillic, letters drawn from the query's distinct clusters
    # [Г д е н а х о и т с я М к в]: я: insert pool[1] = д; М deleted; в: substitute, the 13
    # others -> е; а: substitute -> М.
    ("Где находится Москва?", "q1", 0.2, "Где находитсяд оскеМ?"),
    # Devanagari, pool [भा र त की रा ज धा नी क्या है] (क्या is one cluster: a conjunct with its
    # vowel sign): की: insert त; ज: insert ज; क्या: substituted whole by रा.
    ("भारत की राजधानी क्या है?", "q6", 0.2, "भारत कीत राजजधानी रा है?"),
    # ज swapped with धा; है swapped with the ? after it.
    ("भारत की राजधानी क्या है?", "q2", 0.2, "भारत की राधाजनी क्या ?है"),
    # Thai, pool [เ มื อ ง ห ล ว ข ไ ท ย]: อ: insert ง; ว: substitute by เ; ข and the ง after
    # the next อ deleted. มื (consonant + vowel sign) is never split.
    ("เมืองหลวงของไทย", "q3", 0.2, "เมืองงหลเงอไทย"),
    # Han, pool [中 国 的 首 都 是 哪 里]: 的 -> 里, 都 -> 国 (substitutions); 哪 swapped with 里.
    ("中国的首都是哪里？", "q5", 0.2, "中国里首国是里哪？"),
])
def test_typo_hand_checked(text, qid, level, expected):
    assert perturb(f"typo@{level}", text, qid) == expected


@pytest.mark.parametrize("qid, expected", [
    # क्: insert ष, but "क्ष" would join into one conjunct cluster: not made; ष: swap, none after
    ("v0", "क् ष"),
    # क्: swap with the space would put क् before ष (a conjunct): not made
    ("v1", "क् ष"),
    # क्: the same refused insert; ष: substituted by the only other cluster, क्
    ("v2", "क् क्"),
])
def test_typo_never_makes_a_cluster_that_was_not_there(qid, expected):
    assert perturb("typo@1.0", "क् ष", qid) == expected


def test_fits_refuses_merges_and_an_empty_text():
    assert not fits(["क्"], [], ["ष"]) and fits(["क्"], [" "], ["ष"])
    assert not fits([], [], []) and fits(["a"], [], [])
    assert clusters("क्ष") == ["क्ष"] and clusters("मि") == ["मि"]


def test_typo_level_zero_is_the_identity_and_a_query_never_becomes_empty():
    texts = ["Where is Paris?", "เมืองหลวงของไทย", "x"]
    assert parse_perturbation("typo@0").apply(texts, ["a", "b", "c"], "xx") == texts
    ids = [f"id{i}" for i in range(200)]
    assert all(parse_perturbation("typo@1.0").apply(["x"] * len(ids), ids, "xx"))


def test_keyboard_neighbours_are_symmetric_letters():
    assert sorted(NEIGHBOURS) == list("abcdefghijklmnopqrstuvwxyz")
    for key, near in NEIGHBOURS.items():
        assert key not in near and sorted(near) == list(near)
        assert all(key in NEIGHBOURS[other] for other in near)


# --- nodiacritics -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    # Vietnamese: ế = e + circumflex + acute, both dropped; đ has no decomposition and stays
    ("Tiếng Việt có dấu, Đà Nẵng", "tieng viet co dau, đa nang"),
    ("Où est l'Élysée? Ça coûte cher.", "ou est l'elysee? ca coute cher."),
    # Greek: tonos and dialytika dropped; a word-final capital sigma lowercases to ς
    ("Η Αθήνα είναι η πρωτεύουσα. ΟΔΟΣ Ϊ", "η αθηνα ειναι η πρωτευουσα. οδος ι"),
    # Russian: ё -> е and, by the same NFD rule, й (и + breve) -> и
    ("Где находится Москва? Ёлка, йогурт", "где находится москва? елка, иогурт"),
    # Devanagari and Thai marks are spelling: kept (virama, vowel signs, tone mark), no case
    ("भारत की राजधानी क्या है? हिन्दी", "भारत की राजधानी क्या है? हिन्दी"),
    ("เมืองหลวงของไทย ต้องการ", "เมืองหลวงของไทย ต้องการ"),
    ("中国的首都是哪里？ABC", "中国的首都是哪里？abc"),
    # Arabic harakat dropped
    ("مَرْحَبًا", "مرحبا"),
    # U+0958 (a nukta letter, which NFC would decompose) is kept as typed
    ("\u0958\u093f\u0932\u093e", "\u0958\u093f\u0932\u093e"),
    # NFD input is recomposed once its marks are dropped; a mark on a space (no letter) is kept
    ("Cafe\u0301 \u0301x", "cafe \u0301x"),
])
def test_nodiacritics_hand_checked(text, expected):
    assert perturb("nodiacritics", text, "q1") == expected


# --- romanize -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    # Latin-script text, digits, symbols and punctuation: unchanged, accents included
    ("Où est la Tour Eiffel? Ça coûte 25 €.", "Où est la Tour Eiffel? Ça coûte 25 €."),
    ("Tiếng Việt", "Tiếng Việt"),
    ("Где находится Москва?", "Gde nakhoditsya Moskva?"),
    ("Ёж и йогурт", "Ezh i yogurt"),
    # anyascii writes no inherent vowel (भारत -> bhart), the danda as a comma, digits as digits
    ("भारत की राजधानी क्या है? बताइए। २०२४", "bhart ki rajdhani kya hai? btaie, 2024"),
    # Thai letter by letter in written order (เ before its consonant), tone marks dropped
    ("เมืองหลวงของไทย คือ อะไร? ๒๕๖๗", "emueonghlwngkhongaithy khueo oaair? 2567"),
    # Han: one capitalised syllable per character, no context (首都 is shǒudū, 都 read dōu);
    # 。 (Script_Extensions: Han) is romanised, the fullwidth ？ (Common everywhere) kept
    ("中国的首都是哪里？北京。", "ZhongGuoDeShouDouShiNaLi？BeiJing."),
    ("Москва (Moscow) 2024", "Moskva (Moscow) 2024"),
])
def test_romanize_hand_checked(text, expected):
    assert perturb("romanize", text, "q1") == expected


def test_romanize_takes_a_combining_mark_with_its_base():
    # NFD й: и + U+0306 (Inherited) is one cluster, romanised whole: no stray breve
    assert perturb("romanize", unicodedata.normalize("NFD", "йод"), "q1") == "iod"


# --- punctuation --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, qid, expected", [
    # sites: , / space / : / space / space / space / ?  ->  , deleted; kept; : deleted;
    # doubled; doubled; removed; kept
    ("Hello, world: where is Paris?", "q3", "Hello world  where  isParis?"),
    # , deleted; the space after it removed; the rest kept
    ("Где, скажите, находится Москва?", "q1", "Гдескажите, находится Москва?"),
    # , deleted; kept; , deleted; doubled; doubled; ? deleted
    ("Где, скажите, находится Москва?", "q3", "Где скажите  находится  Москва"),
    # spaces 1-3 removed, space 4 doubled, ? kept, space 5 kept, the danda deleted
    ("भारत की राजधानी क्या है? बताइए।", "q3", "भारतकीराजधानीक्या  है? बताइए"),
    # first space doubled, second removed, ? kept
    ("เมืองหลวงของไทย คือ อะไร?", "q1", "เมืองหลวงของไทย  คืออะไร?"),
    ("中国的首都，是哪里？", "q1", "中国的首都是哪里"),
    ("中国的首都，是哪里？", "q3", "中国的首都是哪里？"),
])
def test_punctuation_hand_checked(text, qid, expected):
    assert perturb("punctuation@0.5", text, qid) == expected


def test_punctuation_never_joins_a_conjunct():
    assert perturb("punctuation@1.0", "क् ष", "q1") == "क्  ष"  # the space doubled
    assert perturb("punctuation@1.0", "क् ष", "q3") == "क् ष"  # removing it would make क्ष: not done


def test_punctuation_level_zero_is_the_identity():
    texts = ["Hello, world!", "中国的首都，是哪里？", "  two  spaces  "]
    assert parse_perturbation("punctuation@0").apply(texts, ["a", "b", "c"], "xx") == texts


# --- distractor ---------------------------------------------------------------------------------

PARALLEL = {
    "en": ["Where is Paris?", "Who wrote Hamlet?", "What is water?"],
    "ru": ["Где Париж?", "Кто написал «Гамлета»?", "Что такое вода?"],
    "hi": ["पेरिस कहाँ है?", "हैमलेट किसने लिखा?", "पानी क्या है?"],
    "th": ["ปารีสอยู่ที่ไหน", "ใครเขียนแฮมเล็ต", "น้ำคืออะไร"],
    "zh": ["巴黎在哪里？", "谁写了哈姆雷特？", "水是什么？"],
}


@pytest.mark.parametrize("lang", list(PARALLEL))
def test_distractor_appends_the_same_other_question_in_every_language(lang):
    # a: others [b, c], first word mod 2 = 0 -> b;  b: others [a, c] -> a;  c: others [a, b] -> a
    a, b, c = PARALLEL[lang]
    out = parse_perturbation("distractor").apply([c, a, b], ["c", "a", "b"], lang)
    assert out == [f"{c} {a}", f"{a} {b}", f"{b} {a}"]


def test_distractor_leaves_a_lone_question_alone():
    assert parse_perturbation("distractor").apply(["Where is Paris?"], ["a"], "en") == ["Where is Paris?"]
    assert parse_perturbation("distractor").apply([], [], "en") == []


def test_distractor_never_appends_the_query_itself():
    ids = [f"q{i}" for i in range(30)]
    texts = [f"question {i}?" for i in range(30)]
    for qid, text, out in zip(ids, texts, parse_perturbation("distractor").apply(texts, ids, "en")):
        other = out.removeprefix(text + " ")
        assert other != text and other in texts


# --- specs, registry, libraries -----------------------------------------------------------------

def test_every_perturbation_is_registered_with_a_one_line_description():
    assert PERTURBATIONS.names() == ["typo", "nodiacritics", "romanize", "punctuation", "distractor"]
    for name in PERTURBATIONS.names():
        p = PERTURBATIONS.get(name)
        assert p.name == name and p.version == 1 and p.description and "\n" not in p.description


def test_libraries_name_the_versions_the_output_depends_on():
    unidata, rx = unicodedata.unidata_version, regex.__version__
    assert PERTURBATIONS.get("typo").libraries() == {"unicodedata": unidata, "regex": rx}
    assert PERTURBATIONS.get("nodiacritics").libraries() == {"unicodedata": unidata, "regex": rx}
    assert PERTURBATIONS.get("romanize").libraries() == {"anyascii": metadata.version("anyascii"), "regex": rx}
    assert PERTURBATIONS.get("punctuation").libraries() == {"regex": rx}
    assert PERTURBATIONS.get("distractor").libraries() == {}


def test_parse_gives_canonical_keys_and_default_levels():
    assert parse_perturbation("typo") == PerturbationSpec("typo", 0.05)
    assert parse_perturbation("typo@0.050").key == "typo@0.05"
    assert parse_perturbation("typo@-0").key == "typo@0.0"
    assert parse_perturbation("punctuation").key == "punctuation@0.5"
    assert parse_perturbation("romanize").key == "romanize"
    assert parse_perturbation(" distractor ").identity() == {
        "name": "distractor", "version": 1, "level": None, "key": "distractor", "libraries": {}}
    assert [spec.key for spec in suite("robustness")] == list(SUITES["robustness"])


@pytest.mark.parametrize("text, message", [
    ("tpyo", r"^--perturb: unknown perturbation 'tpyo'; available: typo, nodiacritics, romanize, punctuation, distractor$"),
    ("typo@abc", r"^--perturb: 'typo@abc': the level must be a number, e\.g\. typo@0\.05$"),
    ("typo@", r"^--perturb: 'typo@': the level must be a number"),
    ("typo@1.5", r"^--perturb: 'typo@1\.5': the level of typo must be in \[0\.0, 1\.0\]$"),
    ("punctuation@-0.1", r"^--perturb: 'punctuation@-0\.1': the level of punctuation must be in \[0\.0, 1\.0\]$"),
    ("typo@nan", r"^--perturb: 'typo@nan': the level of typo must be in"),
    ("romanize@0.5", r"^--perturb: perturbation romanize takes no level \(got 'romanize@0\.5'\)$"),
    ("distractor@1", r"^--perturb: perturbation distractor takes no level"),
])
def test_parse_errors_are_usage_errors_naming_the_option(text, message):
    with pytest.raises(UsageError, match=message):
        parse_perturbation(text)


def test_unknown_suite_lists_the_suites():
    with pytest.raises(UsageError, match=r"^--suite: unknown suite 'robust'; available: robustness$"):
        suite("robust")
