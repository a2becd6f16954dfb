"""The Rasa training data is valid and the test stories pass on a trained model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.rasa_fixtures import ROOT, run_rasa, tail

pytestmark = pytest.mark.rasa

UNUSED = re.compile(
    r"The utterance '(utter_[a-z0-9_]+)' is not used in any story or rule\."
)
# Rasa 3.6 warns whenever a retrieval intent is listed in a multi-file domain.
RETRIEVAL_QUIRK = "duplicated intents have been found across multiple domain files: faq"
# EXTERNAL_* intents are triggered by the gateway (trigger_intent), never typed, so
# they have no NLU examples by design (domain/csat.yml).
EXTERNAL = re.compile(
    r"The intent 'EXTERNAL_\w+' is listed in the domain file, but is not found "
    r"in the NLU training data\."
)


def _spoken_by_actions(name: str) -> bool:
    """Form prompts are asked by Rasa itself; other responses by custom actions."""
    if name.startswith("utter_ask_"):
        return True
    code = "\n".join(
        path.read_text(encoding="utf-8") for path in (ROOT / "actions").rglob("*.py")
    )
    return name in code


def test_rasa_data_validate_is_clean() -> None:
    result = run_rasa(
        ["data", "validate", "--config", "config.yml", "--domain", "domain"]
        + ["--data", "data"],
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, tail(output)
    assert "No story structure conflicts found" in output
    warnings = set(re.findall(r"UserWarning: (.*)", output))
    unexplained = set()
    for warning in warnings:
        unused = UNUSED.fullmatch(warning)
        if unused and _spoken_by_actions(unused.group(1)):
            continue  # a response only custom actions (or form prompts) speak
        if RETRIEVAL_QUIRK in warning or EXTERNAL.fullmatch(warning):
            continue
        unexplained.add(warning)
    assert unexplained == set()


def test_conversation_stories_pass(rasa_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    result = run_rasa(
        ["test", "core", "--e2e", "--stories", "tests/conversations"]
        + ["--model", rasa_model, "--out", out, "--no-plot"],
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, tail(output)
    failed = (out / "failed_test_stories.yml").read_text(encoding="utf-8")
    assert "None of the test stories failed" in failed, failed
    # guard against a run that evaluated nothing (e.g. files not named test_*.yml)
    stories = len(list((ROOT / "tests" / "conversations").glob("test_*.yml")))
    assert stories > 0
    match = re.search(r"CONVERSATION level:.*?Correct:\s*(\d+) / (\d+)", output, re.S)
    assert match, tail(output)
    correct, total = int(match.group(1)), int(match.group(2))
    assert total >= 5 and correct == total
