"""The engine's Prometheus metrics, defined once; `ivr_engine.web.metrics` serves them.

Counters and histograms live in prometheus_client's default registry. When several server
processes run, set PROMETHEUS_MULTIPROC_DIR to an empty folder shared by them (before they
start): prometheus_client then keeps each process's values in files there, and a scrape of any
process adds them all up. Labels hold only flow ids, node types, route kinds, statuses and
error codes: nothing a caller typed, and never a secret.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Twilio gives up at 15 s; most answers take a few milliseconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0)

WEBHOOK_SECONDS = Histogram(
    "ivr_webhook_seconds",
    "Time to answer a Twilio webhook, by kind of route.",
    ["route"],
    buckets=LATENCY_BUCKETS,
)
CALLS_STARTED = Counter("ivr_calls_started", "Calls that started, by flow.", ["flow"])
CALLS_ENDED = Counter(
    "ivr_calls_ended",
    "Calls that ended, by flow and outcome (Twilio's final CallStatus, or error).",
    ["flow", "outcome"],
)
NODE_ERRORS = Counter(
    "ivr_node_errors", "Steps that failed (the caller heard an apology).", ["flow", "node_type"]
)
SIGNATURE_REJECTIONS = Counter(
    "ivr_signature_rejections", "Requests refused for a bad or missing X-Twilio-Signature."
)
SEND_RESULTS = Counter(
    "ivr_outbox_send_results",
    "Attempts to send an outbox message, by result and Twilio error code.",
    ["result", "error_code"],
)
FLOW_RELOADS = Counter(
    "ivr_flow_reloads", "Flow files loaded, by result (accepted or refused).", ["result"]
)
