"""Fixtures for the whole suite: one headless Chromium per test process.

Registered here once: Playwright's sync API can run one instance per thread, so
a second registration of the session fixture (another conftest or test module
importing it) would start a second instance and fail. The Rasa environment runs
tests/*/rasa_env without Playwright: there the browser fixtures do not exist.
"""

import importlib.util

if importlib.util.find_spec("playwright") is not None:
    from tests.browser import browser, page

    __all__ = ["browser", "page"]
