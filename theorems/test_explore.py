"""Q1-Q10: the beyond-the-paper questions as parameterised propositions.

The checks are ``theorems.explore.qNN_*:check`` (plan of independent tasks, compute, judge);
their parameters, statements and controls are registered in ``theorems/catalogue/questions.py``
and their per-profile sizes in ``theorems/profiles.py``. This file only binds them to pytest
(``test_Q4``, ``test_Q4_control_threshold_zero``, ...; under ``--profile stress`` also
``test_Q4_stress``). A claim's main check and its controls run in one process one after another
and share the tasks they have in common (as do questions asking for the same training runs).
``purecheck explore`` runs the same checks as one sweep, in process or on dask.
"""
from __future__ import annotations

from .explore import QUESTIONS
from .protocol import bind

bind(globals(), *QUESTIONS)
