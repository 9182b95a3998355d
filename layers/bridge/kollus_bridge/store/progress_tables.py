"""What the LMS callback stores: progress records, flagged sessions, snapshots, refused payloads,
per-content rules, devices and approvals, and no other aggregate (its cold start imports no more)."""

from __future__ import annotations

from .approvals import Approvals
from .devices import Devices
from .flags import Flags
from .rejected import Rejected
from .rewrites import RecordRewrites
from .rules import Rules
from .snapshots import Snapshots
from .table import dynamodb_client


class ProgressTables(RecordRewrites, Flags, Snapshots, Rejected, Rules, Devices, Approvals):
    """The callback's aggregates over one table and one client."""


def progress_store(table_name: str, rejected_ttl_days: int = 30) -> ProgressTables:
    return ProgressTables(table_name, dynamodb_client(), rejected_ttl_days)
