"""`make run`: DynamoDB Local, the HTTP API, the stream delivery, the scheduled sync and reconciliation,
a local LMS and a stand-in for the Kollus VOD API, on 127.0.0.1.

Configuration comes from the same environment variables as the Lambda functions; anything unset
takes the template's value (parameters at their defaults, tables at their local names) or, for the
secrets that live in Secrets Manager in AWS, the documented local defaults below.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from kollus_bridge.analytics.links import View, sign_view
from kollus_bridge.lti.keys import ToolKeys, new_key
from kollus_bridge.lti.platforms import Platform
from kollus_bridge.settings import DOORS, SETTING_NAMES, get_settings
from kollus_bridge.store.dynamo import DynamoStore

from .dynamodb_local import LOCAL_CREDENTIALS, DynamoDBLocal, DynamoDBLocalError, create_tables
from .http_api import BoundRoute, Handler, HandlerPool, LambdaContext, LocalHttpApi, bind
from .kollus_vod import LOCAL_TOKEN, KollusVod
from .lms_receiver import LmsReceiver
from .lrs import Lrs
from .lti_platform import LtiPlatform
from .streams import StreamPoller
from .template import (
    ROOT,
    Route,
    ScheduledFunction,
    function_environment,
    load_handler_module,
    load_template,
    routes,
    scheduled_functions,
    stream_functions,
)

#: Local stand-ins for what Secrets Manager holds in AWS. Never use them in a deployment.
LOCAL_DEFAULTS = {
    "KOLLUS_CALLBACK_TOKEN": "local-callback-token",
    "KOLLUS_PLAY_CALLBACK_TOKEN": "local-play-token",
    "KOLLUS_DRM_CALLBACK_TOKEN": "local-drm-token",
    "KOLLUS_PLATFORM_CALLBACK_TOKEN": "local-platform-token",
    "API_TOKEN": "local-api-token",
    "LMS_WEBHOOK_SECRET": "whsec_a29sbHVzLWxtcy1icmlkZ2UtbG9jYWwtc2VjcmV0ISE=",
    "KOLLUS_SECURITY_KEY": "local-kollus-security-key-not-for-production",
    "KOLLUS_CUSTOM_KEY": "local-kollus-custom-key",
    "PLAYBACK_NONCE_KEY": "local-playback-nonce-key",
    "VIEW_LINK_KEY": "local-view-link-key",
    "KOLLUS_API_TOKEN": LOCAL_TOKEN,
    "KOLLUS_CHANNEL_KEY": "lectures",
    # A key made for this process (the local stack's tool keys; AWS keeps them in Secrets Manager).
    "LTI_TOOL_KEYS": ToolKeys((new_key(),)).text(),
    # The simulated classes replay hours of viewing in seconds: the playback clock would credit them
    # almost nothing. `ENFORCE_PLAYBACK_CLOCK=true make run` turns it on, as in AWS.
    "ENFORCE_PLAYBACK_CLOCK": "false",
    # The local LMS's roster changes are seen within a minute (AWS: every hour, by default).
    "ROSTER_SYNC_MINUTES": "1",
    # Every stand-in (Kollus, the LMS receiver, the LTI platform, the LRS) listens on 127.0.0.1.
    "ALLOW_PRIVATE_TARGETS": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    **LOCAL_CREDENTIALS,
}
API_PORT = 3000
LMS_RECEIVER_PORT = 3100
KOLLUS_API_PORT = 3200
LTI_PLATFORM_PORT = 3300
LRS_PORT = 3400
#: The platform id the local LTI platform is registered under.
LOCAL_PLATFORM = "local"
SCHEDULED_EVENT = ROOT / "events" / "sync" / "scheduled.json"


@dataclass
class Stack:
    database: DynamoDBLocal
    server: LocalHttpApi
    environment: dict[str, str]
    receiver: LmsReceiver | None
    scheduler: Scheduler
    streams: list[StreamPoller]
    kollus: KollusVod | None = None
    platform: LtiPlatform | None = None
    lrs: Lrs | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"


def local_environment(tables: dict[str, str]) -> dict[str, str]:
    """The functions' environment as in AWS (from the template), with local stand-ins for secrets."""
    template = load_template()
    environment: dict[str, str] = {}
    functions = {route.function for route in routes(template)}
    functions |= {job.function for job in scheduled_functions(template)}
    functions |= {job.function for job in stream_functions(template)}
    for function in sorted(functions):
        environment.update(function_environment(template, function, tables))
    environment.update(LOCAL_DEFAULTS)
    return environment


