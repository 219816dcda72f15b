"""Each kind of resource the catalog serves, declared once.

A record (`records.py`) says what one resource holds, column by column; a `ResourceKind`
says everything else about its kind: the table its rows live in and the key that finds
one, its ARN, whether it takes tags, its transitions and the jobs that finish them, its
quota, its operations, and how `export` and `copy` carry it. What used to be restated in
a table per layer derives from `KINDS`: the operations served and the handlers found for
them, ARNs built and resolved, the kinds of tag, the kinds of job and the rows they
finish, what a delete or a reset removes, the export format's lines and counts, the calls
a copy makes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, Generic, TypeVar

from sagemaker_images.resources.arns import arn_text
from sagemaker_images.resources.ids import new_hex_id
from sagemaker_images.resources.records import (
    AppImageConfigRecord,
    AppRecord,
    DomainRecord,
    ImageRecord,
    LifecycleConfigRecord,
    SpaceRecord,
    UserProfileRecord,
    VersionRecord,
)
from sagemaker_images.resources.states import AppStatus, ImageStatus, StudioStatus, VersionStatus

R = TypeVar("R")

# The verbs of a resource's usual operations, in the order they are served.
CRUD = ("Create", "Describe", "Update", "Delete", "List")
TAG_OPERATIONS = ("AddTags", "ListTags", "DeleteTags")


@dataclass(frozen=True, slots=True)
class Step:
    """One asynchronous transition: the status a call leaves the resource in, the status
    its job ends it in (None: the job removes it), and the status a failure leaves. A
    `timed` step is no caller's to wait on (an app's record purged once its retention
    lapses): it runs when due whatever the pacing, and the control API never hastens it."""

    busy: str
    done: str | None
    failed: str
    timed: bool = False


@dataclass(frozen=True, slots=True)
class Transitions:
    """A kind's asynchronous transitions, each finished by a job of kind `family.step`."""

    family: str
    statuses: type[StrEnum]
    steps: Mapping[str, Step]

    def job(self, step: str) -> str:
        """The kind of job that finishes `step` (`image.create`)."""
        if step not in self.steps:
            raise KeyError(f"{self.family} has no step {step!r}")
        return f"{self.family}.{step}"

    @property
    def jobs(self) -> tuple[str, ...]:
        return tuple(f"{self.family}.{step}" for step in self.steps)

    def step_of(self, job_kind: str) -> Step:
        return self.steps[job_kind.partition(".")[2]]

    def in_progress(self, status: str) -> str | None:
        """The step a resource in `status` is in the middle of, if any."""
        for name, step in self.steps.items():
            if step.busy == status:
                return name
        return None


def _studio(family: str) -> Transitions:
    return Transitions(
        family,
        StudioStatus,
        {
            "create": Step(StudioStatus.PENDING, StudioStatus.IN_SERVICE, StudioStatus.FAILED),
            "update": Step(
                StudioStatus.UPDATING, StudioStatus.IN_SERVICE, StudioStatus.UPDATE_FAILED
            ),
            "delete": Step(StudioStatus.DELETING, None, StudioStatus.DELETE_FAILED),
        },
    )


@dataclass(frozen=True, slots=True)
class Quota:
    """A limit on how many of a kind one scope holds, in AWS's words when it is reached;
    the number is the `Settings` field `setting`."""

    setting: str
    name: str  # "Maximum number of images per Region"
    unit: str  # "Images"


