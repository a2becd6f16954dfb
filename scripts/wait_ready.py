"""Waits until every process of ``make run`` answers, prints the URLs, then idles.

It stays alive afterwards because honcho stops all processes when one exits.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request

CRM = f"http://127.0.0.1:{os.environ.get('CRM_PORT', '8000')}"
RASA = f"http://127.0.0.1:{os.environ.get('RASA_PORT', '5005')}"
ACTIONS = f"http://127.0.0.1:{os.environ.get('ACTIONS_PORT', '5055')}"
GATEWAY = f"http://127.0.0.1:{os.environ.get('GATEWAY_PORT', '8001')}"
TOKEN = os.environ.get("RASA_TOKEN", "dev-rasa-token")
CHECKS = {
    "crm": f"{CRM}/health",
    "actions": f"{ACTIONS}/health",
    "rasa": f"{RASA}/status?token={TOKEN}",
    "gateway": f"{GATEWAY}/health",
}
# Ours name themselves on /health: a stranger on the port is not "up".
NAMED = frozenset({"crm", "gateway"})


def _up(name: str, url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            if not 200 <= resp.status < 300:
                return False
            if name not in NAMED:
                return True
            body = json.loads(resp.read() or b"{}")
    except (urllib.error.URLError, OSError, ValueError):
        return False
    if body.get("service") != name:
        print(f"{name}: another server answers on {url}", file=sys.stderr, flush=True)
        return False
    return True


def main() -> None:
    """Poll, report, idle."""
    deadline = time.monotonic() + float(os.environ.get("READY_TIMEOUT", "600"))
    pending = dict(CHECKS)
    while pending and time.monotonic() < deadline:
        for name, url in list(pending.items()):
            if _up(name, url):
                print(f"{name} is up", flush=True)
                del pending[name]
        time.sleep(1)
    if pending:
        print(f"not ready: {', '.join(pending)}", file=sys.stderr, flush=True)
        sys.exit(1)
    print(
        "\n".join(
            [
                "",
                "All services are up:",
                f"  Customer web chat:        {GATEWAY}/chat",
                f"  Widget on a host page:    {GATEWAY}/widget-demo",
                "  Widget snippet for any page:",
                f'    <script src="{GATEWAY}/widget.js" async></script>',
                f"  Gateway REST (Rasa shape): {GATEWAY}/webhooks/rest/webhook",
                f"  Agent console:            {CRM}/console/",
                f"  Supervisor board:         {CRM}/console/supervisor",
                f"  CRM API docs (OpenAPI):   {CRM}/docs",
                f"  CRM health:               {CRM}/health",
                f"  Rasa REST channel:        {RASA}/webhooks/rest/webhook",
                f"  Rasa HTTP API (token):    {RASA}/status?token=<RASA_TOKEN>",
                f"  Action server:            {ACTIONS}/health",
                "  Demo agents log in with employee number + password demo1234",
                "    (KN1042 李娜 serves 张伟; KN1031 曹丽华 is a supervisor)",
                "Press Ctrl-C to stop everything.",
                "",
            ]
        ),
        flush=True,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
