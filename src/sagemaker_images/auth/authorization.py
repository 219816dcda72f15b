"""What a call asks of a key's policies, and the answer: for each served operation, the
action, the resource it is authorized on and the condition keys it supplies, as AWS's
service authorization reference lists them (`reference.py`).

The resource is the ARN of what the call names, built by its kind's declaration from the
request's members (`ImageName`, `DomainId`, ...); a version named by alias, or the latest,
is looked up. List calls without resource-level permissions are authorized on
`arn:...:sagemaker:<region>:<account>:*`; tag calls on the ARN they name. Tags given at
creation also ask for `sagemaker:AddTags` on the new resource, with
`sagemaker:TaggingAction`. The resource's tags (`aws:ResourceTag/...`) are read only for a
key whose policies test them.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any

from sagemaker_images.auth import reference
from sagemaker_images.auth.policies import Principal, Refusal
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import AccessDenied
from sagemaker_images.resources.arns import arn_text, parse
from sagemaker_images.resources.kinds import (
    SPACE,
    USER_PROFILE,
    VERSION,
    ResourceKind,
    kind_of_arn_type,
)
from sagemaker_images.store import Store

# The request member that holds each column of an ARN's path.
_MEMBER = {
    "domain_id": "DomainId",
    "version": "Version",
    "type_key": "AppType",
    "name": "AppName",
}
# Members whose values, wherever they are in a request, make up a multivalued key.
_GATHERED = {
    "sagemaker:imagearns": ("SageMakerImageArn",),
    "sagemaker:imageversionarns": ("SageMakerImageVersionArn",),
    "sagemaker:instancetypes": ("InstanceType",),
    "sagemaker:studiolifecycleconfigarns": (
        "LifecycleConfigArn",
        "LifecycleConfigArns",
        "DefaultLifecycleConfigArn",
    ),
    "sagemaker:vpcsecuritygroupids": ("SecurityGroups", "SecurityGroupIds"),
    "sagemaker:vpcsubnets": ("SubnetIds",),
}
# Single-valued keys: (enclosing member or "" for the top level, member).
_SINGLE = {
    "sagemaker:appnetworkaccesstype": ("", "AppNetworkAccessType"),
    "sagemaker:volumekmskey": ("", "KmsKeyId"),
    "sagemaker:domainsharingoutputkmskey": ("SharingSettings", "S3KmsKeyId"),
    "sagemaker:remoteaccess": ("SpaceSettings", "RemoteAccess"),
    "sagemaker:spacesharingtype": ("SpaceSharingSettings", "SharingType"),
}
_OWNER = "sagemaker:owneruserprofilearn"
_SHARING = "sagemaker:spacesharingtype"
_MOST_TAGS = 50


def _walk(value: Any, names: frozenset[str], found: dict[str, list[str]], within: str) -> None:
    if isinstance(value, dict):
        for member, inner in value.items():
            if member in names:
                items = inner if isinstance(inner, list) else [inner]
                found.setdefault(member, []).extend(str(item) for item in items)
                found.setdefault(f"{within}.{member}", []).extend(str(i) for i in items)
            if isinstance(inner, (dict, list)):
                _walk(inner, names, found, member)
    elif isinstance(value, list):
        for item in value:
            _walk(item, names, found, within)


_NAMES = frozenset(
    [name for names in _GATHERED.values() for name in names]
    + [member for _, member in _SINGLE.values()]
)


class Authorizer:
    """Answers, for a principal, whether it may make one call (reading the store where the
    call's resource or context needs it)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._facts = reference.actions()

    def quick(
        self,
        principal: Principal,
        operation: str,
        ctx: RequestContext,
        request: dict[str, Any],
        peer: str | None,
        secure: bool,
    ) -> Refusal | _Later | None:
        """The answer when it needs nothing from the store or the request's deeper
        members (the common case: a read by a key whose statements test only global keys);
        else LATER, and `refusal` must be asked."""
        facts = self._facts[operation]
        if facts.reads_request or "aws:requesttag/" in facts.condition_keys:
            return LATER
        resource, kind = self._resource(operation, facts, ctx, request)
        if resource is None or (principal.uses_resource_tags and kind is not None):
            return LATER
        wanted = principal.keys[operation]
        if not wanted:
            return principal.refusal(operation, resource, _NO_CONTEXT)
        context = self._global(principal, ctx, resource, peer, secure, wanted)
        return principal.refusal(operation, resource, context)

    async def refusal(
        self,
        principal: Principal,
        operation: str,
        ctx: RequestContext,
        request: dict[str, Any],
        peer: str | None,
        secure: bool,
    ) -> Refusal | None:
        facts = self._facts[operation]
        resource, kind = self._resource(operation, facts, ctx, request)
        if resource is None:
            resource = await self._version_arn(ctx, request)
        keys = facts.condition_keys
        tags = request.get("Tags") if "aws:requesttag/" in keys else None
        wanted = principal.keys[operation]
        if tags and operation != "AddTags":
            wanted = (*wanted, *principal.keys["AddTags"])
        if not wanted:  # no statement about the call reads its context: none is needed
            return self._decided(principal, operation, resource, {}, tags)
        context = self._global(principal, ctx, resource, peer, secure, wanted)
        if tags:
            self._request_tags(context, tags)
        elif operation == "DeleteTags":
            context["aws:tagkeys"] = tuple(request.get("TagKeys", ()))
        if facts.reads_request:
            await self._request_keys(context, keys, operation, ctx, request)
        if principal.uses_resource_tags and kind is not None and kind.tagged:
            await self._resource_tags(context, kind, ctx, resource)
        return self._decided(principal, operation, resource, context, tags)

    @staticmethod
    def _decided(
        principal: Principal,
        operation: str,
        resource: str,
        context: dict[str, Any],
        tags: list[dict[str, str]] | None,
    ) -> Refusal | None:
        refused = principal.refusal(operation, resource, context)
        if refused is not None or not tags or operation == "AddTags":
            return refused
        # Tags given at creation: AddTags on the new resource, as AWS asks for it.
        context["sagemaker:taggingaction"] = operation
        return principal.refusal("AddTags", resource, context)

    @staticmethod
    def _resource(
        operation: str,
        facts: reference.ActionFacts,
        ctx: RequestContext,
        request: dict[str, Any],
    ) -> tuple[str | None, ResourceKind[Any] | None]:
        """The ARN the call is authorized on (None: a version to look up), and the kind of
        what it names."""
        plan = _PLANS.get(operation)
        if plan is None:
            plan = _PLANS[operation] = _plan(operation, facts)
        kind, members, create = plan
        if kind is None:
            if members:  # a tag call: the ARN it names
                arn = request["ResourceArn"]
                parsed = parse(arn)
                return arn, None if parsed is None else kind_of_arn_type(parsed.resource_type)
            return arn_text(ctx.region, ctx.account, "*"), None
        if operation == "ListAliases" and "Version" in request:
            kind, members = VERSION, _members(VERSION)
        if kind is VERSION and "Version" not in request:
            return None, kind
        path = [request.get(names[0]) or _member(request, names) for names in members]
        if create and None in path:
            # What creating it will name (a domain's id): any of its kind.
            return kind.arn_prefix(ctx.region, ctx.account) + "*", kind
        return kind.arn(ctx.region, ctx.account, *path), kind

    async def _version_arn(self, ctx: RequestContext, request: dict[str, Any]) -> str:
        """A version named by its alias, or the latest: the one it is now (any of the
        image's, when there is none; the call then answers that it does not exist)."""
        name = request["ImageName"]
        found = await self._store.reader.versions.lookup(
            ctx.account, ctx.region, name.lower(), version=None, alias=request.get("Alias")
        )
        if found.version is not None:
            return VERSION.arn(ctx.region, ctx.account, name, found.version.version)
        return VERSION.arn_prefix(ctx.region, ctx.account, name) + "*"

    @staticmethod
    def _global(
        principal: Principal,
        ctx: RequestContext,
        resource: str,
        peer: str | None,
        secure: bool,
        wanted: tuple[str, ...],
    ) -> dict[str, Any]:
        context: dict[str, Any] = {
            "aws:principalarn": principal.arn,
            "aws:principalaccount": ctx.account,
            "aws:principaltype": principal.kind,
            "aws:requestedregion": ctx.region,
            "aws:securetransport": "true" if secure else "false",
        }
        if "aws:resourceaccount" in wanted:
            parsed = parse(resource)
            context["aws:resourceaccount"] = parsed.account if parsed else ctx.account
        if "aws:currenttime" in wanted or "aws:epochtime" in wanted:
            now = time.time()
            context["aws:currenttime"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
            context["aws:epochtime"] = str(int(now))
        if principal.username is not None:
            context["aws:username"] = principal.username
        if peer is not None:
            context["aws:sourceip"] = peer
        return context

    @staticmethod
    def _request_tags(context: dict[str, Any], tags: list[dict[str, str]]) -> None:
        for tag in tags:
            context["aws:requesttag/" + tag["Key"].lower()] = tag["Value"]
        context["aws:tagkeys"] = tuple(tag["Key"] for tag in tags)

    async def _request_keys(
        self,
        context: dict[str, Any],
        keys: frozenset[str],
        operation: str,
        ctx: RequestContext,
        request: dict[str, Any],
    ) -> None:
        """The SageMaker keys the reference lists for the call, from what it asks for."""
        found: dict[str, list[str]] = {}
        _walk(request, _NAMES, found, "")
        for key, members in _GATHERED.items():
            if key in keys:
                gathered = tuple(dict.fromkeys(v for m in members for v in found.get(m, ())))
                if gathered:
                    context[key] = gathered
        for key, (within, member) in _SINGLE.items():
            if key in keys:
                values = found.get(f"{within}.{member}") if within else _top(request, member)
                if values:
                    context[key] = values[0]
        if _OWNER in keys or _SHARING in keys:
            await self._space_keys(context, operation, ctx, request)

    async def _space_keys(
        self, context: dict[str, Any], operation: str, ctx: RequestContext, request: dict[str, Any]
    ) -> None:
        """A space's owner and sharing type: from the request that creates it, else from
        the space a call names."""
        domain = request.get("DomainId")
        owner: str | None = None
        sharing: str | None = None
        if operation == "CreateSpace":
            owner = (request.get("OwnershipSettings") or {}).get("OwnerUserProfileName")
            sharing = (request.get("SpaceSharingSettings") or {}).get("SharingType")
        elif request.get("SpaceName") and domain:
            space = await self._store.reader.of(SPACE).find(
                ctx.account, ctx.region, domain, request["SpaceName"].lower()
            )
            if space is not None:
                owner = (space.ownership_settings or {}).get("OwnerUserProfileName")
                sharing = (space.space_sharing_settings or {}).get("SharingType")
        if owner and domain:
            context[_OWNER] = USER_PROFILE.arn(ctx.region, ctx.account, domain, owner)
        if sharing:
            context[_SHARING] = sharing

    async def _resource_tags(
        self, context: dict[str, Any], kind: ResourceKind[Any], ctx: RequestContext, arn: str
    ) -> None:
        parsed = parse(arn)
        if parsed is None or parsed.account != ctx.account or parsed.region != ctx.region:
            return
        path = kind.segments(parsed.resource_id)
        if path is None:
            return
        reads = self._store.reader
        found = await reads.locate(kind, ctx.account, ctx.region, path)
        if found is None:
            return
        for key, value in await reads.tags.page(kind.arn_type, found.row_id, None, _MOST_TAGS):
            lowered = key.lower()
            context["aws:resourcetag/" + lowered] = value
            context["sagemaker:resourcetag/" + lowered] = value


_NO_CONTEXT: dict[str, Any] = {}
# Per operation: the kind whose ARN it is authorized on (None: `*`, or for a tag call the
# ARN given), the request members of its ARN's segments, whether it creates.
_Plan = tuple[ResourceKind[Any] | None, tuple[tuple[str, ...], ...], bool]
_PLANS: dict[str, _Plan] = {}


def _plan(operation: str, facts: reference.ActionFacts) -> _Plan:
    if operation in ("AddTags", "ListTags", "DeleteTags"):
        return None, (("ResourceArn",),), False
    if not facts.resources:
        return None, (), False
    kind = kind_of_arn_type(facts.resources[0])
    assert kind is not None, facts.resources
    return kind, _members(kind), operation.startswith("Create")


class _Later:
    """`Authorizer.quick`'s answer when only `refusal` can answer."""


LATER = _Later()


@cache
def _members(kind: ResourceKind[Any]) -> tuple[tuple[str, ...], ...]:
    """For each segment of a kind's ARN, the request members that may hold it."""
    found: list[tuple[str, ...]] = []
    for column in kind.arn_path:
        if column == "name_key":
            found.append((f"{kind.wire}Name", "ImageName"))
        elif column == "owner":
            found.append(("UserProfileName", "SpaceName"))
        else:
            found.append((_MEMBER.get(column, column),))
    return tuple(found)


def _member(request: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = request.get(name)
        if value:
            return value
    return None


def _top(request: dict[str, Any], member: str) -> list[str] | None:
    value = request.get(member)
    return None if value is None else [str(value)]


class Gate:
    """One call's check, run by the dispatcher once the request is valid; keeps the refusal
    for the access log and the metrics."""

    __slots__ = ("_authorizer", "_ctx", "_peer", "_principal", "_secure", "refusal")

    def __init__(
        self,
        authorizer: Authorizer,
        principal: Principal,
        ctx: RequestContext,
        peer: str | None,
        secure: bool,
    ) -> None:
        self._authorizer = authorizer
        self._principal = principal
        self._ctx = ctx
        self._peer = peer
        self._secure = secure
        self.refusal: Refusal | None = None

    def settled(self, operation: str, request: dict[str, Any]) -> bool:
        """True if allowed, False if the store must be asked; raises if refused."""
        quick = self._authorizer.quick(
            self._principal, operation, self._ctx, request, self._peer, self._secure
        )
        if quick is None:
            return True
        if quick is LATER:
            return False
        assert isinstance(quick, Refusal)
        self.refusal = quick
        raise AccessDenied(quick.message)

    async def __call__(self, operation: str, request: dict[str, Any]) -> None:
        refusal = await self._authorizer.refusal(
            self._principal, operation, self._ctx, request, self._peer, self._secure
        )
        if refusal is not None:
            self.refusal = refusal
            raise AccessDenied(refusal.message)
