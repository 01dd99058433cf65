"""A claim's parameters as data: typed, validated, frozen dataclasses with dotted keys.

A claim's parameter set (:class:`ClaimParams`) is a frozen dataclass whose fields are
*sections* (:class:`Section`, e.g. ``model``, ``net``, ``train``, ``eval``, ``seeds``,
``judge``, ``draw``); each section field is declared with :func:`param`, which states its
type, its allowed range or choices, its *role* and one line of documentation. The dotted
key of a field is ``section.field`` (``train.eps``); the same key means the same thing in
every claim (see :mod:`theorems.parameters.sections`).

Roles say what a value is for, so that tools can treat it right:

- ``setting``: part of the proposition (d, k, the training radius, the threshold b...);
- ``threshold``: a number a condition compares against (``judge.*``);
- ``range``: a ``(lo, hi)`` interval hypothesis draws a quantity from (``draw.*``);
- ``size``: how much is computed (steps, samples, seeds, grid resolution); profiles change
  only these, never what is claimed;
- ``seed``: a base seed of a random draw.

Validation happens on construction: a bad value raises :class:`ParamError` (a ``ValueError``)
whose message starts with the dotted key and states the allowed range.
"""
from __future__ import annotations

import dataclasses
import math
import string
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Iterator, Mapping

ROLES = ("setting", "threshold", "range", "size", "seed")
_MISSING = object()


class ParamError(ValueError):
    """A parameter value, key or file that cannot be used; the message starts with the key."""


@dataclass(frozen=True)
class Spec:
    """What one parameter may be: its type, allowed values, role and meaning."""

    kind: str  # "int" | "float" | "str" | "bool" | "tuple"
    doc: str
    role: str = "setting"
    lo: float | None = None
    hi: float | None = None
    choices: tuple | None = None
    element: str | None = None  # element kind of a tuple ("int" | "float" | "str")
    length: tuple[int, int] | None = None  # allowed tuple lengths (min, max)
    open_lo: bool = False  # lo excluded
    open_hi: bool = False  # hi excluded

    def allowed(self) -> str:
        """The allowed values in words, e.g. ``real number in [0, 4]``."""
        if self.kind == "bool":
            return "true or false"
        if self.choices is not None and self.kind != "tuple":
            return "one of " + ", ".join(_show(c) for c in self.choices)
        if self.kind in ("int", "float"):
            return f"{'an integer' if self.kind == 'int' else 'a real number'} in {self._interval()}"
        if self.kind == "tuple":
            what = {"int": "integers", "float": "real numbers", "str": "strings"}[self.element or "float"]
            if self.choices is not None:
                what = "values from " + ", ".join(_show(c) for c in self.choices)
            elif self.lo is not None or self.hi is not None:
                what += f" in {self._interval()}"
            if self.role == "range":
                return f"a range [lo, hi] with lo <= hi, {what}"
            n = ""
            if self.length is not None:
                a, b = self.length
                n = f"{a} " if a == b else f"{a} to {b} " if b < 10**6 else f"at least {a} "
            return f"a list of {n}{what}"
        return "a string"

    def _interval(self) -> str:
        lo = "-inf" if self.lo is None else _show(self.lo)
        hi = "inf" if self.hi is None else _show(self.hi)
        return f"{'(' if self.open_lo or self.lo is None else '['}{lo}, {hi}{')' if self.open_hi or self.hi is None else ']'}"

    def check(self, key: str, value: Any) -> Any:
        """The value, normalised (int -> float for reals, list -> tuple), or ParamError naming ``key``."""
        bad = ParamError(f"{key} must be {self.allowed()}, got {_show(value)}")
        if self.kind == "tuple":
            if not isinstance(value, (tuple, list)):
                raise bad
            items = tuple(self._scalar(self.element or "float", v, bad) for v in value)
            if self.length is not None and not (self.length[0] <= len(items) <= self.length[1]):
                raise bad
            for v in items:
                self._in_range(v, bad)
            if self.role == "range" and (len(items) != 2 or items[0] > items[1]):
                raise bad
            return items
        v = self._scalar(self.kind, value, bad)
        self._in_range(v, bad)
        return v

    def _scalar(self, kind: str, value: Any, bad: ParamError) -> Any:
        if kind == "bool":
            if not isinstance(value, bool):
                raise bad
            return value
        if kind == "str":
            if not isinstance(value, str):
                raise bad
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad
        if kind == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise bad
                value = int(value)
            return int(value)
        value = float(value)
        if math.isnan(value):
            raise bad
        return value

    def _in_range(self, v: Any, bad: ParamError) -> None:
        if self.choices is not None and v not in self.choices:
            raise bad
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if self.lo is not None and (v < self.lo or (self.open_lo and v == self.lo)):
                raise bad
            if self.hi is not None and (v > self.hi or (self.open_hi and v == self.hi)):
                raise bad


