"""gaitsim's model file format (TOML), read into and written from the description classes.

A model file is a TOML document::

    format = "gaitsim-model"
    version = 1
    name = "gait2d"
    description = "..."
    references = ["Delp SL et al. (1990) ...", ...]
    gravity = [0.0, -9.80665, 0.0]

    [[bodies]]
    name = "pelvis"
    mass = 11.777
    com = [-0.0707, 0.0, 0.0]
    inertia = [0.1028, 0.0871, 0.0579, 0.0, 0.0, 0.0]   # Ixx Iyy Izz Ixy Ixz Iyz

    [[joints]]
    name = "hip_r"
    type = "pin"                      # weld | pin | planar | custom
    parent = { body = "pelvis", translation = [-0.0707, -0.0661, 0.0835] }
    child = { body = "femur_r" }
    coordinates = [{ name = "hip_flexion_r", range = [-0.7, 1.6] }]

    [[muscles]]
    name = "soleus_r"
    max_isometric_force = 3549.0
    ...
    path = [
      { type = "fixed", name = "P1", body = "tibia_r", location = [...] },
      { type = "conditional", name = "P2", body = "femur_r", location = [...],
        coordinate = "knee_angle_r", range = [-2.6, -1.4] },
      { type = "moving", name = "P3", body = "tibia_r",
        x = { type = "simm_spline", x = [...], y = [...] }, x_coordinate = "knee_angle_r",
        y = { type = "constant", value = 0.02 }, z = { type = "constant", value = 0.0 } },
    ]

Field names and meanings are those of :mod:`gaitsim.model.description`; enums are written
as their lower-case values, functions and path points carry a ``type`` tag. Every key is
checked: an unknown key, a missing required value or a value of the wrong kind raises
:class:`~gaitsim.errors.ModelError` naming the element (``muscles[3].path[1].location``).
After reading, :func:`gaitsim.model.validation.validate` checks the model as a whole.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

import tomlkit

from gaitsim.errors import FileFormatError, ModelError
from gaitsim.model import description as d
from gaitsim.model.validation import validate

__all__ = [
    "FORMAT",
    "VERSION",
    "model_to_dict",
    "model_from_dict",
    "read_model",
    "write_model",
    "loads_model",
    "dumps_model",
]

FORMAT = "gaitsim-model"
VERSION = 1

_FUNCTION_TAGS: dict[str, type] = {
    "constant": d.Constant,
    "linear": d.Linear,
    "simm_spline": d.SimmSpline,
    "natural_cubic_spline": d.NaturalCubicSpline,
    "polynomial": d.Polynomial,
    "multiplier": d.Multiplier,
}
_PATH_TAGS: dict[str, type] = {
    "fixed": d.PathPoint,
    "conditional": d.ConditionalPathPoint,
    "moving": d.MovingPathPoint,
}
_TAG_OF = {cls: tag for tag, cls in {**_FUNCTION_TAGS, **_PATH_TAGS}.items()}


# ----------------------------------------------------------------------------- writing
def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        tag = _TAG_OF.get(type(value))
        if tag is not None:
            out["type"] = tag
        for f in dataclasses.fields(value):
            v = getattr(value, f.name)
            if v is None:
                continue
            out[f.name] = _to_plain(v)
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_to_plain(v) for v in value]
    if isinstance(value, float) and value == int(value) and abs(value) < 1e15:
        return float(value)
    return value


def model_to_dict(model: d.Model) -> dict[str, Any]:
    """The plain-data (TOML-ready) form of ``model``."""
    body = _to_plain(model)
    return {"format": FORMAT, "version": VERSION, **body}


def _inline(value: Any) -> Any:
    table = tomlkit.inline_table()
    table.update(value)
    return table


_INLINE_KEYS = {"parent", "child"}
_INLINE_LISTS = {"coordinates", "transform", "wraps"}


def _styled(value: Any, key: str = "") -> Any:
    """Short tables written inline so that a model file reads like a description."""
    if isinstance(value, dict):
        styled = {k: _styled(v, k) for k, v in value.items()}
        small = value.get("type") in ("constant", "linear")
        if key in _INLINE_KEYS or small:
            return _inline(styled)
        return styled
    if isinstance(value, list) and key in _INLINE_LISTS:
        array = tomlkit.array()
        for item in value:
            array.append(_inline({k: _styled(v, k) for k, v in item.items()}))
        array.multiline(True)
        return array
    if isinstance(value, list):
        return [_styled(v, key) for v in value]
    return value


def dumps_model(model: d.Model) -> str:
    """``model`` as TOML text."""
    return tomlkit.dumps(_styled(model_to_dict(model)))


def write_model(model: d.Model, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``model`` to a TOML file.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is false (nothing is overwritten silently).
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    path.write_text(dumps_model(validate(model)), encoding="utf-8")
    return path


# ----------------------------------------------------------------------------- reading
def _convert(element: str, tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (types.UnionType, typing.Union):
        non_none = [a for a in args if a is not type(None)]
        if value is None:
            return None
        if all(a in _TAG_OF for a in non_none) and len(non_none) > 1:
            return _tagged(element, value, non_none)
        if len(non_none) == 1:
            return _convert(element, non_none[0], value)
        if set(non_none) == {int, float} or float in non_none:
            return _convert(element, float, value)
        raise ModelError(element, f"cannot read a value of type {tp}")
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ModelError(element, f"must be a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(f"{element}[{i}]", args[0], v) for i, v in enumerate(value))
        if len(value) != len(args):
            raise ModelError(element, f"must have {len(args)} entries, got {len(value)}")
        return tuple(
            _convert(f"{element}[{i}]", a, v)
            for i, (a, v) in enumerate(zip(args, value, strict=True))
        )
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ModelError(element, f"must be a number, got {value!r}")
        return float(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ModelError(element, f"must be true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ModelError(element, f"must be a string, got {value!r}")
        return value
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in tp)
            raise ModelError(element, f"must be one of {allowed}, got {value!r}") from None
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if tp in _TAG_OF:
            return _tagged(element, value, [tp])
        return _dataclass(element, tp, value)
    raise ModelError(element, f"cannot read a value of type {tp}")


def _tagged(element: str, value: Any, allowed: list[Any]) -> Any:
    if not isinstance(value, dict):
        raise ModelError(element, f"must be a table with a 'type', got {value!r}")
    tag = value.get("type")
    options = {t: c for t, c in {**_FUNCTION_TAGS, **_PATH_TAGS}.items() if c in allowed}
    if tag not in options:
        raise ModelError(f"{element}.type", f"must be one of {sorted(options)}, got {tag!r}")
    rest = {k: v for k, v in value.items() if k != "type"}
    return _dataclass(element, options[tag], rest)


def _dataclass(element: str, cls: Any, value: Any) -> Any:
    if not isinstance(value, dict):
        raise ModelError(element, f"must be a table, got {value!r}")
    hints = typing.get_type_hints(cls, vars(d))
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = set(value) - set(fields)
    if unknown:
        raise ModelError(
            element, f"unknown key(s) {sorted(unknown)}; expected some of {sorted(fields)}"
        )
    kwargs = {}
    for name, f in fields.items():
        sub = f"{element}.{name}" if element else name
        if name not in value:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ModelError(sub, "is required but missing")
            continue
        kwargs[name] = _convert(sub, hints[name], value[name])
    return cls(**kwargs)


def model_from_dict(data: dict[str, Any], *, source: str = "model") -> d.Model:
    """Build and validate a :class:`~gaitsim.model.description.Model` from plain data."""
    data = dict(data)
    fmt = data.pop("format", FORMAT)
    version = data.pop("version", VERSION)
    if fmt != FORMAT:
        raise ModelError(f"{source}.format", f"expected {FORMAT!r}, got {fmt!r}")
    if version != VERSION:
        raise ModelError(
            f"{source}.version", f"this gaitsim reads version {VERSION}, got {version!r}"
        )
    model = _dataclass("", d.Model, data)
    return validate(model)


def loads_model(text: str, *, source: str = "<string>") -> d.Model:
    """Parse gaitsim TOML model text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        if line is None:
            match = re.search(r"line (\d+)", str(exc))
            if match:
                line = int(match.group(1))
            elif "end of document" in str(exc):
                line = text.count("\n") + 1
        raise FileFormatError(source, line, f"not valid TOML: {exc}") from None
    return model_from_dict(data, source=source)


def read_model(path: str | Path) -> d.Model:
    """Read a gaitsim model file (TOML).

    Raises
    ------
    FileFormatError
        If the file is not valid TOML (with the line).
    ModelError
        If the model is invalid (naming the element).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(path, None, f"not UTF-8 text: {exc}") from None
    try:
        return loads_model(text, source=str(path))
    except ModelError as exc:
        raise ModelError(f"{path}: {exc.element}", exc.problem) from None
