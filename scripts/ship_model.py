"""Write the SageMaker service model subset the server ships, from the installed botocore.

    python scripts/ship_model.py

Run it with the botocore the test extras pin (it says which it used) after declaring an
operation (`resources/kinds.py`); tests/unit/test_model.py fails until the shipped file is
what this script makes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import botocore
import botocore.session

from sagemaker_images.protocol.subset import FILE_NAME, subset
from sagemaker_images.resources.kinds import OPERATIONS

TARGET = Path(__file__).resolve().parents[1] / "src" / "sagemaker_images" / "protocol" / FILE_NAME


def generated() -> str:
    loader = botocore.session.get_session().get_component("data_loader")
    description = loader.load_service_model("sagemaker", "service-2")
    return json.dumps(subset(description, OPERATIONS), indent=1, sort_keys=True) + "\n"


def main() -> None:
    TARGET.write_text(generated())
    print(f"wrote {TARGET} from botocore {botocore.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
