"""Logger and metrics shared by the functions (further configured by POWERTOOLS_* variables).

The X-Ray tracer is not here: importing its SDK costs more than boto3 does, so only the functions off
the hot path (API, sync) create one; the callback function is traced by Lambda's active tracing alone.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
#: The CloudWatch namespace of every metric; the template's alarms name it too (a test holds them equal).
METRICS_NAMESPACE = "KollusLmsBridge"

metrics = Metrics(namespace=METRICS_NAMESPACE)
