"""The WeChat channel's flow: one callback → at most one relay turn → a passive
reply within the time limit, or ``success`` and the customer-service API.

Text and menu taps go through the relay exactly like a web message (status
check, Rasa turn, recording). Other messages (image, voice, location…) and the
subscribe/unsubscribe events are recorded as a note of what the customer did,
never sent to Rasa: the bot answers politely while it owns the conversation,
and during an agent's chat the note is what the agent sees.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from wechatpy.crypto import WeChatCrypto

from bot.channels.wechat.dedupe import Dedupe
from bot.channels.wechat.delivery import Courier, TurnSink
from bot.channels.wechat.messages import CHANNEL, Inbound, mask_openid
from bot.channels.wechat.outgoing import dump, load, pack
from bot.channels.wechat.quick import QuickReplies
from bot.crm_client import CrmRefused, CrmUnavailable
from bot.messages import ERRORS, NOTICE_CRM_DOWN, Outgoing
from bot.relay import Relay

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WechatConfig:
    """What the channel needs of the settings."""

    token: str
    app_id: str
    aes_key: str | None
    passive_seconds: float
    max_body_bytes: int
    max_skew_seconds: float


class WechatChannel:
    """The WeChat Official Account channel of one gateway process."""

    def __init__(
        self,
        config: WechatConfig,
        *,
        relay: Relay,
        dedupe: Dedupe,
        quick: QuickReplies,
        courier: Courier,
    ):
        """Shared state (dedupe, quick replies, the token) lives in the store."""
        self.config = config
        self.relay = relay
        self.dedupe = dedupe
        self.quick = quick
        self.courier = courier
        self.crypto = (
            WeChatCrypto(config.token, config.aes_key, config.app_id)
            if config.aes_key
            else None
        )

    async def handle(self, inbound: Inbound, *, arrived: float) -> str | None:
        """The passive reply's text, or None (answer ``success``)."""
        if inbound.kind == "ignore":
            return None
        key = f"{inbound.openid}:{inbound.msg_key}"
        deadline = arrived + self.config.passive_seconds
        if await self.dedupe.begin(key):
            self.relay.background(self._run(key, inbound))
        claimed = await self.dedupe.wait(key, deadline=deadline)
        if claimed is None:
            return None
        messages = load(claimed)
        passive, rest = pack(messages)
        for index in rest:
            self.courier.send(inbound.openid, messages[index])
        return passive

    async def _run(self, key: str, inbound: Inbound) -> None:
        """The message's one turn; its replies go wherever the dedupe says."""
        replies: list[Outgoing] = []
        try:
            replies = await self._turn(inbound)
        except Exception:
            logger.exception("WeChat turn for %s failed", mask_openid(inbound.openid))
        if await self.dedupe.finish(key, dump(replies)):
            for message in replies:
                self.courier.send(inbound.openid, message)

    async def _turn(self, inbound: Inbound) -> list[Outgoing]:
        sink = TurnSink(self.quick, inbound.openid)
        if inbound.kind == "note":
            await self._note(inbound, sink)
            return sink.messages
        text, display = inbound.text, inbound.display
        if inbound.kind == "text":
            chosen = await self.quick.resolve(inbound.openid, text, inbound.menu_id)
            if chosen is not None:
                text, display = chosen
        outcome = await self.relay.customer_message(
            channel=CHANNEL,
            external_id=inbound.openid,
            text=text,
            sink=sink,
            display=display,
            external_msg_id=inbound.msg_key,
        )
        if not outcome.ok and outcome.error in ("text_empty", "text_too_long"):
            sink.messages.append(Outgoing(text=ERRORS[outcome.error], sender="system"))
        return sink.messages

    async def _note(self, inbound: Inbound, sink: TurnSink) -> None:
        """Record what the customer did; the bot answers only while it owns the chat."""
        try:
            recorded = await self.relay.crm.record_customer_message(
                channel=CHANNEL,
                external_id=inbound.openid,
                text=inbound.text,
                external_msg_id=inbound.msg_key,
                metadata=inbound.metadata or None,
            )
        except (CrmUnavailable, CrmRefused) as exc:
            kind = inbound.metadata.get("wechat", {}).get("type", "message")
            logger.warning("CRM missed a WeChat %s: %s", kind, exc)
            if inbound.reply is not None:
                await sink.send(Outgoing(text=NOTICE_CRM_DOWN, sender="system"))
            return
        if recorded.duplicate or recorded.status != "bot" or inbound.reply is None:
            return
        await self.relay.deliver(
            recorded.conversation_id, sink, Outgoing(text=inbound.reply, sender="bot")
        )
