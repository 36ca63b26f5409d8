"""Checks over what the mapping sends: what Iterable would answer (`preflight`), what changes between two
settings (`compare`), and whether RudderStack's own transformer agrees (`crosscheck`)."""
