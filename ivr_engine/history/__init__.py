"""Call history: the execution log of every call, retention, and structured logs."""
