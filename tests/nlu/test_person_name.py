"""Names introduced by a cue become ``person_name`` (pure rule, no Rasa needed)."""

from __future__ import annotations

import pytest

from nlu.person_name import find_names


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("我叫张伟想查保单", ["张伟"]),
        ("投保人写的是李秀兰", ["李秀兰"]),
        ("本人陈晓东", ["陈晓东"]),
        ("我是刘芳，保单是我自己的", ["刘芳"]),
        ("姓名：王芳", ["王芳"]),
        ("受益人改成欧阳娜娜", ["欧阳娜娜"]),
        ("我是张伟的家属", ["张伟"]),
        # no name: words after 我是 that are no surname, or a surname + function word
        ("我是来投诉的", []),
        ("我是新客户", []),
        ("我是VIP", []),
        ("我是周一买的", []),
        ("我要查保单", []),
    ],
)
def test_names_after_a_cue(text: str, names: list[str]) -> None:
    assert [e["value"] for e in find_names(text)] == names


def test_offsets_point_at_the_name() -> None:
    text = "你好，我叫王建国，查一下保单"
    (entity,) = find_names(text)
    assert text[entity["start"] : entity["end"]] == "王建国"
    assert entity["entity"] == "person_name"