@dataclass(frozen=True, eq=False)
class ResourceKind(Generic[R]):
    """One kind of resource (see the module's text).

    `key`: the columns that, after account and region, find one resource; its ARN's path is
    the `parent`'s key, then its own (a column ending in `_key` holds a lower-cased name,
    so an ARN's segment for it is lower-cased). A kind `within_parent` keeps its rows under
    its parent's row (column `<parent>_id`) instead: image versions.
    """

    name: str  # snake case: the export format's kind
    wire: str  # the noun of its operations and of its ARN member (`{wire}Arn`)
    record: type[R]
    table: str
    arn_type: str  # its ARN's resource type, also the kind of its tags
    key: tuple[str, ...]
    wire_plural: str = ""
    noun: str = ""  # for messages: `app image config` (its name's words, unless given)
    operations: tuple[str, ...] = ()
    tagged: bool = True
    transitions: Transitions | None = None
    quota: Quota | None = None
    parent: ResourceKind[Any] | None = None
    within_parent: bool = False
    # Tables whose rows hang off one of this kind (by `<name>_id`), removed with it.
    dependents: tuple[str, ...] = ()
    listed_arn: bool = True  # whether its List call's items carry its ARN
    # From which export format version it has lines of its own (None: never).
    exported_since: int | None = None
    # The members of its List call that list oldest first (for `copy`).
    oldest_first: Mapping[str, str] = field(default_factory=dict)
    # Members its Describe may leave out, and the values this catalog keeps for them (given
    # the Describe's answer).
    copy_defaults: Callable[[dict[str, Any]], dict[str, Any]] = lambda answer: {}
    # The columns its ARN's segments are made from, where they are not the key's (an app's
    # owner is its ARN's as created, and found ignoring case by `owner_key`).
    arn_columns: tuple[str, ...] = ()
    # Made from the rest (below).
    path: tuple[str, ...] = field(init=False, repr=False)
    arn_path: tuple[str, ...] = field(init=False, repr=False)
    arn: Callable[..., str] = field(init=False, repr=False)
    arn_prefix: Callable[..., str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        within = self.parent is not None and self.within_parent
        path = (*self.parent.key, *self.key) if within and self.parent else self.key
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "arn_path", self.arn_columns or path)
        # Kept, per kind: formatting ARNs was a tenth of a Describe's own work.
        object.__setattr__(self, "arn", lru_cache(maxsize=4096)(self._arn))
        object.__setattr__(self, "arn_prefix", lru_cache(maxsize=4096)(self._arn_prefix))
        if not self.noun:
            object.__setattr__(self, "noun", self.name.replace("_", " "))
        if not self.wire_plural:
            object.__setattr__(self, "wire_plural", self.wire + "s")
        if not self.operations:
            nouns = {"List": self.wire_plural}
            ops = tuple(f"{verb}{nouns.get(verb, self.wire)}" for verb in CRUD)
            object.__setattr__(self, "operations", ops)

    def __repr__(self) -> str:
        return f"<kind {self.name}>"

    @property
    def plural(self) -> str:
        """`app_image_configs`: its list in an export, its count on the export's end line."""
        return self.name + "s"

    @property
    def arn_member(self) -> str:
        return self.wire + "Arn"

    @property
    def job_subject(self) -> ResourceKind[Any]:
        """The kind whose row its jobs name: its own, or for a kind within its parent the
        parent's (a version's job names its image's row, and the version's number)."""
        if self.within_parent:
            assert self.parent is not None
            return self.parent
        return self

    def job(self, step: str) -> str:
        """The kind of job that finishes its transition `step` (`image.create`)."""
        if self.transitions is None:
            raise ValueError(f"{self.name} has no transitions")
        return self.transitions.job(step)

    def _arn_prefix(self, region: str, account: str, *parents: Any) -> str:
        """`arn_prefix(region, account, *parents)`: everything of an ARN of this kind but its
        last segment (`parents`: the values of the segments before that one)."""
        pairs = zip(self.arn_path, parents, strict=False)
        segments = "".join(_segment(c, p) + "/" for c, p in pairs)
        return arn_text(region, account, f"{self.arn_type}/{segments}")

    def _arn(self, region: str, account: str, *path: Any) -> str:
        """`arn(region, account, *path)`: the ARN of the resource whose `path` values are
        these (names as given: lower-cased where the column keeps them so)."""
        last = _segment(self.arn_path[-1], path[-1])
        return self.arn_prefix(region, account, *path[:-1]) + last

    def arn_of(self, record: Any) -> str:
        """The ARN of one of its records (not for a kind within its parent)."""
        values = (getattr(record, column) for column in self.arn_path)
        return self.arn(record.region, record.account, *values)

    def segments(self, resource_id: str) -> tuple[str, ...] | None:
        """An ARN's path as the values of `path` (lower-cased where the column keeps them
        so); None if it has the wrong number of segments."""
        pieces = resource_id.split("/")
        if len(pieces) != len(self.path) or not all(pieces):
            return None
        return tuple(
            _segment(column, piece) for column, piece in zip(self.path, pieces, strict=True)
        )


