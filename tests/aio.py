"""Run a coroutine to completion from a sync test, whatever loop the main thread has.

Playwright's sync API keeps an event loop running in the main thread for the whole
session once a browser test ran in a pytest worker (the shared ``browser`` fixture),
so ``asyncio.run`` there fails with "cannot be called from a running event loop".
A thread of its own has no loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)`` in a fresh thread; returns its result or raises."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
