"""`make run`'s stack over real HTTP: start it as a user would, post callbacks, read progress, stop it."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import urllib3

from local.player import Bridge, run_player
from local.simulator import Content
from local.template import ROOT
from tests.e2e.conftest import RunningStack, request
from tests.payloads import API_TOKEN, CALLBACK_TOKEN, Snapshot

pytestmark = pytest.mark.stack


def test_banner_shows_the_urls_and_a_curl_line(stack: RunningStack) -> None:
    text = "".join(stack.banner)
    assert f"{stack.url}/callbacks/kollus/{CALLBACK_TOKEN}" in text
    assert f"{stack.url}/v1/progress" in text
    assert "curl -s -X POST" in text
    link = next(word for word in text.split() if "/v1/views/v1." in word)
    with urllib.request.urlopen(link + "?lang=en", timeout=30) as page:  # before `make demo`: being computed
        assert page.status == 200 and "These figures are being computed" in page.read().decode()


def test_callbacks_in_progress_out(stack: RunningStack) -> None:
    callback_url = f"{stack.url}/callbacks/kollus/{CALLBACK_TOKEN}?uservalue0=course-7"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    snapshot = Snapshot(client_user_id="e2e-learner", media_content_key="e2e-content", block_count=4, duration=240)
    for serial, block in enumerate(range(4)):
        snapshot.serial, snapshot.block_times[block] = serial, 60
        snapshot.play_time, snapshot.last_play_at = 60.0 * (serial + 1), 60.0 * (serial + 1)
        status, body = request(callback_url, snapshot.form_body(), form)
        assert (status, body["result"], body["watched_blocks"]) == (200, "accepted", serial + 1)
    status, body = request(callback_url, snapshot.form_body(), form)  # a resend
    assert (status, body["result"], body["completed"]) == (200, "duplicate", True)
    status, body = request(callback_url, snapshot.flat_body(), form)  # no serial in the flat form: older
    assert (status, body["result"], body["watched_blocks"]) == (200, "stale", 4)

    query = "client_user_id=e2e-learner&media_content_key=e2e-content"
    status, record = request(f"{stack.url}/v1/progress?{query}", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert status == 200
    assert (record["progress"], record["completed"], record["last_position"], record["play_time"]) == (
        100.0,
        True,
        240.0,
        240.0,
    )
    assert record["completed_at"].endswith("Z")

    # The scheduled sync delivers the completion, signed, to the stack's local LMS receiver.
    deadline = time.monotonic() + 20
    expected = "LMS <- progress.completed e2e-learner / e2e-content progress 100.0 (signature ok"
    while time.monotonic() < deadline and not any(expected in line for line in stack.output):
        time.sleep(0.2)
    assert any(expected in line for line in stack.output), "".join(stack.output)
    # The receiver prints as it answers; the ledger records the answer right after.
    rows: list[tuple[str, int]] = []
    while time.monotonic() < deadline and not rows:
        status, ledger = request(
            f"{stack.url}/v1/sync?state=delivered", headers={"Authorization": f"Bearer {API_TOKEN}"}
        )
        assert status == 200
        rows = [(item["client_user_id"], item["last_status"]) for item in ledger["items"]]
        time.sleep(0.1)
    assert rows == [("e2e-learner", 204)]


def test_errors_over_http(stack: RunningStack) -> None:
    status, body = request(f"{stack.url}/callbacks/kollus/wrong", b"a=1", {"Content-Type": "text/plain"})
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    status, body = request(f"{stack.url}/v1/progress?client_user_id=x&media_content_key=y")
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    status, body = request(f"{stack.url}/nowhere")
    assert status == 404


def test_a_bound_playback_end_to_end(stack: RunningStack) -> None:
    """Issue a playback URL, post callbacks that carry its nonce, read what is still missing."""
    auth = {"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"}
    identity = {"client_user_id": "bound-learner", "media_content_key": "bound-content"}
    status, issued = request(
        f"{stack.url}/v1/playback-urls", json.dumps({**identity, "uservalues": {"uservalue0": "c-1"}}).encode(), auth
    )
    assert status == 200
    query = urllib.parse.urlsplit(issued["url"]).query
    uservalues = {k: v[0] for k, v in urllib.parse.parse_qs(query).items() if k.startswith("uservalue")}
    # The player echoes the URL's uservalues in every callback (the template carries them).
    callback_url = f"{stack.url}/callbacks/kollus/{CALLBACK_TOKEN}?{urllib.parse.urlencode(uservalues)}"
    snapshot = Snapshot(
        client_user_id="bound-learner", media_content_key="bound-content", block_count=4, duration=240, serial=1,
        start_at=int(time.time()),
    )  # fmt: skip
    snapshot.block_times = {0: 60.0, 1: 60.0}
    status, body = request(callback_url, snapshot.form_body(), {"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, body["watched_blocks"]) == (200, 2)
    forged = f"{stack.url}/callbacks/kollus/{CALLBACK_TOKEN}?uservalue99=v1.1.AAAA"
    assert request(forged, snapshot.form_body(), {"Content-Type": "application/x-www-form-urlencoded"})[0] == 403
    query = urllib.parse.urlencode(identity)
    status, record = request(f"{stack.url}/v1/progress?{query}", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert status == 200
    assert (record["missing_ranges"], record["blocks_needed"], record["progress"]) == ([[120.0, 240.0]], 2, 50.0)


def test_the_player_asks_before_it_plays(stack: RunningStack) -> None:
    """The simulated player asks the play callback (kind 1, then 3) and plays only when approved."""
    auth = {"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"}
    course = json.dumps({"title": "Player course", "media_content_keys": ["player-lecture"]}).encode()
    assert put(f"{stack.url}/v1/courses/player-course", course, auth) == 200
    enrolment = json.dumps({"enrollments": [{"client_user_id": "player-learner"}]}).encode()
    assert put(f"{stack.url}/v1/courses/player-course/enrollments", enrolment, auth) == 200
    bridge, lecture = Bridge(stack.url), Content("player-lecture", 240.0, 4)

    run = run_player(bridge, "player-learner", lecture, device="phone", speed=2.0)
    assert [data["result"] for data in run.approvals] == [1, 1] and run.refused is None
    assert run.progress and run.progress[-1]["completed"] is True
    assert {answer["result"] for answer in run.progress} == {"accepted"}

    refused = run_player(bridge, "stranger", lecture)
    assert refused.approvals[0]["result"] == 0 and refused.refused and not refused.progress
    status, _ = request(
        f"{stack.url}/v1/progress?client_user_id=stranger&media_content_key=player-lecture",
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    )
    assert status == 404


def test_insights_come_from_the_stream_computation(stack: RunningStack) -> None:
    """The first ask answers 202; the table's stream runs the computation; the next asks read it."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for learner, blocks in (("insight-1", range(4)), ("insight-2", range(2))):
        snapshot = Snapshot(client_user_id=learner, media_content_key="insight-content", block_count=4, duration=240)
        snapshot.block_times = dict.fromkeys(blocks, 60.0)
        assert request(f"{stack.url}/callbacks/kollus/{CALLBACK_TOKEN}", snapshot.form_body(), form)[0] == 200
    url = f"{stack.url}/v1/analytics/contents/insight-content"
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    status, body = request(url, headers=auth)
    assert (status, body["status"]) == (202, "computing")
    deadline = time.monotonic() + 20
    while status == 202 and time.monotonic() < deadline:
        time.sleep(0.3)
        status, body = request(url, headers=auth)
    assert status == 200, body
    assert (body["learners_counted"], body["coverage"], body["funnel"]["completed"]) == (2, [2, 2, 1, 1], 1)


