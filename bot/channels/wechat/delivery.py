"""Messages to WeChat users through the customer-service API, in order per user.

Agent replies, system notices, queue notices, the handback and bot replies that
missed the passive window all come here. ``send`` only queues (the CRM's event
post must not wait for WeChat); one worker per user sends in order. A closed
48-hour window (45015) on an agent's message is reported to the CRM, which tells
the agent and creates a call-back task. A ticket notice waits for its own send
(``send_confirmed``): the CRM keeps it pending unless WeChat accepted it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

import httpx

from bot.channels.wechat.api import WechatApi, WechatApiError, WindowClosed
from bot.channels.wechat.messages import mask_openid
from bot.channels.wechat.outgoing import render, split
from bot.channels.wechat.quick import QuickReplies
from bot.messages import Outgoing
from bot.notices import NoticeOutcome, Notifier, Recorder

logger = logging.getLogger(__name__)
# a message and, for a confirmed send, the future its outcome goes to
Item = tuple[Outgoing, "asyncio.Future[str | None] | None"]
UNDELIVERED_PATH = "/api/v1/service/wechat/undelivered"


class CrmReport:
    """Tells the CRM that WeChat refused one of its messages."""

    def __init__(self, http: httpx.AsyncClient, *, token: str, timeout: float):
        """``http`` carries the CRM's base URL."""
        self._http = http
        self._headers = {"Authorization": f"Bearer {token}"}
        self._timeout = timeout

    async def undelivered(self, *, message_id: int, errcode: int) -> None:
        """``POST /service/wechat/undelivered`` (logged when the CRM misses it)."""
        try:
            response = await self._http.post(
                UNDELIVERED_PATH,
                json={"message_id": message_id, "errcode": errcode},
                headers=self._headers,
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            logger.warning("undelivered message %s not reported: %s", message_id, exc)
            return
        if response.status_code >= 400:
            logger.warning(
                "CRM refused the report on message %s: HTTP %s",
                message_id,
                response.status_code,
            )


class Courier:
    """Ordered delivery per WeChat user, one worker task per user with mail."""

    def __init__(self, api: WechatApi, report: CrmReport):
        """Nothing queued yet."""
        self._api = api
        self._report = report
        self._queues: dict[str, deque[Item]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self.sent = 0
        self.failed = 0

    def send(self, openid: str, message: Outgoing) -> None:
        """Queue a message for the user; it goes out after those queued before."""
        self._queue(openid, (message, None))

    async def send_confirmed(self, openid: str, message: Outgoing) -> str | None:
        """Send in the user's order and wait: None once WeChat accepted it, else
        why not (``window_closed`` for 45015, ``refused``, ``failed``)."""
        done: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._queue(openid, (message, done))
        return await done

    def _queue(self, openid: str, item: Item) -> None:
        self._queues.setdefault(openid, deque()).append(item)
        if openid not in self._workers:
            self._workers[openid] = asyncio.create_task(self._work(openid))

    async def _work(self, openid: str) -> None:
        try:
            queue = self._queues[openid]
            while queue:
                message, done = queue.popleft()
                failure = await self._deliver(openid, message)
                if done is not None and not done.done():
                    done.set_result(failure)
        finally:
            # No await between the last check and here: nothing can slip in.
            self._workers.pop(openid, None)
            if not self._queues.get(openid):
                self._queues.pop(openid, None)

    async def _deliver(self, openid: str, message: Outgoing) -> str | None:
        try:
            for piece in split(render(message)):
                await self._api.send_text(openid, piece)
            self.sent += 1
            return None
        except WindowClosed as exc:
            self.failed += 1
            logger.info(
                "WeChat window closed for %s (message %s)",
                mask_openid(openid),
                message.message_id,
            )
            if message.message_id is not None and message.sender == "agent":
                await self._report.undelivered(
                    message_id=message.message_id, errcode=exc.errcode
                )
            return "window_closed"
        except WechatApiError as exc:
            self.failed += 1
            logger.warning(
                "WeChat refused message %s for %s: %s",
                message.message_id,
                mask_openid(openid),
                exc.errcode or exc.errmsg,
            )
            return "refused"
        except Exception:  # a bug must not stop the user's later messages
            self.failed += 1
            logger.exception("WeChat delivery to %s failed", mask_openid(openid))
            return "failed"

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait (a little) for queued messages to go out."""
        tasks = list(self._workers.values())
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def close(self) -> None:
        """Stop the workers (process shutdown); what was queued is in the CRM."""
        tasks = list(self._workers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for queue in self._queues.values():
            for _, done in queue:
                if done is not None and not done.done():
                    done.set_result("closed")

    def notifier(self) -> Notifier:
        """Ticket notices: delivered once WeChat's API accepted them, then recorded."""

        async def notify(openid: str, text: str, record: Recorder) -> NoticeOutcome:
            failure = await self.send_confirmed(
                openid, Outgoing(text=text, sender="system")
            )
            if failure is not None:
                return NoticeOutcome(delivered=False, reason=failure)
            return NoticeOutcome(delivered=True, message_id=await record())

        return notify


class ApiSink:
    """The relay's sink for a WeChat user: everything goes through the API."""

    def __init__(self, courier: Courier, quick: QuickReplies, openid: str):
        """One user."""
        self._courier = courier
        self._quick = quick
        self._openid = openid

    async def send(self, message: Outgoing) -> None:
        """Queue it (and remember its options for the user's tap)."""
        await self._quick.remember(self._openid, message.buttons)
        self._courier.send(self._openid, message)

    async def typing(self, on: bool) -> None:
        """WeChat has no typing indicator for accounts."""


class TurnSink:
    """Collects one turn's replies: the passive answer, or the API, decides later."""

    def __init__(self, quick: QuickReplies, openid: str):
        """An empty turn."""
        self._quick = quick
        self._openid = openid
        self.messages: list[Outgoing] = []

    async def send(self, message: Outgoing) -> None:
        """Keep it (and remember its options)."""
        await self._quick.remember(self._openid, message.buttons)
        self.messages.append(message)

    async def typing(self, on: bool) -> None:
        """Nothing to show."""
