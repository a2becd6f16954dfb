"""A web customer: python-socketio's AsyncClient speaking the widget's events."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, ParamSpec

import socketio
from sqlalchemy import text
from sqlalchemy.engine import Engine

WAIT = 10.0
P = ParamSpec("P")


class Customer:
    """One browser tab: connects, asks for a session, sends, collects what arrives."""

    def __init__(self, gateway_url: str):
        """Not connected yet: ``await connect()``."""
        self.url = gateway_url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.session_id: str | None = None
        self.inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.typing: list[bool] = []
        for event in ("bot_uttered", "customer_uttered", "chat_error"):
            self.sio.on(event, self._collector(event))
        self.sio.on("bot_typing", self._on_typing)

    def _collector(self, event: str) -> Any:
        async def collect(data: Any) -> None:
            await self.inbox.put((event, data))

        return collect

    async def _on_typing(self, data: Any) -> None:
        self.typing.append(bool(data.get("typing")))

    async def connect(self, session_id: str | None = None) -> str:
        """Connect (websocket) and request a session; the confirmed id."""
        confirmed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def on_confirm(data: Any) -> None:
            if not confirmed.done():
                confirmed.set_result(data)

        self.sio.on("session_confirm", on_confirm)
        await self.sio.connect(self.url, transports=["websocket"], wait_timeout=WAIT)
        body = {"session_id": session_id} if session_id else {}
        await self.sio.emit("session_request", body)
        data = await asyncio.wait_for(confirmed, WAIT)
        self.session_id = str(data["session_id"])
        return self.session_id

    async def say(self, text: Any, **extra: Any) -> dict[str, Any]:
        """Send ``user_uttered``; the gateway's acknowledgement."""
        body = {"message": text, "session_id": self.session_id, **extra}
        ack = await self.sio.call("user_uttered", body, timeout=WAIT * 2)
        return dict(ack)

    async def next(self, event: str = "bot_uttered", timeout: float = WAIT) -> Any:
        """The next event of this kind (others that arrive first are dropped)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            got, data = await asyncio.wait_for(self.inbox.get(), max(left, 0.01))
            if got == event:
                return data

    async def texts(self, count: int, timeout: float = WAIT) -> list[str]:
        """The texts of the next ``count`` bot_uttered messages."""
        return [(await self.next(timeout=timeout))["text"] for _ in range(count)]

    async def nothing(self, seconds: float = 0.8) -> list[tuple[str, Any]]:
        """Whatever arrives within ``seconds`` (expected: nothing)."""
        await asyncio.sleep(seconds)
        found = []
        while not self.inbox.empty():
            found.append(self.inbox.get_nowait())
        return found

    async def close(self) -> None:
        """Disconnect."""
        if self.sio.connected:
            await self.sio.disconnect()


@asynccontextmanager
async def chatting(
    gateway_url: str, session_id: str | None = None
) -> AsyncIterator[Customer]:
    """A connected customer (a fresh session unless ``session_id``), closed after."""
    customer = Customer(gateway_url)
    await customer.connect(session_id)
    try:
        yield customer
    finally:
        await customer.close()


def in_thread(test: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, None]:
    """Run an async test with ``asyncio.run`` in a thread of its own.

    Playwright's sync API keeps an event loop running in the main thread for the
    whole session (the shared ``browser`` fixture), so async tests that share a
    pytest worker with browser tests cannot use the main thread's loop.
    """

    @functools.wraps(test)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, test(*args, **kwargs)).result()

    return run


def bind_free_customer(db: Engine, conversation_id: int) -> int:
    """Attach a customer with no other chats to the conversation (as a verification
    would); their id."""
    with db.begin() as conn:
        customer_id = conn.execute(
            text(
                "SELECT max(c.id) FROM customers c WHERE NOT EXISTS "
                "(SELECT 1 FROM conversations v WHERE v.customer_id = c.id)"
            )
        ).scalar_one()
        conn.execute(
            text("UPDATE conversations SET customer_id = :c WHERE id = :id"),
            {"c": customer_id, "id": conversation_id},
        )
    return int(customer_id)