def configure(
    endpoint: str,
    tables: dict[str, str],
    lms_url: str | None,
    kollus_api_url: str | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """Set the process environment for the functions; the caller's own variables win."""
    environment = local_environment(tables)
    environment.update(extra or {})
    environment["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    if lms_url:
        environment["LMS_WEBHOOK_URL"] = lms_url
    if kollus_api_url:
        environment["KOLLUS_API_URL"] = kollus_api_url
    environment.update(
        {key: value for key, value in os.environ.items() if key in environment or key.lower() in SETTING_NAMES}
    )
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


class Scheduler:
    """Runs the template's scheduled functions every `interval` seconds, as EventBridge Scheduler would."""

    def __init__(self, functions: list[ScheduledFunction], interval: float, quiet: bool = False) -> None:
        self.interval = interval
        self.quiet = quiet
        self.event: dict[str, Any] = json.loads(SCHEDULED_EVENT.read_text(encoding="utf-8"))
        self.jobs = [
            (function, getattr(load_handler_module(function), function.handler.rpartition(".")[2]))
            for function in functions
        ]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)

    def run_once(self) -> list[Any]:
        results = []
        for function, handler in self.jobs:
            try:
                results.append(handler(self.event, LambdaContext(function.function, function.timeout_seconds)))
            except Exception as error:  # a failed run is logged; the next one tries again, as in AWS
                print(f"{function.function} failed: {error!r}", file=sys.stderr, flush=True)
                results.append(error)
        if not self.quiet:
            for (function, _), result in zip(self.jobs, results, strict=True):
                changed = ("delivered", "retried", "failed", "refreshed", "attached", "repaired", "added", "deleted")
                if isinstance(result, dict) and any(result.get(key) for key in changed):
                    print(f"{function.function}: {json.dumps(result)}", flush=True)
        return results

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.run_once()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=60)


