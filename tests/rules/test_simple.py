"""The simple-text fast path gives exactly the general path's result."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.dose import _extract
from rules.numerals import normalise_text
from rules.simple import read_simple

_CORPUS = Path(__file__).resolve().parents[2] / "data" / "inserts_dev.jsonl"


def _both(usage, name=None, spec=None, package=None):
    kw = dict(name=name, spec=spec, package=package)
    return _extract(usage, fast=True, **kw), _extract(usage, fast=False, **kw)


@pytest.mark.skipif(not _CORPUS.exists(), reason="dev corpus not present")
def test_fast_path_agrees_on_the_dev_corpus():
    records = [json.loads(line) for line in _CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    taken = 0
    for r in records:
        fast, general = _both(r.get("usage"), r.get("name"), r.get("spec"), r.get("package"))
        assert fast == general, r.get("id")
        taken += read_simple(normalise_text(r.get("usage"))) is not None
    assert taken > len(records) // 4  # the fast path is really taken


_ROUTE = st.sampled_from(["", "口服,", "口服。", "开水冲服,", "温开水送服。", "静脉注射,", "外用:", "含服,", "开水,",
                          "口服给药:", "阴道给药,", "给药,"])
_FORM = st.sampled_from(["", "水蜜丸", "大蜜丸", "胶囊", "口服液", "颗粒剂", "片剂"])
_NUM = st.sampled_from(["1", "2", "0.5", "半", "两", "十", "0", "3~4", "1~2", "2~1", "0~1"])
_UNIT = st.sampled_from(["粒", "片", "g", "mg", "ml", "克", "袋", "支", "丸", "块", "瓶", "贴"])
_TAIL_WORDS = st.sampled_from(["饭后服用", "或遵医嘱", "温开水送服", "宜饭前服", "小儿酌减", "睡前服", "儿童一次1粒",
                               "隔日", "每晚", "早晚各", "首次加倍", "维持量", "不超过", "qd", "成人", "周岁以内",
                               "大蜜丸", "静脉注射", "每天吸入", "(2.5mg)", "以后", "总量", "酌减", "a.", "老人",
                               # courses (the fast path takes them whole) and near misses it must not take
                               "7天为一疗程", "1个月为1个疗程", "两周为一疗程", "三十天为一个疗程", "疗程4周", "疗程一周",
                               "连服7天", "连服一个月", "2周1次", "7天1次", "1个月以下", "一周2次", "3天为一疗程小儿",
                               "每周1次", "连服2周每日1次", "6个月以下", "1日1次", "2岁以下"])
_TAIL = st.lists(st.tuples(st.sampled_from([",", ";", "。"]), _TAIL_WORDS), max_size=3).map(
    lambda parts: "".join(sep + word for sep, word in parts) + "。")
_SPEC = st.sampled_from([None, "0.3g*12粒", "每袋装10g", "10ml/支", "片剂:5mg", "每丸重9g", "注射剂:20mg",
                         "大蜜丸每丸重9g", "水蜜丸每100粒重6g"])


@settings(max_examples=1500, deadline=None)
@given(route=_ROUTE, form=_FORM, lead=st.sampled_from(["一次", "每次", "1次"]), amount=_NUM, unit=_UNIT,
       day=st.sampled_from(["一日{}次", "每日{}次", "每天{}次", "一天{}次", "1日{}次", "{}次/d"]), times=_NUM, tail=_TAIL, spec=_SPEC,
       name=st.sampled_from([None, "某某胶囊", "某某注射液", "某某片"]))
def test_fast_path_agrees_on_simple_texts(route, form, lead, amount, unit, day, times, tail, spec, name):
    usage = f"{route}{form}{lead}{amount}{unit},{day.format(times)}{tail}"
    fast, general = _both(usage, name, spec)
    assert fast == general
