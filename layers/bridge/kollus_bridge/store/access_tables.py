"""What the play and DRM callbacks store: courses and enrolments, devices, approvals, the access log
and refused payloads, and no other aggregate (their cold start imports no more)."""

from __future__ import annotations

from .access_log import AccessLog
from .approvals import Approvals
from .courses import Courses
from .devices import Devices
from .rejected import Rejected
from .table import dynamodb_client


class AccessTables(Courses, Devices, Approvals, AccessLog, Rejected):
    """The play function's aggregates over one table and one client."""


def access_store(table_name: str, rejected_ttl_days: int = 30) -> AccessTables:
    return AccessTables(table_name, dynamodb_client(), rejected_ttl_days)
