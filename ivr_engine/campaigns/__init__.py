"""Campaigns: many outbound calls of one flow, paced, windowed, retried, and durable.

`contacts` reads a contacts CSV (bad rows reported with their line numbers, and skipped);
`schema` holds the tables in both SQL dialects; `store` is every query the campaign code
runs; `runner` is the background task inside `ivr serve` that places the calls.
"""
