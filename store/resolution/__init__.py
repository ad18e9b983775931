"""The resolution engine: keep every item's resolution and the effort rollup in step with the
stored items and the plan, set-based, inside the caller's transaction.

Entry points: :mod:`.run` (a full sync, and the trees a sync batch, webhook or tag touched),
:mod:`.plan_change` (a new plan version and what it moves) and :mod:`.preview` (what a plan would
move, written nowhere). The modules import nothing from this package's ``__init__``, so the
store's repositories can use :mod:`.rollup` without loading the engine.
"""
