"""``GET/POST /wechat``: the Official Account's server URL (服务器地址).

GET answers WeChat's URL verification; POST takes messages in plain, compatible
and safe (AES) mode. Checks run before anything else happens, cheapest first:
signature and timestamp (403), body size (413), XML without DTD or entities
(400), safe-mode signature and decryption (403/400). A refused callback leaves
nothing behind: no CRM call, no state, and a log line without its content.
"""

from __future__ import annotations

import logging
import time

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from bot.channels.wechat.channel import WechatChannel
from bot.channels.wechat.messages import (
    SUCCESS,
    Refused,
    check_callback,
    classify,
    decrypt,
    encrypt_reply,
    parse_xml,
    reply_xml,
)

logger = logging.getLogger(__name__)
router = APIRouter()
PATH = "/wechat"


def _channel(request: Request) -> WechatChannel:
    # app.state.wechat is None while WECHAT_TOKEN is unset: the channel is off.
    channel = getattr(getattr(request.app.state, "wechat", None), "channel", None)
    if not isinstance(channel, WechatChannel):
        raise Refused(404, "WeChat channel not configured")
    return channel


def _check(request: Request, channel: WechatChannel) -> None:
    query = request.query_params
    check_callback(
        channel.config.token,
        signature=query.get("signature", ""),
        timestamp=query.get("timestamp", ""),
        nonce=query.get("nonce", ""),
        now=time.time(),
        max_skew=channel.config.max_skew_seconds,
    )


def _refused(exc: Refused) -> Response:
    if exc.status_code != 404:
        logger.info("WeChat callback refused (%s): %s", exc.status_code, exc.reason)
    return PlainTextResponse("", status_code=exc.status_code)


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refused(413, "body too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, "body too large")
        chunks.append(chunk)
    return b"".join(chunks)


@router.get(PATH, response_class=PlainTextResponse)
async def verify(request: Request) -> Response:
    """URL verification: echo ``echostr`` when the signature is WeChat's."""
    try:
        channel = _channel(request)
        _check(request, channel)
    except Refused as exc:
        return _refused(exc)
    return PlainTextResponse(request.query_params.get("echostr", ""))


@router.post(PATH)
async def callback(request: Request) -> Response:
    """One message or event; a passive reply, or ``success``."""
    arrived = time.monotonic()
    try:
        channel = _channel(request)
        _check(request, channel)
        body = await _body(request, channel.config.max_body_bytes)
        fields = parse_xml(body)
        query = request.query_params
        encrypted = query.get("encrypt_type", "raw").lower() == "aes"
        if encrypted:
            if channel.crypto is None:
                raise Refused(400, "safe mode message but WECHAT_AES_KEY unset")
            xml = decrypt(
                channel.crypto,
                fields,
                msg_signature=query.get("msg_signature", ""),
                timestamp=query.get("timestamp", ""),
                nonce=query.get("nonce", ""),
            )
            fields = parse_xml(xml.encode("utf-8"))
        else:
            xml = body.decode("utf-8", errors="replace")
        inbound = classify(xml, fields)
    except Refused as exc:
        return _refused(exc)
    try:
        text = await channel.handle(inbound, arrived=arrived)
    except Exception:  # answered anyway: a retry would meet the same bug
        logger.exception("WeChat callback failed")
        text = None
    if text is None:
        return PlainTextResponse(SUCCESS)
    now = int(time.time())
    reply = reply_xml(
        openid=inbound.openid, account=inbound.account, text=text, now=now
    )
    if encrypted and channel.crypto is not None:
        reply = encrypt_reply(
            channel.crypto, reply, nonce=request.query_params.get("nonce", ""), now=now
        )
    return Response(reply, media_type="application/xml")
