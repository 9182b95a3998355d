"""The README is the front door and docs/ the reference: the webhook verification snippet accepts what
the bridge sends and nothing else; the reference names every route and setting; every `make` target,
route and port the README names exists, every relative link in the README and docs/ resolves, and the
monthly cost table is the one the benchmark's figures give."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from kollus_bridge.delivery import webhooks
from kollus_bridge.settings import SETTING_NAMES

from local import stack
from local.bench import monthly
from local.template import ROOT, load_template, routes

README = ROOT / "README.md"
DOCS = ROOT / "docs"
#: The front door stays short; the reference lives in docs/.
README_MAX_LINES = 250


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def readme_verify() -> Any:
    match = re.search(r"```python\n(import base64, hashlib, hmac, time\n.*?)```", text(DOCS / "webhooks.md"), re.DOTALL)
    assert match, "the verification snippet is gone from docs/webhooks.md"
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


def test_the_reference_names_every_route_and_setting() -> None:
    api, configuration = text(DOCS / "api.md"), text(DOCS / "configuration.md")
    missing = [route.route_key for route in routes(load_template()) if route.path not in api]
    missing += [name.upper() for name in SETTING_NAMES if name.upper() not in configuration]
    assert missing == []


def test_the_readme_is_a_front_door() -> None:
    lines = text(README).splitlines()
    assert len(lines) <= README_MAX_LINES
    for section in ("## Quickstart", "## Integrating your LMS", "## The Kollus console", "## Deploy",
                    "## What it costs", "## Teardown", "```mermaid"):  # fmt: skip
        assert section in lines, section


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z0-9-]*):", text(ROOT / "Makefile"), re.MULTILINE))


def test_every_make_target_named_exists() -> None:
    named = set()
    for path in (README, *DOCS.glob("*.md")):
        named |= set(re.findall(r"(?:`|^)make ([a-z][a-z0-9-]*)\b", text(path), re.MULTILINE))
    assert named, "the README names no make target"
    assert named - make_targets() == set()


def test_every_route_the_readme_names_exists() -> None:
    known = {(route.method, route.path) for route in routes(load_template())}
    named = set(re.findall(r"\b(GET|POST|PUT|PATCH|DELETE) (/[^\s`?),]*)", text(README)))
    assert len(named) >= 8
    assert named - known == set()
    lti = set(re.findall(r"https://<api>(/[^\s`]*)", text(README)))
    assert lti and lti - {path for _, path in known} == set()


def test_every_port_the_readme_names_is_the_local_stacks() -> None:
    ports = {int(port) for port in re.findall(r"(?:127\.0\.0\.1:|port )(\d{4})", text(README))}
    defaults = {stack.API_PORT, stack.LMS_RECEIVER_PORT, stack.KOLLUS_API_PORT, stack.LTI_PLATFORM_PORT, stack.LRS_PORT}
    assert ports == defaults


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown file."""
    found, fenced = set(), False
    for line in text(path).splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (heading := re.match(r"#{1,6} (.*)", line)):
            found.add(re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-"))
    return found


def test_every_relative_link_resolves() -> None:
    broken = []
    for page in (README, *DOCS.glob("*.md")):
        for target in re.findall(r"\]\(([^)\s]+)\)", text(page)):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            linked = (page.parent / file).resolve() if file else page
            if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in anchors(linked)):
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert broken == []


def test_make_test_runs_every_test_directory() -> None:
    makefile = text(ROOT / "Makefile")
    stacks = re.search(r"^STACK_SUITES = (.+)$", makefile, re.MULTILINE)
    storage = re.search(r"^STORAGE_SUITES = (.+)$", makefile, re.MULTILINE)
    assert stacks and storage and "-n auto tests/unit tests/handler" in makefile
    assert "$(PY) -m pytest $(STACK_SUITES)" in makefile and "$(PY) -m pytest $(STORAGE_SUITES)" in makefile
    run = {"tests/unit", "tests/handler", *stacks.group(1).split(), *storage.group(1).split()}
    suites = {str(path.parent.relative_to(ROOT)) for path in (ROOT / "tests").glob("*/test_*.py")}
    assert suites == run


def test_the_monthly_cost_is_the_benchmarks() -> None:
    shown = re.search(r"<!-- monthly-cost -->\n(.*?)\n<!-- /monthly-cost -->", text(README), re.DOTALL)
    assert shown, "the monthly cost table is gone from the README"
    measured = monthly.measured_per_million(), monthly.fixed_resources(), monthly.measured_sessions_per_gb_second()
    assert shown.group(1) == monthly.table(*measured)


def test_the_exports_cost_is_the_benchmarks() -> None:
    shown = re.search(r"<!-- exports-cost -->\n(.*?)\n<!-- /exports-cost -->", text(DOCS / "exports.md"), re.DOTALL)
    assert shown, "the exports' cost table is gone from docs/exports.md"
    rate = monthly.measured_sessions_per_gb_second()
    assert shown.group(1) == monthly.exports_table(rate)
    assert "| 100,000 |" in shown.group(1) and monthly.exports(100_000, rate) == sum(
        monthly.export_parts(100_000, rate).values()
    )


def test_the_monthly_cost_grows_with_the_learners() -> None:
    resources = monthly.fixed_resources()
    assert resources["AWS::SecretsManager::Secret"] > 0 and resources["AWS::CloudWatch::Alarm"] > 0
    small, large = (monthly.monthly(learners, 2.48, resources, 600.0) for learners in (1_000, 100_000))
    assert large["callbacks"] == 173.6 and small["callbacks"] == 1.74  # 700 callbacks a learner at $2.48/M
    assert large["fixed"] == small["fixed"]
    # 100,000 learners, 7.6 GB of table, 6 M sessions at 600 a GB-second: full exports $22.89, incremental
    # $26.70 (267 GB of changes), Lambda $8.80, S3 $0.81, Athena $0.78; 1,000: the incremental minimum dominates
    assert large["exports"] == 59.98 and small["exports"] == 1.05
