"""Turn results JSON into readable text: numbers, intervals, and an evidence tree.

Conventions:
- a float prints with 6 significant digits (``.6g``, as ``numerics.Estimate.__str__``),
  an int as is, ``null`` as ``null``, booleans as ``true``/``false``;
- an interval object ``{"value", "lower", "upper", "method", "level"?, "n"?}`` prints as
  ``v [lo, hi] (method, 99%, n=N)``, an exact number with lower = upper = value as
  ``v (exact)``; a missing bound prints as ``?``;
- free-form evidence becomes a tree of :class:`Text`, :class:`Mapping`, :class:`Records`
  (a list of objects, shown as a table with the union of their keys as columns),
  :class:`Sequence` and :class:`Block` nodes, which the Markdown and HTML templates render;
  below ``max_depth`` levels of nesting a value becomes a :class:`Block`: indented text
  (:func:`pretty_text`, YAML-like, intervals on one line) shown in a wrapping box, so no
  evidence renders as tables nested five deep.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Union

INTERVAL_KEYS = ("value", "lower", "upper", "method")
MAX_INLINE_ITEMS = 30  # a list of scalars longer than this prints its first 30 items


def fmt_number(v: Any) -> str:
    """A JSON scalar as text (see module conventions)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return f"{v:.6g}"
    return str(v)


def is_interval(obj: Any) -> bool:
    """True for a dict carrying ``value``, ``lower``, ``upper`` and ``method``."""
    return isinstance(obj, dict) and all(k in obj for k in INTERVAL_KEYS) and \
        not isinstance(obj["value"], (dict, list, str))


def fmt_interval(d: dict, *, with_details: bool = False) -> str:
    """``v [lo, hi] (method, level%, n=N)``; ``v (exact)`` for a degenerate exact interval."""
    value, lower, upper, method = (d.get(k) for k in INTERVAL_KEYS)
    tags = [str(method)] if method else []
    if d.get("level") is not None:
        tags.append(f"{fmt_number(100 * d['level'])}%")
    if d.get("n") is not None:
        tags.append(f"n={fmt_number(d['n'])}")
    if with_details and isinstance(d.get("details"), dict) and d["details"]:
        tags.append(fmt_inline(d["details"]))
    tag = f" ({', '.join(tags)})" if tags else ""
    if lower is None and upper is None:
        return f"{fmt_number(value)}{tag}"
    if method == "exact" and lower == value and upper == value:
        return f"{fmt_number(value)}{tag}"
    lo = "?" if lower is None else fmt_number(lower)
    hi = "?" if upper is None else fmt_number(upper)
    return f"{fmt_number(value)} [{lo}, {hi}]{tag}"


def fmt_inline(v: Any) -> str:
    """Any JSON value on one line: intervals formatted, objects as ``k=v, ...``, lists as ``[a, b]``."""
    if is_interval(v):
        return fmt_interval(v, with_details=True)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}={fmt_inline(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        head = ", ".join(fmt_inline(x) for x in v[:MAX_INLINE_ITEMS])
        more = f", … ({len(v) - MAX_INLINE_ITEMS} more)" if len(v) > MAX_INLINE_ITEMS else ""
        return f"[{head}{more}]"
    return fmt_number(v)


def fmt_seconds(v: Any) -> str:
    if v is None:
        return "unknown"
    return f"{v:.1f} s" if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)


# --------------------------------------------------------------------------- evidence tree

@dataclass(frozen=True)
class Text:
    """A leaf. ``kind`` is number | interval | string | boolean | null (used for styling)."""
    text: str
    kind: str
    details: "Mapping | None" = None
    tag: str = "text"


@dataclass(frozen=True)
class Mapping:
    items: list[tuple[str, "Node"]]
    tag: str = "mapping"


@dataclass(frozen=True)
class Records:
    """A list of objects as a table; ``rows`` holds one-line cell texts ('' for a missing key)."""
    columns: list[str]
    rows: list[list[str]]
    total: int
    tag: str = "records"


@dataclass(frozen=True)
class Sequence:
    items: list["Node"]
    total: int
    tag: str = "sequence"

    @property
    def inline(self) -> bool:
        return all(isinstance(x, Text) and x.details is None for x in self.items)


@dataclass(frozen=True)
class Block:
    """A nested value as indented text (see :func:`pretty_text`)."""
    text: str
    tag: str = "block"


Node = Union[Text, Mapping, Records, Sequence, Block]
INLINE_WIDTH = 100  # an object or list whose one-line form is at most this long stays on one line


def pretty_text(v: Any, indent: str = "") -> str:
    """A JSON value as readable indented text: ``key: value`` lines, intervals and short objects on one line."""
    if isinstance(v, dict) and not is_interval(v) and v:
        one = fmt_inline(v)
        if len(one) <= INLINE_WIDTH and all(_is_scalar(x) or is_interval(x) for x in v.values()):
            return one
        lines = []
        for k, x in v.items():
            body = pretty_text(x, indent + "  ")
            sep = "\n" if "\n" in body or (isinstance(x, (dict, list)) and body.startswith(indent + "  ")) else " "
            lines.append(f"{indent}{k}:{sep}{body}" if sep == " " else f"{indent}{k}:\n{body}")
        return "\n".join(lines)
    if isinstance(v, list) and v and not all(_is_scalar(x) or is_interval(x) for x in v):
        one = fmt_inline(v)
        if len(one) <= INLINE_WIDTH:
            return one
        return "\n".join(f"{indent}- " + pretty_text(x, indent + "  ").lstrip() for x in v)
    return fmt_inline(v)


def evidence_tree(v: Any, *, max_rows: int | None = None, max_depth: int | None = None) -> Node:
    """Build the display tree of a JSON value (see module docstring).

    ``max_rows`` caps the rows of a Records table (``total`` keeps the full count);
    ``max_depth`` levels of objects and lists are tables, deeper values are :class:`Block` text.
    """
    if max_depth is not None and max_depth <= 0 and isinstance(v, (dict, list)) and v and not is_interval(v):
        if not all(_is_scalar(x) or is_interval(x) for x in (v.values() if isinstance(v, dict) else v)):
            return Block(pretty_text(v))
    deeper = None if max_depth is None else max_depth - 1
    if is_interval(v):
        extra = {k: x for k, x in v.items() if k not in (*INTERVAL_KEYS, "level", "n", "details")}
        details = dict(v["details"]) if isinstance(v.get("details"), dict) else {}
        details.update(extra)
        return Text(fmt_interval(v), "interval",
                    evidence_tree(details) if details else None)  # type: ignore[arg-type]
    if isinstance(v, dict):
        return Mapping([(str(k), evidence_tree(x, max_rows=max_rows, max_depth=deeper)) for k, x in v.items()])
    if isinstance(v, list):
        if v and all(isinstance(x, dict) for x in v) and not all(is_interval(x) for x in v):
            return records(v, max_rows=max_rows)
        shown = v if len(v) <= MAX_INLINE_ITEMS or not all(_is_scalar(x) for x in v) else v[:MAX_INLINE_ITEMS]
        return Sequence([evidence_tree(x, max_rows=max_rows, max_depth=deeper) for x in shown], len(v))
    if v is None:
        return Text("null", "null")
    if isinstance(v, bool):
        return Text(fmt_number(v), "boolean")
    if isinstance(v, (int, float)):
        return Text(fmt_number(v), "number")
    return Text(str(v), "string")


def records(items: list[dict], *, max_rows: int | None = None) -> Records:
    """A table of ``items``: columns are the union of keys in order of first appearance."""
    columns: list[str] = []
    for item in items:
        for k in item:
            if str(k) not in columns:
                columns.append(str(k))
    shown = items if max_rows is None else items[:max_rows]
    rows = [[fmt_inline(item[c]) if c in item else "" for c in columns] for item in shown]
    return Records(columns, rows, len(items))


def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (bool, int, float, str))


