"""Checks over what the mapping sends: what Iterable would answer (`preflight`), what changes between two
settings (`compare`), whether RudderStack's own transformer agrees (`crosscheck`), and what changes between
two rudder-transformer releases (`upgrade`)."""
