"""Chinese personal names after a cue ("我叫王建国", "投保人是李秀兰"), by rule.

DIET sees too few names to learn them (any surname with any given name), while the
way customers introduce a name is a small closed set of phrases. A name here is a
common surname (single or compound) followed by one or two characters that are not
function words, so "我叫张伟想查保单" gives 张伟, not 张伟想.
"""

from __future__ import annotations

import re
from typing import Any

# the most common surnames, minus those that are mostly words after 我是 (高兴, 方便…)
SINGLE_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡"
    "蒋余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金廖贾夏韦付邱秦江尹薛闫段雷侯龙"
    "史陶黎贺顾毛郝龚邵万钱覃武戴孟汤严柳熊"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "令狐")
# characters that end a name: particles, verbs and pronouns that follow one
NOT_IN_GIVEN_NAME = (
    "的了吗呢吧啊呀哦哈是在和与跟要想查问找我你他她它们这那个有没不也就都还来去说"
    "上下一二三四五六七八九十几"
)
CUES = (
    r"我叫|我是|名字叫|名字是|名字|姓名是|姓名|本人是|本人|叫做"
    r"|投保人(?:写的)?(?:是|叫)?|被保(?:险)?人(?:是|叫)?|受益人(?:改成|改为|是|叫)?"
)
NAME = re.compile(
    rf"(?:{CUES})\s*[:：]?\s*"
    rf"((?:{'|'.join(COMPOUND_SURNAMES)}|[{SINGLE_SURNAMES}])"
    rf"[^\W\d_a-zA-Z{NOT_IN_GIVEN_NAME}]{{1,2}})"
)
EXTRACTOR = "PersonNameRule"


def find_names(text: str) -> list[dict[str, Any]]:
    """``person_name`` entities (start, end, value) of the names introduced by a cue."""
    return [
        {
            "entity": "person_name",
            "start": match.start(1),
            "end": match.end(1),
            "value": match.group(1),
            "confidence_entity": 1.0,
            "extractor": EXTRACTOR,
        }
        for match in NAME.finditer(text)
    ]