# --------------------------------------------------------------------------- markdown

def md_escape(text: Any) -> str:
    """Escape text for Markdown prose and table cells (CommonMark backslash escapes; newlines -> spaces)."""
    s = str(text).replace("\r\n", "\n").replace("\n", " ")
    for ch in "\\`*_[]<>|":
        s = s.replace(ch, "\\" + ch)
    return s


def md_code(text: Any) -> str:
    """An inline code span that survives backticks in ``text``."""
    s = str(text).replace("\n", " ")
    fence = "`"
    while fence in s:
        fence += "`"
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def md_table(header: list[str], rows: list[list[str]], indent: str = "") -> str:
    """A pipe table; cells are escaped here (pass raw text)."""
    lines = ["| " + " | ".join(md_escape(h) for h in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
    return "\n".join(indent + line for line in lines)


def tree_markdown(node: Node, indent: str = "") -> str:
    """Render an evidence tree as nested Markdown bullets; Records become pipe tables."""
    if isinstance(node, Text):
        out = f"{indent}- {md_escape(node.text)}"
        if node.details is not None:
            out += "\n" + tree_markdown(node.details, indent + "  ")
        return out
    if isinstance(node, Records):
        return _records_markdown(node, indent)
    if isinstance(node, Block):
        return _block_markdown(node, indent)
    if isinstance(node, Sequence):
        if node.inline:
            return f"{indent}- {_sequence_inline(node)}"
        return "\n".join(_item_markdown(f"[{i}]", x, indent) for i, x in enumerate(node.items))
    if not node.items:
        return f"{indent}- (empty)"
    return "\n".join(_item_markdown(k, x, indent) for k, x in node.items)


def _item_markdown(key: str, node: Node, indent: str) -> str:
    head = f"{indent}- **{md_escape(key)}**:"
    if isinstance(node, Text):
        out = f"{head} {md_escape(node.text)}"
        if node.details is not None:
            out += "\n" + tree_markdown(node.details, indent + "  ")
        return out
    if isinstance(node, Sequence) and node.inline:
        return f"{head} {_sequence_inline(node)}"
    if isinstance(node, Records):
        # A table inside a list item needs a blank line and the item's indentation.
        return f"{head}\n\n{_records_markdown(node, indent + '  ')}\n"
    if isinstance(node, Block):
        return f"{head}\n\n{_block_markdown(node, indent + '  ')}\n"
    return f"{head}\n{tree_markdown(node, indent + '  ')}"


def _sequence_inline(node: Sequence) -> str:
    more = f", … ({node.total - len(node.items)} more)" if node.total > len(node.items) else ""
    return "\\[" + ", ".join(md_escape(x.text) for x in node.items) + more + "\\]"  # type: ignore[union-attr]


def _records_markdown(node: Records, indent: str) -> str:
    out = md_table(node.columns, node.rows, indent)
    if node.total > len(node.rows):
        out += f"\n\n{indent}({len(node.rows)} of {node.total} rows shown)"
    return out


def _block_markdown(node: Block, indent: str) -> str:
    fence = "```"
    while fence in node.text:
        fence += "`"
    body = "\n".join(indent + line for line in node.text.splitlines())
    return f"{indent}{fence}text\n{body}\n{indent}{fence}"
