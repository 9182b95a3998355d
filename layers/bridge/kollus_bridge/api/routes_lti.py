"""The LTI 1.3 tool's routes, as a Powertools router the API function includes.

Public (the platform and the learner's browser call them; the signed messages are the credentials):
`GET /.well-known/jwks.json`, `GET|POST /lti/login`, `POST /lti/launch`, `POST /lti/deep-link`.
With the API token: `PUT|GET|DELETE /v1/lti/platforms/{platform_id}`, `GET /v1/lti/platforms`,
`POST /v1/lti/keys`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Form, Query
from aws_lambda_powertools.event_handler.openapi.params import Path as PathParam

from kollus_bridge.analytics.page import STYLE_HASH, expired_page, language
from kollus_bridge.analytics.words import LANGUAGES
from kollus_bridge.auth import playback_keys
from kollus_bridge.content.catalog import Status
from kollus_bridge.errors import Forbidden, InvalidRequest, NotFound
from kollus_bridge.kollus.callback import RawCallback
from kollus_bridge.kollus.refused import kept_when_refused
from kollus_bridge.lti import launch as lti_launch
from kollus_bridge.lti.keys import ToolKeys
from kollus_bridge.lti.platforms import Platform
from kollus_bridge.settings import Settings
from kollus_bridge.store.dynamo import DynamoStore
from kollus_bridge.times import now_ms

from .http import accepts, model_response, page_responses, redirect_responses, responses
from .lti import (
    KeySet,
    PlatformInput,
    PlatformOut,
    PlatformPage,
    admit,
    frame_ancestors,
    join_course,
    keep_context,
    launch_language,
    platform_json,
    read_session,
    response_page,
    session_token,
)
from .picker import PICK_PAGE, PickItem, picker_page
from .service import PlaybackInput, issue_playback_url

#: The routes a platform or a browser calls without the API token.
PlatformId = Annotated[str, PathParam(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$", examples=["moodle"])]
_HINT = Query(max_length=2048, examples=["https://moodle.example.com"])
FORM_TYPE = "application/x-www-form-urlencoded"
#: Where a refused launch is said to come from, in the rejected store.
LAUNCH_SOURCE = "lti_launch"
#: Catalog reads one page of the picker may take when a search leaves most entries out.
PICK_READS = 10


def lti_routes(
    store: DynamoStore,
    settings: Settings,
    tool_keys: Callable[[], ToolKeys],
    rotate: Callable[[], ToolKeys],
    key_for: lti_launch.KeyFor,
) -> Router:
    router = Router()  # type: ignore[no-untyped-call]

    def found(platform_id: str, platform: Platform | None) -> Response[str]:
        if platform is None:
            raise NotFound(f"no LTI platform {platform_id!r}")
        return model_response(200, platform_json(platform))

    def base_url() -> str:
        event = router.current_event
        context = event.get("requestContext") or {}
        host = str(context.get("domainName") or event.headers.get("host", ""))
        loopback = host.startswith(("127.0.0.1", "localhost", "[::1]"))
        scheme = event.headers.get("x-forwarded-proto") or ("http" if loopback else "https")
        return f"{scheme}://{host}"

    def page(body: str, csp: str, status: int = 200) -> Response[str]:
        headers = {"content-security-policy": csp, "cache-control": "no-store", "referrer-policy": "no-referrer"}
        return Response(status, "text/html; charset=utf-8", body, headers=headers)

    @router.get(
        "/.well-known/jwks.json",
        summary="The LTI tool's public keys (JSON Web Key Set): platforms verify our messages with them",
        responses=responses(KeySet, 503),
    )
    def get_jwks() -> Response[str]:
        return model_response(200, KeySet(**tool_keys().public()))

    def start_login(**given: str | None) -> Response[str]:
        params = {name: value for name, value in given.items() if value}
        launch_url = base_url() + "/lti/launch"
        url = lti_launch.login(params, store, launch_url, now_ms(), settings.lti_state_seconds, tool_keys())
        return Response(302, "text/plain", "", headers={"location": url, "cache-control": "no-store"})

    @router.get(
        "/lti/login",
        summary="LTI 1.3 OIDC login initiation (the platform's third-party login)",
        responses=redirect_responses("To the platform's authorization endpoint", 400, 403, 404, 503),
    )
    def get_login(  # noqa: PLR0917 (the OIDC login's parameters)
        iss: Annotated[str, Query(min_length=1, max_length=2048, examples=["https://moodle.example.com"])],
        login_hint: Annotated[str, Query(min_length=1, max_length=2048, examples=["42"])],
        target_link_uri: Annotated[str, Query(min_length=1, max_length=2048, examples=["https://api/lti/launch"])],
        lti_message_hint: Annotated[str | None, _HINT] = None,
        client_id: Annotated[str | None, _HINT] = None,
        lti_deployment_id: Annotated[str | None, _HINT] = None,
    ) -> Response[str]:
        return start_login(
            iss=iss,
            login_hint=login_hint,
            target_link_uri=target_link_uri,
            lti_message_hint=lti_message_hint,
            client_id=client_id,
            lti_deployment_id=lti_deployment_id,
        )

    @router.post(
        "/lti/login",
        summary="LTI 1.3 OIDC login initiation, form-posted",
        responses=redirect_responses("To the platform's authorization endpoint", 400, 403, 404, 503),
    )
    def post_login(  # noqa: PLR0917 (the OIDC login's parameters)
        iss: Annotated[str, Form(min_length=1, max_length=2048, examples=["https://moodle.example.com"])],
        login_hint: Annotated[str, Form(min_length=1, max_length=2048, examples=["42"])],
        target_link_uri: Annotated[str, Form(min_length=1, max_length=2048, examples=["https://api/lti/launch"])],
        lti_message_hint: Annotated[str | None, Form(max_length=2048, examples=["7"])] = None,
        client_id: Annotated[str | None, Form(max_length=2048, examples=["Xq3Lr0VJ1xP5aBc"])] = None,
        lti_deployment_id: Annotated[str | None, Form(max_length=2048, examples=["3"])] = None,
    ) -> Response[str]:
        return start_login(
            iss=iss,
            login_hint=login_hint,
            target_link_uri=target_link_uri,
            lti_message_hint=lti_message_hint,
            client_id=client_id,
            lti_deployment_id=lti_deployment_id,
        )

    @router.post(
        "/lti/launch",
        summary="LTI 1.3 launch: a resource link plays its content (303 to the signed Kollus playback URL); a "
        "deep-linking request shows the contents to pick",
        description="A deep-linking request answers 200 with the page listing the catalog's contents.",
        responses=redirect_responses("To the Kollus player", 400, 403, 503, status=303),
    )
    def post_launch(
        id_token: Annotated[str, Form(min_length=1, max_length=65_536, examples=["eyJhbGciOiJSUzI1NiJ9.e30.c2ln"])],
        state: Annotated[str, Form(min_length=1, max_length=4096, examples=["eyJhbGciOiJSUzI1NiJ9.e30.c2ln"])],
    ) -> Response[str]:
        now = now_ms()
        pending = lti_launch.read_state(state, tool_keys())
        platform, claims = lti_launch.signed_claims(id_token, pending, store, key_for)
        lti_launch.use_state(pending, store)
        # A registered platform signed this launch: from here on a refusal is kept, as the callbacks'
        # are. A stranger's forms (a state or id_token nobody signed) end above, writing nothing.
        raw = RawCallback((router.current_event.decoded_body or "").encode(), FORM_TYPE)
        with kept_when_refused(store, raw, now, LAUNCH_SOURCE):
            return launched(lti_launch.launch_of(platform, claims, pending), now)

    def launched(launch: lti_launch.Launch, now: int) -> Response[str]:
        if launch.message_type == lti_launch.DEEP_LINKING:
            keep_context(launch, store, now)
            session = session_token(launch, tool_keys(), now // 1000)
            lang = language(launch_language(launch), router.current_event.headers.get("accept-language"))
            return picking(session, launch.platform, lang, query="", after=None)
        content = str(launch.custom.get("media_content_key") or "")
        if not content:
            raise InvalidRequest("the resource link has no custom parameter media_content_key", field="id_token")
        if not launch.platform.allow_unlisted_contents and content not in store.content_cards([content]):
            refused = f"content {content!r} is not in the catalog (the platform's registration lists no others)"
            raise NotFound(refused, field="media_content_key")
        learner = admit(launch, content, settings, store, now)
        wanted = PlaybackInput(
            client_user_id=learner, media_content_key=content, expires_in=settings.lti_playback_expires_in
        )
        issued = issue_playback_url(wanted, settings, store, playback_keys(settings), now)
        return Response(303, "text/plain", "", headers={"location": issued["url"], "cache-control": "no-store"})

    def picking(session: str, platform: Platform, lang: str, query: str, after: str | None) -> Response[str]:
        """A page of the playable contents (whose title holds `query`) for the instructor to tick."""
        items: list[PickItem] = []
        token = after
        for _ in range(PICK_READS):  # a filtered read may come back short: read on to fill the page
            contents, token = store.list_contents(
                status=Status.READY, channel_key=None, title_contains=query or None, limit=PICK_PAGE - len(items),
                next_token=token,
            )  # fmt: skip
            items += [
                PickItem(key, entry.title or key, entry.duration, entry.poster_url, entry.created_at)
                for entry in (item.entry for item in contents)
                if (key := entry.media_content_key)
            ]
            if token is None or len(items) >= PICK_PAGE:
                break
        ancestors = frame_ancestors(platform)
        zone = settings.display_timezone
        return page(*picker_page(items, session, lang, zone, ancestors, query, token, first_page=after is None))

    @router.get(
        "/lti/deep-link",
        summary="The deep-linking picker: another page of the playable contents, or those whose title matches",
        description="The picker's own search form and page links come here (no API token: the signed picking "
        "session is the credential). A session that is not ours or has expired gets 403; a browser, a page "
        "saying so.",
        responses=page_responses("The picker", 400, 403, 404, 503),
    )
    def get_deep_link(
        session: Annotated[
            str,
            Query(
                min_length=1, max_length=8192, pattern=r"^[A-Za-z0-9_.=-]+$", examples=["eyJhbGciOiJSUzI1NiJ9.e30.c2ln"]
            ),
        ],
        q: Annotated[str | None, Query(max_length=200, examples=["recursion"], description="Title contains.")] = None,
        after: Annotated[
            str | None,
            Query(
                max_length=4096,
                pattern=r"^[A-Za-z0-9_=-]+$",
                examples=["eyJwayI6IkMjYWxnby0xMDEifQ"],
                description="Next page (the picker's own link).",
            ),
        ] = None,
        lang: Annotated[str | None, Query(max_length=35, examples=["ko"], description="`ko` or `en`.")] = None,
    ) -> Response[str]:
        try:
            picked = read_session(session, tool_keys())
        except Forbidden:
            if not accepts(router, "text/html"):
                raise
            wanted = language(lang, router.current_event.headers.get("accept-language"))
            return page(expired_page(wanted), "default-src 'none'; style-src 'sha256-" + STYLE_HASH + "'", 403)
        platform = store.get_platform(str(picked["platform_id"]))
        if platform is None:
            raise NotFound("the platform of this deep-linking request is no longer registered")
        chosen = language(lang if lang in LANGUAGES else picked.get("lang"), None)
        return picking(session, platform, chosen, (q or "").strip(), after)

    @router.post(
        "/lti/deep-link",
        summary="The instructor's pick: a signed LtiDeepLinkingResponse posted back to the platform",
        responses=page_responses("The page that posts the response to the platform", 400, 403, 404, 503),
    )
    def post_deep_link(
        session: Annotated[str, Form(min_length=1, max_length=65_536, examples=["eyJhbGciOiJSUzI1NiJ9.e30.c2ln"])],
        keys: Annotated[str | None, Form(max_length=65_536, examples=["nY3CaQtl\nb7Xq2LmP"])] = None,
        lang: Annotated[str | None, Form(max_length=35, examples=["ko"])] = None,
    ) -> Response[str]:
        # Ticked contents come as repeated `media_content_key` fields, which a declared form field
        # would fold into one: read them from the body.
        fields = parse_qs(router.current_event.decoded_body or "", keep_blank_values=True)
        tool = tool_keys()
        picked = read_session(session, tool)
        platform = store.get_platform(str(picked["platform_id"]))
        if platform is None:
            raise NotFound("the platform of this deep-linking request is no longer registered")
        chosen = list(fields.get("media_content_key") or [])
        chosen += [line.strip() for line in (keys or "").splitlines() if line.strip()]
        chosen = list(dict.fromkeys(key for key in chosen if len(key) <= 256))
        if not chosen:
            raise InvalidRequest("choose at least one content", field="media_content_key")
        cards = store.content_cards(chosen)
        choices = [(key, (cards[key].title if key in cards else None) or key) for key in chosen]
        course_id = str(picked.get("course_id") or "")
        if course_id:  # the picked contents join the context's course (made at the deep-linking launch)
            join_course(store, course_id, course_id, [key for key, _ in choices], now_ms())
        chosen_lang = language(lang if lang in LANGUAGES else picked.get("lang"), None)
        return page(*response_page(platform, picked, choices, tool, base_url() + "/lti/launch", chosen_lang))

    @router.put(
        "/v1/lti/platforms/<platform_id>",
        summary="Register an LTI 1.3 platform (an LMS), or replace its registration",
        responses=responses(PlatformOut, 400, 401, 503),
    )
    def put_platform(platform_id: PlatformId, registration: Annotated[PlatformInput, Body()]) -> Response[str]:
        platform = Platform(
            platform_id,
            registration.issuer,
            registration.client_id,
            registration.auth_login_url,
            registration.token_url,
            registration.jwks_url,
            tuple(registration.deployment_ids),
            now_ms(),
            trust_client_user_id=registration.trust_client_user_id,
            allow_unlisted_contents=registration.allow_unlisted_contents,
        )
        store.put_platform(platform)
        return model_response(200, platform_json(platform))

    @router.get(
        "/v1/lti/platforms/<platform_id>",
        summary="One registered LTI platform",
        responses=responses(PlatformOut, 400, 401, 404, 503),
    )
    def get_platform(platform_id: PlatformId) -> Response[str]:
        return found(platform_id, store.get_platform(platform_id))

    @router.delete(
        "/v1/lti/platforms/<platform_id>",
        summary="Remove a platform's registration (its learners' records and grades stay)",
        responses=responses(PlatformOut, 400, 401, 404, 503),
    )
    def delete_platform(platform_id: PlatformId) -> Response[str]:
        return found(platform_id, store.delete_platform(platform_id))

    @router.get(
        "/v1/lti/platforms",
        summary="Every registered LTI platform",
        responses=responses(PlatformPage, 401, 503),
    )
    def list_platforms() -> Response[str]:
        return model_response(200, PlatformPage(items=[platform_json(p) for p in store.list_platforms()]))

    @router.post(
        "/v1/lti/keys",
        summary="Rotate the tool's signing key: a new key signs, the previous one stays published, older ones go",
        responses=responses(KeySet, 401, 409, 503),
    )
    def post_keys() -> Response[str]:
        return model_response(200, KeySet(**rotate().public()))

    return router
