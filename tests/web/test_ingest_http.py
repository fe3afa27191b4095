"""Bad input through the real HTTP route: the right status, a stable reason, and a dead
letter the tenant can read on ``GET /api/v1/dead-letters``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec
import pytest
from fastapi.testclient import TestClient

from tests.conftest import reading, small_catalog
from vigil.config import Settings
from vigil.errors import StoreError
from vigil.events import Batch, DeviceStatus, encode_json, encode_msgpack
from vigil.platform import Platform
from vigil.web.app import create_app

LIMIT = 4096


@dataclass
class Api:
    client: TestClient
    platform: Platform
    gateway: str
    coordinator: str

    def ingest(
        self, body: bytes | Iterator[bytes], token: str | None = None, **headers: str
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json", **headers}
        headers["Authorization"] = f"Bearer {token or self.gateway}"
        return self.client.post("/api/v1/ingest", content=body, headers=headers)

    def dead_letters(self) -> dict[str, object]:
        response = self.client.get(
            "/api/v1/dead-letters", headers={"Authorization": f"Bearer {self.coordinator}"}
        )
        assert response.status_code == 200
        return response.json()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    settings = Settings(
        store={"url": f"sqlite:///{tmp_path / 'v.db'}", "sqlite_synchronous": "NORMAL"},
        ingest={"max_body_bytes": LIMIT},
    )
    platform = Platform(settings)
    platform.apply_catalog(small_catalog())
    now = platform.clock()
    gateway = platform.tokens.create("north", "gw-1", "gateway", now=now)
    coordinator = platform.tokens.create("north", "coord", "coordinator", now=now)
    with TestClient(create_app(platform)) as client:
        yield Api(client, platform, gateway, coordinator)


def batch(*events: object) -> bytes:
    return encode_json(Batch(events=list(events)))  # type: ignore[arg-type]


def test_malformed_json_is_400_and_kept(api: Api) -> None:
    """A body that is not JSON: 400 with reason ``malformed``, and a dead letter."""
    response = api.ingest(b'{"v": 1, "events": [ this is not json')
    assert response.status_code == 400
    assert response.json()["reason"] == "malformed"
    letters = api.dead_letters()
    assert letters["counts"] == {"malformed": 1}
    item = letters["items"][0]
    assert (item["reason"], item["transport"], item["source"]) == ("malformed", "http", "gw-1")
    assert "this is not json" in item["raw"]


def test_oversized_body_with_content_length_is_413(api: Api) -> None:
    """A declared body over the limit: 413 with reason, and a dead letter."""
    body = batch(*(reading(seq=i) for i in range(1, 200)))
    assert len(body) > LIMIT
    response = api.ingest(body)
    assert response.status_code == 413
    assert response.json()["reason"] == "payload_too_large"
    assert api.dead_letters()["counts"] == {"payload_too_large": 1}
    assert api.platform.log.count("north") == 0


def test_oversized_chunked_body_is_413(api: Api) -> None:
    """Without a Content-Length (chunked), an oversized body is still refused with 413."""
    body = batch(*(reading(seq=i) for i in range(1, 200)))

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 512):
            yield body[start : start + 512]

    response = api.ingest(chunks())
    assert response.status_code == 413
    assert response.json()["reason"] == "payload_too_large"
    assert api.dead_letters()["counts"] == {"payload_too_large": 1}
    assert api.platform.log.count("north") == 0


def test_small_chunked_body_is_accepted(api: Api) -> None:
    """A chunked body under the limit is read whole and accepted."""
    body = batch(reading(seq=1), reading(seq=2))
    response = api.ingest(iter([body[:10], body[10:]]))
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 2


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer vgl_abc_def", "Basic dXNlcjpwYXNz", "Bearer not-a-token"],
)
def test_missing_or_invalid_token_is_401(api: Api, authorization: str | None) -> None:
    """No token or a bad one: 401 with a WWW-Authenticate challenge, nothing written."""
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    response = api.client.post("/api/v1/ingest", content=batch(reading()), headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert api.platform.log.count("north") == 0


def test_revoked_token_is_401(api: Api) -> None:
    """A revoked token no longer authenticates."""
    token = api.platform.tokens.create("north", "old", "gateway", now=api.platform.clock())
    token_id = token.split("_")[1]
    api.platform.tokens.revoke("north", token_id)
    assert api.ingest(batch(reading()), token=token).status_code == 401


def test_all_rejected_batch_is_422_with_reasons(api: Api) -> None:
    """When no event is accepted, 422 lists each event's reason in order."""
    body = batch(
        reading(device="north.home-1.nope"),
        reading(tenant="south", device="south.home-1.temperature"),
        reading(time_=api.platform.clock() + 86400),
    )
    response = api.ingest(body)
    assert response.status_code == 422
    result = response.json()
    assert result["accepted"] == 0
    assert [(r["index"], r["reason"]) for r in result["rejected"]] == [
        (0, "unknown_device"),
        (1, "wrong_tenant"),
        (2, "time_in_future"),
    ]
    assert api.dead_letters()["counts"] == {
        "unknown_device": 1,
        "wrong_tenant": 1,
        "time_in_future": 1,
    }


