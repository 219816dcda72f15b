"""IAM identity-based policies and permissions boundaries, evaluated as AWS documents it.

A document is read, checked and compiled once, when the credentials file loads: each
statement's actions become the set of served operations they match (so a call looks up
only the statements about its own action), its resources and condition values become
compiled patterns and tests. A call is then: an explicit Deny in any policy refuses it;
otherwise an identity policy must Allow it and, if the key has a boundary, so must the
boundary; otherwise it is refused by default. The refusal says which, in AWS's words.

Malformed documents are errors (the file does not load); names that can never match (an
unknown action or condition key) are warnings, logged at load.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sagemaker_images.auth import reference
from sagemaker_images.auth.conditions import ConditionError, Test, compile_block
from sagemaker_images.auth.patterns import Context, PatternError, arn_pattern, pattern
from sagemaker_images.auth.patterns import Test as Match

VERSIONS = ("2012-10-17", "2008-10-17")
STATEMENT_FIELDS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}
)
PREFIX = reference.SERVICE_PREFIX + ":"
_VARIABLE = re.compile(r"\$\{\s*([^},\s]+)")
_ESCAPES = frozenset({"*", "?", "$"})
_UNDECIDED = object()
# Decisions kept per principal before the memory is cleared (a reload starts afresh).
MOST_DECISIONS = 8192


def getter(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A function of a mapping: the values it holds under `names` (None where it has
    none), as a tuple. Written out for the few names a call looks up: `tuple(map(get,
    names))` costs four times as much, on every call."""
    if not names:
        return lambda _mapping: ()
    if len(names) == 1:
        (a,) = names
        return lambda mapping: (mapping.get(a),)
    if len(names) == 2:
        a, b = names
        return lambda mapping: (mapping.get(a), mapping.get(b))
    if len(names) == 3:
        a, b, c = names
        return lambda mapping: (mapping.get(a), mapping.get(b), mapping.get(c))
    return lambda mapping: tuple(map(mapping.get, names))


class PolicyError(ValueError):
    """A document that cannot be used; the message says which statement and why."""


@dataclass(frozen=True, slots=True)
class Statement:
    sid: str | None
    where: str  # `policy team-a-ci, statement 2`, for the log
    deny: bool
    resources: tuple[Match, ...]
    not_resource: bool
    conditions: tuple[Test, ...]
    # The context keys its decision can depend on: its conditions' and its variables'.
    keys: frozenset[str] = frozenset()

    def applies(self, resource: str, context: Context) -> bool:
        matched = any(test(resource, context) for test in self.resources)
        if matched == self.not_resource:
            return False
        return all(test(context) for test in self.conditions)

    @property
    def label(self) -> str:
        """What the access log names it by: its Sid, or where it is."""
        return self.sid or self.where


@dataclass(frozen=True, slots=True)
class Policy:
    """One compiled document: its statements, by the served operations each is about."""

    name: str
    statements: tuple[tuple[Statement, frozenset[str]], ...]
    warnings: tuple[str, ...]
    uses_resource_tags: bool


def _strings(value: Any, name: str, where: str) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise PolicyError(f"{where}: {name} must be a string or a list of strings")
    return items


def _actions(patterns: list[str], where: str, warnings: list[str]) -> frozenset[str]:
    """The served operations a statement's Action (or NotAction) names match."""
    served = reference.actions()
    matched: set[str] = set()
    for text in patterns:
        if text == "*":
            matched.update(served)
            continue
        service, colon, name = text.partition(":")
        if not colon or not service or not name:
            raise PolicyError(
                f"{where}: action {text!r} must be service:action (sagemaker:DescribeImage) or *"
            )
        if service.lower() != reference.SERVICE_PREFIX:
            continue  # another service's action: never a call to this server
        test = pattern(name, ignore_case=True, variables=False)
        hits = {operation for operation in served if test(operation, {})}
        if not hits:
            known = any(test(action, {}) for action in reference.all_actions())
            if "*" in name or "?" in name:
                if not known:
                    warnings.append(f"{where}: {text} matches no SageMaker action")
                else:
                    warnings.append(f"{where}: {text} matches no action served here")
            elif name.lower() not in reference.all_actions():
                warnings.append(f"{where}: {text} is not a SageMaker action")
        matched.update(hits)
    return frozenset(matched)


