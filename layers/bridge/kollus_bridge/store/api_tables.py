"""What the API's core routes store: progress records, flags, snapshots, refused payloads, rules, the
ledger and other targets' deliveries, the catalog and the VOD API's slots, courses and enrolments,
devices, approvals and the access log. The route groups made on first use (courses, LTI, analytics,
view links) store through the whole store (`store.dynamo`), so a cold start imports no roster, LTI or
insights aggregate until a request needs one."""

from __future__ import annotations

from .access_log import AccessLog
from .approvals import Approvals
from .catalog import Catalog
from .courses import Courses
from .deliveries import Deliveries
from .devices import Devices
from .flags import Flags
from .ledger import Ledger
from .rejected import Rejected
from .rewrites import RecordRewrites
from .rules import Rules
from .slots import Slots
from .snapshots import Snapshots
from .table import dynamodb_client


class ApiTables(
    RecordRewrites, Flags, Snapshots, Rejected, Rules, Ledger, Deliveries, Catalog, Slots, Courses, AccessLog, Devices,
    Approvals,
):  # fmt: skip
    """The API core's aggregates over one table and one client."""


def api_store(table_name: str, rejected_ttl_days: int = 30) -> ApiTables:
    return ApiTables(table_name, dynamodb_client(), rejected_ttl_days)
