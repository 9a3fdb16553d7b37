"""Shared test helpers: a real app over HTTP with real signed requests and a real SQLite file."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from ivr_engine.web import Settings, create_app
from tests.fakeapi import FakeApi, serve_fake_api

ROOT = Path(__file__).resolve().parents[1]
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
BASE = "http://testserver"


class Twilio:
    """Sends requests the way Twilio does: form-encoded and signed with the account's token."""

    def __init__(self, client: TestClient, token: str = AUTH_TOKEN, base: str = BASE) -> None:
        self.client = client
        self.validator = RequestValidator(token)
        self.base = base

    def sign(self, url: str, params: Mapping[str, str]) -> str:
        return self.validator.compute_signature(url, dict(params))

    def post(
        self,
        path: str,
        params: Mapping[str, str],
        *,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
    ):  # type: ignore[no-untyped-def]
        url = path if path.startswith("http") else self.base + path
        sig = self.sign(url, params) if signature is None else signature
        return self.client.post(
            url, data=dict(params), headers={"X-Twilio-Signature": sig, **(headers or {})}
        )

    def get(self, path: str, *, signature: str | None = None):  # type: ignore[no-untyped-def]
        url = path if path.startswith("http") else self.base + path
        sig = self.sign(url, {}) if signature is None else signature
        return self.client.get(url, headers={"X-Twilio-Signature": sig})


@pytest.fixture
def flows_dir(tmp_path: Path) -> Path:
    """A copy of the shipped flows that a test may edit."""
    target = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", target, ignore=shutil.ignore_patterns("tests"))
    return target


@pytest.fixture
def settings(tmp_path: Path, flows_dir: Path) -> Settings:
    return Settings(
        flows_dir=flows_dir,
        db_path=str(tmp_path / "ivr.sqlite3"),
        auth_token=AUTH_TOKEN,
        reload_interval=0.05,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def twilio(client: TestClient) -> Twilio:
    return Twilio(client)


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    """A real HTTP server on 127.0.0.1 playing a company's API (see tests/fakeapi.py)."""
    yield from serve_fake_api()


def session_data(settings: Settings, call_sid: str) -> dict[str, Any]:
    """The call's session as the server stored it in SQLite."""
    with sqlite3.connect(settings.db_path) as db:
        row = db.execute("SELECT data FROM sessions WHERE call_sid = ?", (call_sid,)).fetchone()
    assert row is not None, f"no session for {call_sid}"
    return json.loads(row[0])  # type: ignore[no-any-return]