def param(default: Any, doc: str, *, role: str = "setting", lo: float | None = None, hi: float | None = None,
          choices: tuple | None = None, kind: str | None = None, element: str | None = None,
          length: tuple[int, int] | None = None, open_lo: bool = False, open_hi: bool = False):
    """A section field: its default, one line of meaning, and what values are allowed."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if kind is None:
        kind = _kind_of(default)
    if kind == "tuple":
        default = tuple(default)
        if element is None:
            element = _kind_of(default[0]) if default else "float"
        if role == "range":
            length = (2, 2)
        elif length is None:
            length = (1, 10**9)
    spec = Spec(kind, doc, role, lo, hi, tuple(choices) if choices is not None else None, element, length,
                open_lo, open_hi)
    return field(default=default, metadata={"spec": spec})


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, (tuple, list)):
        return "tuple"
    raise TypeError(f"param default must be a bool, int, float, str or tuple, got {type(value).__name__}")


@dataclass(frozen=True)
class Section:
    """A group of parameters under one name (``NAME``); validated on construction."""

    NAME: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for f in fields(self):
            spec = f.metadata.get("spec")
            if spec is None:
                raise TypeError(f"{type(self).__name__}.{f.name} must be declared with param()")
            object.__setattr__(self, f.name, spec.check(f"{self.NAME}.{f.name}", getattr(self, f.name)))
        self.validate()

    def validate(self) -> None:
        """Cross-field checks of the section (override; raise ParamError naming the key)."""

    @classmethod
    def specs(cls) -> dict[str, Spec]:
        return {f.name: f.metadata["spec"] for f in fields(cls)}


@dataclass(frozen=True)
class ClaimParams:
    """A claim's parameter set: a frozen dataclass of sections, each with its dotted keys."""

    CLAIM: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for f in fields(self):
            sec = getattr(self, f.name)
            if not isinstance(sec, Section):
                raise TypeError(f"{type(self).__name__}.{f.name} must be a Section, got {type(sec).__name__}")
            if sec.NAME != f.name:
                raise TypeError(f"{type(self).__name__}.{f.name} holds section {sec.NAME!r}: names must agree")
        self.validate()

    def validate(self) -> None:
        """Cross-section checks (override; raise ParamError naming a key)."""

    # ---------------------------------------------------------------- dotted access
    def sections(self) -> Iterator[Section]:
        for f in fields(self):
            yield getattr(self, f.name)

    @classmethod
    def section_types(cls) -> dict[str, type[Section]]:
        out = {}
        for f in fields(cls):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            out[f.name] = type(default)
        return out

    def specs(self) -> dict[str, Spec]:
        return {f"{s.NAME}.{k}": v for s in self.sections() for k, v in s.specs().items()}

    def flat(self) -> dict[str, Any]:
        """``{dotted key: value}`` in declaration order."""
        return {f"{s.NAME}.{f.name}": getattr(s, f.name) for s in self.sections() for f in fields(s)}

    def get(self, key: str) -> Any:
        sec, _, name = key.partition(".")
        try:
            return getattr(getattr(self, sec), name)
        except AttributeError:
            raise self.unknown(key) from None

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Nested ``{section: {key: value}}`` (tuples as lists), as in results.json."""
        out: dict[str, dict[str, Any]] = {}
        for k, v in self.flat().items():
            sec, _, name = k.partition(".")
            out.setdefault(sec, {})[name] = list(v) if isinstance(v, tuple) else v
        return out

    def unknown(self, key: str) -> ParamError:
        return ParamError(f"{self.CLAIM}.{key}: unknown parameter of {self.CLAIM} (known: {', '.join(self.flat())})")

    def with_values(self, values: Mapping[str, Any]) -> "ClaimParams":
        """A copy with ``{dotted key: value}`` replaced, validated (ParamError names the key)."""
        known = self.flat()
        by_section: dict[str, dict[str, Any]] = {}
        for key, value in values.items():
            if key not in known:
                raise self.unknown(key)
            sec, _, name = key.partition(".")
            by_section.setdefault(sec, {})[name] = value
        try:
            new = {sec: dataclasses.replace(getattr(self, sec), **vals) for sec, vals in by_section.items()}
            return dataclasses.replace(self, **new)
        except ParamError as exc:
            raise ParamError(f"{self.CLAIM}.{exc}") from None

    def diff(self, other: "ClaimParams") -> dict[str, dict[str, Any]]:
        """Keys whose value differs from ``other``'s: ``{key: {"value": mine, "default": theirs}}``."""
        a, b = self.flat(), other.flat()
        return {k: {"value": _jsonable(a[k]), "default": _jsonable(b[k])} for k in a if a[k] != b[k]}

    def keys_of_role(self, *roles: str) -> list[str]:
        return [k for k, s in self.specs().items() if s.role in roles]


def _jsonable(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(_show(x) for x in v) + "]"
    if isinstance(v, str):
        return repr(v)
    return str(v)


# -------------------------------------------------------------------- statements


class _Shown:
    """A parameter value inside a statement template: ``{train.eps}`` prints 0.4, ``{x:.2f}`` formats."""

    def __init__(self, value: Any):
        self.value = value

    def __format__(self, spec: str) -> str:
        v = self.value
        if isinstance(v, tuple):
            return ", ".join(_Shown(x).__format__(spec) for x in v)
        if not spec:
            if isinstance(v, bool):
                return "yes" if v else "no"
            if isinstance(v, float):
                return f"{v:g}"
            return str(v)
        return format(v, spec)


class _SectionView:
    def __init__(self, section: Section):
        self._section = section

    def __getattr__(self, name: str) -> _Shown:
        try:
            return _Shown(getattr(self._section, name))
        except AttributeError:
            raise KeyError(f"{self._section.NAME}.{name}") from None


def render(template: str, params: ClaimParams) -> str:
    """The template with every ``{section.key}`` (optionally ``{section.key:fmt}``) filled in."""
    view = {s.NAME: _SectionView(s) for s in params.sections()}
    try:
        return template.format_map(view)
    except KeyError as exc:
        raise ParamError(f"{params.CLAIM}: template refers to unknown parameter {exc.args[0]}") from None


def template_keys(template: str) -> set[str]:
    """The dotted keys a template refers to."""
    keys = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name:
            keys.add(name)
    return keys
