"""Logger, metrics and tracer shared by the functions (Powertools; configured by POWERTOOLS_* variables)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
metrics = Metrics(namespace="KollusLmsBridge")
tracer = Tracer()
