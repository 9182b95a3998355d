"""The SAM template: linted, validated, built for arm64, and holding what the service relies on."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from kollus_bridge.errors import BridgeError
from kollus_bridge.observability import METRICS_NAMESPACE
from kollus_bridge.progress.rule import Outcome
from kollus_bridge.settings import SETTING_NAMES

from local.streams import matches
from local.template import ROOT, load_template, resources, routes

TEMPLATE = load_template()
ELF_MACHINE_AARCH64 = 0xB7


def tools_bin() -> Path:
    """The tools virtualenv (SAM CLI, cfn-lint). Missing tools fail the suite: they are not optional."""
    path = Path(os.environ.get("TOOLS_BIN", ROOT / ".venv-tools" / "bin"))
    if not (path / "sam").exists() or not (path / "cfn-lint").exists():
        pytest.fail(f"SAM CLI / cfn-lint not found in {path}: run `make setup` (or set TOOLS_BIN)")
    return path


def run_tool(*command: str, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    binary = tools_bin()
    environment = {**os.environ, "PATH": f"{binary}{os.pathsep}{os.environ['PATH']}", "SAM_CLI_TELEMETRY": "0"}
    return subprocess.run(
        [str(binary / command[0]), *command[1:]],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.tools
def test_cfn_lint_is_clean() -> None:
    """With AWS's serverless rules too (the two exceptions are explained where they are made)."""
    result = run_tool("cfn-lint", "--append-rules", "cfn_lint_serverless.rules", "--", "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.tools
def test_sam_validate_lint() -> None:
    result = run_tool("sam", "validate", "--lint", "--region", "us-east-1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF file"
    return int.from_bytes(header[18:20], "little")


@pytest.mark.tools
def test_sam_build_produces_an_arm64_python313_layer(tmp_path: Path) -> None:
    build = tmp_path / "build"
    result = run_tool("sam", "build", "--build-dir", str(build), "--cache-dir", str(tmp_path / "cache"))
    assert result.returncode == 0, result.stdout + result.stderr
    layer = build / "BridgeLayer" / "python"
    modules = ("store/table.py", "kollus/callback.py", "progress/ingest.py", "delivery/sync.py", "api/service.py")
    for module in (*modules, "lti/launch.py", "xapi/statements.py"):
        assert (layer / "kollus_bridge" / module).exists(), module  # every package of the layout ships
    cores = list(layer.glob("pydantic_core/_pydantic_core*.so"))
    assert len(cores) == 1, cores
    assert "cpython-313-aarch64-linux-gnu" in cores[0].name
    assert elf_machine(cores[0]) == ELF_MACHINE_AARCH64
    rust = list(layer.glob("cryptography/hazmat/bindings/_rust*.so"))  # RS256 for the LTI tool
    assert len(rust) == 1 and elf_machine(rust[0]) == ELF_MACHINE_AARCH64, rust
    wrong = [path for path in layer.rglob("*.so") if elf_machine(path) != ELF_MACHINE_AARCH64]
    assert wrong == [], f"native code for another platform: {wrong}"
    duckdb = list((build / "ExportsLayer" / "python").glob("_duckdb*.so"))  # the exports' Parquet writer
    assert duckdb and all(elf_machine(path) == ELF_MACHINE_AARCH64 for path in duckdb), duckdb
    for function in resources(TEMPLATE, "AWS::Serverless::Function"):
        assert (build / function / "app.py").exists()
        assert not (build / function / "kollus_bridge").exists()  # the domain code ships once, in the layer


def function(name: str) -> dict[str, Any]:
    body: dict[str, Any] = TEMPLATE["Resources"][name]["Properties"]
    return body


def test_runtime_and_architecture() -> None:
    globals_ = TEMPLATE["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.13"
    assert globals_["Architectures"] == ["arm64"]
    layer = TEMPLATE["Resources"]["BridgeLayer"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    makefile = (ROOT / "layers" / "bridge" / "Makefile").read_text(encoding="utf-8")
    assert "BRIDGE_WHEEL_PLATFORM ?= manylinux2014_aarch64" in makefile and "--python-version 3.13" in makefile


def test_routes() -> None:
    assert {(route.route_key, route.function) for route in routes(TEMPLATE)} == {
        ("POST /callbacks/kollus/{token}", "CallbackFunction"),
        ("OPTIONS /callbacks/kollus/{token}", "CallbackFunction"),
        ("$default", "ApiFunction"),
        ("GET /v1/progress", "ApiFunction"),
        ("GET /v1/progress/flags", "ApiFunction"),
        ("GET /v1/sync", "ApiFunction"),
        ("POST /v1/sync/redeliver", "ApiFunction"),
        ("GET /v1/contents/{media_content_key}/rules", "ApiFunction"),
        ("PUT /v1/contents/{media_content_key}/rules", "ApiFunction"),
        ("DELETE /v1/contents/{media_content_key}/rules", "ApiFunction"),
        ("POST /v1/playback-urls", "ApiFunction"),
        ("GET /v1/openapi.json", "ApiFunction"),
        ("POST /v1/uploads", "ApiFunction"),
        ("GET /v1/contents", "ApiFunction"),
        ("GET /v1/contents/{media_content_key}", "ApiFunction"),
        ("PATCH /v1/contents/{media_content_key}", "ApiFunction"),
        ("DELETE /v1/contents/{media_content_key}", "ApiFunction"),
        ("POST /callbacks/kollus/{token}/platform", "PlatformFunction"),
        ("POST /callbacks/kollus/{token}/play", "PlayFunction"),
        ("POST /callbacks/kollus/{token}/drm", "PlayFunction"),
        ("PUT /v1/courses/{course_id}", "ApiFunction"),
        ("GET /v1/courses/{course_id}", "ApiFunction"),
        ("DELETE /v1/courses/{course_id}", "ApiFunction"),
        ("GET /v1/courses", "ApiFunction"),
        ("PUT /v1/courses/{course_id}/enrollments", "ApiFunction"),
        ("DELETE /v1/courses/{course_id}/enrollments/{client_user_id}", "ApiFunction"),
        ("GET /v1/courses/{course_id}/enrollments", "ApiFunction"),
        ("POST /v1/courses/{course_id}/roster-sync", "ApiFunction"),
        ("GET /v1/learners/{client_user_id}/enrollments", "ApiFunction"),
        ("GET /v1/access-log", "ApiFunction"),
        ("GET /v1/analytics/contents/{media_content_key}", "ApiFunction"),
        ("GET /v1/analytics/contents/{media_content_key}/learners", "ApiFunction"),
        ("GET /v1/analytics/learners/{client_user_id}", "ApiFunction"),
        ("GET /v1/analytics/learners/{client_user_id}/contents/{media_content_key}", "ApiFunction"),
        ("POST /v1/view-links", "ApiFunction"),
        ("GET /v1/views/{token}", "ApiFunction"),
        ("GET /.well-known/jwks.json", "ApiFunction"),
        ("GET /lti/login", "ApiFunction"),
        ("POST /lti/login", "ApiFunction"),
        ("POST /lti/launch", "ApiFunction"),
        ("GET /lti/deep-link", "ApiFunction"),
        ("POST /lti/deep-link", "ApiFunction"),
        ("PUT /v1/lti/platforms/{platform_id}", "ApiFunction"),
        ("GET /v1/lti/platforms/{platform_id}", "ApiFunction"),
        ("DELETE /v1/lti/platforms/{platform_id}", "ApiFunction"),
        ("GET /v1/lti/platforms", "ApiFunction"),
        ("POST /v1/lti/keys", "ApiFunction"),
    }


def test_http_api_is_throttled() -> None:
    (api,) = resources(TEMPLATE, "AWS::Serverless::HttpApi").values()
    settings = api["Properties"]["DefaultRouteSettings"]
    assert {"ThrottlingRateLimit", "ThrottlingBurstLimit"} <= settings.keys()


def test_table_keys_and_protection() -> None:
    table = TEMPLATE["Resources"]["ProgressTable"]
    properties = table["Properties"]
    assert properties["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert properties["BillingMode"] == "PAY_PER_REQUEST"
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["DeletionProtectionEnabled"] is True
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["DeletionPolicy"] == "Retain"


def statements(name: str) -> list[dict[str, Any]]:
    """A function's policy statements, those under a condition (`Fn::If`) included."""
    found: list[dict[str, Any]] = []
    for policy in function(name)["Policies"]:
        granted = policy["Fn::If"][1] if "Fn::If" in policy else policy
        found.extend(granted["Statement"])
    return found


def actions_on(name: str, resource: dict[str, Any] | list[dict[str, Any]]) -> set[str]:
    granted: set[str] = set()
    for statement in statements(name):
        if statement["Resource"] == resource:
            action = statement["Action"]
            granted.update([action] if isinstance(action, str) else action)
    return granted


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_policies_are_least_privilege() -> None:
    table = {"Fn::GetAtt": ["ProgressTable", "Arn"]}
    assert actions_on("CallbackFunction", table) == {
        "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query",
    }  # fmt: skip
    assert actions_on("CallbackFunction", [{"Ref": "CallbackTokenSecret"}, {"Ref": "PlaybackNonceKeySecret"}]) == {
        "secretsmanager:GetSecretValue"
    }
    assert actions_on("ApiFunction", table) == {
        "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:PutItem",
        "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
    }  # fmt: skip
    assert actions_on("PlayFunction", table) == {
        "dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:PutItem",
    }  # fmt: skip
    play_secrets = [
        {"Ref": name}
        for name in (
            "PlayCallbackTokenSecret",
            "DrmCallbackTokenSecret",
            "KollusSecurityKeySecret",
            "KollusCustomKeySecret",
            "PlaybackNonceKeySecret",
        )
    ]
    assert actions_on("PlayFunction", play_secrets) == {"secretsmanager:GetSecretValue"}
    # Every door its own key: the LMS callback's token (in every learner's player) opens no other.
    for function in ("PlayFunction", "PlatformFunction"):
        assert actions_on(function, {"Ref": "CallbackTokenSecret"}) == set()
    for secret in ("PlayCallbackTokenSecret", "DrmCallbackTokenSecret", "PlatformCallbackTokenSecret"):
        assert actions_on("CallbackFunction", {"Ref": secret}) == set()
    indexes = [
        {"Fn::Sub": "${ProgressTable.Arn}/index/ledger-index"},
        {"Fn::Sub": "${ProgressTable.Arn}/index/content-index"},
    ]
    assert actions_on("ApiFunction", indexes) == {"dynamodb:Query"}
    secrets = [
        {"Ref": name}
        for name in (
            "ApiTokenSecret",
            "KollusSecurityKeySecret",
            "KollusCustomKeySecret",
            "PlaybackNonceKeySecret",
            "ViewLinkKeySecret",
        )
    ]
    assert actions_on("ApiFunction", secrets) == {"secretsmanager:GetSecretValue"}
    assert actions_on("SyncFunction", table) == {
        "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem",
    }  # fmt: skip
    assert actions_on("SyncFunction", {"Fn::Sub": "${ProgressTable.Arn}/index/due-index"}) == {"dynamodb:Query"}
    assert actions_on("SyncFunction", {"Ref": "LmsWebhookSecretStore"}) == {"secretsmanager:GetSecretValue"}
    # GetItem: a grade's platform registration.
    assert actions_on("DeliverFunction", table) == {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem"}
    # The tool keys: read, and written by whichever function makes the first key (or rotates).
    for function in ("ApiFunction", "SyncFunction", "DeliverFunction"):
        tool_keys = actions_on(function, {"Ref": "LtiToolKeysSecret"})
        assert tool_keys == {"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"}
    for function in ("SyncFunction", "DeliverFunction"):
        assert actions_on(function, {"Ref": "XapiLrsAuthSecret"}) == {"secretsmanager:GetSecretValue"}
    for function in ("CallbackFunction", "PlayFunction", "PlatformFunction", "AnalyticsFunction", "ReconcileFunction"):
        assert actions_on(function, {"Ref": "LtiToolKeysSecret"}) == set()
    assert actions_on("AnalyticsFunction", table) == {
        "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem",
        "dynamodb:UpdateItem", "dynamodb:BatchWriteItem",
    }  # fmt: skip
    assert actions_on("AnalyticsFunction", {"Fn::Sub": "${ProgressTable.Arn}/index/content-index"}) == {
        "dynamodb:Query"
    }
    assert actions_on("DeliverFunction", {"Ref": "LmsWebhookSecretStore"}) == {"secretsmanager:GetSecretValue"}
    # BatchGetItem: the cards of the media content keys a callback names (never another upload's).
    assert actions_on("PlatformFunction", table) == {
        "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:DeleteItem",
    }  # fmt: skip
    assert actions_on("PlatformFunction", {"Ref": "PlatformCallbackTokenSecret"}) == {"secretsmanager:GetSecretValue"}
    assert actions_on("ReconcileFunction", table) == {
        "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:PutItem",
        "dynamodb:DeleteItem",
    }  # fmt: skip
    assert actions_on("ReconcileFunction", {"Fn::Sub": "${ProgressTable.Arn}/index/reconcile-index"}) == {
        "dynamodb:Query"
    }
    for name in ("ApiFunction", "ReconcileFunction"):  # only the functions that call Kollus read its token
        assert actions_on(name, {"Ref": "KollusApiTokenSecret"}) == {"secretsmanager:GetSecretValue"}, name
    for name in ("CallbackFunction", "SyncFunction", "DeliverFunction", "PlatformFunction", "AnalyticsFunction"):
        assert not actions_on(name, {"Ref": "KollusApiTokenSecret"}), name
    # S3 names objects only by prefix: the exports function's prefixes of the stack's own bucket.
    prefixes = ("exports", "staging", "state", "holding", "datasets")
    objects = [{"Fn::Sub": f"${{ExportBucket.Arn}}/{prefix}/*"} for prefix in prefixes]
    for name in resources(TEMPLATE, "AWS::Serverless::Function"):
        for statement in statements(name):
            assert statement["Effect"] == "Allow"
            named = [part for part in _listed(statement["Resource"]) if part not in objects]
            assert "*" not in str(named) and "*" not in str(statement["Action"])
    assert actions_on("ExportsFunction", objects[:2]) == {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"}
    assert actions_on("ExportsFunction", {"Fn::GetAtt": ["ProgressTable", "Arn"]}) == {
        "dynamodb:ExportTableToPointInTime"
    }  # it reads the table only through its exports


def test_every_function_variable_is_a_setting() -> None:
    """The template and the settings model describe the same configuration."""
    variables = set(TEMPLATE["Globals"]["Function"]["Environment"]["Variables"])
    for name in resources(TEMPLATE, "AWS::Serverless::Function"):
        variables |= set(function(name).get("Environment", {}).get("Variables", {}))
    unknown = {name for name in variables if not name.startswith("POWERTOOLS_") and name.lower() not in SETTING_NAMES}
    assert unknown == set()


def test_the_due_index_is_sparse_and_keys_only() -> None:
    indexes = {
        index["IndexName"]: index
        for index in TEMPLATE["Resources"]["ProgressTable"]["Properties"]["GlobalSecondaryIndexes"]
    }
    assert indexes["due-index"]["KeySchema"] == [
        {"AttributeName": "sync_due", "KeyType": "HASH"},
        {"AttributeName": "sync_next_at", "KeyType": "RANGE"},
    ]
    assert indexes["due-index"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert indexes["ledger-index"]["KeySchema"][0] == {"AttributeName": "sync_state", "KeyType": "HASH"}


def test_the_sync_runs_on_a_schedule_without_retries_of_a_run() -> None:
    sync = function("SyncFunction")
    (event,) = sync["Events"].values()
    assert event["Type"] == "ScheduleV2"
    assert event["Properties"]["ScheduleExpression"] == {"Ref": "SyncSchedule"}
    assert event["Properties"]["RetryPolicy"] == {"MaximumRetryAttempts": 0}
    assert sync["EventInvokeConfig"] == {"MaximumRetryAttempts": 0}


def test_the_fast_path_reads_the_tables_stream_filtered_to_records_that_became_due() -> None:
    table = TEMPLATE["Resources"]["ProgressTable"]["Properties"]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}  # the filter needs both
    (event,) = function("DeliverFunction")["Events"].values()
    assert event["Type"] == "DynamoDB"
    source = event["Properties"]
    assert source["Stream"] == {"Fn::GetAtt": ["ProgressTable", "StreamArn"]}
    assert source["StartingPosition"] == "LATEST"
    patterns = [json.loads(item["Pattern"]) for item in source["FilterCriteria"]["Filters"]]
    assert all(set(pattern) == {"dynamodb"} for pattern in patterns)  # DynamoDB mappings filter on it alone


def test_analytics_reads_the_stream_filtered_to_marks_asking_for_insights() -> None:
    (event,) = function("AnalyticsFunction")["Events"].values()
    source = event["Properties"]
    assert event["Type"] == "DynamoDB" and source["Stream"] == {"Fn::GetAtt": ["ProgressTable", "StreamArn"]}
    patterns = [json.loads(item["Pattern"]) for item in source["FilterCriteria"]["Filters"]]

    def handed_over(event: dict[str, Any]) -> bool:
        return any(matches(pattern, event) for pattern in patterns)

    mark = {"insights_wanted": {"N": "1"}, "wanted_content": {"S": "m"}, "wanted_scope": {"S": ""}}
    shard = {"insights_shard": {"N": "1"}, "shard_content": {"S": "m"}, "shard_index": {"N": "0"}}
    record = {"completed_at": {"N": "1"}, "media_content_key": {"S": "m"}}
    assert handed_over({"eventName": "INSERT", "dynamodb": {"NewImage": mark}})
    assert handed_over({"eventName": "MODIFY", "dynamodb": {"NewImage": mark, "OldImage": mark}})
    assert handed_over({"eventName": "INSERT", "dynamodb": {"NewImage": shard}})
    assert not handed_over({"eventName": "REMOVE", "dynamodb": {"OldImage": mark}})  # the mark's deletion
    assert not handed_over({"eventName": "MODIFY", "dynamodb": {"NewImage": record}})


def emitted_metrics() -> set[str]:
    """Every metric name the code emits: literal names, and the names built from outcomes and error codes."""
    sources = [*(ROOT / "functions").rglob("*.py"), *(ROOT / "layers" / "bridge" / "kollus_bridge").rglob("*.py")]
    text = "\n".join(path.read_text(encoding="utf-8") for path in sources)
    names = set(re.findall(r'name="([A-Za-z_]+)"', text)) | set(
        re.findall(r'\("((?:Sync|Reconcile_)[A-Za-z]+)", report\.', text)
    )
    assert 'name=f"Callback_{result.outcome.value}"' in text and 'name=f"Refused_{error.code}"' in text
    names |= {f"Callback_{outcome.value}" for outcome in Outcome}
    names |= {f"Refused_{kind.code}" for kind in BridgeError.__subclasses__()}
    return names


def alarm_metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """The metrics an alarm reads: its own, or those of its metric math."""
    properties = alarm["Properties"]
    if "Metrics" in properties:
        return [query["MetricStat"]["Metric"] for query in properties["Metrics"] if "MetricStat" in query]
    return [{key: properties[key] for key in ("Namespace", "MetricName", "Dimensions")}]


def test_every_alarm_watches_a_metric_that_exists() -> None:
    emitted = emitted_metrics()
    functions = set(resources(TEMPLATE, "AWS::Serverless::Function"))
    for name, alarm in resources(TEMPLATE, "AWS::CloudWatch::Alarm").items():
        for metric in alarm_metrics(alarm):
            dimensions = {item["Name"]: item["Value"] for item in metric["Dimensions"]}
            if metric["Namespace"] == METRICS_NAMESPACE:
                assert metric["MetricName"] in emitted, name
                assert dimensions == {"service": TEMPLATE["Globals"]["Function"]["Environment"]["Variables"][
                    "POWERTOOLS_SERVICE_NAME"]}, name  # fmt: skip
            elif metric["Namespace"] == "AWS/Lambda":
                assert dimensions["FunctionName"]["Ref"] in functions, name
            elif metric["Namespace"] == "AWS/SQS":
                queue = dimensions["QueueName"]["Fn::GetAtt"]
                assert queue[1] == "QueueName" and queue[0] in resources(TEMPLATE, "AWS::SQS::Queue"), name
            else:
                assert metric["Namespace"] == "AWS/DynamoDB", name
                assert dimensions == {"TableName": {"Ref": "ProgressTable"}}, name


def test_every_function_has_error_and_throttle_alarms_and_the_service_its_own() -> None:
    watched = {
        (metric["MetricName"], str(metric["Dimensions"]))
        for alarm in resources(TEMPLATE, "AWS::CloudWatch::Alarm").values()
        for metric in alarm_metrics(alarm)
    }
    for function_name in resources(TEMPLATE, "AWS::Serverless::Function"):
        dimension = str([{"Name": "FunctionName", "Value": {"Ref": function_name}}])
        assert ("Errors", dimension) in watched and ("Throttles", dimension) in watched, function_name
    names = {metric for metric, _ in watched}
    assert {"SyncFailed", "SyncOldestDueAgeSeconds", "Refused_storage_unavailable", "WriteThrottleEvents"} <= names


def test_the_dashboard_shows_callbacks_latency_deliveries_and_backlog() -> None:
    (dashboard,) = resources(TEMPLATE, "AWS::CloudWatch::Dashboard").values()
    body, variables = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    for name, value in {**variables, "AWS::Region": "us-east-1", "CallbackFunction": "f", "DeliverFunction": "g",
                        "HttpApi": "a"}.items():  # fmt: skip
        body = body.replace("${" + name + "}", value)
    widgets = json.loads(body)["widgets"]
    assert [widget["properties"]["title"] for widget in widgets] == [
        "Callbacks by outcome", "Callback latency (ms)", "Completions delivered to the LMS", "Due backlog",
    ]  # fmt: skip
    emitted = emitted_metrics()
    for widget in widgets:
        namespace = None
        for row in widget["properties"]["metrics"]:
            namespace = row[0] if row[0] not in (".", "...") else namespace
            if namespace == METRICS_NAMESPACE and row[0] != "...":
                assert row[1] in emitted, row


@pytest.mark.tools
def test_checkov_finds_nothing_unexplained() -> None:
    """checkov passes, and every check it skips carries its reason in the template."""
    binary = Path(os.environ.get("CHECKOV_BIN", ROOT / ".venv-checkov" / "bin")) / "checkov"
    if not binary.exists():
        pytest.fail(f"checkov not found at {binary}: run `make setup` (or set CHECKOV_BIN)")
    result = subprocess.run(
        [str(binary), "-f", "template.yaml", "--framework", "cloudformation", "--compact", "--quiet",
         "--output", "json", "--skip-download"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert report["summary"]["failed"] == 0, [check["check_id"] for check in report["results"]["failed_checks"]]
    assert report["summary"]["passed"] > 0
    for name, resource in TEMPLATE["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert len(skip.get("comment", "").strip()) > 20, f"{name} skips {skip['id']} without a reason"


def test_every_stream_mapping_sends_what_it_gives_up_on_to_a_watched_queue() -> None:
    queues = set(resources(TEMPLATE, "AWS::SQS::Queue"))
    watched = {
        alarm["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for alarm in resources(TEMPLATE, "AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == "AWS/SQS"
    }
    mappings = [
        (name, event["Properties"])
        for name, function in resources(TEMPLATE, "AWS::Serverless::Function").items()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "DynamoDB"
    ]
    assert {name for name, _ in mappings} == {"DeliverFunction", "AnalyticsFunction", "RosterFunction"}
    for name, mapping in mappings:
        queue = mapping["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
        assert queue in queues and queue in watched, name
        assert mapping["BisectBatchOnFunctionError"] is True and 0 < mapping["MaximumRetryAttempts"] <= 3, name
        assert actions_on(name, {"Fn::GetAtt": [queue, "Arn"]}) == {"sqs:SendMessage"}, name


#: The Glue (Hive) type of each DuckDB type the datasets use.
GLUE_TYPES = {
    "VARCHAR": "string", "INTEGER": "int", "DOUBLE": "double", "TIMESTAMP": "timestamp", "BOOLEAN": "boolean",
    "INTEGER[]": "array<int>", "DOUBLE[]": "array<double>", "VARCHAR[]": "array<string>",
    "MAP(VARCHAR, VARCHAR)": "map<string,string>",
}  # fmt: skip


def test_each_dataset_has_a_glue_table_with_its_columns_over_its_prefix() -> None:
    """Athena reads what the exports function writes: one Glue table per dataset, its columns the
    dataset's in order with their types, over `datasets/<dataset>/` of the stack's bucket, as Parquet."""
    from kollus_bridge.exports.datasets import SCHEMAS  # noqa: PLC0415

    tables = {
        body["Properties"]["TableInput"]["Name"]: body["Properties"]
        for body in resources(TEMPLATE, "AWS::Glue::Table").values()
    }
    assert set(tables) == set(SCHEMAS)
    for name, schema in SCHEMAS.items():
        table = tables[name]
        assert table["DatabaseName"] == {"Ref": "ExportsDatabase"}
        storage = table["TableInput"]["StorageDescriptor"]
        assert [(column["Name"], column["Type"]) for column in storage["Columns"]] == [
            (column, GLUE_TYPES[kind]) for column, kind in schema
        ]
        assert storage["Location"] == {"Fn::Sub": f"s3://${{ExportBucket}}/datasets/{name}/"}
        assert storage["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    (workgroup,) = resources(TEMPLATE, "AWS::Athena::WorkGroup").values()
    configuration = workgroup["Properties"]["WorkGroupConfiguration"]
    assert configuration["BytesScannedCutoffPerQuery"] == {"Ref": "ExportScanCutoffBytes"}
    assert configuration["EnforceWorkGroupConfiguration"] is True


def test_the_exports_bucket_is_private_encrypted_and_expires_what_is_transient() -> None:
    bucket = TEMPLATE["Resources"]["ExportBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    rules = {rule.get("Prefix"): rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["exports/"]["ExpirationInDays"] == {"Ref": "ExportKeepDays"}
    assert rules["staging/"]["ExpirationInDays"] == 7 and "datasets/" not in rules
    (policy,) = resources(TEMPLATE, "AWS::S3::BucketPolicy").values()
    (deny,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": False}}
    schedules = resources(TEMPLATE, "AWS::Scheduler::Schedule")
    inputs = sorted(json.loads(body["Properties"]["Target"]["Input"])["start"] for body in schedules.values())
    assert inputs == ["FULL_EXPORT", "INCREMENTAL_EXPORT"]
