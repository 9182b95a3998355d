"""The LMS API's courses, enrolments and access log routes, as a Powertools router the API function
includes."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.openapi.params import Path as PathParam

from kollus_bridge.access.ports import Course
from kollus_bridge.errors import Conflict, NotFound
from kollus_bridge.store.dynamo import DynamoStore
from kollus_bridge.times import now_ms

from .courses import (
    AccessLogPage,
    CourseInput,
    CourseOut,
    CoursePage,
    EnrollmentBatch,
    EnrollmentPage,
    EnrollmentsWritten,
    course_json,
    decision_json,
    enrollment_json,
)
from .http import LearnerId, Limit, model_response, responses
from .http import PageToken as Token

CourseId = Annotated[str, PathParam(min_length=1, max_length=256, examples=["algo-101"])]


def course_routes(store: DynamoStore) -> Router:
    router = Router()  # type: ignore[no-untyped-call]

    def enrollment_page(
        course_id: str | None, client_user_id: str | None, limit: int, next_token: str | None
    ) -> Response[str]:
        """One page of a course's enrolments, or of a learner's, each with whether it is in force now."""
        found, token = store.enrolments_page(
            course_id=course_id, client_user_id=client_user_id, limit=limit, next_token=next_token
        )
        now = now_ms()
        return model_response(200, EnrollmentPage(items=[enrollment_json(e, now) for e in found], next_token=token))

    @router.put(
        "/v1/courses/<course_id>",
        summary="Create or replace a course and the contents it holds (idempotent)",
        responses=responses(CourseOut, 400, 401, 503),
    )
    def put_course(course_id: CourseId, course: Annotated[CourseInput, Body()]) -> Response[str]:
        limit = course.max_devices or None
        stored = Course(course_id, course.title, tuple(course.media_content_keys), now_ms(), limit)
        store.put_course(stored)
        return model_response(200, course_json(stored, store.get_roster(course_id)))

    def existing(course_id: str) -> Course:
        course = store.get_course(course_id)
        if course is None:
            raise NotFound(f"no course {course_id!r}", field="course_id")
        return course

    def pushed(course_id: str) -> None:
        """Refuse pushed enrolments where the LMS's roster keeps them (they would be undone)."""
        if store.get_roster(course_id) is not None:
            refused = f"course {course_id!r} follows its LTI context's roster: change the course's members in the LMS"
            raise Conflict(refused, field="course_id")

    @router.get("/v1/courses/<course_id>", summary="One course", responses=responses(CourseOut, 400, 401, 404, 503))
    def get_course(course_id: CourseId) -> Response[str]:
        return model_response(200, course_json(existing(course_id), store.get_roster(course_id)))

    @router.post(
        "/v1/courses/<course_id>/roster-sync",
        summary="Sync an LTI course's enrolments with its context's roster now (read in full, within seconds)",
        description="Answers at once (202) with the course as it stands; `roster_synced_at` and `roster_error` "
        "tell how the sync went.",
        responses=responses(CourseOut, 400, 401, 404, 409, 503, status=202),
    )
    def post_roster_sync(course_id: CourseId) -> Response[str]:
        course = existing(course_id)
        roster = store.get_roster(course_id)
        if roster is None or not store.want_roster(course_id, now_ms(), full=True):
            refused = f"course {course_id!r} is not an LTI course: its enrolments come from PUT .../enrollments"
            raise Conflict(refused, field="course_id")
        return model_response(202, course_json(course, roster))

    @router.delete(
        "/v1/courses/<course_id>",
        summary="Delete a course (its enrolments then entitle to nothing)",
        responses=responses(CourseOut, 400, 401, 404, 503),
    )
    def delete_course(course_id: CourseId) -> Response[str]:
        roster = store.get_roster(course_id)
        course = store.delete_course(course_id)
        if course is None:
            raise NotFound(f"no course {course_id!r}", field="course_id")
        if roster is not None:
            store.delete_roster(course_id)
        return model_response(200, course_json(course, roster))

    @router.get("/v1/courses", summary="Every course, a page at a time", responses=responses(CoursePage, 400, 401, 503))
    def list_courses(limit: Limit = 100, next_token: Token = None) -> Response[str]:
        courses, token = store.list_courses(limit, next_token)
        rosters = store.rosters_of(c.course_id for c in courses if c.course_id.startswith("lti:"))
        items = [course_json(c, rosters.get(c.course_id)) for c in courses]
        return model_response(200, CoursePage(items=items, next_token=token))

    @router.put(
        "/v1/courses/<course_id>/enrollments",
        summary="Enrol up to 500 learners, each with an optional window (idempotent: the same batch changes nothing)",
        responses=responses(EnrollmentsWritten, 400, 401, 404, 409, 503),
    )
    def put_enrollments(course_id: CourseId, batch: Annotated[EnrollmentBatch, Body()]) -> Response[str]:
        if store.get_course(course_id) is None:
            raise NotFound(f"no course {course_id!r}: PUT it first", field="course_id")
        pushed(course_id)
        store.put_enrolments(batch.enrolments(course_id))
        return model_response(200, EnrollmentsWritten(course_id=course_id, enrollments=len(batch.enrollments)))

    @router.delete(
        "/v1/courses/<course_id>/enrollments/<client_user_id>",
        summary="End a learner's enrolment in a course (idempotent)",
        responses=responses(EnrollmentsWritten, 400, 401, 409, 503),
    )
    def delete_enrollment(course_id: CourseId, client_user_id: LearnerId) -> Response[str]:
        pushed(course_id)
        store.delete_enrolment(course_id, client_user_id)
        return model_response(200, EnrollmentsWritten(course_id=course_id, enrollments=0))

    @router.get(
        "/v1/courses/<course_id>/enrollments",
        summary="A course's enrolments, a page at a time",
        responses=responses(EnrollmentPage, 400, 401, 503),
    )
    def course_enrollments(course_id: CourseId, limit: Limit = 100, next_token: Token = None) -> Response[str]:
        return enrollment_page(course_id, None, limit, next_token)

    @router.get(
        "/v1/learners/<client_user_id>/enrollments",
        summary="A learner's enrolments, a page at a time",
        responses=responses(EnrollmentPage, 400, 401, 503),
    )
    def learner_enrollments(client_user_id: LearnerId, limit: Limit = 100, next_token: Token = None) -> Response[str]:
        return enrollment_page(None, client_user_id, limit, next_token)

    @router.get(
        "/v1/access-log",
        summary="Play decisions about a learner or a content, newest first",
        description="Give client_user_id or media_content_key.",
        responses=responses(AccessLogPage, 400, 401, 503),
    )
    def access_log(
        client_user_id: Annotated[str | None, Query(min_length=1, max_length=256, examples=["user-1042"])] = None,
        media_content_key: Annotated[str | None, Query(min_length=1, max_length=256, examples=["nY3CaQtl"])] = None,
        limit: Limit = 100,
        next_token: Token = None,
    ) -> Response[str]:
        found, token = store.access_log(
            client_user_id=client_user_id, media_content_key=media_content_key, limit=limit, next_token=next_token
        )
        return model_response(200, AccessLogPage(items=[decision_json(d) for d in found], next_token=token))

    return router
