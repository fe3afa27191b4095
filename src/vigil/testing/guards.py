"""A context in which reading the wall clock or unseeded randomness fails loudly.

Operators take time only from event timestamps and randomness only from a seed;
otherwise a replay after a crash would produce different findings. Inside
``forbid_wall_clock()`` the usual ways to break that rule raise ``AssertionError``:

>>> import time
>>> with forbid_wall_clock():
...     time.time()
Traceback (most recent call last):
...
AssertionError: operators must not read the wall clock or unseeded randomness (called time.time)
"""

from __future__ import annotations

import contextlib
import datetime as _datetime
import os
import random
import sys
import sysconfig
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from unittest import mock

_TIME = ("time", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns")
_RANDOM = (
    "random", "randint", "randrange", "choice", "choices", "uniform", "gauss",
    "normalvariate", "expovariate", "shuffle", "sample", "getrandbits", "randbytes",
)  # fmt: skip
_NUMPY_RANDOM = (
    "rand", "randn", "random", "random_sample", "randint", "normal", "uniform",
    "choice", "shuffle", "permutation", "exponential", "poisson",
)  # fmt: skip

_real_datetime = _datetime.datetime
_real_date = _datetime.date


def _refuse(what: str) -> Callable[..., Any]:
    def refuse(*args: object, **kwargs: object) -> Any:
        raise AssertionError(
            f"operators must not read the wall clock or unseeded randomness (called {what})"
        )

    return refuse


class _LooksReal(type):
    """Keeps ``isinstance(x, datetime)`` true for real datetimes while the guard is on."""

    real: type

    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, cls.real)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, cls.real)


class _GuardedDatetime(_real_datetime, metaclass=_LooksReal):
    real = _real_datetime
    now = staticmethod(_refuse("datetime.now"))
    utcnow = staticmethod(_refuse("datetime.utcnow"))
    today = staticmethod(_refuse("datetime.today"))


class _GuardedDate(_real_date, metaclass=_LooksReal):
    real = _real_date
    today = staticmethod(_refuse("date.today"))


def _seeded_only(original: Callable[..., Any]) -> Callable[..., Any]:
    def default_rng(seed: Any = None, *args: Any, **kwargs: Any) -> Any:
        if seed is None:
            raise AssertionError("operators must seed their random generators")
        return original(seed, *args, **kwargs)

    return default_rng


def _targets() -> list[tuple[object, str, Any]]:
    """(owner, attribute, replacement) for every global source of time or chance."""
    targets: list[tuple[object, str, Any]] = [
        (time, name, _refuse(f"time.{name}")) for name in _TIME
    ]
    targets += [(random, name, _refuse(f"random.{name}")) for name in _RANDOM]
    targets += [
        (os, "urandom", _refuse("os.urandom")),
        (uuid, "uuid1", _refuse("uuid.uuid1")),
        (uuid, "uuid4", _refuse("uuid.uuid4")),
        (_datetime, "datetime", _GuardedDatetime),
        (_datetime, "date", _GuardedDate),
    ]
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        targets += [
            (numpy_random, name, _refuse(f"numpy.random.{name}"))
            for name in _NUMPY_RANDOM
            if hasattr(numpy_random, name)
        ]
        targets.append((numpy_random, "default_rng", _seeded_only(numpy_random.default_rng)))
    return targets


def _library_paths() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    found = {paths[name] for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    found |= {str(Path(os.__file__).parent)}
    return tuple(str(Path(path).resolve()) + os.sep for path in found)


_LIBRARIES = _library_paths()


def _is_project_module(module: ModuleType) -> bool:
    """A module of the project (or of the tests), not of the standard library or an
    installed package: one whose imported names may be patched without touching
    threads the guard knows nothing about."""
    name = module.__name__
    if name == "vigil" or name.startswith("vigil."):
        return True
    path = getattr(module, "__file__", None)
    if not path or name == __name__:
        return False
    return not str(Path(path).resolve()).startswith(_LIBRARIES)


def guarded_modules(start: Iterable[ModuleType] = ()) -> list[ModuleType]:
    """Every loaded ``vigil`` module, ``start``, and the project modules they reach.

    Reached means: a module-level name refers to the module, or to a function or
    class defined in it, followed transitively; so a helper that did ``from time
    import time`` is found through the operator module that imports the helper.
    This module itself is left alone (it keeps the originals).
    """
    loaded = sys.modules
    seen: dict[str, ModuleType] = {}
    todo = [m for n, m in list(loaded.items()) if n == "vigil" or n.startswith("vigil.")]
    todo += list(start)
    while todo:
        module = todo.pop()
        if module.__name__ in seen or module.__name__ == __name__:
            continue
        seen[module.__name__] = module
        for value in list(vars(module).values()):
            if isinstance(value, ModuleType):
                target = value
            else:
                owner = getattr(value, "__module__", None)
                target = loaded.get(owner) if isinstance(owner, str) else None
            if target is not None and target.__name__ not in seen and _is_project_module(target):
                todo.append(target)
    return [seen[name] for name in sorted(seen)]


@contextlib.contextmanager
def forbid_wall_clock(modules: Iterable[ModuleType] = ()) -> Iterator[None]:
    """Patch the clock and global randomness, also where modules imported them by name.

    ``from datetime import datetime`` or ``from time import time`` bind the
    original at import time, so such names are replaced as well in every module
    ``guarded_modules(modules)`` returns: all of ``vigil``, ``modules`` (say, the
    operator's own) and the project's helper modules they use.
    """
    targets = _targets()
    replacements = {id(getattr(owner, name)): new for owner, name, new in targets}
    with contextlib.ExitStack() as stack:
        for owner, name, new in targets:
            stack.enter_context(mock.patch.object(owner, name, new))
        for module in guarded_modules(modules):
            for name, value in list(vars(module).items()):
                new = replacements.get(id(value))
                if new is not None:
                    stack.enter_context(mock.patch.object(module, name, new))
        yield