def test_partial_batch_is_200_with_rejections(api: Api) -> None:
    """Good events land beside bad ones: 200, the accepted count and the ``rejected`` list."""
    raw = msgspec.json.decode(batch(reading(seq=1), reading(seq=2), reading(seq=3)))
    raw["events"][1]["seq"] = "two"
    response = api.ingest(msgspec.json.encode(raw))
    assert response.status_code == 200
    result = response.json()
    assert result["accepted"] == 2
    assert [(r["index"], r["reason"]) for r in result["rejected"]] == [(1, "invalid_event")]
    assert api.platform.log.count("north") == 2
    letters = api.dead_letters()
    assert letters["counts"] == {"invalid_event": 1}
    assert '"two"' in letters["items"][0]["raw"]


def test_resent_batch_is_200_with_duplicates(api: Api) -> None:
    """Sending the same batch again is safe: 200, every event a duplicate, nothing twice."""
    body = batch(reading(seq=1), reading(seq=2))
    first = api.ingest(body)
    assert (first.status_code, first.json()["accepted"]) == (200, 2)
    again = api.ingest(body)
    assert again.status_code == 200
    result = again.json()
    assert (result["accepted"], result["duplicates"]) == (0, 2)
    assert {r["reason"] for r in result["rejected"]} == {"duplicate"}
    assert api.platform.log.count("north") == 2
    assert api.dead_letters()["counts"] == {"duplicate": 2}


@pytest.mark.parametrize(
    "content_type", ["application/msgpack", "application/x-msgpack; charset=binary"]
)
def test_msgpack_body_is_accepted(api: Api, content_type: str) -> None:
    """A MessagePack batch with a MessagePack content type is decoded and accepted."""
    status = DeviceStatus(
        tenant="north",
        device="north.home-1.temperature",
        entity="north.home-1",
        seq=2,
        time=api.platform.clock() - 30,
        battery=80,
    )
    body = encode_msgpack(Batch(events=[reading(seq=1), status]))
    response = api.ingest(body, **{"Content-Type": content_type})
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 2
    assert api.platform.log.count("north") == 2


def test_msgpack_sent_as_json_is_malformed(api: Api) -> None:
    """MessagePack bytes labelled as JSON are refused as malformed, not misread."""
    response = api.ingest(encode_msgpack(Batch(events=[reading()])))
    assert response.status_code == 400
    assert response.json()["reason"] == "malformed"