def _segment(column: str, value: Any) -> str:
    text = str(value)
    return text.lower() if column.endswith("_key") else text


IMAGE = ResourceKind(
    "image",
    "Image",
    ImageRecord,
    "images",
    "image",
    ("name_key",),
    transitions=Transitions(
        "image",
        ImageStatus,
        {
            "create": Step(ImageStatus.CREATING, ImageStatus.CREATED, ImageStatus.CREATE_FAILED),
            "update": Step(ImageStatus.UPDATING, ImageStatus.CREATED, ImageStatus.UPDATE_FAILED),
            "delete": Step(ImageStatus.DELETING, None, ImageStatus.DELETE_FAILED),
        },
    ),
    quota=Quota("max_images", "Maximum number of images per Region", "Images"),
    dependents=(
        "image_version_aliases",
        "client_tokens",
        "image_version_drift",
        "image_versions",
    ),
    exported_since=None,  # an image's lines are its own and its versions' (archive.py)
    oldest_first={"SortBy": "CREATION_TIME", "SortOrder": "ASCENDING"},
)
VERSION = ResourceKind(
    "version",
    "ImageVersion",
    VersionRecord,
    "image_versions",
    "image-version",
    ("version",),
    noun="image version",
    operations=(
        "CreateImageVersion",
        "DescribeImageVersion",
        "UpdateImageVersion",
        "DeleteImageVersion",
        "ListImageVersions",
        "ListAliases",
    ),
    tagged=False,
    transitions=Transitions(
        "version",
        VersionStatus,
        {
            "create": Step(
                VersionStatus.CREATING, VersionStatus.CREATED, VersionStatus.CREATE_FAILED
            ),
            "delete": Step(VersionStatus.DELETING, None, VersionStatus.DELETE_FAILED),
        },
    ),
    quota=Quota("max_versions_per_image", "Maximum number of versions per image", "ImageVersions"),
    parent=IMAGE,
    within_parent=True,
)
APP_IMAGE_CONFIG = ResourceKind(
    "app_image_config",
    "AppImageConfig",
    AppImageConfigRecord,
    "app_image_configs",
    "app-image-config",
    ("name_key",),
    exported_since=1,
    oldest_first={"SortBy": "CreationTime", "SortOrder": "Ascending"},
)
DOMAIN = ResourceKind(
    "domain",
    "Domain",
    DomainRecord,
    "domains",
    "domain",
    ("domain_id",),
    transitions=_studio("domain"),
    quota=Quota("max_domains", "Maximum number of domains per Region", "Domains"),
    exported_since=2,
    copy_defaults=lambda answer: {
        "AppNetworkAccessType": "PublicInternetOnly",
        "TagPropagation": "DISABLED",
        "DefaultUserSettings": {},
        # A domain made without a home file system has none (older servers: always one).
        "HomeEfsFileSystemCreation": "Enabled",
        "HomeEfsFileSystemId": (
            "" if answer.get("HomeEfsFileSystemCreation") == "Disabled" else new_hex_id("fs-", 17)
        ),
    },
)
USER_PROFILE = ResourceKind(
    "user_profile",
    "UserProfile",
    UserProfileRecord,
    "user_profiles",
    "user-profile",
    ("domain_id", "name_key"),
    transitions=_studio("user_profile"),
    quota=Quota("max_user_profiles", "Maximum number of user profiles per domain", "UserProfiles"),
    parent=DOMAIN,
    listed_arn=False,
    exported_since=2,
    oldest_first={"SortBy": "CreationTime", "SortOrder": "Ascending"},
)
SPACE = ResourceKind(
    "space",
    "Space",
    SpaceRecord,
    "spaces",
    "space",
    ("domain_id", "name_key"),
    transitions=_studio("space"),
    quota=Quota("max_spaces", "Maximum number of spaces per domain", "Spaces"),
    parent=DOMAIN,
    listed_arn=False,
    exported_since=2,
    oldest_first={"SortBy": "CreationTime", "SortOrder": "Ascending"},
)
LIFECYCLE_CONFIG = ResourceKind(
    "studio_lifecycle_config",
    "StudioLifecycleConfig",
    LifecycleConfigRecord,
    "studio_lifecycle_configs",
    "studio-lifecycle-config",
    ("name_key",),
    noun="Studio lifecycle config",
    operations=(
        "CreateStudioLifecycleConfig",
        "DescribeStudioLifecycleConfig",
        "DeleteStudioLifecycleConfig",
        "ListStudioLifecycleConfigs",
    ),
    exported_since=3,
    oldest_first={"SortBy": "CreationTime", "SortOrder": "Ascending"},
)
APP = ResourceKind(
    "app",
    "App",
    AppRecord,
    "apps",
    "app",
    ("domain_id", "owner_key", "type_key", "name"),
    operations=("CreateApp", "DescribeApp", "DeleteApp", "ListApps"),
    transitions=Transitions(
        "app",
        AppStatus,
        {
            "create": Step(AppStatus.PENDING, AppStatus.IN_SERVICE, AppStatus.FAILED),
            "delete": Step(AppStatus.DELETING, AppStatus.DELETED, AppStatus.FAILED),
            # A Deleted or Failed app's record, once its retention has lapsed.
            "purge": Step(AppStatus.DELETED, None, AppStatus.DELETED, timed=True),
        },
    ),
    parent=DOMAIN,
    listed_arn=False,
    arn_columns=("domain_id", "owner", "type_key", "name"),
)


