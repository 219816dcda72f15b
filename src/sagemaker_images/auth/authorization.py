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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from sagemaker_images.auth import reference
from sagemaker_images.auth.policies import Principal, Refusal, getter
from sagemaker_images.context import RequestContext
from sagemaker_images.errors import AccessDenied
from sagemaker_images.protocol import model
from sagemaker_images.protocol.asgi import Scope
from sagemaker_images.resources.arns import arn_text, parse
from sagemaker_images.resources.kinds import (
    SPACE,
    TAG_OPERATIONS,
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


Found = dict[tuple[str, str], list[str]]  # (enclosing member, member) → its values


def _walk(value: Any, names: frozenset[str], found: Found, within: str) -> None:
    if isinstance(value, dict):
        for member, inner in value.items():
            if member in names:
                items = inner if isinstance(inner, list) else [inner]
                found.setdefault((within, member), []).extend(str(item) for item in items)
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
        self._plans = {name: _plan(name, facts) for name, facts in self._facts.items()}
        self._version_plan = _plan("ListAliases", self._facts["ListAliases"], VERSION)
        # Contexts of global keys that hold for every call of a principal from one place
        # (by principal, account, region, transport, peer): made once, read only.
        self._contexts: dict[tuple[Any, ...], dict[str, Any]] = {}

    def quick(self, gate: Gate, operation: str, request: dict[str, Any]) -> Refusal | _Later | None:
        """The answer when it needs nothing from the store or the request's deeper
        members (the common case: a read by a key whose statements test only global keys);
        else LATER, and `refusal` must be asked."""
        principal, ctx = gate.principal, gate.ctx
        plan = self._plans[operation]
        if not plan.quick:
            return LATER
        resource, kind = self._resource(plan, operation, ctx, request)
        if resource is None or (principal.uses_resource_tags and kind is not None):
            return LATER
        wanted = principal.keys[operation]
        if not wanted:
            return principal.refusal(operation, resource, _NO_CONTEXT)
        peer, secure = gate.peer, gate.secure
        if not _CHANGING.isdisjoint(wanted):
            context = self._global(principal, ctx, resource, peer, secure, wanted)
            return principal.refusal(operation, resource, context)
        place = (principal, ctx.account, ctx.region, secure, peer)
        known = self._contexts.get(place)
        if known is None:
            if len(self._contexts) >= _MOST_CONTEXTS:
                self._contexts.clear()
            known = self._contexts[place] = self._global(principal, ctx, resource, peer, secure, ())
        return principal.refusal(operation, resource, known)

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
        resource, kind = self._resource(self._plans[operation], operation, ctx, request)
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

    def _resource(
        self, plan: _Plan, operation: str, ctx: RequestContext, request: dict[str, Any]
    ) -> tuple[str | None, ResourceKind[Any] | None]:
        """The ARN the call is authorized on (None: a version to look up), and the kind of
        what it names."""
        kind = plan.kind
        if kind is None:
            if plan.tagging:  # the ARN it names
                arn = request["ResourceArn"]
                parsed = parse(arn)
                return arn, None if parsed is None else kind_of_arn_type(parsed.resource_type)
            return arn_text(ctx.region, ctx.account, "*"), None
        if kind is not VERSION and "Version" in request and operation == "ListAliases":
            plan = self._version_plan
            kind = VERSION
        if kind is VERSION and "Version" not in request:
            return None, kind
        path = plan.firsts(request)
        if None in path:  # another member holds a segment (an app's space), or none does
            path = tuple(_member(request, names) for names in plan.members)
            if plan.create and None in path:
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
        found: Found = {}
        _walk(request, _NAMES, found, "")
        for key, members in _GATHERED.items():
            if key in keys:
                every = (v for (_, m), values in found.items() if m in members for v in values)
                gathered = tuple(dict.fromkeys(every))
                if gathered:
                    context[key] = gathered
        for key, place in _SINGLE.items():
            if key in keys and place in found:
                context[key] = found[place][0]
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
# Global keys whose value is not the same for every call of a principal from one place.
_CHANGING = frozenset({"aws:currenttime", "aws:epochtime", "aws:resourceaccount"})
_MOST_CONTEXTS = 4096


@dataclass(frozen=True, slots=True)
class _Plan:
    """How one operation's resource is found, made once."""

    kind: ResourceKind[Any] | None  # whose ARN it is authorized on (None: `*`, or a tag call's)
    tagging: bool  # a tag call: authorized on the ARN it names
    members: tuple[tuple[str, ...], ...]  # for each segment of the ARN, the members holding it
    # For each segment, the value of the member of its input that usually holds it.
    firsts: Callable[[Mapping[str, Any]], tuple[Any, ...]]
    create: bool
    # Decided from the resource and global keys alone: it supplies no condition key from its
    # request (those need the request's tags or deeper members, some the store).
    quick: bool


def _plan(
    operation: str, facts: reference.ActionFacts, kind: ResourceKind[Any] | None = None
) -> _Plan:
    tagging = operation in TAG_OPERATIONS
    if kind is None and facts.resources and not tagging:
        kind = kind_of_arn_type(facts.resources[0])
        assert kind is not None, facts.resources
    members = () if kind is None else _members(kind)
    shape = model.operation(operation).input_shape
    given = shape.members if shape is not None else {}
    firsts = getter(tuple(next((n for n in names if n in given), names[0]) for names in members))
    create = operation.startswith("Create")
    return _Plan(kind, tagging, members, firsts, create, not facts.condition_keys)


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


class Gate:
    """One call's check, run by the dispatcher once the request is valid; keeps the refusal
    for the access log and the metrics."""

    __slots__ = ("_authorizer", "ctx", "peer", "principal", "refusal", "secure")

    def __init__(
        self, authorizer: Authorizer, principal: Principal, ctx: RequestContext, scope: Scope
    ) -> None:
        self._authorizer = authorizer
        self.principal = principal
        self.ctx = ctx
        client = scope.get("client")
        self.peer: str | None = client[0] if client else None
        self.secure = scope.get("scheme") == "https"
        self.refusal: Refusal | None = None

    def settled(self, operation: str, request: dict[str, Any]) -> bool:
        """True if allowed, False if the store must be asked; raises if refused."""
        quick = self._authorizer.quick(self, operation, request)
        if quick is None:
            return True
        if quick is LATER:
            return False
        assert isinstance(quick, Refusal)
        self.refusal = quick
        raise AccessDenied(quick.message)

    async def __call__(self, operation: str, request: dict[str, Any]) -> None:
        refusal = await self._authorizer.refusal(
            self.principal, operation, self.ctx, request, self.peer, self.secure
        )
        if refusal is not None:
            self.refusal = refusal
            raise AccessDenied(refusal.message)
