"""Logger, metrics and tracer shared by the functions (further configured by POWERTOOLS_* variables)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
#: The CloudWatch namespace of every metric; the template's alarms name it too (a test holds them equal).
METRICS_NAMESPACE = "KollusLmsBridge"

metrics = Metrics(namespace=METRICS_NAMESPACE)
tracer = Tracer()
