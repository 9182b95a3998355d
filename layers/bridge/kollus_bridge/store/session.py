"""One botocore session per process. Its clients share what it loads once (the endpoint tables, the
retry rules, the service models), so a function that also reads a secret does not load them twice."""

from __future__ import annotations

from functools import cache

from botocore.session import Session, get_session

#: The AWS services the bridge calls: storage, secrets, the exports' bucket and queue (S3, SQS), and
#: X-Ray's sampling rules (the SDK that the functions off the request path trace with asks for them).
#: The layer's build keeps only their botocore models (layers/bridge/prune_botocore.py); a test fails
#: on a client the code makes for any other.
SERVICES = ("dynamodb", "secretsmanager", "xray", "s3", "sqs")


@cache
def aws_session() -> Session:
    return get_session()
