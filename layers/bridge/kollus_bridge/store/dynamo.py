"""Every aggregate's store over one table and one client: what most functions use."""

from __future__ import annotations

from .access_log import AccessLog
from .approvals import Approvals
from .catalog import Catalog
from .courses import Courses
from .deliveries import Deliveries
from .devices import Devices
from .flags import Flags
from .insight_rows import InsightRows
from .insights import Insights
from .lease import Lease
from .ledger import Ledger
from .lti import Lti
from .rejected import Rejected
from .rewrites import RecordRewrites
from .rosters import Rosters
from .rules import Rules
from .slots import Slots
from .snapshots import Snapshots
from .table import dynamodb_client


class DynamoStore(
    RecordRewrites,
    Flags,
    Snapshots,
    Rejected,
    Rules,
    Ledger,
    Deliveries,
    Lti,
    Lease,
    Catalog,
    Slots,
    Courses,
    Rosters,
    AccessLog,
    Devices,
    Approvals,
    Insights,
    InsightRows,
):
    """Every aggregate's store over one table and one client."""


def dynamo_store(table_name: str, rejected_ttl_days: int = 30) -> DynamoStore:
    """The store the functions use, on the process-wide client."""
    return DynamoStore(table_name, dynamodb_client(), rejected_ttl_days)


__all__ = ["DynamoStore", "dynamo_store"]
