"""Click options made from the settings' declarations (config.py), for every command."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from sagemaker_images.config import (
    Flag,
    Settings,
    environment_variable,
    flagged,
    shown_default,
)

F = TypeVar("F", bound=Callable[..., Any])


def settings_options(command: str) -> Callable[[F], F]:
    """The click options of a command, one per setting it takes (see config.py).

    Each defaults to None, so that a setting neither flagged nor in the environment keeps
    the default its declaration gives.
    """

    def decorate(function: F) -> F:
        for declared, flag in reversed(flagged(command)):
            names = f"{flag.name}/--no-{flag.name[2:]}" if flag.negatable else flag.name
            function = click.option(
                names,
                declared.name,
                envvar=environment_variable(flag),
                show_envvar=True,
                default=None,
                is_flag=flag.switch or None,
                multiple=flag.multiple,
                type=None if flag.switch else _param_type(flag, type(declared.default)),
                show_default=shown_default(declared, flag).replace("`", ""),
                help=flag.help.replace("`", ""),
            )(function)
        return function

    return decorate


class _Checked(click.ParamType):  # type: ignore[type-arg]
    """A value its setting's own parser accepts."""

    def __init__(self, check: Callable[[str], object]) -> None:
        self.check = check
        self.name = "value"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            self.check(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)
        return str(value)


def _param_type(flag: Flag, kind: type) -> click.ParamType[Any]:
    if flag.check is not None:
        return _Checked(flag.check)
    if flag.choices:
        return click.Choice(flag.choices)
    if flag.path:
        return click.Path(dir_okay=False)
    if kind is int and (flag.minimum is not None or flag.maximum is not None):
        return click.IntRange(
            None if flag.minimum is None else int(flag.minimum),
            None if flag.maximum is None else int(flag.maximum),
            min_open=flag.minimum_open,
        )
    if kind is float:
        return click.FloatRange(flag.minimum, flag.maximum, min_open=flag.minimum_open)
    return click.STRING if kind is str else click.INT


def settings_from(options: dict[str, Any]) -> Settings:
    return Settings(**{name: value for name, value in options.items() if value is not None})


def load_registries(path: str) -> Any:
    """The registries file of `--registries`; a bad one is a usage mistake naming it."""
    from sagemaker_images.registry.config import RegistriesFileError
    from sagemaker_images.registry.config import load_registries as load

    try:
        return load(path)
    except RegistriesFileError as error:
        raise click.BadParameter(str(error), param_hint="--registries") from None
