"""Shared fixtures for the action tests: one real CRM for the whole session.

``live_crm`` starts a CRM (tests/live_crm.py) once per pytest session and puts its
address and token in ``os.environ`` (CRM_URL, CRM_SERVICE_TOKEN), so that
``CrmClient.from_env()`` in the actions finds it. Tests that need a CRM that is
down should pass an explicit environment or patch ``os.environ`` themselves.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live_crm import LiveCrm, start_crm


@pytest.fixture(scope="session")
def live_crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCrm]:
    """A running CRM with the demo book; CRM_URL/CRM_SERVICE_TOKEN point at it."""
    workdir: Path = tmp_path_factory.mktemp("live-crm")
    crm = start_crm(workdir, customers=30)
    saved = {key: os.environ.get(key) for key in crm.env()}
    os.environ.update(crm.env())
    try:
        yield crm
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        crm.stop()