def _resources(patterns: list[str], where: str, variables: bool) -> tuple[Match, ...]:
    tests = []
    for text in patterns:
        try:
            tests.append(arn_pattern(text, variables=variables))
        except PatternError as error:
            raise PolicyError(f"{where}: Resource {error}; use an ARN or *") from None
    return tuple(tests)


def _statement(
    entry: Any, where: str, variables: bool, warnings: list[str]
) -> tuple[Statement, frozenset[str], bool]:
    if not isinstance(entry, dict):
        raise PolicyError(f"{where}: must be an object")
    unknown = sorted(set(entry) - STATEMENT_FIELDS)
    if "Principal" in entry or "NotPrincipal" in entry:
        raise PolicyError(f"{where}: an identity-based policy must not name a Principal")
    if unknown:
        raise PolicyError(f"{where}: unknown fields {unknown}")
    sid = entry.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(f"{where}: Sid must be a string")
    effect = entry.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{where}: Effect must be Allow or Deny")
    if ("Action" in entry) == ("NotAction" in entry):
        raise PolicyError(f"{where}: needs exactly one of Action and NotAction")
    if ("Resource" in entry) == ("NotResource" in entry):
        raise PolicyError(f"{where}: needs exactly one of Resource and NotResource")
    action_field = "Action" if "Action" in entry else "NotAction"
    named = _actions(_strings(entry[action_field], action_field, where), where, warnings)
    actions = named if action_field == "Action" else frozenset(reference.actions()) - named
    resource_field = "Resource" if "Resource" in entry else "NotResource"
    resources = _resources(_strings(entry[resource_field], resource_field, where), where, variables)
    tests: list[Test] = []
    uses_tags = False
    referenced: set[str] = set()
    if variables:
        texts = json.dumps([entry[resource_field], entry.get("Condition")])
        referenced.update(name.lower() for name in _VARIABLE.findall(texts) if name not in _ESCAPES)
    if "Condition" in entry:
        try:
            tests, keys = compile_block(entry["Condition"], variables)
        except (ConditionError, PatternError) as error:
            raise PolicyError(f"{where}: Condition: {error}") from None
        for key in keys:
            if not reference.known_key(key):
                warnings.append(f"{where}: condition key {key} is not one AWS defines")
            lowered = key.lower()
            referenced.add(lowered)
            uses_tags |= lowered.startswith(("aws:resourcetag/", "sagemaker:resourcetag/"))
    statement = Statement(
        sid=sid,
        where=where,
        deny=effect == "Deny",
        resources=resources,
        not_resource=resource_field == "NotResource",
        conditions=tuple(tests),
        keys=frozenset(referenced),
    )
    return statement, actions, uses_tags


