"""`doctor`: the preflight of an image version, read from its registry, in the terminal.

Exit status 0 when nothing would stop a launch, 1 when something would (an error finding),
2 when the version could not be inspected (unknown, or its registry refused or could not be
reached).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click

from sagemaker_images.cli.options import load_registries, settings_from, settings_options
from sagemaker_images.config import DOCTOR
from sagemaker_images.errors import ServiceError

# What `--max-layer-bytes` reads from the environment when it is not given.
MAX_LAYER_BYTES_VARIABLE = "SAGEMAKER_IMAGES_DOCTOR_MAX_LAYER_BYTES"


@click.command()
@click.option("--image", "image_name", required=True, help="The image's name.")
@click.option("--version", "version", type=click.IntRange(1), help="The version's number.")
@click.option("--alias", "alias", help="An alias of the version (instead of --version).")
@click.option(
    "--app-image-config", "app_image_config", help="Check with this AppImageConfig's settings."
)
@click.option(
    "--app-type",
    "app_type",
    type=click.Choice(["KernelGateway", "JupyterLab", "CodeEditor"]),
    help="Check for this app type (default: each the AppImageConfig configures).",
)
@click.option("--account", "account", help="The image's account (default: --account-id's).")
@click.option("--region", "region", default="us-east-1", show_default=True, help="Its region.")
@click.option(
    "--max-layer-bytes",
    "max_layer_bytes",
    type=click.IntRange(1),
    envvar=MAX_LAYER_BYTES_VARIABLE,
    show_envvar=True,
    help="Read at most this many compressed layer bytes.  [default: 8 GiB]",
)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report.")
@settings_options(DOCTOR)
def doctor(
    image_name: str,
    version: int | None,
    alias: str | None,
    app_image_config: str | None,
    app_type: str | None,
    account: str | None,
    region: str,
    max_layer_bytes: int | None,
    as_json: bool,
    **options: Any,
) -> None:
    """Say before any launch why Studio would refuse an image version: read its manifest,
    config and layers from its registry and check them (with an AppImageConfig and an app
    type, for those)."""
    from sagemaker_images.doctor.preflight import Preflight, Request
    from sagemaker_images.doctor.read import Limits
    from sagemaker_images.logs import configure
    from sagemaker_images.store import open_store

    if version is not None and alias is not None:
        raise click.UsageError("give --version or --alias, not both")
    settings = settings_from(options)
    configure(settings.log_level, settings.log_format)
    registries = load_registries(settings.registries_file)
    limits = Limits() if max_layer_bytes is None else Limits(max_layer_bytes=max_layer_bytes)
    request = Request(
        account or settings.account_id,
        region,
        image_name,
        version,
        alias,
        app_image_config,
        app_type,
    )

    async def run() -> Any:
        store = await open_store(settings)
        try:
            return await Preflight(registries, limits).report(store.reader, request)
        finally:
            await store.close()

    try:
        report = asyncio.run(run())
    except ServiceError as error:
        click.echo(f"Error: {error.message}", err=True)
        raise SystemExit(2) from None
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
    else:
        click.echo(report.text())
    raise SystemExit(report.exit_status())
