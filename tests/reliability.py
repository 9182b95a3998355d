"""Figures the reliability suites measure (cases tried, faults injected, records lost), reported at
the end of the test session and, when `RELIABILITY_REPORT` names a file, written there as JSON
(`make bench` renders them into docs/benchmarks.md)."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

FIGURES: dict[str, Counter[str]] = {}


def record(suite: str, **figures: int) -> None:
    """Add to a suite's figures (they add up over the tests and examples of a session)."""
    FIGURES.setdefault(suite, Counter()).update(figures)


def missing_blocks(wanted: Mapping[int, frozenset[int]], found: Mapping[int, frozenset[int]]) -> int:
    """How many of `wanted`'s watched blocks (per grid) `found` lacks."""
    return sum(len(blocks - found.get(grid, frozenset())) for grid, blocks in wanted.items())


def describe(figures: Mapping[str, int]) -> str:
    """One suite's figures as a line of text (the terminal summary and docs/benchmarks.md use it)."""
    return ", ".join(f"{name.replace('_', ' ')} {value}" for name, value in figures.items())


def lines() -> list[str]:
    return [f"{suite}: {describe(figures)}" for suite, figures in sorted(FIGURES.items())]


def write() -> None:
    target = os.environ.get("RELIABILITY_REPORT")
    if target and FIGURES:
        Path(target).write_text(json.dumps({suite: dict(figures) for suite, figures in FIGURES.items()}, indent=2))
