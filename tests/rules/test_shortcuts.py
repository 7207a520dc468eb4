"""Shortcuts taken for speed give the same answers as the plain reading they skip.

Each shortcut is a cheap test or a narrower regex in front of a costly one; these tests check the
cheap one never says "skip" where the costly one would have matched, on the dev corpus and on
random texts made of the characters that matter.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules import frequency, numerals, spec
from rules.numerals import normalise_text
from rules.result import sig4

_DATA = Path(__file__).resolve().parents[2] / "data"


def _corpus_texts() -> list[str]:
    texts = []
    for name in ("inserts_dev.jsonl", "inserts_dev.labeled.jsonl", "inserts_dev.extra_labels.jsonl"):
        path = _DATA / name
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    record = json.loads(line)
                    texts += [t for t in (record.get("usage"), record.get("spec"), record.get("package")) if isinstance(t, str)]
    return texts


def _frequency_by_all_rules(text: str, pos: int):
    """`frequency_at` as one regex of every rule reads it (what the first-character dispatch replaces)."""
    match = frequency._ALL.match(text, pos)
    if match is None:
        return None
    index = int(match.lastgroup[1:])
    return frequency.FREQUENCY_RULES[index].name, frequency.times_per_day(index, match), match.end()


_FREQ_TEXT = st.text(alphabet="一二两三1234567890.~日天次每隔周小时h服用早晚各睡前临qdbid/d分间或、-个月晨", max_size=14)
_NUMBER_TEXT = st.text(alphabet="lOm0123456789.~-—至到一半袋片粒gLk/(),岁 ", max_size=16)
_SPEC_TEXT = st.text(alphabet="0123456789.*×x/粒片丸袋包支瓶盒板每装s小素g", max_size=16)


@pytest.mark.skipif(not (_DATA / "inserts_dev.jsonl").exists(), reason="dev corpus not present")
def test_frequency_dispatch_agrees_at_every_position_of_the_corpus():
    for text in {normalise_text(t) for t in _corpus_texts()}:
        for pos in range(len(text) + 1):
            assert frequency.frequency_at(text, pos) == _frequency_by_all_rules(text, pos), (text, pos)


@settings(max_examples=2000, deadline=None)
@given(text=_FREQ_TEXT)
def test_frequency_dispatch_agrees_on_random_texts(text):
    for pos in range(len(text) + 1):
        assert frequency.frequency_at(text, pos) == _frequency_by_all_rules(text, pos)


@settings(max_examples=2000, deadline=None)
@given(text=_NUMBER_TEXT)
def test_normalisation_hints_are_necessary(text):
    if numerals._LATIN_DIGIT_RUN.search(text):
        assert numerals._LATIN_DIGIT_HINT.search(text)
    if "至" not in text and "到" not in text:
        assert numerals._RANGE_DASHES.sub("~", text) == numerals._RANGE_CHARS.sub("~", text)


@settings(max_examples=2000, deadline=None)
@given(text=_SPEC_TEXT)
def test_pack_count_hint_is_necessary(text):
    if spec._COUNT.search(text):
        assert spec._COUNT_HINT.search(text)


@settings(max_examples=3000, deadline=None)
@given(x=st.one_of(st.integers(-20_000, 20_000).map(float), st.floats(allow_nan=True, allow_infinity=True)))
def test_sig4_whole_numbers_shortcut(x):
    plain = x if x == 0 or not math.isfinite(x) else float(f"{x:.4g}")
    got = sig4(x)
    assert (math.isnan(plain) and math.isnan(got)) or (got == plain and math.copysign(1, got) == math.copysign(1, plain))
