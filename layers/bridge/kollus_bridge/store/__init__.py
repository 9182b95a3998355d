"""Storage: the only package that touches boto3. One table, one module per aggregate.

- `table`: the client, key encoding, the call wrapper and error mapping;
- `records` (progress records, with `record_items` for their item layout and `rewrites` for
  whole-record rewrites), `flags` (sessions
  credited less than they claimed), `snapshots` (each session's newest raw callback, deflated by
  `bodies`), `rejected` (refused payloads), `rules`
  (per-content rules), `catalog` (contents and their cards, laid out by `catalog_items`), `slots`
  (the VOD API's rate slot), `courses` (courses and enrolments, both ways), `rosters` (LTI courses'
  rosters and their reads), `devices` (a learner's
  playing devices), `approvals` (devices the play and DRM callbacks approved), `access_log` (play
  decisions), `insights` (computed learning analytics and the marks asking for them), `ledger` (the
  sync ledger on each record and catalog entry), `deliveries` (a record's deliveries to the targets
  beside the webhook, and how its learner came through LTI), `lti` (LTI platforms, logins and access
  tokens), `secrets` (the tool's keys in Secrets Manager) and `lease` (the leases of runs that must
  not overlap);
- `pages`: opaque page tokens over DynamoDB's start keys.

`DynamoStore` is all of them on one table, which is what the functions use.
"""

from __future__ import annotations

from .access_log import AccessLog
from .approvals import Approvals
from .catalog import Catalog
from .courses import Courses
from .deliveries import Deliveries
from .devices import Devices
from .flags import Flags
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
):
    """Every aggregate's store over one table and one client."""


def dynamo_store(table_name: str, rejected_ttl_days: int = 30) -> DynamoStore:
    """The store the functions use, on the process-wide client."""
    return DynamoStore(table_name, dynamodb_client(), rejected_ttl_days)


__all__ = ["DynamoStore", "dynamo_store"]
