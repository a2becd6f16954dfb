"""Fixtures for the whole suite: one headless Chromium per test process.

Registered here once: Playwright's sync API can run one instance per thread, so
a second registration of the session fixture (another conftest or test module
importing it) would start a second instance and fail.
"""

from tests.browser import browser, page

__all__ = ["browser", "page"]
