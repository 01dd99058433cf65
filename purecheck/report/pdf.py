"""``purecheck report --pdf``: print the rendered index.html to ``report.pdf``.

Engines, in order: headless Chromium's print to PDF (``/usr/bin/chromium``, through
:mod:`purecheck.report.browser`), else weasyprint when it is importable. Both use the page's
print CSS: every paper-claim section and every proposition starts a page, figures and table
rows are never split, A4 with 12-14 mm margins. The collapsed appendix prints collapsed.
A PDF is not byte-deterministic (the engines stamp a creation date).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from . import browser

ENGINES = ("chromium", "weasyprint")


class PdfError(RuntimeError):
    """No engine, or the engine failed."""


def pdf_engine() -> str | None:
    """The engine ``--pdf`` will use: ``"chromium"``, ``"weasyprint"`` or None when neither is available."""
    if browser.CHROMIUM.exists():
        return "chromium"
    if importlib.util.find_spec("weasyprint") is not None:
        return "weasyprint"
    return None


def write_pdf(html: Path, pdf: Path, *, engine: str) -> Path:
    """Print ``html`` to ``pdf`` with ``engine`` (one of :data:`ENGINES`); raises :class:`PdfError`."""
    if engine == "chromium":
        try:
            return browser.print_pdf(html, pdf)
        except (browser.BrowserError, OSError) as exc:
            raise PdfError(f"Chromium could not print {html} to PDF: {exc}") from None
    if engine == "weasyprint":
        try:
            import weasyprint  # optional: only when Chromium is missing
        except ImportError as exc:
            raise PdfError(f"weasyprint is not importable: {exc}") from None
        try:
            tmp = pdf.with_name(f".{pdf.name}.tmp")
            weasyprint.HTML(filename=str(html)).write_pdf(str(tmp))
            tmp.replace(pdf)
        except Exception as exc:  # weasyprint raises many kinds; report them in one line
            raise PdfError(f"weasyprint could not print {html} to PDF: {exc}") from None
        return pdf
    raise PdfError(f"unknown PDF engine {engine!r} (one of {', '.join(ENGINES)})")


def page_count(data: bytes) -> int:
    """Pages of a PDF: the largest ``/Count`` of a page tree node, else the ``/Type /Page`` objects."""
    import re

    counts = [int(m) for m in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", data)]
    counts += [int(m) for m in re.findall(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", data)]
    if counts:
        return max(counts)
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", data))
