"""Claims' parameters as data: sections of typed, validated keys; vocabulary; overrides; TOML.

See :mod:`theorems.parameters.core` (the machinery), :mod:`theorems.parameters.vocabulary`
(the shared key names) and :mod:`theorems.parameters.overrides` (``--set``, ``--params``,
TOML out). Each claim family's parameter classes live in ``theorems/parameters/<family>.py``.
"""
from .core import ClaimParams, ParamError, Section, Spec, param, render, template_keys
from .overrides import load_toml, parse_assignment, parse_value, to_toml
from .vocabulary import VOCABULARY, key

__all__ = ["ClaimParams", "ParamError", "Section", "Spec", "param", "render", "template_keys", "load_toml",
           "parse_assignment", "parse_value", "to_toml", "VOCABULARY", "key"]
