"""Quick replies on WeChat: the bot's buttons become tappable links in the text
(``weixin://bizmsgmenu``); a tap sends the title back as a text message with
``bizmsgmenuid``. The last buttons a user was shown are remembered, so the
tapped (or typed) title goes to Rasa as the button's payload, as on the web.
"""

from __future__ import annotations

import json

from bot.channels.wechat.outgoing import link_title
from bot.channels.wechat.store import Store
from bot.messages import Button

TTL = 24 * 3600.0


class QuickReplies:
    """The buttons each WeChat user saw last."""

    def __init__(self, store: Store):
        """Kept in the shared store (one answer whichever process gets the tap)."""
        self._store = store

    async def remember(self, openid: str, buttons: tuple[Button, ...]) -> None:
        """Remember the options just shown (nothing to do without buttons)."""
        if buttons:
            data = json.dumps(
                [[b.title, b.payload] for b in buttons], ensure_ascii=False
            )
            await self._store.put(f"buttons:{openid}", data, TTL)

    async def resolve(
        self, openid: str, text: str, menu_id: str | None
    ) -> tuple[str, str] | None:
        """``(payload, title)`` when the text is one of the remembered options."""
        (data,) = await self._store.get_many(f"buttons:{openid}")
        if data is None:
            return None
        options = [(str(t), str(p)) for t, p in json.loads(data)]
        said = text.strip()
        if menu_id and menu_id.isdigit() and 1 <= int(menu_id) <= len(options):
            title, payload = options[int(menu_id) - 1]
            if said in (title.strip(), link_title(title)):
                return payload, title
        for title, payload in options:
            if said in (title.strip(), link_title(title)):
                return payload, title
        return None
