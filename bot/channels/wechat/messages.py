"""WeChat's wire format, pure: signatures, safe XML, safe-mode crypto and what an
inbound message means (``outgoing`` has how the gateway's messages read on WeChat).

Nothing here does I/O; ``endpoint`` and ``channel`` call these functions.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import WeChatSigner

CHANNEL = "wechat"
SUCCESS = "success"  # "received, no reply": WeChat does not retry

# Menu keys of the account's custom menu (CLICK events) → what the bot gets, and
# the label the transcript shows. Intents by name (the NLU contract), so a menu
# tap never depends on how the NLU reads a short label.
MENU: dict[str, tuple[str, str]] = {
    "MY_POLICY": ("/ask_policy", "查保单"),
    "MY_CLAIM": ("/ask_claim_status", "查理赔进度"),
    "MY_PREMIUM": ("/ask_premium", "查缴费"),
    "MY_AGENT": ("/ask_my_agent", "我的专属顾问"),
    "COMPLAIN": ("/complain", "我要投诉"),
    "HUMAN": ("/request_human", "转人工"),
}

WELCOME = (
    "您好，欢迎关注安顺人寿！我是智能客服小安，可以帮您查询保单、理赔、缴费，"
    "受理投诉，也可以为您转接人工客服。请直接发送您的问题，或点击下方菜单。"
)
NOT_TEXT = (
    "抱歉，小安目前只能看懂文字消息。请用文字描述您的问题，或回复“转人工”联系人工客服。"
)
UNKNOWN_MENU = "请直接发送文字告诉小安您想办理的业务。"

# What an agent sees in the transcript when the customer sent something that is
# not text (during an agent's chat the note is all that reaches the console).
NOTES = {
    "image": "[客户发送了一张图片]",
    "voice": "[客户发送了一条语音]",
    "video": "[客户发送了一段视频]",
    "shortvideo": "[客户发送了一段小视频]",
    "location": "[客户发送了一个位置]",
    "link": "[客户发送了一个链接]",
    "miniprogrampage": "[客户发送了一个小程序卡片]",
    "subscribe": "[客户关注了公众号]",
    "unsubscribe": "[客户取消关注了公众号]",
    "unknown": "[客户发送了一条暂不支持的消息]",
}
NOTE_DETAIL_MAX = 200
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Refused(Exception):
    """A callback the gateway refuses before anything happens."""

    def __init__(self, status_code: int, reason: str):
        """``reason`` is logged (it never contains the request's content)."""
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason


# ---- signatures and crypto --------------------------------------------------------


def signature_of(token: str, *parts: str) -> str:
    """SHA-1 over the sorted parts (``wechatpy.utils.check_signature``'s signer)."""
    signer = WeChatSigner()
    signer.add_data(token, *parts)
    return str(signer.signature)


def check_callback(
    token: str,
    *,
    signature: str,
    timestamp: str,
    nonce: str,
    now: float,
    max_skew: float,
) -> None:
    """Refuse (403) a forged or stale callback signature."""
    if not (signature and timestamp and nonce):
        raise Refused(403, "signature missing")
    try:
        sent = int(timestamp)
    except ValueError:
        raise Refused(403, "bad timestamp") from None
    if abs(now - sent) > max_skew:
        raise Refused(403, "stale timestamp")
    expected = signature_of(token, timestamp, nonce)
    if not hmac.compare_digest(expected, signature.lower()):
        raise Refused(403, "bad signature")


def parse_xml(body: bytes | str) -> dict[str, str]:
    """The children of ``<xml>`` as a dict; no DTD, no entities (400 otherwise)."""
    try:
        root: Element = fromstring(
            body, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except (DefusedXmlException, ParseError, ValueError):
        raise Refused(400, "refused XML") from None
    if root.tag != "xml":
        raise Refused(400, "not a WeChat message")
    return {child.tag: (child.text or "") for child in root}


def decrypt(
    crypto: WeChatCrypto,
    envelope: dict[str, str],
    *,
    msg_signature: str,
    timestamp: str,
    nonce: str,
) -> str:
    """The plaintext XML of a safe-mode message (403 forged, 400 undecryptable)."""
    if not envelope.get("Encrypt") or not msg_signature:
        raise Refused(400, "encrypted message without Encrypt or msg_signature")
    try:
        return str(
            crypto.decrypt_message(envelope, msg_signature.lower(), timestamp, nonce)
        )
    except (InvalidSignatureException, InvalidAppIdException):
        raise Refused(403, "bad message signature") from None
    except Exception:  # bad base64, padding, length: garbage, not a forgery check
        raise Refused(400, "undecryptable message") from None


def reply_xml(*, openid: str, account: str, text: str, now: int) -> str:
    """A passive text reply (``TextReply``) to the user who wrote."""
    return str(
        TextReply(
            source=account, target=openid, content=xml_safe(text), time=now
        ).render()
    )


def encrypt_reply(crypto: WeChatCrypto, xml: str, *, nonce: str, now: int) -> str:
    """The safe-mode envelope of a passive reply."""
    return str(crypto.encrypt_message(xml, nonce, str(now)))


def xml_safe(text: str) -> str:
    """Text that fits a CDATA section: no control characters, no ``]]>``."""
    return _XML_INVALID.sub("", text).replace("]]>", "]]]]><![CDATA[>")


# ---- inbound --------------------------------------------------------------------

Kind = Literal["text", "menu", "note", "ignore"]


@dataclass(frozen=True)
class Inbound:
    """What one callback means for the relay.

    ``text``: a message for the bot (``text`` goes to Rasa, ``display`` is what the
    transcript shows). ``note``: recorded as the customer's message (``text``),
    never sent to Rasa; ``reply`` is the bot's answer when the bot owns the chat.
    """

    kind: Kind
    openid: str = ""
    account: str = ""
    msg_key: str = ""
    text: str = ""
    display: str | None = None
    reply: str | None = None
    menu_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def _detail(*parts: Any) -> str:
    text = " ".join(str(p).strip() for p in parts if p and str(p).strip())
    return text[:NOTE_DETAIL_MAX]


def _note(kind: str, detail: str = "") -> str:
    base = NOTES.get(kind, NOTES["unknown"])
    return f"{base[:-1]}：{detail}]" if detail else base


def classify(xml: str, fields: dict[str, str]) -> Inbound:
    """Parse with wechatpy and decide what the message is for the relay."""
    try:
        message = parse_message(xml)
    except Exception:
        raise Refused(400, "unparsable message") from None
    who = Inbound(
        kind="ignore",
        openid=str(message.source or ""),
        account=str(message.target or ""),
    )
    if not who.openid:
        raise Refused(400, "message without FromUserName")
    kind = str(message.type or "unknown").lower()
    if kind == "event":
        return _event(message, fields, who)
    msg_key = str(fields.get("MsgId") or f"{kind}-{fields.get('CreateTime', '')}")
    who = replace(who, msg_key=msg_key[:64])
    if kind == "text":
        menu_id = fields.get("bizmsgmenuid") or None
        return replace(
            who, kind="text", text=str(message.content or ""), menu_id=menu_id
        )
    if kind == "voice" and getattr(message, "recognition", None):
        # Speech recognition is on: the words are the message.
        return replace(who, kind="text", text=str(message.recognition))
    wechat: dict[str, str] = {"type": kind}
    detail = ""
    if kind == "image" and getattr(message, "image", None):
        wechat["pic_url"] = str(message.image)
    if getattr(message, "media_id", None):
        wechat["media_id"] = str(message.media_id)
    if kind == "location":
        detail = _detail(getattr(message, "label", ""))
    elif kind == "link":
        detail = _detail(getattr(message, "title", ""), getattr(message, "url", ""))
        wechat["url"] = str(getattr(message, "url", "") or "")
    elif kind == "miniprogrampage":
        detail = _detail(getattr(message, "title", ""))
    if kind not in NOTES:
        kind = "unknown"
    return replace(
        who,
        kind="note",
        text=_note(kind, detail),
        reply=NOT_TEXT,
        metadata={"wechat": wechat},
    )


def _event(message: Any, fields: dict[str, str], who: Inbound) -> Inbound:
    event = str(getattr(message, "event", "") or fields.get("Event", "")).lower()
    # Events carry no MsgId: WeChat's retries repeat FromUserName + CreateTime.
    who = replace(who, msg_key=f"{event}-{fields.get('CreateTime', '')}"[:64])
    wechat = {"type": "event", "event": event}
    if event in ("subscribe", "subscribe_scan"):
        return replace(
            who,
            kind="note",
            text=NOTES["subscribe"],
            reply=WELCOME,
            metadata={"wechat": wechat},
        )
    if event == "unsubscribe":
        return replace(
            who, kind="note", text=NOTES["unsubscribe"], metadata={"wechat": wechat}
        )
    if event == "click":
        key = str(fields.get("EventKey") or "")[:64]
        if key in MENU:
            payload, label = MENU[key]
            return replace(who, kind="menu", text=payload, display=label)
        return replace(
            who,
            kind="note",
            text=f"[客户点击了菜单：{key}]",
            reply=UNKNOWN_MENU,
            metadata={"wechat": {**wechat, "key": key}},
        )
    # VIEW (a menu link), LOCATION reports, SCAN, template receipts: nothing to say.
    return who


def mask_openid(openid: str) -> str:
    """An openid fit for logs: ``oAbC****yZ``."""
    if len(openid) <= 6:
        return "****"
    return f"{openid[:4]}****{openid[-2:]}"


_OPENID_PARAM = re.compile(r"(?<=[?&]openid=)[^&\s\"]*")


def mask_query(text: str) -> str:
    """A logged URL with WeChat's ``openid`` query parameter masked."""
    return _OPENID_PARAM.sub(lambda m: mask_openid(m.group(0)), text)
