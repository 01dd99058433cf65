"""Q1-Q10 (MODEL.md section 6): the beyond-the-paper questions on the claims protocol.

Each question's experiment lives in ``theorems/explore/qNN_*.py`` (plan of independent
tasks, compute, judge). Here each runs at the size of the active profile (quick and ci:
``smoke``, about 90 s for all ten on 2 cores; thorough: ``thorough``; stress: ``smoke``), in
process, once per session: the main test and the control tests of a question share one run
(and questions share identical training runs). ``purecheck explore Q6 --profile quick``
runs the larger ``quick`` size, in process or on dask.
"""
from __future__ import annotations

from functools import cache

import pytest

from .explore import QUESTIONS, run_questions
from .registry import CLAIMS

SIZE_OF_PROFILE = {"quick": "smoke", "ci": "smoke", "thorough": "thorough", "stress": "smoke"}
_MEMO: dict = {}  # finished tasks of this session, shared across questions


@cache
def question_run(qid: str, size: str):
    runs, _ = run_questions([qid], size, "inprocess", memo=_MEMO)
    return runs[qid]


def _outcome(qid: str, variant: str, profile):
    return lambda: question_run(qid, SIZE_OF_PROFILE[profile.name]).outcomes[variant]


def _cases():
    for qid in QUESTIONS:
        yield pytest.param(qid, marks=pytest.mark.claim(qid), id=qid)


def _control_cases():
    for qid in QUESTIONS:
        for ctl in CLAIMS[qid].controls:
            yield pytest.param(qid, ctl.name, marks=pytest.mark.claim(qid, control=ctl.name), id=f"{qid}-{ctl.name}")


@pytest.mark.parametrize("qid", list(_cases()))
def test_question(qid, claim_run, profile):
    claim_run.main(_outcome(qid, "main", profile))


@pytest.mark.parametrize("qid, control", list(_control_cases()))
def test_question_control(qid, control, claim_run, profile):
    claim_run.control(control, _outcome(qid, control, profile))
