"""A real Sparkplug B edge node for the tests: its own MQTT connection with an NDEATH
Will, payloads encoded by pysparkplug (an independent codec), and the NCMDs it receives."""

from __future__ import annotations

import threading
import time
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.conftest import IN_CI

try:
    import pysparkplug as sp
except ImportError:  # pragma: no cover - installed by the Makefile
    if IN_CI:
        raise
    pytest.skip("pysparkplug is not installed (make installs it)", allow_module_level=True)

NS = "spBv1.0"


def now_ms() -> int:
    return int(time.time() * 1000)


def metric(name: str | None, alias: int | None, value: Any, datatype: Any, ts: int) -> Any:
    return sp.Metric(timestamp=ts, name=name, alias=alias, datatype=datatype, value=value)


class EdgeNode:
    """One edge node; ``seq`` runs over all its messages, as the specification says."""

    def __init__(self, group: str, node: str, *, bdseq: int = 0) -> None:
        self.group, self.node, self.bdseq = group, node, bdseq
        self.seq = 0
        self.commands: list[Any] = []
        self.lock = threading.Lock()
        client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"{group}-{node}-edge", protocol=paho.MQTTv5
        )
        death = sp.NDeath(timestamp=now_ms(), bd_seq_metric=self.bdseq_metric()).encode()
        client.will_set(self.topic("NDEATH"), death, qos=1, retain=False)

        def on_message(_c: Any, _u: Any, message: paho.MQTTMessage) -> None:
            with self.lock:
                self.commands.append(sp.NCmd.decode(message.payload))

        client.on_message = on_message
        client.connect("127.0.0.1", 1883, clean_start=True)
        client.loop_start()
        subscribed = threading.Event()
        client.on_subscribe = lambda *_a: subscribed.set()
        client.subscribe(f"{NS}/{group}/NCMD/{node}", qos=1)
        assert subscribed.wait(5)
        self.client = client

    def topic(self, verb: str, device: str | None = None) -> str:
        base = f"{NS}/{self.group}/{verb}/{self.node}"
        return base if device is None else f"{base}/{device}"

    def bdseq_metric(self) -> Any:
        return metric("bdSeq", None, self.bdseq, sp.DataType.INT64, now_ms())

    def next_seq(self) -> int:
        seq, self.seq = self.seq, (self.seq + 1) % 256
        return seq

    def send(self, verb: str, payload: bytes, device: str | None = None, qos: int = 0) -> None:
        info = self.client.publish(self.topic(verb, device), payload, qos=qos)
        info.wait_for_publish(5)

    def nbirth(self, *metrics: Any) -> None:
        self.seq = 0
        ts = now_ms()
        control = metric("Node Control/Rebirth", None, False, sp.DataType.BOOLEAN, ts)
        payload = sp.NBirth(
            timestamp=ts, seq=self.next_seq(), metrics=(self.bdseq_metric(), control, *metrics)
        )
        self.send("NBIRTH", payload.encode(include_dtypes=True))

    def dbirth(self, device: str, *metrics: Any) -> None:
        payload = sp.DBirth(timestamp=now_ms(), seq=self.next_seq(), metrics=metrics)
        self.send("DBIRTH", payload.encode(include_dtypes=True), device)

    def ddata(self, device: str, *metrics: Any, seq: int | None = None, qos: int = 0) -> None:
        seq = self.next_seq() if seq is None else seq
        payload = sp.DData(timestamp=now_ms(), seq=seq, metrics=metrics)
        self.send("DDATA", payload.encode(), device, qos=qos)

    def ddeath(self, device: str, timestamp: int) -> None:
        self.send("DDEATH", sp.DDeath(timestamp=timestamp, seq=self.next_seq()).encode(), device)

    def ndeath(self, bdseq: int) -> None:
        bd = metric("bdSeq", None, bdseq, sp.DataType.INT64, now_ms())
        self.send("NDEATH", sp.NDeath(timestamp=now_ms(), bd_seq_metric=bd).encode(), qos=1)

    def rebirth_requests(self) -> list[Any]:
        with self.lock:
            return [
                c
                for c in self.commands
                if any(m.name == "Node Control/Rebirth" and m.value is True for m in c.metrics)
            ]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()

    def drop(self) -> None:
        """Lose the connection without DISCONNECT: the broker publishes the NDEATH Will."""
        import socket

        self.client.socket().shutdown(socket.SHUT_RDWR)
        self.client.loop_stop()
