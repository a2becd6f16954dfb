"""The customer's chat page, the embeddable widget script and the chat history API."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates

from bot.channels.web import CHANNEL, valid_session_id
from bot.crm_client import CrmRefused, CrmUnavailable
from bot.messages import to_socketio
from bot.relay import Relay

logger = logging.getLogger(__name__)

WEB = Path(__file__).resolve().parent / "web"
STATIC = WEB / "static"
VENDOR = WEB / "node_modules" / "socket.io-client" / "dist"
templates = Jinja2Templates(directory=WEB / "templates")
router = APIRouter()
NO_CACHE = {"Cache-Control": "no-cache"}


@router.get("/chat", response_class=HTMLResponse)
def chat_page(request: Request, embed: bool = False) -> HTMLResponse:
    """The web chat (安顺人寿 在线客服); ``?embed=1`` inside the widget's frame."""
    return templates.TemplateResponse(
        request, "chat.html", {"embed": embed}, headers=NO_CACHE
    )


@router.get("/widget.js")
def widget_script() -> FileResponse:
    """The snippet's script: a floating button that opens the chat in a frame."""
    return FileResponse(
        STATIC / "widget.js", media_type="text/javascript", headers=NO_CACHE
    )


@router.get("/widget-demo", response_class=HTMLResponse)
def widget_demo(request: Request) -> HTMLResponse:
    """A host page that embeds the widget with the one-line snippet."""
    return templates.TemplateResponse(request, "widget_demo.html", {})


@router.get("/api/history", response_model=None)
async def history(
    request: Request, session_id: Annotated[str, Query(max_length=64)]
) -> Any:
    """The session's open conversation: status and messages the customer may see."""
    if valid_session_id(session_id) is None:
        raise HTTPException(status_code=422, detail="invalid session_id")
    relay: Relay = request.app.state.relay
    try:
        found = await relay.history(channel=CHANNEL, external_id=session_id)
    except (CrmUnavailable, CrmRefused) as exc:
        logger.warning("history unavailable: %s", exc)
        return JSONResponse(
            {"error": {"code": "crm_unavailable", "message": "暂时无法加载聊天记录"}},
            status_code=503,
        )
    return {
        "session_id": session_id,
        "status": found["status"],
        "messages": [to_socketio(message) for message in found["messages"]],
    }


def vendor_ready() -> bool:
    """Whether ``npm ci`` has put socket.io-client where the page loads it from."""
    return (VENDOR / "socket.io.min.js").is_file()
