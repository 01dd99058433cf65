"""P1 and P2: supervised pre-training in the model (paper claims C1, C2).

The checks are ``theorems.checks.supervised:check_p1`` and ``check_p2``; their parameters,
statements and controls are registered in ``theorems/catalogue/supervised.py``. This file
only binds them to pytest (``test_P1``, ``test_P1_control_*``, ...; under ``--profile
stress`` also ``test_P1_stress`` / ``test_P2_stress``, the search over each claim's StressPlan).
"""
from __future__ import annotations

from .protocol import bind

bind(globals(), "P1", "P2")
