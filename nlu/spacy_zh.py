"""The blank spaCy ``zh`` pipeline for Rasa's SpacyNLP: jieba, insurance terms, rules.

Nothing is downloaded: scripts/build_spacy_zh.py builds the pipeline from this module
into ``var/spacy_zh`` (git-ignored) and config.yml points SpacyNLP at that folder.

jieba keeps its user dictionary in process-global state and spaCy does not save it, so
the pipeline uses :class:`InsuranceChineseTokenizer` (registered below as
``insurance.zh.JiebaTokenizer.v1``): it writes the merged dictionary of data/jieba into
the pipeline folder (``tokenizer/userdict.txt``) and loads it into jieba whenever the
pipeline is loaded. The pipeline folder is therefore self-contained; loading it only
needs this module imported first so that spaCy finds the registered tokenizer
(``nlu.components`` imports it, and Rasa imports ``nlu.components`` before SpacyNLP
loads the model because config.yml names components from it).

The entity ruler holds token patterns for the identifiers of the NLU contract. jieba
keeps runs of ASCII letters and digits as one token (P3100000000001, 13800138001,
273X), so most patterns are a single-token regex.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import srsly
from spacy.lang.zh import ChineseTokenizer, Segmenter
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import ensure_path, registry

ROOT = Path(__file__).resolve().parent.parent
JIEBA_DIR = ROOT / "data" / "jieba"
DEFAULT_OUTPUT = ROOT / "var" / "spacy_zh"
USERDICT = "userdict.txt"
TOKENIZER_NAME = "insurance.zh.JiebaTokenizer.v1"

# Entity labels produced by the ruler (SpacyEntityExtractor ``dimensions``).
RULER_LABELS = (
    "phone",
    "policy_number",
    "claim_number",
    "ticket_number",
    "id_number",
    "id_last4",
    "amount",
    "date",
)


def read_user_dictionary(folder: Path = JIEBA_DIR) -> str:
    """Every ``*.txt`` of data/jieba merged (``word [freq] [tag]`` per line)."""
    lines: list[str] = []
    for path in sorted(folder.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                lines.append(line.strip())
    return "\n".join(lines) + "\n"


def load_user_dictionary(text: str) -> int:
    """Add dictionary lines to jieba's (global) dictionary; returns the word count."""
    import jieba

    count = 0
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        tag = parts[2] if len(parts) > 2 else None
        jieba.add_word(parts[0], freq=freq, tag=tag)
        count += 1
    return count


class InsuranceChineseTokenizer(ChineseTokenizer):
    """spaCy's jieba tokenizer that saves and restores the insurance dictionary."""

    def __init__(self, vocab: Any, user_dictionary: str = "") -> None:
        super().__init__(vocab, segmenter=Segmenter.jieba)
        self.user_dictionary = user_dictionary
        if user_dictionary:
            load_user_dictionary(user_dictionary)

    def to_disk(self, path: Any, **kwargs: Any) -> None:
        path = ensure_path(path)
        super().to_disk(path, **kwargs)
        (path / USERDICT).write_text(self.user_dictionary, encoding="utf-8")

    def from_disk(self, path: Any, **kwargs: Any) -> InsuranceChineseTokenizer:
        path = ensure_path(path)
        super().from_disk(path, **kwargs)
        userdict = path / USERDICT
        if userdict.exists():
            self.user_dictionary = userdict.read_text(encoding="utf-8")
            load_user_dictionary(self.user_dictionary)
        return self

    def to_bytes(self, **kwargs: Any) -> bytes:
        return srsly.msgpack_dumps({"user_dictionary": self.user_dictionary})

    def from_bytes(self, data: bytes, **kwargs: Any) -> InsuranceChineseTokenizer:
        self.user_dictionary = srsly.msgpack_loads(data)["user_dictionary"]
        load_user_dictionary(self.user_dictionary)
        return self


@Language.component("insurance_context_trim")
def trim_context(doc: Doc) -> Doc:
    """Cut context words off entities matched with context (后四位 2739 → 2739)."""
    entities = []
    for ent in doc.ents:
        if ent.label_ == "id_last4" and len(ent) > 1:
            ent = Span(doc, ent.end - 1, ent.end, label=ent.label_)
        entities.append(ent)
    doc.ents = entities
    return doc


@registry.tokenizers(TOKENIZER_NAME)
def create_insurance_tokenizer() -> Any:
    """spaCy registry entry: the jieba tokenizer (dictionary restored from disk)."""

    def factory(nlp: Language) -> InsuranceChineseTokenizer:
        return InsuranceChineseTokenizer(nlp.vocab)

    return factory


def _regex(pattern: str) -> dict[str, Any]:
    return {"TEXT": {"REGEX": pattern}}


_NUMBER = r"^\d+(\.\d+)?$"
_MONEY_UNITS = ["元", "块", "块钱", "万", "万元", "万块", "千", "千元", "百", "w"]


