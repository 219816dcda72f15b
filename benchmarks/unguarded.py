"""`sagemaker-images serve` without its connection guard (server/connections.py): uvicorn's
own httptools protocol, as the server ran before it. `load.py --guard-cost` runs it beside
the guarded server to measure what the guard costs; not for anything else.

    python benchmarks/unguarded.py serve [flags of sagemaker-images serve]
"""

from __future__ import annotations

from typing import Any

from sagemaker_images.server import connections


def _unguarded(config: Any, settings: Any, file_limit: int) -> None:
    config.timeout_keep_alive = settings.keep_alive_timeout


connections.guard = _unguarded  # type: ignore[assignment]

if __name__ == "__main__":
    from sagemaker_images.cli import main

    main()