@contextmanager
def running_stack(port: int = 3000, dynamodb_port: int = 0, quiet: bool = False) -> Iterator[Stack]:
    """Start DynamoDB Local, the tables, the HTTP API, a local LMS (unless LMS_WEBHOOK_URL is set)
    the stream delivery and the scheduled sync; everything stops when the block ends."""
    with ExitStack() as cleanup:
        database = cleanup.enter_context(DynamoDBLocal(port=dynamodb_port))
        tables = create_tables(database.client())
        receiver = None
        if not os.environ.get("LMS_WEBHOOK_URL"):
            secret = os.environ.get("LMS_WEBHOOK_SECRET", LOCAL_DEFAULTS["LMS_WEBHOOK_SECRET"])
            receiver_port = int(os.environ.get("LMS_RECEIVER_PORT", str(LMS_RECEIVER_PORT)))
            receiver = LmsReceiver(("127.0.0.1", receiver_port), [s.strip() for s in secret.split(",")], quiet=quiet)
            threading.Thread(target=receiver.serve_forever, name="lms-receiver", daemon=True).start()
            cleanup.callback(receiver.server_close)
            cleanup.callback(receiver.shutdown)
        kollus = None
        if not os.environ.get("KOLLUS_API_URL"):
            kollus_port = int(os.environ.get("KOLLUS_API_PORT", str(KOLLUS_API_PORT)))
            kollus = KollusVod(("127.0.0.1", kollus_port), quiet=quiet)
            threading.Thread(target=kollus.serve_forever, name="kollus-vod", daemon=True).start()
            cleanup.callback(kollus.server_close)
            cleanup.callback(kollus.shutdown)
        lrs = None
        extra: dict[str, str] = {}
        if not os.environ.get("XAPI_LRS_URL"):
            lrs = cleanup.enter_context(Lrs(port=int(os.environ.get("LRS_PORT", str(LRS_PORT)))))
            extra = {"XAPI_LRS_URL": lrs.url, "XAPI_LRS_AUTH": lrs.auth, "XAPI_ACTOR_HOMEPAGE": "http://127.0.0.1"}
        lms_url = receiver.url if receiver else None
        environment = configure(database.endpoint, tables, lms_url, kollus.api_url if kollus else None, extra)
        server = LocalHttpApi(("127.0.0.1", port), bound_routes(), quiet=quiet)
        threading.Thread(target=server.serve_forever, name="http-api", daemon=True).start()
        cleanup.callback(server.server_close)
        cleanup.callback(server.shutdown)
        if kollus is not None:
            host, bound = server.server_address[:2]
            kollus.callback_url = door_url(f"http://{host!s}:{bound}", environment, "platform")
        platform = _start_platform(server, database, tables, quiet)
        cleanup.callback(platform.server_close)
        cleanup.callback(platform.shutdown)
        get_settings.cache_clear()  # the environment was just set: validate it as the functions will
        scheduler = Scheduler(scheduled_functions(load_template()), get_settings().sync_interval_seconds, quiet=quiet)
        scheduler.start()
        cleanup.callback(scheduler.stop)
        streams = []
        for function in stream_functions(load_template()):
            poller = StreamPoller(
                function, tables[function.table], database.client(), database.client("dynamodbstreams")
            )
            poller.start()
            cleanup.callback(poller.stop)
            streams.append(poller)
        yield Stack(database, server, environment, receiver, scheduler, streams, kollus, platform, lrs)


def _start_platform(server: LocalHttpApi, database: DynamoDBLocal, tables: dict[str, str], quiet: bool) -> LtiPlatform:
    """An LTI platform (lti1p3platform) that launches the bridge, registered as `local`."""
    host, bound = server.server_address[:2]
    port = int(os.environ.get("LTI_PLATFORM_PORT", str(LTI_PLATFORM_PORT)))
    platform = LtiPlatform(("127.0.0.1", port), f"http://{host!s}:{bound}", quiet=quiet)
    threading.Thread(target=platform.serve_forever, name="lti-platform", daemon=True).start()
    body = platform.registration_body()
    store = DynamoStore(tables["ProgressTable"], database.client())
    store.put_platform(
        Platform(
            LOCAL_PLATFORM,
            body["issuer"],
            body["client_id"],
            body["auth_login_url"],
            body["token_url"],
            body["jwks_url"],
            tuple(body["deployment_ids"]),
            int(time.time() * 1000),
            allow_unlisted_contents=body["allow_unlisted_contents"],
        )
    )
    return platform


def door_url(base: str, environment: Mapping[str, str], door: str) -> str:
    """The URL of one callback door, with the first of its own tokens."""
    token = environment[DOORS[door][0].upper()].split(",")[0]
    return f"{base}/callbacks/kollus/{token}" + ("" if door == "callback" else f"/{door}")


