"""The reviewer report: results.json -> report.md, self-contained index.html, figures/*.png.

Reads results files only (schema 1, see ``schema.py``); it never imports ``numerics`` or
``theorems``.
"""
from .render import build_context, render_report, replay_command
from .schema import SCHEMA_VERSION, ReportInputError, load_results, validate_results

__all__ = ["render_report", "build_context", "replay_command", "load_results", "validate_results",
           "ReportInputError", "SCHEMA_VERSION"]
