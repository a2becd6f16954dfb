"""How the gateway's messages read on WeChat (pure): the agent's name, quick
replies as tappable ``weixin://bizmsgmenu`` links, WeChat's byte limit, one
passive reply out of a turn's messages, and JSON for the shared store.
"""

from __future__ import annotations

import html
import json
import re

from bot.crm_client import AgentRef
from bot.messages import Button, Outgoing

TEXT_BYTES = 2000  # WeChat cuts text messages near 2048 bytes (UTF-8)


def link_title(title: str) -> str:
    """A button title as a menu link shows (and a tap sends back)."""
    return re.sub(r"[<>\"&\r\n]", "", title).strip()


def menu_link(index: int, title: str) -> str:
    """A tappable option in a text message: tapping it sends its title back."""
    clean = link_title(title) or str(index)
    return (
        f'<a href="weixin://bizmsgmenu?msgmenucontent={clean}&msgmenuid={index}">'
        f"{clean}</a>"
    )


def render(message: Outgoing) -> str:
    """One outgoing message as WeChat text: the agent's name, options as links."""
    lines = []
    if message.sender == "agent" and message.agent is not None:
        who = message.agent.name
        if message.agent.employee_no:
            who += f"（工号{message.agent.employee_no}）"
        lines.append(f"{who}：")
    if message.text.strip():
        lines.append(message.text)
    if message.image:
        lines.append(f'<a href="{html.escape(message.image)}">查看图片</a>')
    for index, button in enumerate(message.buttons, start=1):
        lines.append(menu_link(index, button.title))
    return "\n".join(lines) or " "


def size(text: str) -> int:
    """UTF-8 bytes."""
    return len(text.encode("utf-8"))


def fitting(text: str, limit: int) -> int:
    """How many leading characters of ``text`` fit in ``limit`` bytes (at least 1)."""
    used = 0
    for index, char in enumerate(text):
        used += len(char.encode("utf-8"))
        if used > limit:
            return max(1, index)
    return len(text)


def split(text: str, limit: int = TEXT_BYTES) -> list[str]:
    """Pieces of at most ``limit`` bytes, cut at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while size(line) > limit:  # one very long line: cut by characters
            cut = fitting(line, limit)
            head, line = line[:cut], line[cut:]
            if current:
                pieces.append(current)
                current = ""
            pieces.append(head)
        if size(current + line) > limit:
            pieces.append(current)
            current = ""
        current += line
    if current or not pieces:
        pieces.append(current)
    return [piece.rstrip("\n") or " " for piece in pieces]


def pack(messages: list[Outgoing], limit: int = TEXT_BYTES) -> tuple[str, list[int]]:
    """The passive reply (one text: as many whole messages as fit) and the indexes
    of the messages left for the customer-service API."""
    texts = [render(m) for m in messages]
    passive = ""
    taken = 0
    for text in texts:
        joined = f"{passive}\n\n{text}" if passive else text
        if size(joined) > limit:
            break
        passive = joined
        taken += 1
    if taken == 0:  # the first message alone is too long: its first piece
        return split(texts[0], limit)[0], list(range(1, len(messages)))
    return passive, list(range(taken, len(messages)))


def dump(messages: list[Outgoing]) -> str:
    """JSON of outgoing messages (for the de-duplication store)."""
    return json.dumps(
        [
            {
                "text": m.text,
                "sender": m.sender,
                "buttons": [[b.title, b.payload] for b in m.buttons],
                "message_id": m.message_id,
                "image": m.image,
                "agent": [m.agent.id, m.agent.name, m.agent.employee_no]
                if m.agent
                else None,
            }
            for m in messages
        ],
        ensure_ascii=False,
    )


def load(data: str) -> list[Outgoing]:
    """Outgoing messages back from :func:`dump`."""
    messages = []
    for item in json.loads(data):
        agent = item.get("agent")
        messages.append(
            Outgoing(
                text=str(item.get("text") or ""),
                sender=item.get("sender") or "bot",
                buttons=tuple(Button(title=t, payload=p) for t, p in item["buttons"]),
                message_id=item.get("message_id"),
                image=item.get("image"),
                agent=AgentRef(id=agent[0], name=agent[1], employee_no=agent[2])
                if agent
                else None,
            )
        )
    return messages
