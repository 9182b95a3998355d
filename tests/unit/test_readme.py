"""The README's webhook verification snippet accepts what the bridge sends, and nothing else; the
README names every route and setting."""

from __future__ import annotations

import re
import time
from typing import Any

from kollus_bridge.delivery import webhooks
from kollus_bridge.settings import SETTING_NAMES

from local.template import ROOT, load_template, routes

README = ROOT / "README.md"


def readme_verify() -> Any:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```python\n(import base64, hashlib, hmac, time\n.*?)```", readme, re.DOTALL)
    assert match, "the verification snippet is gone from the README"
    namespace: dict[str, Any] = {}
    exec(match.group(1), namespace)
    return namespace["verify"]


def test_readme_snippet_verifies_our_webhooks() -> None:
    verify = readme_verify()
    secret, other = "whsec_a29sbHVzLWxtcy1icmlkZ2UtbG9jYWwtc2VjcmV0ISE=", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"type":"progress.completed","data":{}}'
    sent = webhooks.headers([other, secret], "msg_abc", int(time.time()), body)
    assert verify(secret, sent, body)
    assert verify(other, sent, body)
    assert not verify(secret, sent, body + b" ")
    assert not verify(secret, {**sent, "webhook-timestamp": str(int(time.time()) - 3600)}, body)


def test_the_readme_names_every_route_and_setting() -> None:
    readme = README.read_text(encoding="utf-8")
    missing = [route.route_key for route in routes(load_template()) if route.path not in readme]
    missing += [name.upper() for name in SETTING_NAMES if name.upper() not in readme]
    assert missing == []
