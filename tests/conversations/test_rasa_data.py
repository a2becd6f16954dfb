"""The Rasa training data is valid and the test stories pass on a trained model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.rasa_fixtures import ROOT, run_rasa, tail

pytestmark = pytest.mark.rasa

# Responses spoken only by custom actions (actions/common/base.py): no story or rule
# names them, and `rasa data validate` warns about exactly that.
SPOKEN_BY_ACTIONS = {"utter_crm_unavailable", "utter_offer_human"}


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
    expected = {
        f"The utterance '{name}' is not used in any story or rule."
        for name in SPOKEN_BY_ACTIONS
    }
    assert warnings == expected


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