def entity_patterns() -> list[dict[str, Any]]:
    """Token patterns for the entity ruler (on jieba tokens of normalised text)."""
    patterns: list[dict[str, Any]] = [
        {"label": "phone", "pattern": [_regex(r"^1[3-9]\d{9}$")]},
        {"label": "policy_number", "pattern": [_regex(r"^[Pp]\d{13}$")]},
        {"label": "claim_number", "pattern": [_regex(r"^(CL|cl)\d{12,16}$")]},
        {"label": "ticket_number", "pattern": [_regex(r"^(TS?|ts?)\d{12,14}$")]},
        {"label": "id_number", "pattern": [_regex(r"^\d{17}[\dXx]$")]},
    ]
    # 身份证后四位 2739 / 后4位是273X / 尾号2739
    for context in (
        [{"TEXT": {"IN": ["后", "末"]}}, {"TEXT": {"IN": ["四位", "4位", "位是"]}}],
        [
            {"TEXT": {"IN": ["后", "末"]}},
            {"TEXT": {"IN": ["4", "四"]}},
            {"TEXT": {"IN": ["位", "位是"]}},
        ],
        [{"TEXT": {"IN": ["后四位", "末四位", "尾号", "尾数"]}}],
    ):
        for glue in ([], [{"TEXT": {"IN": ["是", "为", ":", "：", "号"]}}]):
            patterns.append(
                {
                    "label": "id_last4",
                    "pattern": [*context, *glue, _regex(r"^\d{3}[\dXx]$")],
                }
            )
    # amounts: ¥5000 / 5000元 / 3万 / 3万块 / ¥5,000.00 / 5000块钱
    patterns += [
        {
            "label": "amount",
            "pattern": [{"TEXT": {"IN": ["¥", "￥", "RMB", "rmb"]}}, _regex(_NUMBER)],
        },
        {
            "label": "amount",
            "pattern": [
                {"TEXT": {"IN": ["¥", "￥"]}, "OP": "?"},
                _regex(r"^\d{1,3}$"),
                {"TEXT": ","},
                _regex(r"^\d{3}(\.\d+)?$"),
                {"TEXT": {"IN": _MONEY_UNITS}, "OP": "?"},
            ],
        },
        {
            "label": "amount",
            "pattern": [_regex(_NUMBER), {"TEXT": {"IN": _MONEY_UNITS}}],
        },
        {"label": "amount", "pattern": [_regex(r"^\d+(\.\d+)?(元|块|万|万元)$")]},
    ]
    # dates: 2026年12月5日 / 12月5号 / 2026-12-05 / 2026/12/5 / 2026.12.05
    # (explicit dates only: relative ones such as 上个月 are left to DIET, which
    # learns from the annotations when they matter)
    day = {"TEXT": {"IN": ["日", "号"]}}
    patterns += [
        {
            "label": "date",
            "pattern": [
                _regex(r"^(19|20)\d{2}$"),
                {"TEXT": "年"},
                _regex(r"^\d{1,2}$"),
                {"TEXT": "月"},
                _regex(r"^\d{1,2}$"),
                day,
            ],
        },
        {
            "label": "date",
            "pattern": [
                _regex(r"^(19|20)\d{2}$"),
                {"TEXT": "年"},
                _regex(r"^\d{1,2}$"),
                {"TEXT": "月"},
            ],
        },
        {
            "label": "date",
            "pattern": [
                _regex(r"^\d{1,2}$"),
                {"TEXT": "月"},
                _regex(r"^\d{1,2}$"),
                day,
            ],
        },
        {
            "label": "date",
            "pattern": [
                _regex(r"^(19|20)\d{2}$"),
                {"TEXT": {"IN": ["-", "/", "."]}},
                _regex(r"^\d{1,2}$"),
                {"TEXT": {"IN": ["-", "/", "."]}},
                _regex(r"^\d{1,2}$"),
            ],
        },
        {
            "label": "date",
            "pattern": [_regex(r"^(19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}$")],
        },
        {"label": "date", "pattern": [_regex(r"^(19|20)\d{6}$")]},
    ]
    return patterns


def build(output: Path = DEFAULT_OUTPUT, jieba_dir: Path = JIEBA_DIR) -> Language:
    """Build the pipeline from code and save it to ``output``."""
    import spacy

    nlp = spacy.blank(
        "zh", config={"nlp": {"tokenizer": {"@tokenizers": TOKENIZER_NAME}}}
    )
    nlp.tokenizer.user_dictionary = read_user_dictionary(jieba_dir)
    load_user_dictionary(nlp.tokenizer.user_dictionary)
    ruler = nlp.add_pipe("entity_ruler", config={"overwrite_ents": True})
    ruler.add_patterns(entity_patterns())
    nlp.add_pipe("insurance_context_trim", after="entity_ruler")
    nlp.meta.update(
        name="insurance_zh",
        version="1.0.0",
        description="Blank zh + jieba with the insurance dictionary + entity ruler "
        "(built by scripts/build_spacy_zh.py)",
    )
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)
    return nlp
