"""Signed view links and the analytics pages behind them, as a Powertools router the API function
includes. `POST /v1/view-links` needs the API token; `GET /v1/views/{token}` needs only the link."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.openapi.params import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from kollus_bridge.analytics.links import View, read_view, sign_view
from kollus_bridge.analytics.page import content_security_policy, expired_page, language
from kollus_bridge.analytics.views import render
from kollus_bridge.analytics.words import LANGUAGES
from kollus_bridge.api.route_groups import VIEWS_PREFIX
from kollus_bridge.auth import view_link_keys
from kollus_bridge.errors import Forbidden
from kollus_bridge.settings import Settings
from kollus_bridge.store.dynamo import DynamoStore
from kollus_bridge.times import iso_time, now_ms

from .http import accepts, model_response, responses
from .models import example
from .service import WholeNumber

#: The public path of the pages (no API token: the link is the credential).
_ID = Field(min_length=1, max_length=256)


class _LinkInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    course: str | None = Field(default=None, min_length=1, max_length=256, description="Only this course's learners.")
    expires_in: WholeNumber = Field(default=900, ge=60, le=86_400, description="Seconds the link stays valid.")
    lang: Literal["ko", "en"] | None = Field(default=None, description="Else the browser's Accept-Language.")


class ContentLinkInput(_LinkInput):
    """The instructor's page of a content."""

    model_config = example({"kind": "content", "media_content_key": "nY3CaQtl", "course": "algo-101"})

    kind: Literal["content"]
    media_content_key: str = _ID


class LearnerLinkInput(_LinkInput):
    """A learner's list of lectures."""

    model_config = example({"kind": "learner", "client_user_id": "user-1042", "lang": "en"})

    kind: Literal["learner"]
    client_user_id: str = _ID


class LearnerContentLinkInput(_LinkInput):
    """A learner's page of a content."""

    model_config = example({"kind": "learner_content", "client_user_id": "user-1042", "media_content_key": "nY3CaQtl"})

    kind: Literal["learner_content"]
    media_content_key: str = _ID
    client_user_id: str = _ID


class CourseLinkInput(_LinkInput):
    """The instructor's page of a course: its lectures in order."""

    model_config = example({"kind": "course", "course": "algo-101", "lang": "ko"})

    kind: Literal["course"]
    course: str = _ID  # the course is what this page shows: required


ViewLinkInput = Annotated[
    ContentLinkInput | LearnerLinkInput | LearnerContentLinkInput | CourseLinkInput, Field(discriminator="kind")
]


class ViewLink(BaseModel):
    model_config = example(
        {
            "url": "https://api.example.com/v1/views/v1.eyJrIjoiY29udGVudCJ9.c2ln",
            "expires_at": "2026-11-22T09:29:03.000Z",
        }
    )

    url: str
    expires_at: str


def view_routes(store: DynamoStore, settings: Settings, ratio_of: Callable[[str], float]) -> Router:
    router = Router()  # type: ignore[no-untyped-call]

    @router.post(
        "/v1/view-links",
        summary="A short-lived signed link to an analytics page, to put in an iframe without the API token",
        responses=responses(ViewLink, 400, 401, 503, status=201, description="Created"),
    )
    def create_view_link(request: Annotated[ViewLinkInput, Body()]) -> Response[str]:
        expires_at = now_ms() // 1000 + request.expires_in
        view = View(
            request.kind, expires_at, getattr(request, "media_content_key", None),
            getattr(request, "client_user_id", None), request.course, request.lang,
        )  # fmt: skip
        token = sign_view(view_link_keys(settings)[0], view)
        event = router.current_event
        host = str(event.raw_event.get("requestContext", {}).get("domainName") or event.headers.get("host", ""))
        local = host.startswith(("127.0.0.1", "localhost"))
        scheme = event.headers.get("x-forwarded-proto") or ("http" if local else "https")
        url = f"{scheme}://{host}{VIEWS_PREFIX}{token}"
        return model_response(201, ViewLink(url=url, expires_at=iso_time(expires_at * 1000) or ""))

    @router.get(
        "/v1/views/<token>",
        summary="The analytics page a view link names (HTML; no API token)",
        description="Self-contained HTML with inline SVG and a strict Content-Security-Policy; `frame-ancestors` "
        "comes from VIEW_FRAME_ANCESTORS. A link that is not ours or has expired gets 403.",
        responses={
            200: {
                "description": "The page",
                "content": {
                    "text/html": {"schema": {"type": "string", "examples": ['<!DOCTYPE html><html lang="ko">…</html>']}}
                },
            },
            **{code: value for code, value in responses(ViewLink, 400, 403, 503).items() if code != 200},
        },
    )
    def show_view(
        token: Annotated[str, PathParam(min_length=1, max_length=4096, examples=["v1.eyJrIjoiY29udGVudCJ9.c2ln"])],
        lang: Annotated[
            str | None,
            Query(max_length=35, examples=["en"], description="`ko` or `en`; any other: the link's language."),
        ] = None,
        after: Annotated[
            str | None,
            Query(
                max_length=4096,
                examples=["50"],
                description="The learner table from this row on (the page's own links).",
            ),
        ] = None,
        sort: Annotated[
            str | None,
            Query(
                max_length=32,
                examples=["-progress"],
                description="The learner table's order: `name`, `status`, `progress`, `last_active` or "
                "`watch_time`, `-` first for descending (the page's own links; the link's signature does not "
                "cover it). Any other: by name.",
            ),
        ] = None,
    ) -> Response[str]:
        now = now_ms()
        accept_language = router.current_event.headers.get("accept-language")
        headers = {
            "Content-Security-Policy": content_security_policy(settings.view_frame_ancestors),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
        view = read_view(view_link_keys(settings), token, now // 1000)
        if view is None:
            if accepts(router, "text/html"):  # a browser (the iframe) gets a page, not an error body
                page = expired_page(language(lang, accept_language))
                return Response(status_code=403, content_type="text/html; charset=utf-8", body=page, headers=headers)
            raise Forbidden("this view link is not valid or has expired: ask the LMS for a new one", field="token")
        chosen = language(lang if lang in LANGUAGES else view.lang, accept_language)
        keys = view_link_keys(settings)
        html = render(
            view, store, settings, ratio_of, lang=chosen, now=now, sign=lambda linked: sign_view(keys[0], linked),
            after=after, sort=sort,
        )  # fmt: skip
        return Response(status_code=200, content_type="text/html; charset=utf-8", body=html, headers=headers)

    return router
