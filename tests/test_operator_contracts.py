"""Every operator exported by any ``vigil`` package passes every contract check,
with its defaults and as the installed domains build it for production.

Operators are found, not listed: each package's ``__all__`` is read and every
``KeyedOperator`` subclass in it is checked, so an operator added later is
tested for free. A package that fails to import is a failing test, never a skip.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import pytest

import vigil
from vigil.config import Settings
from vigil.domains import DomainRegistry
from vigil.engine.operator import KeyedOperator
from vigil.events import Event, Reading
from vigil.testing import Check, sample_events, yield_checks


def _discover() -> tuple[list[type[KeyedOperator[Any]]], list[str]]:
    """(exported operator classes, import errors) over ``vigil`` and all its packages."""
    errors: list[str] = []
    packages = [vigil.__name__]
    # A package that fails while being walked was already yielded; importing it
    # below records the error with its message.
    walk = pkgutil.walk_packages(vigil.__path__, f"{vigil.__name__}.", onerror=lambda _: None)
    for info in walk:
        if info.ispkg:
            packages.append(info.name)
    found: dict[str, type[KeyedOperator[Any]]] = {}
    for package in packages:
        try:
            module = importlib.import_module(package)
        except Exception as err:  # an optional dependency or a broken package: report it
            errors.append(f"{package}: {type(err).__name__}: {err}")
            continue
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name, None)
            if (
                isinstance(obj, type)
                and issubclass(obj, KeyedOperator)
                and obj is not KeyedOperator
                and not inspect.isabstract(obj)
            ):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[name] for name in sorted(found)], errors


OPERATORS, IMPORT_ERRORS = _discover()


def _cases() -> list[Any]:
    cases = []
    for cls in OPERATORS:
        try:
            operator = cls()
        except Exception:  # test_constructible_with_defaults reports it
            continue
        for check in yield_checks(operator):
            cases.append(pytest.param(cls, check, id=f"{cls.__name__}-{check.__name__}"))
    return cases


def _production_cases() -> list[Any]:
    """Every check on every operator as ``DomainRegistry.discover().operators(Settings())``
    builds it: the configuration a deployment runs, which may differ from defaults."""
    cases = []
    for operator in DomainRegistry.discover().operators(Settings()):
        for check in yield_checks(operator):
            cases.append(pytest.param(operator, check, id=f"{operator.name}-{check.__name__}"))
    return cases


@pytest.fixture(scope="module")
def events() -> list[Event]:
    return sample_events(seed=0)


def test_every_package_imports() -> None:
    """Discovery saw every package: one that cannot be imported hides its operators."""
    assert not IMPORT_ERRORS, "packages that failed to import:\n" + "\n".join(IMPORT_ERRORS)


def test_discovery_finds_the_shipped_operators() -> None:
    """Discovery works: the operators every deployment runs are among those found."""
    names = {cls.__name__ for cls in OPERATORS}
    assert {"DeviceHealth", "LastValueTracker"} <= names


@pytest.mark.parametrize("cls", OPERATORS, ids=lambda cls: cls.__name__)
def test_constructible_with_defaults(cls: type[KeyedOperator[Any]]) -> None:
    """Every exported operator can be built with no arguments: defaults are a working setup."""
    cls()


@pytest.mark.parametrize(("cls", "check"), _cases())
def test_contract(cls: type[KeyedOperator[Any]], check: Check, events: list[Event]) -> None:
    """The operator, with default configuration, has the property the check states."""
    check(cls(), _with_inputs(cls, events))


@pytest.mark.parametrize(("operator", "check"), _production_cases())
def test_contract_as_deployed(
    operator: KeyedOperator[Any], check: Check, events: list[Event]
) -> None:
    """The operator, configured as the domains build it from settings, has the property."""
    check(operator, _with_inputs(type(operator), events))


def test_production_operators_are_checked() -> None:
    """The domains build the shipped operators, so the production cases are not empty."""
    names = {operator.name for operator in DomainRegistry.discover().operators(Settings())}
    assert {"device_health", "last_value", "history"} <= names


def test_an_operator_without_process_cannot_be_built() -> None:
    """``process`` is abstract: a subclass that forgets it fails at construction, not
    silently on the first event."""

    class NoProcess(KeyedOperator[Reading]):
        name = "no_process"
        State = Reading

    with pytest.raises(TypeError, match=r"abstract method.*process"):
        NoProcess()  # type: ignore[abstract]


def _with_inputs(cls: type[KeyedOperator[Any]], events: list[Event]) -> list[Event]:
    """The sample stream, plus what an operator that consumes only derived events says
    those look like (a ``sample_inputs()`` class method), merged in time order."""
    inputs = getattr(cls, "sample_inputs", None)
    if inputs is None:
        return events
    merged = sorted([*events, *inputs()], key=lambda event: event.timestamp)
    return merged  # type: ignore[return-value]