def test_rejections_are_only_on_the_senders_dead_letters(api: Api) -> None:
    """Each rejection shows on the sender's tenant's dead letters and no other tenant's."""
    api.ingest(b"nonsense")
    api.ingest(batch(reading(device="north.home-1.nope")))
    assert api.dead_letters()["counts"] == {"malformed": 1, "unknown_device": 1}
    south = api.platform.tokens.create("south", "c", "coordinator", now=api.platform.clock())
    other = api.client.get("/api/v1/dead-letters", headers={"Authorization": f"Bearer {south}"})
    assert other.json() == {"counts": {}, "items": []}


def test_invalid_bare_event_is_an_invalid_event(api: Api) -> None:
    """A single bare event with a bad field is rejected as ``invalid_event`` (422), like the
    same event inside a batch."""
    event = msgspec.json.decode(msgspec.json.encode(reading(seq=1)))
    event["seq"] = "one"
    response = api.ingest(msgspec.json.encode(event))
    assert response.status_code == 422
    assert [r["reason"] for r in response.json()["rejected"]] == ["invalid_event"]


DEEP = 2000
POISON = {
    "deep-json": b'{"v":1,"events":' + b"[" * DEEP + b"]" * DEEP + b"}",
    "invalid-then-garbage": b'{"v":1,"events":[{"type":"nope"} x]}',
    "bare-then-garbage": encode_json(reading(seq=1)) + b" x",
}


@pytest.mark.parametrize("body", list(POISON.values()), ids=list(POISON))
def test_poison_body_is_400_with_a_dead_letter(api: Api, body: bytes) -> None:
    """Bodies that used to raise inside the decoder (500, connection closed) are 400
    ``malformed`` with a dead letter, and the next request is served as usual."""
    response = api.ingest(body)
    assert response.status_code == 400
    assert response.json()["reason"] == "malformed"
    assert api.dead_letters()["counts"] == {"malformed": 1}
    assert api.ingest(batch(reading(seq=1))).status_code == 200


def test_msgpack_nan_time_is_422_not_503(api: Api) -> None:
    """A MessagePack NaN ``time`` is the sender's fault: 422 ``invalid_event``, never a
    503 that tells a gateway to send it again."""
    event = {**msgspec.to_builtins(reading(seq=1)), "time": float("nan")}
    body = encode_msgpack({"v": 1, "events": [event]})
    response = api.ingest(body, **{"Content-Type": "application/msgpack"})
    assert response.status_code == 422, response.text
    assert [r["reason"] for r in response.json()["rejected"]] == ["invalid_event"]
    assert api.dead_letters()["counts"] == {"invalid_event": 1}


def test_store_failure_is_503_without_sql(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database failure is 503 with ``Retry-After``; the body names no statement and
    no parameters."""
    secret = "[SQL: INSERT INTO event_log VALUES (?)] [parameters: ('north', 'x')]"

    async def failing(*_args: object, **_kw: object) -> None:
        raise StoreError(f"database error while writing: IntegrityError: {secret}")

    monkeypatch.setattr(api.platform.ingestor, "ingest", failing)
    response = api.ingest(batch(reading(seq=1)))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "SQL" not in response.text and "parameters" not in response.text
    assert response.json()["error"] == "StoreError"


def test_ingest_stats_show_only_the_callers_tenant(api: Api) -> None:
    """``/api/v1/ingest/stats`` shows no global log offset: another tenant's volume
    leaves the caller's answer unchanged."""

    def stats(token: str) -> dict[str, object]:
        response = api.client.get(
            "/api/v1/ingest/stats", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200
        return response.json()

    assert api.ingest(batch(reading(seq=1), reading(seq=2))).status_code == 200
    before = stats(api.coordinator)
    assert before == {"rejected_by_reason": {}, "accepted_since_start": 2, "sequence_gaps": {}}
    now = api.platform.clock()
    south = api.platform.tokens.create("south", "gw-s", "gateway", now=now)
    events = [reading("south.home-1.temperature", seq=i) for i in range(1, 6)]
    assert api.ingest(batch(*events), token=south).status_code == 200
    assert stats(api.coordinator) == before
