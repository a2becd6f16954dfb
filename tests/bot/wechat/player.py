"""WeChat's server, played with wechatpy's own signing and crypto: it posts user
messages to the gateway's ``/wechat`` exactly as WeChat does (plain, compatible
or safe mode) and reads the passive replies. httpx and wechatpy only, so
bench/wechat.py can use it too.
"""

from __future__ import annotations

import itertools
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

TOKEN = "wx-callback-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
APP_ID = "wx-test-app"
APP_SECRET = "test-secret"
ACCOUNT = "gh_ansun_life"
_msg_ids = itertools.count(int(time.time() * 1000) * 1000)


def new_msg_id() -> str:
    """A MsgId no other test uses."""
    return str(next(_msg_ids))


def new_openid() -> str:
    """An openid of the usual shape (28 characters)."""
    return "oWx" + secrets.token_urlsafe(19)[:25]


def sign(token: str, *parts: str) -> str:
    """WeChat's callback signature (``wechatpy.utils.check_signature``'s signer)."""
    signer = WeChatSigner()
    signer.add_data(token, *parts)
    return str(signer.signature)


def _cdata(value: str) -> str:
    return f"<![CDATA[{value}]]>"


def message_xml(
    openid: str,
    msg_type: str,
    *,
    create_time: int | None = None,
    account: str = ACCOUNT,
    **fields: Any,
) -> str:
    """A user message or event as WeChat posts it."""
    parts = [
        f"<ToUserName>{_cdata(account)}</ToUserName>",
        f"<FromUserName>{_cdata(openid)}</FromUserName>",
        f"<CreateTime>{create_time or int(time.time())}</CreateTime>",
        f"<MsgType>{_cdata(msg_type)}</MsgType>",
    ]
    for name, value in fields.items():
        if value is None:
            continue
        text = str(value)
        parts.append(f"<{name}>{text if text.isdigit() else _cdata(text)}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


def text_xml(
    openid: str, content: str, msg_id: str | None = None, **fields: Any
) -> str:
    """A text message."""
    return message_xml(
        openid, "text", Content=content, MsgId=msg_id or new_msg_id(), **fields
    )


def event_xml(
    openid: str, event: str, *, key: str | None = None, create_time: int | None = None
) -> str:
    """An event (subscribe, unsubscribe, CLICK, VIEW…)."""
    return message_xml(
        openid, "event", create_time=create_time, Event=event, EventKey=key
    )


@dataclass
class Answer:
    """The gateway's answer to one callback."""

    status: int
    body: str
    reply: dict[str, str] | None  # the passive reply's fields (decrypted)
    encrypted: bool
    seconds: float

    @property
    def text(self) -> str | None:
        """The passive reply's text, or None (``success``)."""
        return self.reply.get("Content") if self.reply else None


class WechatServer:
    """Posts to one gateway's ``/wechat`` as WeChat's server would."""

    def __init__(
        self,
        gateway_url: str,
        *,
        token: str = TOKEN,
        aes_key: str = AES_KEY,
        app_id: str = APP_ID,
    ) -> None:
        """Signs with ``token``; encrypts with ``aes_key`` in safe mode."""
        self.url = f"{gateway_url}/wechat"
        self.token = token
        self.crypto = WeChatCrypto(token, aes_key, app_id)

    def params(
        self,
        *,
        timestamp: int | None = None,
        nonce: str | None = None,
        openid: str | None = None,
    ) -> dict[str, str]:
        """Query parameters of a callback: signature, timestamp, nonce, openid."""
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        nonce = nonce or secrets.token_hex(5)
        params = {
            "signature": sign(self.token, stamp, nonce),
            "timestamp": stamp,
            "nonce": nonce,
        }
        if openid:
            params["openid"] = openid
        return params

    def request(
        self, xml: str, *, mode: str = "plain", params: dict[str, str] | None = None
    ) -> tuple[dict[str, str], bytes]:
        """Query and body of a callback in ``plain``, ``compat`` or ``safe`` mode."""
        params = dict(params or self.params())
        if mode == "plain":
            return params, xml.encode("utf-8")
        envelope = xmltodict.parse(
            self.crypto.encrypt_message(xml, params["nonce"], params["timestamp"])
        )["xml"]
        params.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
        encrypt = f"<Encrypt>{_cdata(envelope['Encrypt'])}</Encrypt>"
        if mode == "safe":
            body = f"<xml><ToUserName>{_cdata(ACCOUNT)}</ToUserName>{encrypt}</xml>"
        else:  # compatible mode: the plain fields and the encrypted copy
            body = xml.replace("</xml>", encrypt + "</xml>")
        return params, body.encode("utf-8")

    def answer(self, response: httpx.Response, started: float, mode: str) -> Answer:
        """Decode the gateway's answer (decrypting a safe-mode reply)."""
        seconds = time.monotonic() - started
        body = response.text
        if response.status_code != 200 or body in ("success", ""):
            return Answer(response.status_code, body, None, False, seconds)
        fields = xmltodict.parse(body)["xml"]
        encrypted = "Encrypt" in fields
        if encrypted:
            plain = self.crypto.decrypt_message(
                body, fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"]
            )
            fields = xmltodict.parse(plain)["xml"]
        return Answer(response.status_code, body, dict(fields), encrypted, seconds)

    def post(
        self,
        xml: str,
        *,
        mode: str = "plain",
        params: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> Answer:
        """One callback, synchronously."""
        query, body = self.request(xml, mode=mode, params=params)
        started = time.monotonic()
        response = httpx.post(
            self.url,
            params=query,
            content=body,
            headers={"Content-Type": "text/xml"},
            timeout=timeout,
        )
        return self.answer(response, started, mode)

    async def apost(
        self,
        client: httpx.AsyncClient,
        xml: str,
        *,
        mode: str = "plain",
        params: dict[str, str] | None = None,
    ) -> Answer:
        """One callback on an async client (retry storms, load)."""
        query, body = self.request(xml, mode=mode, params=params)
        started = time.monotonic()
        response = await client.post(
            self.url,
            params=query,
            content=body,
            headers={"Content-Type": "text/xml"},
            timeout=30,
        )
        return self.answer(response, started, mode)
