"""The Chinese pipeline in the Rasa config and its fast test copy."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from scripts.rasa_test_config import _stale, fast_config
from tests.rasa_fixtures import ROOT


def _pipeline(path: Path) -> list[dict]:
    return list(yaml.safe_load(path.read_text(encoding="utf-8"))["pipeline"])


def test_normalisation_comes_before_the_tokenizer_and_the_model() -> None:
    names = [c["name"] for c in _pipeline(ROOT / "config.yml")]
    if "SpacyNLP" not in names:  # the jieba-only config before the switch
        return
    assert names[0] == "nlu.components.ChineseTextNormalizer"
    assert names.index("SpacyNLP") < names.index("SpacyTokenizer")
    for later in ("DIETClassifier", "ResponseSelector", "FallbackClassifier"):
        assert names.index("SpacyTokenizer") < names.index(later)
    spacy = next(c for c in _pipeline(ROOT / "config.yml") if c["name"] == "SpacyNLP")
    assert spacy["model"] == "var/spacy_zh" and spacy["case_sensitive"] is True


def test_the_fast_copy_has_absolute_paths_and_fewer_epochs() -> None:
    config = {
        "pipeline": [
            {"name": "nlu.components.ChineseTextNormalizer"},
            {"name": "SpacyNLP", "model": "var/spacy_zh"},
            {"name": "DIETClassifier", "epochs": 100},
            {"name": "ResponseSelector", "retrieval_intent": "faq", "epochs": 100},
        ],
        "policies": [{"name": "TEDPolicy", "epochs": 50}],
    }
    fast = fast_config(config, epochs=30, root=Path("/repo"))
    assert fast["pipeline"][1]["model"] == "/repo/var/spacy_zh"
    assert [c.get("epochs") for c in fast["pipeline"]] == [None, None, 30, 30]
    assert fast["policies"][0]["epochs"] == 30
    assert config["pipeline"][1]["model"] == "var/spacy_zh"  # input untouched


def test_a_build_older_than_the_jieba_dictionary_is_stale(tmp_path: Path) -> None:
    (tmp_path / "data" / "jieba").mkdir(parents=True)
    words = tmp_path / "data" / "jieba" / "words.txt"
    words.write_text("重疾险 3000 n\n", encoding="utf-8")
    built = tmp_path / "meta.json"
    built.write_text("{}", encoding="utf-8")
    os.utime(words, (1_000, 1_000))
    os.utime(built, (2_000, 2_000))
    assert not _stale(built, tmp_path)
    os.utime(words, (3_000, 3_000))  # the dictionary changed after the build
    assert _stale(built, tmp_path)