def _banner(stack: Stack) -> str:
    api_token = stack.environment["API_TOKEN"].split(",")[0]
    callback = door_url(stack.url, stack.environment, "callback")
    lms = stack.environment.get("LMS_WEBHOOK_URL")
    receiver = " (local receiver: verifies signatures, prints completions)" if stack.receiver else ""
    kollus = stack.kollus.api_url if stack.kollus else stack.environment.get("KOLLUS_API_URL")
    return f"""
kollus-lms-bridge local stack
  DynamoDB Local : {stack.database.endpoint} (in memory, table {stack.environment.get("TABLE_NAME")})
  Callback URL   : {callback}
  Progress API   : {stack.url}/v1/progress?client_user_id=...&media_content_key=...  (Bearer {api_token})
  Sync ledger    : {stack.url}/v1/sync?state=failed
  LMS webhooks   : {lms}{receiver}
                   at once from the table's stream; the sweep retries every {stack.scheduler.interval:g} s

Try it (four blocks of 60 s; the completion reaches the LMS within a second):
  curl -s -X POST '{callback}' \\
    --data-urlencode client_user_id=learner-1 --data-urlencode media_content_key=lecture-1 \\
    --data-urlencode start_at=1710395296 --data-urlencode block_cnt=4 --data-urlencode duration=240 \\
    --data-urlencode block_play_1=1 --data-urlencode block_time_1=60 \\
    --data-urlencode block_play_2=1 --data-urlencode block_time_2=60 \\
    --data-urlencode block_play_3=1 --data-urlencode block_time_3=60 \\
    --data-urlencode block_play_4=1 --data-urlencode block_time_4=60
  curl -s -H 'Authorization: Bearer {api_token}' \\
    '{stack.url}/v1/progress?client_user_id=learner-1&media_content_key=lecture-1'

A forgery (one block standing for the whole lecture: judged on lecture-1's 4-block grid, credited nothing):
  curl -s -X POST '{callback}' \\
    --data-urlencode client_user_id=learner-2 --data-urlencode media_content_key=lecture-1 \\
    --data-urlencode start_at=1710395296 --data-urlencode block_cnt=1 --data-urlencode block_play_1=1
  curl -s -H 'Authorization: Bearer {api_token}' '{stack.url}/v1/progress/flags?media_content_key=lecture-1'
  (playback clock {_clock(stack)})

Content management (a stand-in Kollus at {kollus}; its platform callbacks go to
  {door_url(stack.url, stack.environment, "platform")}, a door with a token of its own):
  curl -s -X POST -H 'Authorization: Bearer {api_token}' -H 'content-type: application/json' \\
    -d '{{"title": "Week 3: Recursion", "uploaded_by": "teacher-12"}}' {stack.url}/v1/uploads
  curl -s -F upload-file=@README.md <upload_url from the answer>
  curl -s -H 'Authorization: Bearer {api_token}' '{stack.url}/v1/contents?status=ready'
  (within a sweep interval the content is ready in a channel, and the LMS receiver prints content.ready)

Play callback (the player asks before it plays; courses and enrolments decide):
  curl -s -X PUT -H 'Authorization: Bearer {api_token}' -H 'content-type: application/json' \\
    -d '{{"title": "Algorithms", "media_content_keys": ["lecture-1"]}}' {stack.url}/v1/courses/algo-101
  curl -s -X PUT -H 'Authorization: Bearer {api_token}' -H 'content-type: application/json' \\
    -d '{{"enrollments": [{{"client_user_id": "learner-1"}}]}}' {stack.url}/v1/courses/algo-101/enrollments
  curl -s -X POST '{door_url(stack.url, stack.environment, "play")}' \\
    -d kind=1 -d client_user_id=learner-1 -d media_content_key=lecture-1
  (the answer is the JWT Kollus expects; GET /v1/access-log?client_user_id=learner-1 lists the decision)
  .venv/bin/python -m local.player --url {stack.url} learner-1 lecture-1 --speed 2
  (a simulated player: gets a playback URL, asks the play callback, then plays and reports progress)

Learning analytics (`make demo` in another terminal plays a class of simulated learners into it):
  {_demo_link(stack)}
  curl -s -H 'Authorization: Bearer {api_token}' '{stack.url}/v1/analytics/contents/demo-lecture?course=demo-course'
  (POST /v1/view-links makes such links; the first ask answers 202 while the figures are computed)

Learning data in SQL (the table exported as DynamoDB exports it, then the Parquet datasets):
  {_port_prefix(stack)}make export && make sql Q=reports/completion_by_course.sql
  (exports/datasets/<dataset>/; every report in reports/, `make athena Q=…` prints one for Athena)

{_standards(stack)}
Ctrl-C stops everything.
"""