def put(url: str, body: bytes, headers: dict[str, str]) -> int:
    call = urllib.request.Request(url, data=body, headers=headers, method="PUT")
    with urllib.request.urlopen(call, timeout=30) as response:
        return int(response.status)


def test_upload_to_ready_to_deleted_through_the_stand_in(stack: RunningStack) -> None:
    """The README's content flow: an upload URL, the file posted straight to (stand-in) Kollus, the
    platform callbacks and reconciliation making it ready in a channel, the LMS told, then a delete."""
    assert "/v1/uploads" in "".join(stack.banner)
    auth = {"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"}
    body = json.dumps({"title": "E2E lecture", "uploaded_by": "teacher-1"}).encode()
    status, upload = request(f"{stack.url}/v1/uploads", body, auth)
    assert status == 201 and upload["content"]["status"] == "uploading"
    answer = urllib3.request("POST", upload["upload_url"], fields={"upload-file": ("e2e.mp4", b"v" * 30_000)})
    assert answer.status == 200
    key = upload["upload_file_key"]
    deadline, content = time.monotonic() + 60, dict[str, Any]()
    while time.monotonic() < deadline:
        status, content = request(f"{stack.url}/v1/contents/{key}", headers=auth)
        if status == 200 and content["status"] == "ready" and content["media_content_key"] and content["duration"]:
            break
        time.sleep(0.3)
    assert content["status"] == "ready" and content["channels"][0]["channel_key"] == "lectures", content
    assert content["duration"] and content["filename"] == "e2e.mp4"
    mck = content["media_content_key"]
    expected = f"LMS <- content.ready {mck} 'E2E lecture'"
    while time.monotonic() < deadline and not any(expected in line for line in stack.output):
        time.sleep(0.2)
    assert any(expected in line and "signature ok" in line for line in stack.output), "".join(stack.output)
    call = urllib.request.Request(f"{stack.url}/v1/contents/{mck}", headers=auth, method="DELETE")
    with urllib.request.urlopen(call, timeout=30) as response:
        assert json.loads(response.read())["status"] == "deleted"
    expected = f"LMS <- content.deleted {mck}"
    while time.monotonic() < deadline and not any(expected in line for line in stack.output):
        time.sleep(0.2)
    assert any(expected in line for line in stack.output), "".join(stack.output)