def _step_of(kind: ResourceKind[Any], job: str) -> Step:
    assert kind.transitions is not None
    return kind.transitions.step_of(job)


# Every kind, each after the kind it lives in: the order of exports, copies and resets.
# (Apps are what runs, not what is catalogued: they are neither exported nor copied.)
KINDS: tuple[ResourceKind[Any], ...] = (
    IMAGE,
    VERSION,
    APP_IMAGE_CONFIG,
    LIFECYCLE_CONFIG,
    DOMAIN,
    USER_PROFILE,
    SPACE,
    APP,
)
# Kinds with rows of their own, found by account, region and key.
TABLED = tuple(kind for kind in KINDS if not kind.within_parent)
# The SageMaker operations served, in the order of the kinds.
OPERATIONS = (*(op for kind in KINDS for op in kind.operations), *TAG_OPERATIONS)
# Every kind of job, and the kind of resource each finishes.
JOB_KINDS = {job: kind for kind in KINDS if kind.transitions for job in kind.transitions.jobs}
# The jobs that end a transition a caller waits on (not a timed step's).
TRANSITION_JOBS = tuple(job for job, kind in JOB_KINDS.items() if not _step_of(kind, job).timed)


def snake_case(operation: str) -> str:
    """`describe_image_version` for DescribeImageVersion: a handler's name, boto3's method."""
    return _CAPITAL.sub("_", operation).lower()


_CAPITAL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def kind_of_arn_type(arn_type: str) -> ResourceKind[Any] | None:
    return _BY_ARN_TYPE.get(arn_type)


def jobs_of_subject(kind: ResourceKind[Any]) -> tuple[str, ...]:
    """The kinds of job that name a row of `kind`'s table: its own and those of the kinds
    kept within it."""
    return tuple(job for job, of in JOB_KINDS.items() if of.job_subject is kind)


_BY_ARN_TYPE = {kind.arn_type: kind for kind in KINDS}
