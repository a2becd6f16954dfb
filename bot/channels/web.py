"""The web chat's socket.io server, speaking the events of Rasa's web widgets.

``session_request {session_id?}`` → ``session_confirm {session_id}``;
``user_uttered {message, session_id, customData?}`` → ``bot_uttered`` messages
(``metadata.sender`` = bot, agent or system). Every socket joins the room of its
session id, so a reconnect keeps the conversation and several tabs see one chat;
with Redis the rooms span every gateway process. Extra events the page uses and
other clients may ignore: ``bot_typing {typing}``, ``customer_uttered`` (a
message typed in another tab) and ``chat_error {code, message}``.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

import socketio

from bot.config import Settings
from bot.messages import ERRORS, InvalidText, Outgoing, check_text, to_socketio
from bot.notices import NoticeOutcome, Notifier, Recorder
from bot.relay import Relay

logger = logging.getLogger(__name__)

CHANNEL = "web"
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
BOT_UTTERED = "bot_uttered"


def valid_session_id(value: Any) -> str | None:
    """A session id the browser may choose (uuid4 hex or similar), else None."""
    if isinstance(value, str) and SESSION_ID.match(value):
        return value
    return None


class RoomSink:
    """All sockets of one chat session (every tab, every gateway process)."""

    def __init__(self, sio: socketio.AsyncServer, session_id: str):
        """Messages go to the room named by the session id."""
        self._sio = sio
        self._room = session_id

    async def send(self, message: Outgoing) -> None:
        """Emit ``bot_uttered`` to the room."""
        await self._sio.emit(BOT_UTTERED, to_socketio(message), room=self._room)

    async def typing(self, on: bool) -> None:
        """Emit ``bot_typing`` to the room."""
        await self._sio.emit("bot_typing", {"typing": on}, room=self._room)


def create_server(settings: Settings) -> socketio.AsyncServer:
    """The socket.io server; Redis-backed rooms when ``REDIS_URL`` is set."""
    manager = (
        socketio.AsyncRedisManager(settings.redis_url, channel=settings.redis_channel)
        if settings.redis_url
        else None
    )
    # None: the gateway's own origin only; listed origins may embed rasa-webchat.
    origins: list[str] | None = settings.cors_origins or None
    return socketio.AsyncServer(
        async_mode="asgi",
        client_manager=manager,
        cors_allowed_origins=origins,
        max_http_buffer_size=64 * 1024,
    )


def connected_here(sio: socketio.AsyncServer, session_id: str) -> bool:
    """Whether a socket of this chat session is connected to this process.

    socket.io cannot list a room's sockets across processes (with Redis, rooms
    span processes for emits only): another gateway process answers "not
    delivered" and the CRM tries again later (docs/takeover.md).
    """
    return any(True for _ in sio.manager.get_participants("/", session_id))


def notifier(sio: socketio.AsyncServer) -> Notifier:
    """Ticket notices: delivered when the chat is open in a browser right now."""

    async def notify(session_id: str, text: str, record: Recorder) -> NoticeOutcome:
        if not connected_here(sio, session_id):
            return NoticeOutcome(delivered=False, reason="not_connected")
        message_id = await record()
        await RoomSink(sio, session_id).send(
            Outgoing(text=text, sender="system", message_id=message_id)
        )
        return NoticeOutcome(delivered=True, message_id=message_id)

    return notify


def attach(sio: socketio.AsyncServer, relay: Relay) -> None:
    """Register the event handlers and the channel's sink with the relay."""
    relay.register_channel(CHANNEL, lambda session_id: RoomSink(sio, session_id))
    relay.register_notifier(CHANNEL, notifier(sio))

    async def join(sid: str, session_id: str) -> None:
        async with sio.session(sid) as session:
            previous = session.get("session_id")
            session["session_id"] = session_id
        if previous and previous != session_id:
            await sio.leave_room(sid, previous)
        await sio.enter_room(sid, session_id)

    @sio.event
    async def session_request(sid: str, data: Any = None) -> None:
        """Join (or start) a chat session and confirm its id."""
        requested = data.get("session_id") if isinstance(data, dict) else None
        session_id = valid_session_id(requested) or uuid.uuid4().hex
        await join(sid, session_id)
        await sio.emit("session_confirm", {"session_id": session_id}, to=sid)

    @sio.event
    async def user_uttered(sid: str, data: Any = None) -> dict[str, Any]:
        """One customer message: checked, recorded, routed; the ack says how."""
        data = data if isinstance(data, dict) else {}
        session = await sio.get_session(sid)
        session_id = session.get("session_id")
        requested = valid_session_id(data.get("session_id"))
        if requested and requested != session_id:
            await join(sid, requested)
            session_id = requested
        if not session_id:
            return await _refuse(sid, "no_session", "请刷新页面后重试。")
        try:
            text = check_text(data.get("message"))
        except InvalidText as exc:
            return await _refuse(sid, exc.code, exc.message)
        display = data.get("display") if isinstance(data.get("display"), str) else None
        await sio.emit(
            "customer_uttered",
            {"text": display or text, "metadata": {"sender": "customer"}},
            room=session_id,
            skip_sid=sid,
        )
        try:
            outcome = await relay.customer_message(
                channel=CHANNEL, external_id=session_id, text=text, display=display
            )
        except Exception:  # a bug must not leave the page waiting for an ack
            logger.exception("customer message of a web session failed")
            return await _refuse(sid, "internal", ERRORS["internal"])
        if not outcome.ok:
            code = outcome.error or "error"
            return {"ok": False, "error": code, "message": ERRORS.get(code, "")}
        return {
            "ok": True,
            "message_id": outcome.message_id,
            "status": outcome.status,
            "duplicate": outcome.duplicate,
        }

    async def _refuse(sid: str, code: str, message: str) -> dict[str, Any]:
        await sio.emit("chat_error", {"code": code, "message": message}, to=sid)
        return {"ok": False, "error": code, "message": message}
