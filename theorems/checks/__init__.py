"""The checks: ``check(params) -> Outcome`` per claim, one module per claim family."""
