"""theorems: each proposition of docs/model.md §5 as a checkable property (run with ``pytest theorems``)."""
