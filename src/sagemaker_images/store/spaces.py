"""Studio spaces, by name within their domain."""

from __future__ import annotations

from sagemaker_images.records import SPACE_TAGS, SpaceRecord
from sagemaker_images.states import JOB_SUBJECTS
from sagemaker_images.store.domain_members import MemberReads, MemberWrites
from sagemaker_images.store.tables import Table

SPACES = Table("spaces", SpaceRecord)


class SpaceReads(MemberReads[SpaceRecord]):
    table = SPACES


class SpaceWrites(MemberWrites[SpaceRecord], SpaceReads):
    tag_kind = SPACE_TAGS
    job_kinds = JOB_SUBJECTS["spaces"]
