"""Sentiment cues of Chinese customer-service chat: words, negation, intensifiers.

The cues become extra features of the naive Bayes model (``lex:<polarity>``), so
their weight is learnt from the labelled set; the lexicon only says which words
matter and which way a negation turns them.
"""

from __future__ import annotations

# strongly negative: insults, threats to escalate outside, swearing
ANGRY = (
    "垃圾",
    "骗子",
    "骗人",
    "骗钱",
    "坑人",
    "坑爹",
    "无耻",
    "流氓",
    "混蛋",
    "滚",
    "投诉你们",
    "告你们",
    "起诉",
    "曝光",
    "媒体",
    "12378",
    "银保监",
    "监管",
    "报警",
    "气死",
    "受够了",
    "忍无可忍",
    "欺人太甚",
    "太过分",
    "什么破",
    "破公司",
    "黑心",
    "坑",
    "恶心",
    "他妈",
    "tmd",
    "妈的",
    "草",
    "艹",
    "wtf",
    "shit",
    "耍我",
    "糊弄",
    "敷衍",
    "不要脸",
    "强盗",
    "欺诈",
    "诈骗",
    "退钱",
    "还我钱",
    "再不处理",
    "最后一次",
    "😡",
    "🤬",
    "💢",
    "!!!",
    "！！！",
    "？？？",
    "???",
)
# mildly negative: disappointment, waiting, confusion
DISAPPOINTED = (
    "失望",
    "无语",
    "唉",
    "哎",
    "算了",
    "太慢",
    "好慢",
    "这么慢",
    "怎么还没",
    "还没到",
    "还没有",
    "一直没",
    "等了",
    "好久",
    "麻烦",
    "折腾",
    "郁闷",
    "难受",
    "心累",
    "头疼",
    "不方便",
    "复杂",
    "看不懂",
    "没用",
    "没有用",
    "不靠谱",
    "后悔",
    "遗憾",
    "可惜",
    "白交",
    "不值",
    "搞不懂",
    "没人理",
    "没回复",
    "又是",
    "还是不行",
    "😞",
    "😔",
    "😢",
    "😭",
    "🙁",
    "☹",
    "😓",
    "😩",
)
# positive: thanks, praise, relief
SATISFIED = (
    "谢谢",
    "感谢",
    "多谢",
    "谢啦",
    "谢了",
    "thx",
    "thanks",
    "thank",
    "满意",
    "很好",
    "挺好",
    "太好了",
    "不错",
    "给力",
    "点赞",
    "好评",
    "专业",
    "耐心",
    "贴心",
    "靠谱",
    "及时",
    "高效",
    "方便",
    "快",
    "棒",
    "赞",
    "辛苦了",
    "放心",
    "解决了",
    "搞定",
    "明白了",
    "清楚了",
    "开心",
    "高兴",
    "好的好的",
    "👍",
    "😊",
    "😄",
    "🙏",
    "❤",
    "🌹",
    "💯",
    "感恩",
    "nice",
    "good",
    "great",
)
NEGATIONS = ("不", "没", "没有", "别", "未", "无", "不太", "不是很", "一点也不", "毫不")
INTENSIFIERS = ("太", "非常", "特别", "真", "真的", "超", "超级", "极其", "十分", "好")

_CUES = sorted(
    [(w, "angry") for w in ANGRY]
    + [(w, "disappointed") for w in DISAPPOINTED]
    + [(w, "satisfied") for w in SATISFIED],
    key=lambda item: -len(item[0]),
)


NEGATED_MARK = "✗"


def cues(text: str) -> tuple[list[str], str]:
    """Lexicon features of a normalised text (longest match, left to right).

    A positive cue right after a negation (不满意, 没解决, 不专业) counts as
    disappointment and is masked in the returned text (不✗), so that its characters
    do not vote "satisfied" as n-grams; an intensifier before any cue adds a second
    ``lex:*:int`` feature. Returns the features and the masked text.
    """
    found: list[str] = []
    masked = text
    i = 0
    while i < len(text):
        for word, polarity in _CUES:
            if text.startswith(word, i):
                before = text[max(0, i - 4) : i]
                if polarity == "satisfied" and any(
                    before.endswith(n) for n in NEGATIONS
                ):
                    polarity = "disappointed"
                    found.append("lex:negated")
                    masked = (
                        masked[:i] + NEGATED_MARK * len(word) + masked[i + len(word) :]
                    )
                found.append(f"lex:{polarity}")
                if any(before.endswith(m) for m in INTENSIFIERS):
                    found.append(f"lex:{polarity}:int")
                i += len(word)
                break
        else:
            i += 1
    return found, masked