def _port_prefix(stack: Stack) -> str:
    """What `make export` needs to find a stack on another port than the default's."""
    port = stack.url.rsplit(":", 1)[-1].rstrip("/")
    return "" if port == "3000" else f"PORT={port} "


def _clock(stack: Stack) -> str:
    if stack.environment.get("ENFORCE_PLAYBACK_CLOCK", "true").lower() in ("false", "0", "no", "off"):
        return "off, so simulated classes replay at once; ENFORCE_PLAYBACK_CLOCK=true make run turns it on, as in AWS"
    return "on: a session is credited at most what MAX_PLAYBACK_RATE allows in the time since its URL or first callback"


def _standards(stack: Stack) -> str:
    if stack.platform is None:
        return ""
    start = stack.platform.start_url("student-1", "lecture-1")
    ungraded = stack.platform.start_url("student-2", "lecture-2", line_item="none")
    lrs = f"ralph at {stack.lrs.url} (user {stack.lrs.auth})" if stack.lrs else stack.environment.get("XAPI_LRS_URL")
    return f"""LTI 1.3 (an LMS built on lti1p3platform at {stack.platform.url}, registered as platform `local`):
  .venv/bin/python -m local.player --url {stack.url} --launch '{start}' --speed 4
  (the learner launches lecture-1 from the LMS, the player plays the launch's URL; the grade lands in
   {stack.platform.url}/gradebook and the xAPI statements in {lrs})
  an ungraded link (no line item: the tool makes one): --launch '{ungraded}'
  deep linking: {stack.platform.start_url("teacher-1", deep_link=True)} in a browser
  the course's roster (Names and Role Provisioning; lti:local:course-1 follows it): {stack.platform.roster_url()}
  drop a learner: {stack.platform.roster_url(drop="student-2")}
  (within ROSTER_SYNC_MINUTES, or at once after POST /v1/courses/lti%3Alocal%3Acourse-1/roster-sync,
   the play callback refuses student-2: GET /v1/access-log?client_user_id=local%3Astudent-2)
"""


def _demo_link(stack: Stack) -> str:
    """A day's view link to the instructor page of `make demo`'s lecture."""
    key = stack.environment["VIEW_LINK_KEY"].split(",")[0]
    view = View("content", int(time.time()) + 86_400, media_content_key="demo-lecture", course="demo-course")
    return f"{stack.url}/v1/views/{sign_view(key, view)}"


#: How long the stack may take to stop after SIGTERM or Ctrl-C before it exits regardless.
STOP_SECONDS = 10.0


def _give_up() -> None:
    print(f"stopping took over {STOP_SECONDS:g} s: exiting", file=sys.stderr, flush=True)
    os._exit(1)  # the JVM and ralph are tied to this process: they go with it


def record_stack(stack: Stack, port: int) -> Path:
    """Where `make export` finds this stack's table: `.run/stack-<PORT>.json`."""
    state = ROOT / ".run" / f"stack-{port}.json"
    state.parent.mkdir(exist_ok=True)
    found = {"api": stack.url, "dynamodb": stack.database.endpoint, "table": stack.environment["TABLE_NAME"]}
    state.write_text(json.dumps(found))
    return state


def main() -> int:
    port = int(os.environ.get("PORT", str(API_PORT)))
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():  # a second signal: stop now
            os._exit(1)
        stop.set()
        # Stopping waits for threads that may be mid-request to a dying JVM: never for long.
        deadline = threading.Timer(STOP_SECONDS, _give_up)
        deadline.daemon = True
        deadline.start()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        with running_stack(port=port, dynamodb_port=int(os.environ.get("DYNAMODB_PORT", "0"))) as stack:
            state = record_stack(stack, port)
            print(_banner(stack), flush=True)
            stop.wait()
            print("stopping...", flush=True)
            state.unlink(missing_ok=True)
    except (OSError, DynamoDBLocalError) as error:
        print(f"cannot start the local stack: {error}", file=sys.stderr)
        return 1
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
