"""What the gateway says to customers: outgoing messages, notices, text rules (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from bot.crm_client import AgentRef, agent_ref

TEXT_MAX = 2000  # the CRM's limit for a customer's message
DISPLAY_MAX = 200  # the label of a clicked quick reply, kept with the message

Sender = Literal["customer", "bot", "agent", "system"]

# Polite notices (customers never see error text).
NOTICE_CRM_DOWN = "抱歉，系统暂时繁忙，您的消息未能送达，请稍后重新发送。"
NOTICE_RASA_DOWN = (
    "抱歉，小安暂时无法回复。您的消息已经记录，请稍后再试，我们不会遗漏您的问题。"
)
NOTICE_HANDBACK = (
    "本次人工服务已结束，感谢您的耐心。如还有其他问题，请直接留言，小安继续为您服务。"
)
ERRORS = {
    "text_empty": "请输入消息内容后再发送。",
    "text_too_long": f"消息太长了（最多 {TEXT_MAX} 字），请分几次发送。",
    "crm_unavailable": NOTICE_CRM_DOWN,
    "internal": NOTICE_CRM_DOWN,
}


class InvalidText(Exception):
    """A customer message the gateway refuses before anything is forwarded."""

    def __init__(self, code: str):
        """``code`` is one of ``text_empty``, ``text_too_long``."""
        super().__init__(code)
        self.code = code
        self.message = ERRORS[code]


def check_text(text: Any) -> str:
    """The message text unchanged, or ``InvalidText`` (empty, not text, too long)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidText("text_empty")
    if len(text) > TEXT_MAX:
        raise InvalidText("text_too_long")
    return text


@dataclass(frozen=True)
class Button:
    """A quick reply: what it shows and what it sends back."""

    title: str
    payload: str


@dataclass(frozen=True)
class Outgoing:
    """One message shown to the customer (live or from history)."""

    text: str
    sender: Sender
    buttons: tuple[Button, ...] = ()
    message_id: int | None = None
    agent: AgentRef | None = None
    image: str | None = None
    custom: dict[str, Any] | None = None
    created_at: str | None = None


class Sink(Protocol):
    """Where one conversation's messages go (a socket.io room, a REST answer)."""

    async def send(self, message: Outgoing) -> None:
        """Deliver one message."""

    async def typing(self, on: bool) -> None:
        """Show or hide that an answer is being prepared."""


def buttons_of(reply: dict[str, Any]) -> tuple[Button, ...]:
    """Rasa's ``buttons`` (or ``quick_replies``) as ``Button`` values."""
    raw = reply.get("buttons") or reply.get("quick_replies") or []
    buttons = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict) and item.get("title") is not None:
            title = str(item["title"])
            buttons.append(Button(title=title, payload=str(item.get("payload", title))))
    return tuple(buttons)


def from_rasa(reply: dict[str, Any]) -> Outgoing:
    """A bot reply of Rasa's REST channel (text, buttons, image, custom)."""
    custom = reply.get("custom")
    return Outgoing(
        text=str(reply.get("text") or ""),
        sender="bot",
        buttons=buttons_of(reply),
        image=str(reply["image"]) if reply.get("image") else None,
        custom=custom if isinstance(custom, dict) else None,
    )


def transcript_text(message: Outgoing) -> str:
    """The text recorded for a reply (the CRM refuses empty text)."""
    if message.text.strip():
        return message.text
    if message.image:
        return "[图片]"
    return "[卡片消息]"


def record_payload(message: Outgoing) -> dict[str, Any] | None:
    """What the transcript keeps besides the text: buttons, image, custom."""
    payload: dict[str, Any] = {}
    if message.buttons:
        payload["buttons"] = [
            {"title": b.title, "payload": b.payload} for b in message.buttons
        ]
    if message.image:
        payload["image"] = message.image
    if message.custom:
        payload["custom"] = message.custom
    return payload or None


def from_transcript(item: dict[str, Any]) -> Outgoing:
    """A CRM transcript message as the customer sees it (for history); an agent's
    message carries the agent's name and employee number."""
    payload = item.get("payload") if isinstance(item.get("payload"), dict) else {}
    assert isinstance(payload, dict)
    sender = str(item.get("sender") or "system")
    text = str(item.get("text") or "")
    metadata = payload.get("metadata")
    if sender == "customer" and isinstance(metadata, dict) and metadata.get("display"):
        text = str(metadata["display"])  # a clicked quick reply shows its label
    agent = agent_ref(item.get("agent")) if sender == "agent" else None
    return Outgoing(
        text=text,
        sender=sender if sender in ("customer", "bot", "agent") else "system",  # type: ignore[arg-type]
        buttons=buttons_of(payload),
        message_id=item.get("id"),
        agent=agent,
        image=payload.get("image"),
        created_at=str(item["created_at"]) if item.get("created_at") else None,
    )


def to_socketio(message: Outgoing) -> dict[str, Any]:
    """The ``bot_uttered`` payload, shaped as Rasa's socket.io channel sends it."""
    metadata: dict[str, Any] = {
        "sender": message.sender,
        "message_id": message.message_id,
    }
    if message.agent is not None:
        metadata["agent_name"] = message.agent.name
        metadata["employee_no"] = message.agent.employee_no
    if message.created_at:
        metadata["created_at"] = message.created_at
    data: dict[str, Any] = {"text": message.text, "metadata": metadata}
    if message.buttons:
        # rasa-webchat renders ``quick_replies``; ``buttons`` for other clients.
        data["quick_replies"] = [
            {"content_type": "text", "title": b.title, "payload": b.payload}
            for b in message.buttons
        ]
        data["buttons"] = [
            {"title": b.title, "payload": b.payload} for b in message.buttons
        ]
    if message.image:
        data["attachment"] = {"type": "image", "payload": {"src": message.image}}
    if message.custom:
        data["custom"] = message.custom
    return data


def to_rest(message: Outgoing, recipient_id: str) -> dict[str, Any]:
    """One element of Rasa's REST channel answer."""
    data: dict[str, Any] = {"recipient_id": recipient_id, "text": message.text}
    if message.buttons:
        data["buttons"] = [
            {"title": b.title, "payload": b.payload} for b in message.buttons
        ]
    if message.image:
        data["image"] = message.image
    if message.custom:
        data["custom"] = message.custom
    return data
