"""Per-content rules: what is accepted, and how long a function reuses them."""

from __future__ import annotations

import pytest
from kollus_bridge.api.service import RulesInput
from kollus_bridge.progress.rules import ContentRules, RulesCache
from pydantic import ValidationError


@pytest.mark.parametrize(
    "body",
    [{"completion_threshold": 1, "min_block_watch_ratio": 0}, {"completion_threshold": 100, "min_block_watch_ratio": 1},
     {"completion_threshold": 66.67, "min_block_watch_ratio": 0.25}],
)  # fmt: skip
def test_valid_rules(body: dict[str, float]) -> None:
    rules = RulesInput.model_validate(body)
    assert (rules.completion_threshold, rules.min_block_watch_ratio) == (
        body["completion_threshold"],
        body["min_block_watch_ratio"],
    )


@pytest.mark.parametrize(
    "body",
    [
        {"completion_threshold": 0, "min_block_watch_ratio": 0.5},
        {"completion_threshold": 100.5, "min_block_watch_ratio": 0.5},
        {"completion_threshold": 90, "min_block_watch_ratio": -0.1},
        {"completion_threshold": 90, "min_block_watch_ratio": 1.01},
        {"completion_threshold": 90},
        {"completion_threshold": "ninety", "min_block_watch_ratio": 0.5},
        {"completion_threshold": 90, "min_block_watch_ratio": 0.5, "unknown": 1},
    ],
)
def test_invalid_rules(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        RulesInput.model_validate(body)


def test_the_cache_reuses_rules_until_they_expire_or_are_forgotten() -> None:
    loads: list[str] = []
    now = [0.0]

    def load(key: str) -> ContentRules:
        loads.append(key)
        return ContentRules(90, 0.5)

    cache = RulesCache(load, ttl=60, clock=lambda: now[0])
    cache.get("a")
    cache.get("a")
    cache.get("b")
    assert loads == ["a", "b"]
    now[0] = 61
    cache.get("a")
    cache.forget("b")
    cache.get("b")
    assert loads == ["a", "b", "a", "b"]
