"""`/metrics`: scraped after real signed calls, parsed back with prometheus_client's parser."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from ivr_engine.web import Settings, create_app
from tests.conftest import AUTH_TOKEN, Twilio
from tests.history.conftest import BROKEN_FLOW, METRICS_TOKEN, PIN_FLOW

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: TestClient) -> Samples:
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert AUTH_TOKEN not in answer.text and METRICS_TOKEN not in answer.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def metered(settings: Settings) -> Iterator[TestClient]:
    (settings.flows_dir / "pin.yaml").write_text(PIN_FLOW)
    (settings.flows_dir / "broken.yaml").write_text(BROKEN_FLOW)
    (settings.flows_dir / "typo.yaml").write_text("start: nowhere\nnodes: {}\n")
    with TestClient(create_app(replace(settings, metrics_token=METRICS_TOKEN))) as client:
        yield client


def test_metrics_count_calls_errors_rejections_reloads_and_the_outbox(
    metered: TestClient,
) -> None:
    twilio = Twilio(metered)
    before = scrape(metered)
    caller = {"From": "+15551230000", "To": "+15550000000"}
    for sid in ("CAm1", "CAm2"):
        assert twilio.post("/voice/acme", {"CallSid": sid, **caller}).status_code == 200
    done = twilio.post("/status/call", {"CallSid": "CAm1", "CallStatus": "completed", **caller})
    assert done.status_code == 204
    twilio.post("/voice/broken", {"CallSid": "CAm3", **caller})
    twilio.post("/voice/broken/step/1/input", {"CallSid": "CAm3", "Digits": "1", **caller})
    twilio.post("/voice/pin", {"CallSid": "CAm4", **caller})
    twilio.post("/voice/pin/step/1/input", {"CallSid": "CAm4", "Digits": "1234", **caller})
    forged = twilio.post("/voice/acme", {"CallSid": "CAm5", **caller}, signature="forged")
    assert forged.status_code == 403
    after = scrape(metered)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("ivr_calls_started_total", flow="acme") == 2
    assert grew("ivr_calls_ended_total", flow="acme", outcome="completed") == 1
    assert grew("ivr_node_errors_total", flow="broken", node_type="http") == 1
    assert grew("ivr_signature_rejections_total") == 1
    assert grew("ivr_webhook_seconds_count", route="incoming-call") == 4
    assert grew("ivr_webhook_seconds_count", route="call-action") == 2
    assert grew("ivr_webhook_seconds_count", route="call-status") == 1
    assert value(after, "ivr_webhook_seconds_bucket", route="incoming-call", le="15.0") >= 4
    depth = {
        labels[0][1]: count
        for (name, labels), count in after.items()
        if name == "ivr_outbox_messages"
    }
    assert set(depth) == {"pending", "sending", "sent", "failed", "dead", "not_sent"}
    assert sum(depth.values()) == 1  # the PIN flow's text (no sender set up: not sent)
    assert value(after, "ivr_flow_reloads_total", result="refused") >= 1  # typo.yaml
    assert value(after, "ivr_flow_reloads_total", result="accepted") >= 6


def test_metrics_need_the_bearer_token_when_one_is_set(metered: TestClient) -> None:
    assert metered.get("/metrics").status_code == 401
    wrong = metered.get("/metrics", headers={"Authorization": "Bearer not-it"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"
