"""Storage: the only package that touches botocore. One table, one module per aggregate.

- `table`: the client, key encoding, the call wrapper and error mapping; `attributes`: typed values;
- `records` (progress records, with `record_items` for their item layout and `rewrites` for
  whole-record rewrites), `flags` (sessions credited less than they claimed), `snapshots` (each
  session's newest raw callback, deflated by `bodies`), `rejected` (refused payloads), `rules`
  (per-content rules), `catalog` (contents and their cards, laid out by `catalog_items`), `slots`
  (the VOD API's rate slot), `courses` (courses and enrolments, both ways), `rosters` (LTI courses'
  rosters and their reads), `devices` (a learner's playing devices), `approvals` (devices the play
  and DRM callbacks approved), `access_log` (play decisions), `insights` (computed learning
  analytics and the marks asking for them), `ledger` (the sync ledger on each record and catalog
  entry), `deliveries` (a record's deliveries to the targets beside the webhook, and how its learner
  came through LTI), `lti` (LTI platforms, logins and access tokens), `secrets` (Secrets Manager) and
  `lease` (the leases of runs that must not overlap);
- `pages`: opaque page tokens over DynamoDB's start keys.

The functions take a composition of them on one table: `dynamo.DynamoStore` (all of them), and for
the two functions Kollus waits on, only what they use, so that their cold start imports no other
aggregate: `progress_tables.ProgressTables` (the LMS callback) and `access_tables.AccessTables` (the
play and DRM callbacks). This module imports nothing.
"""
