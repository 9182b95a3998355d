"""`make run`: DynamoDB Local plus the HTTP API on 127.0.0.1, configured like the deployed functions.

Configuration comes from the same environment variables as the Lambda functions; anything unset
takes the template's value (parameters at their defaults, tables at their local names) or, for the
secrets that live in Secrets Manager in AWS, the documented local defaults below.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from .dynamodb_local import LOCAL_CREDENTIALS, DynamoDBLocal, DynamoDBLocalError, create_tables
from .http_api import BoundRoute, Handler, HandlerPool, LocalHttpApi, bind
from .template import Route, function_environment, load_handler_module, load_template, routes

#: Local stand-ins for what Secrets Manager holds in AWS. Never use them in a deployment.
LOCAL_DEFAULTS = {
    "KOLLUS_CALLBACK_TOKEN": "local-callback-token",
    "API_TOKEN": "local-api-token",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    **LOCAL_CREDENTIALS,
}


@dataclass
class Stack:
    database: DynamoDBLocal
    server: LocalHttpApi
    environment: dict[str, str]

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"


def configure(endpoint: str, tables: dict[str, str]) -> dict[str, str]:
    """Set the process environment for the functions; the caller's own variables win."""
    template = load_template()
    environment: dict[str, str] = {}
    for route in routes(template):
        environment.update(function_environment(template, route.function, tables))
    environment.update(LOCAL_DEFAULTS)
    environment["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    environment.update({key: value for key, value in os.environ.items() if key in environment})
    os.environ.update(environment)
    return environment


def _handler_factory(route: Route) -> Callable[[int], Handler]:
    def make(instance: int) -> Handler:
        handler: Handler = getattr(load_handler_module(route, instance=instance), route.handler.rpartition(".")[2])
        return handler

    return make


def bound_routes() -> list[BoundRoute]:
    """The template's routes, each function behind its own pool of execution environments.

    The first environment of each function is made now, so a broken function fails at start-up.
    """
    template_routes = routes(load_template())
    pools: dict[str, Handler] = {}
    for route in template_routes:
        if route.function not in pools:
            pools[route.function] = HandlerPool(_handler_factory(route), warm=1)
    return bind(template_routes, pools)


@contextmanager
def running_stack(port: int = 3000, dynamodb_port: int = 0, quiet: bool = False) -> Iterator[Stack]:
    """Start DynamoDB Local, create the tables, and serve the HTTP API in a background thread."""
    with DynamoDBLocal(port=dynamodb_port) as database:
        tables = create_tables(database.client())
        environment = configure(database.endpoint, tables)
        server = LocalHttpApi(("127.0.0.1", port), bound_routes(), quiet=quiet)
        thread = threading.Thread(target=server.serve_forever, name="http-api", daemon=True)
        thread.start()
        try:
            yield Stack(database, server, environment)
        finally:
            server.shutdown()
            server.server_close()


def _banner(stack: Stack) -> str:
    token = stack.environment["KOLLUS_CALLBACK_TOKEN"].split(",")[0]
    api_token = stack.environment["API_TOKEN"].split(",")[0]
    callback = f"{stack.url}/callbacks/kollus/{token}"
    return f"""
kollus-lms-bridge local stack
  DynamoDB Local : {stack.database.endpoint} (in memory, table {stack.environment.get("TABLE_NAME")})
  Callback URL   : {callback}
  Progress API   : {stack.url}/v1/progress?client_user_id=...&media_content_key=...  (Bearer {api_token})

Try it:
  curl -s -X POST '{callback}' \\
    --data-urlencode client_user_id=learner-1 --data-urlencode media_content_key=lecture-1 \\
    --data-urlencode start_at=1710395296 --data-urlencode block_cnt=4 --data-urlencode duration=240 \\
    --data-urlencode block_play_1=1 --data-urlencode block_time_1=60
  curl -s -H 'Authorization: Bearer {api_token}' \\
    '{stack.url}/v1/progress?client_user_id=learner-1&media_content_key=lecture-1'

Ctrl-C stops everything.
"""


def main() -> int:
    port = int(os.environ.get("PORT", "3000"))
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        with running_stack(port=port, dynamodb_port=int(os.environ.get("DYNAMODB_PORT", "0"))) as stack:
            print(_banner(stack), flush=True)
            stop.wait()
            print("stopping...", flush=True)
    except (OSError, DynamoDBLocalError) as error:
        print(f"cannot start the local stack: {error}", file=sys.stderr)
        return 1
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
