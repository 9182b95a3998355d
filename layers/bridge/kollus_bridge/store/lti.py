"""LTI: the registered platforms (`pk=LTI`, `sk=P#<id>`; few, so found by issuer with one query of
their partition) and OIDC logins waiting for their launch (`pk=LTI#LOGIN#<state>`, taken once by a
conditional delete, gone by TTL `expires_at` when never used)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kollus_bridge.lti.platforms import Login, Platform

from .table import ConditionFailed, Table, key_part, plain

PARTITION = "LTI"
PLATFORM_PREFIX = "P#"
LOGIN_PREFIX = "LTI#LOGIN#"


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

    def put_login(self, login: Login) -> None:
        self.call(
            "put_item",
            Item={
                "pk": {"S": LOGIN_PREFIX + login.state},
                "sk": {"S": "-"},
                "nonce": {"S": login.nonce},
                "platform_id": {"S": login.platform_id},
                "login_expires_at": {"N": str(login.expires_at)},
                "expires_at": {"N": str(login.expires_at // 1000 + 60)},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )

    def take_login(self, state: str) -> Login | None:
        """The login `state` names, removed so that no second launch can use it."""
        try:
            item = self.call(
                "delete_item",
                Key={"pk": {"S": LOGIN_PREFIX + state}, "sk": {"S": "-"}},
                ConditionExpression="attribute_exists(pk)",
                ReturnValues="ALL_OLD",
            ).get("Attributes")
        except ConditionFailed:
            return None
        if item is None:
            return None
        return Login(state, plain(item, "nonce"), plain(item, "platform_id"), int(plain(item, "login_expires_at")))
