"""Stress claims P2r, P2i, P1z: instances of the generic stress search (theorems/stress_search.py).

Each claim's check (``theorems.checks.stress``) searches a proposition's parameters over the
ranges registered in ``theorems/catalogue/stress.py``, shrinks the smallest counterexample
towards the proposition's defaults, brackets the boundary by bisection and asserts that the
boundary is the registered one (as hypothesis' own tests assert ``minimal(...)``). They run
only under the stress profile: ``pytest theorems --profile stress -k 'P2r or P2i or P1z'``.
This file only binds them.
"""
from __future__ import annotations

from .protocol import bind

bind(globals(), "P2r", "P2i", "P1z")
