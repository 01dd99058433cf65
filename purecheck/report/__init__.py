"""The reviewer report: results.json -> report.md, self-contained index.html, figures/*.png (and report.pdf).

Reads results files only (schema 1 or 2, see ``schema.py``); it never imports ``numerics`` or
``theorems``. Names are imported lazily, so that ``purecheck.report.compare`` (used by
``scripts/compare_results.py``) loads without matplotlib or jinja2.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "render_report": "render", "build_context": "render", "replay_command": "render",
    "load_results": "schema", "validate_results": "schema", "ReportInputError": "schema", "SCHEMA_VERSION": "schema",
    "compare": "compare", "compare_files": "compare", "is_timing_key": "compare",
    "paper_answers": "answers",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