def compile_policy(name: str, text: str) -> Policy:
    """Read, check and compile one policy document (JSON text)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise PolicyError(f"policy {name}: not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise PolicyError(f"policy {name}: must be a JSON object")
    unknown = sorted(set(document) - {"Version", "Id", "Statement"})
    if unknown:
        raise PolicyError(f"policy {name}: unknown fields {unknown}")
    version = document.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise PolicyError(f"policy {name}: Version must be 2012-10-17 (or 2008-10-17)")
    if "Statement" not in document:
        raise PolicyError(f"policy {name}: missing Statement")
    entries = document["Statement"]
    entries = entries if isinstance(entries, list) else [entries]
    # Policy variables are substituted only in version 2012-10-17 (AWS: literal before).
    variables = version == "2012-10-17"
    warnings: list[str] = []
    statements = []
    uses_tags = False
    for number, entry in enumerate(entries, start=1):
        statement, actions, tags = _statement(
            entry, f"policy {name}, statement {number}", variables, warnings
        )
        statements.append((statement, actions))
        uses_tags |= tags
    return Policy(name, tuple(statements), tuple(warnings), uses_tags)


@dataclass(frozen=True, slots=True)
class PolicySet:
    """Several policies as one: for each served operation, its Deny and its Allow statements."""

    denies: dict[str, tuple[Statement, ...]]
    allows: dict[str, tuple[Statement, ...]]
    uses_resource_tags: bool

    def keys(self, action: str) -> set[str]:
        """The context keys a decision on `action` can depend on."""
        found: set[str] = set()
        for statement in (*self.denies.get(action, ()), *self.allows.get(action, ())):
            found |= statement.keys
        return found

    @classmethod
    def of(cls, policies: Iterable[Policy]) -> PolicySet:
        denies: dict[str, list[Statement]] = {}
        allows: dict[str, list[Statement]] = {}
        uses_tags = False
        for policy in policies:
            uses_tags |= policy.uses_resource_tags
            for statement, actions in policy.statements:
                into = denies if statement.deny else allows
                for action in actions:
                    into.setdefault(action, []).append(statement)
        return cls(
            {action: tuple(found) for action, found in denies.items()},
            {action: tuple(found) for action, found in allows.items()},
            uses_tags,
        )

    def denying(self, action: str, resource: str, context: Context) -> Statement | None:
        for statement in self.denies.get(action, ()):
            if statement.applies(resource, context):
                return statement
        return None

    def allowing(self, action: str, resource: str, context: Context) -> Statement | None:
        for statement in self.allows.get(action, ()):
            if statement.applies(resource, context):
                return statement
        return None


@dataclass(frozen=True, slots=True)
class Refusal:
    """A call a policy refused: AWS's message, and the statement that did it (an explicit
    Deny) or None (nothing allowed it)."""

    action: str
    resource: str
    message: str
    statement: Statement | None

    @property
    def denied_by(self) -> str | None:
        return None if self.statement is None else self.statement.label


@dataclass(frozen=True, slots=True, eq=False)  # one per key and load: found by identity
class Principal:
    """An IAM principal's access: its identity policies and its permissions boundary."""

    arn: str
    identity: PolicySet
    boundary: PolicySet | None = None
    uses_resource_tags: bool = field(init=False)
    kind: str = field(init=False)  # aws:PrincipalType
    username: str | None = field(init=False)  # aws:username: an IAM user's name
    # For each served operation, the context keys its decision can depend on, in order,
    # and a getter of their values.
    keys: dict[str, tuple[str, ...]] = field(init=False)
    _values: dict[str, Callable[[Mapping[str, Any]], tuple[Any, ...]]] = field(
        init=False, repr=False
    )
    # Decisions already made: (action, resource, the values of its keys) → the answer.
    _decided: dict[tuple[Any, ...], Refusal | None] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        keys = {}
        for action in reference.actions():
            found = self.identity.keys(action)
            if self.boundary is not None:
                found |= self.boundary.keys(action)
            keys[action] = tuple(sorted(found))
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "_values", {a: getter(k) for a, k in keys.items()})
        object.__setattr__(self, "_decided", {})
        boundary = self.boundary.uses_resource_tags if self.boundary else False
        object.__setattr__(self, "uses_resource_tags", self.identity.uses_resource_tags or boundary)
        resource = self.arn.split(":", 5)[-1]
        user = resource.startswith("user/")
        object.__setattr__(self, "kind", "User" if user else "AssumedRole")
        object.__setattr__(self, "username", resource.rsplit("/", 1)[-1] if user else None)

    def refusal(self, action: str, resource: str, context: Context) -> Refusal | None:
        """None if the principal may call `action` (a served operation's name) on
        `resource` in `context`; else why not. Decided once for each resource and values
        of the keys the statements about `action` read, then remembered: a policy's
        answer depends on nothing else."""
        asked = (action, resource, self._values[action](context))
        decided = self._decided
        found = decided.get(asked, _UNDECIDED)
        if found is not _UNDECIDED:
            return cast("Refusal | None", found)
        answer = self._decide(action, resource, context)
        if len(decided) >= MOST_DECISIONS:
            decided.clear()
        decided[asked] = answer
        return answer

    def _decide(self, action: str, resource: str, context: Context) -> Refusal | None:
        denied = self.identity.denying(action, resource, context)
        if denied is not None:
            return self._refused(
                action, resource, denied, "with an explicit deny in an identity-based policy"
            )
        boundary = self.boundary
        if boundary is not None:
            denied = boundary.denying(action, resource, context)
            if denied is not None:
                return self._refused(
                    action, resource, denied, "with an explicit deny in a permissions boundary"
                )
        if self.identity.allowing(action, resource, context) is None:
            return self._refused(
                action,
                resource,
                None,
                f"because no identity-based policy allows the {PREFIX}{action} action",
            )
        if boundary is not None and boundary.allowing(action, resource, context) is None:
            return self._refused(
                action,
                resource,
                None,
                f"because no permissions boundary allows the {PREFIX}{action} action",
            )
        return None

    def _refused(
        self, action: str, resource: str, statement: Statement | None, why: str
    ) -> Refusal:
        message = (
            f"User: {self.arn} is not authorized to perform: {PREFIX}{action}"
            f" on resource: {resource} {why}"
        )
        return Refusal(action, resource, message, statement)
