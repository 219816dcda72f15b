"""The service model the server ships: exactly what the script cuts out of botocore's."""

from __future__ import annotations

from pathlib import Path

from script_support import load_script

from sagemaker_images.protocol import model
from sagemaker_images.protocol.subset import FILE_NAME
from sagemaker_images.resources.kinds import OPERATIONS

ROOT = Path(__file__).resolve().parents[2]


def _script():
    return load_script("ship_model")


def test_the_shipped_model_is_what_the_script_makes():
    shipped = (ROOT / "src" / "sagemaker_images" / "protocol" / FILE_NAME).read_text()
    assert shipped == _script().generated(), (
        "the shipped model is out of date: run python scripts/ship_model.py"
    )


def test_it_serves_the_catalog_and_knows_the_rest_of_sagemaker():
    assert model.served_operations() == frozenset(OPERATIONS)
    assert "CreateTrainingJob" in model.known_operations()
    assert "CreateTrainingJob" not in model.served_operations()
    create = model.operation("CreateImageVersion")
    assert create.input_shape is not None
    assert create.input_shape.required_members == ["BaseImage", "ClientToken", "ImageName"]
    aliases = create.input_shape.members["Aliases"]
    assert aliases.member.metadata["pattern"] == "(?!^[.-])^([a-zA-Z0-9-_.]+)"  # type: ignore[attr-defined]
    assert {e.name for e in create.error_shapes} == {
        "ResourceInUse",
        "ResourceLimitExceeded",
        "ResourceNotFound",
    }
