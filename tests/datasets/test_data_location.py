"""Where the data-set tests look for the reference data, and what they do without it
(issue 7, item 23): under ``CI=true`` a missing data set fails the run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


def test_missing_data_fails_under_ci(tmp_path: Path, locate_adl: Callable[..., Path]) -> None:
    """With ``CI=true`` the tests fail rather than skip when the data is absent."""
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        locate_adl(tmp_path, in_ci=True)


def test_missing_data_skip_names_real_folders(
    tmp_path: Path, locate_adl: Callable[..., Path]
) -> None:
    """Outside CI it is a skip; started from a file (as the fixture is, with its own
    ``__file__``), it lists the file's folders, never a path below the file."""
    module = tmp_path / "conftest.py"
    module.write_text("")
    with pytest.raises(pytest.skip.Exception) as caught:
        locate_adl(module, in_ci=False)
    message = str(caught.value)
    assert f"{tmp_path / 'shared' / 'data' / 'adl'}," in message
    assert "conftest.py/" not in message
