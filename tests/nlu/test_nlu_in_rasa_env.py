"""Runs the NLU pipeline tests (tests/nlu/rasa_env) in .venv-rasa, where rasa is."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.rasa_fixtures import RASA_PYTHON, ROOT, rasa_env, tail

pytestmark = pytest.mark.rasa


def test_nlu_tests_pass_in_the_rasa_env() -> None:
    result = subprocess.run(
        [str(RASA_PYTHON), "-m", "pytest", "tests/nlu/rasa_env"]
        + ["-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=rasa_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, tail(output, 80)
    passed = re.search(r"(\d+) passed", output)
    assert passed and int(passed.group(1)) >= 15, tail(output)
    assert "failed" not in output.splitlines()[-1]
