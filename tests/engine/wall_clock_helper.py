"""A helper module that imported the clock by name, as ``from time import time``:
an operator calling it reads the wall clock without naming ``time`` itself."""

from time import time


def stamp() -> float:
    return time()
