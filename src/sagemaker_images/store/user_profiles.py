"""Studio user profiles, by name within their domain."""

from __future__ import annotations

from sagemaker_images.records import USER_PROFILE_TAGS, UserProfileRecord
from sagemaker_images.states import JOB_SUBJECTS
from sagemaker_images.store.domain_members import MemberReads, MemberWrites
from sagemaker_images.store.tables import Table

USER_PROFILES = Table("user_profiles", UserProfileRecord)


class UserProfileReads(MemberReads[UserProfileRecord]):
    table = USER_PROFILES


class UserProfileWrites(MemberWrites[UserProfileRecord], UserProfileReads):
    tag_kind = USER_PROFILE_TAGS
    job_kinds = JOB_SUBJECTS["user_profiles"]
