"""A route group is made and included once, however many requests ask for it at once (the local
stack serves requests on threads)."""

from __future__ import annotations

import threading
import time
from typing import Any, cast

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import Router
from kollus_bridge.api.route_groups import LazyRoutes, RouteGroup


class Resolver:
    def __init__(self) -> None:
        self.included: list[Any] = []

    def include_router(self, router: Any) -> None:
        self.included.append(router)


def test_requests_asking_at_once_make_a_group_once() -> None:
    made: list[Router] = []

    def make() -> Router:
        time.sleep(0.05)  # long enough for every thread to ask while the first makes it
        made.append(Router())  # type: ignore[no-untyped-call]
        return made[-1]

    resolver = Resolver()
    lazy = LazyRoutes(cast(APIGatewayHttpResolver, resolver), [RouteGroup("contents", ("/v1/contents",), make)])
    start = threading.Barrier(8)

    def ask() -> None:
        start.wait()
        lazy.load_for("/v1/contents/x")

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1 and resolver.included == made and lazy.loaded == {"contents"}
    lazy.load_for("/v1/uploads")  # a path no group serves: nothing more
    assert len(made) == 1
