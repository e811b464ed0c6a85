"""The goal pipeline's plain-Python parts: frame synchronisation, staleness, goal bookkeeping."""
