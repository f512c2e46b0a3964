"""A models module whose import fails, as user code sometimes does."""

raise RuntimeError("models are broken")
