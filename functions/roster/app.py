"""LTI rosters: the schedule asks for a sync of every course whose roster is due (`ROSTER_SYNC_MINUTES`);
DynamoDB Streams hand each asked-for roster (a course's first launch, `POST
/v1/courses/{id}/roster-sync`, the schedule, a read resumed) to a sync that makes the course's
enrolments match its context's membership service."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from kollus_bridge.observability import logger, metrics
from kollus_bridge.runtime.lti import roster_sync
from kollus_bridge.settings import get_settings
from kollus_bridge.store.changes import wanted_rosters
from kollus_bridge.store.dynamo import dynamo_store

#: X-Ray subsegments for this function's AWS calls.
tracer = Tracer()

settings = get_settings()
store = dynamo_store(settings.table_name, settings.rejected_ttl_days)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    sync = roster_sync(settings, store, context.get_remaining_time_in_millis)
    if "Records" not in event:  # the schedule
        asked = sync.ask_due(int(settings.roster_sync_minutes * 60_000))
        metrics.add_metric(name="RosterAsked", unit=MetricUnit.Count, value=len(asked))
        return {"asked": len(asked)}
    outcomes = sync.wanted(wanted_rosters(event))
    states = [outcome.state for outcome in outcomes]
    metrics.add_metric(name="RosterSynced", unit=MetricUnit.Count, value=states.count("synced"))
    metrics.add_metric(name="RosterFailures", unit=MetricUnit.Count, value=states.count("failed"))  # alarmed
    metrics.add_metric(name="RosterPaused", unit=MetricUnit.Count, value=states.count("paused"))
    metrics.add_metric(name="RosterNotOffered", unit=MetricUnit.Count, value=states.count("not_offered"))
    metrics.add_metric(name="RosterEnrolled", unit=MetricUnit.Count, value=sum(o.enrolled for o in outcomes))
    metrics.add_metric(name="RosterEnded", unit=MetricUnit.Count, value=sum(o.ended for o in outcomes))
    for outcome in outcomes:
        if outcome.error is not None:
            logger.warning("roster not synced", extra={"course_id": outcome.course_id, "error": outcome.error})
    summary = [vars(outcome) for outcome in outcomes]
    logger.info("rosters synced", extra={"outcomes": summary})
    return {"outcomes": summary}