# Last: it stops the module's stack.
def test_make_export_and_make_sql_over_the_running_stack(stack: RunningStack, tmp_path: Path) -> None:
    """`make export` finds the stack by its port, exports its table and writes the datasets; `make sql`
    runs a report over them."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    snapshot = Snapshot(client_user_id="export-1", media_content_key="export-content", block_count=4, duration=240)
    snapshot.block_times = dict.fromkeys(range(4), 60.0)
    url = f"{stack.url}/callbacks/kollus/{CALLBACK_TOKEN}?uservalue0=dept-a"
    assert request(url, snapshot.form_body(), form)[0] == 200
    environment = {**stack.environment, "EXPORT_DIR": str(tmp_path)}
    exported = subprocess.run([sys.executable, "-m", "local.export"], cwd=ROOT, env=environment, capture_output=True,
                              text=True, timeout=120, check=False)  # fmt: skip
    assert exported.returncode == 0, exported.stdout + exported.stderr
    assert f"{tmp_path / 'datasets' / 'learner_content'}: " in exported.stdout
    assert (tmp_path / "datasets/learner_content/media_content_key=export-content/data.parquet").is_file()
    command = [sys.executable, "-m", "local.export", "sql", "reports/completion_by_uservalue.sql"]
    answer = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60, check=True)
    row = next(line for line in answer.stdout.splitlines() if "dept-a" in line)
    assert [cell.strip() for cell in row.split("|")][:5] == ["uservalue0", "dept-a", "1", "1", "1"]
    elsewhere = {**environment, "PORT": "1"}
    missing = subprocess.run([sys.executable, "-m", "local.export"], cwd=ROOT, env=elsewhere, capture_output=True,
                             text=True, timeout=60, check=False)  # fmt: skip
    assert missing.returncode == 1 and "start `make run` (PORT=1) first" in missing.stderr


def test_stops_cleanly_and_leaves_no_java_behind(stack: RunningStack) -> None:
    stack.process.send_signal(signal.SIGTERM)
    assert stack.process.wait(timeout=30) == 0
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", stack.dynamodb_port)) != 0:
                return
        time.sleep(0.2)
    pytest.fail("DynamoDB Local still answers after the stack stopped")
