"""Typed errors raised by gaitsim.

Every error a user can provoke with bad input is one of these, so that callers can
catch ``GaitsimError`` and show the message, which always names the file, line or model
element at fault.
"""

from __future__ import annotations

__all__ = ["GaitsimError", "ModelError", "FileFormatError", "UnsupportedFeatureError"]


class GaitsimError(Exception):
    """Base class of all errors raised deliberately by gaitsim."""


class ModelError(GaitsimError, ValueError):
    """A model description is invalid.

    Parameters
    ----------
    element
        Name (or path, such as ``"muscles[3].path"``) of the offending element.
    problem
        What is wrong with it, in plain words.
    """

    def __init__(self, element: str, problem: str) -> None:
        self.element = element
        self.problem = problem
        super().__init__(f"{element}: {problem}")


class FileFormatError(GaitsimError, ValueError):
    """A file could not be read because its content is malformed.

    Parameters
    ----------
    path
        The file (as given by the caller).
    line
        1-based line number of the problem, or ``None`` if it is not tied to one line.
    problem
        What is wrong.
    """

    def __init__(self, path: object, line: int | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


class UnsupportedFeatureError(GaitsimError):
    """A model file uses a feature gaitsim does not support (named in the message)."""

    def __init__(self, path: object, element: str, problem: str) -> None:
        self.path = str(path)
        self.element = element
        self.problem = problem
        super().__init__(f"{self.path}: {element}: {problem}")
