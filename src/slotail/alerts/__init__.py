"""Alert kinds: each condition (burn rate, SLI, count, percentile, budget) in one class of its own.

A kind owns its YAML keys and their validation, its resolution against its SLO, its evaluation
over the engine's window counts, its PromQL, its words, and its fields in the JSON document;
`registry.KINDS` finds it by its `AlertKind`. Config imports the kinds (to build `AlertSpec`),
so a kind module imports nothing of slotail's config, engine or outputs at run time.
"""
