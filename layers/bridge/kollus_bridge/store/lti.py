"""LTI: the registered platforms (`pk=LTI`, `sk=P#<id>`; few, so found by issuer with one query of
their partition), OIDC logins waiting for their launch (`pk=LTI#LOGIN#<state>`, taken once by a
conditional delete, gone by TTL `expires_at` when never used) and the line items the tool looked up
or made for resource links whose launches named none (`pk=LTI#LINE#<platform>#<resource link>#<content>`:
the line item's URL, or a short claim while one delivery finds or makes it)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from kollus_bridge.lti.platforms import LinePlace, Platform

from .table import ConditionFailed, Table, key_part, plain

PARTITION = "LTI"
PLATFORM_PREFIX = "P#"
LOGIN_PREFIX = "LTI#LOGIN#"
LINE_PREFIX = "LTI#LINE#"


def line_key(place: LinePlace) -> dict[str, Any]:
    parts = "#".join(key_part(part) for part in place)
    return {"pk": {"S": LINE_PREFIX + parts}, "sk": {"S": "-"}}


def platform_key(platform_id: str) -> dict[str, Any]:
    return {"pk": {"S": PARTITION}, "sk": {"S": PLATFORM_PREFIX + key_part(platform_id)}}


def platform_from_item(item: Mapping[str, Any]) -> Platform:
    return Platform(
        platform_id=plain(item, "platform_id"),
        issuer=plain(item, "issuer"),
        client_id=plain(item, "client_id"),
        auth_login_url=plain(item, "auth_login_url"),
        token_url=plain(item, "token_url"),
        jwks_url=plain(item, "jwks_url"),
        deployment_ids=tuple(plain(item, "deployment_ids")),
        updated_at=int(plain(item, "updated_at")),
        trust_client_user_id=bool(plain(item, "trust_client_user_id")),
        allow_unlisted_contents=bool(plain(item, "allow_unlisted_contents")),
    )


class Lti(Table):
    def put_platform(self, platform: Platform) -> None:
        item = {
            **platform_key(platform.platform_id),
            "platform_id": {"S": platform.platform_id},
            "issuer": {"S": platform.issuer},
            "client_id": {"S": platform.client_id},
            "auth_login_url": {"S": platform.auth_login_url},
            "token_url": {"S": platform.token_url},
            "jwks_url": {"S": platform.jwks_url},
            "deployment_ids": {"L": [{"S": deployment} for deployment in platform.deployment_ids]},
            "updated_at": {"N": str(platform.updated_at)},
            "trust_client_user_id": {"BOOL": platform.trust_client_user_id},
            "allow_unlisted_contents": {"BOOL": platform.allow_unlisted_contents},
        }
        self.call("put_item", Item=item)

    def get_platform(self, platform_id: str) -> Platform | None:
        item = self.call("get_item", Key=platform_key(platform_id), ConsistentRead=True).get("Item")
        return None if item is None else platform_from_item(item)

    def delete_platform(self, platform_id: str) -> Platform | None:
        item = self.call("delete_item", Key=platform_key(platform_id), ReturnValues="ALL_OLD").get("Attributes")
        return None if item is None else platform_from_item(item)

    def list_platforms(self) -> list[Platform]:
        request: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": PARTITION}, ":prefix": {"S": PLATFORM_PREFIX}},
        }
        found: list[Platform] = []
        start: Mapping[str, Any] | None = None
        while True:
            items, start = self.query_page(request, start)
            found += [platform_from_item(item) for item in items]
            if start is None:
                return found

    def platforms_of(self, issuer: str) -> list[Platform]:
        return [platform for platform in self.list_platforms() if platform.issuer == issuer]

    def use_login(self, state_id: str, expires_at: int) -> bool:
        """Mark a signed login state used; False when it was already (the mark outlives the state)."""
        try:
            self.call(
                "put_item",
                Item={
                    "pk": {"S": LOGIN_PREFIX + state_id},
                    "sk": {"S": "-"},
                    "expires_at": {"N": str(expires_at // 1000 + 60)},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ConditionFailed:
            return False
        return True

    def get_lineitem(self, place: LinePlace) -> str | None:
        """The line item found or made for a resource link's content (None: none yet)."""
        key = line_key(place)
        item = self.call("get_item", Key=key, ConsistentRead=True).get("Item") or {}
        return plain(item, "lineitem") if "lineitem" in item else None

    def claim_lineitem(self, place: LinePlace, owner: str, now: int, until: int) -> bool:
        """Claim the finding (or making) of a resource link's line item until `until` (epoch ms):
        False while another claim holds, or once the line item is known."""
        try:
            self.call(
                "put_item",
                Item={
                    **line_key(place),
                    "claim_owner": {"S": owner},
                    "claim_until": {"N": str(until)},
                },
                ConditionExpression=(
                    "attribute_not_exists(pk) OR (attribute_not_exists(lineitem) AND claim_until < :now)"
                ),
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except ConditionFailed:
            return False
        return True

    def put_lineitem(self, place: LinePlace, lineitem: str) -> None:
        item = {**line_key(place), "lineitem": {"S": lineitem}}
        self.call("put_item", Item=item)

    def release_lineitem(self, place: LinePlace, owner: str) -> None:
        """Give up a claim that found no line item, so the next attempt need not wait for it to run out."""
        self._delete_line(place, "claim_owner = :owner AND attribute_not_exists(lineitem)", {":owner": owner})

    def forget_lineitem(self, place: LinePlace, lineitem: str) -> None:
        """Drop a kept line item the platform no longer has (unless another was kept meanwhile)."""
        self._delete_line(place, "lineitem = :lineitem", {":lineitem": lineitem})

    def _delete_line(self, place: LinePlace, condition: str, values: Mapping[str, str]) -> None:
        with contextlib.suppress(ConditionFailed):
            self.call(
                "delete_item",
                Key=line_key(place),
                ConditionExpression=condition,
                ExpressionAttributeValues={name: {"S": value} for name, value in values.items()},
            )
