"""Sparkplug B payloads: protobuf bytes <-> plain structs.

The schema is built here, in code, from the Sparkplug 3.0 specification's
description of the payload (section 6.4): only the fields a host application
reads or writes. Fields left out (metadata, property sets, data sets,
templates, extensions) are skipped by the protobuf runtime as unknown fields,
so a payload that carries them still decodes; such a metric has no value here.

Why not a codec from PyPI: ``pysparkplug`` (the maintained one) pins
``paho-mqtt<2`` while Vigil runs on paho-mqtt 2, so pip cannot install both
(upstream issue matteosox/pysparkplug#28). The tests use it anyway, installed
without its dependencies, as an independent encoder for the simulated edge node.

>>> raw = encode_payload(Payload(timestamp=1_700_000_000_000, seq=3,
...     metrics=[Metric(name="temperature", alias=7, timestamp=1_700_000_000_000,
...                     datatype=DataType.DOUBLE, value=21.5)]))
>>> decoded = decode_payload(raw)
>>> decoded.seq, decoded.metrics[0].name, decoded.metrics[0].value
(3, 'temperature', 21.5)
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import msgspec
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

from vigil.errors import MalformedPayload


class DataType(IntEnum):
    """Sparkplug B basic data types (specification 6.4.16); the ones Vigil maps."""

    UNKNOWN = 0
    INT8 = 1
    INT16 = 2
    INT32 = 3
    INT64 = 4
    UINT8 = 5
    UINT16 = 6
    UINT32 = 7
    UINT64 = 8
    FLOAT = 9
    DOUBLE = 10
    BOOLEAN = 11
    STRING = 12
    DATETIME = 13
    TEXT = 14
    UUID = 15


_SIGNED_BITS = {DataType.INT8: 8, DataType.INT16: 16, DataType.INT32: 32, DataType.INT64: 64}
_FIELD_OF = {
    DataType.INT8: "int_value",
    DataType.INT16: "int_value",
    DataType.INT32: "int_value",
    DataType.UINT8: "int_value",
    DataType.UINT16: "int_value",
    DataType.UINT32: "int_value",
    DataType.INT64: "long_value",
    DataType.UINT64: "long_value",
    DataType.DATETIME: "long_value",
    DataType.FLOAT: "float_value",
    DataType.DOUBLE: "double_value",
    DataType.BOOLEAN: "boolean_value",
    DataType.STRING: "string_value",
    DataType.TEXT: "string_value",
    DataType.UUID: "string_value",
}
Value = int | float | bool | str | bytes | None


class Metric(msgspec.Struct, kw_only=True, gc=False):
    """One metric as sent: a BIRTH names it (and its alias); DATA may give the alias only."""

    name: str | None = None
    alias: int | None = None
    timestamp: int | None = None
    """Milliseconds since the Unix epoch."""
    datatype: int = DataType.UNKNOWN
    value: Value = None
    """The raw protobuf value (signed integers still in their unsigned carrier)."""
    is_null: bool = False
    is_historical: bool = False
    is_transient: bool = False


class Payload(msgspec.Struct, kw_only=True):
    timestamp: int | None = None
    seq: int | None = None
    metrics: list[Metric] = []


def _schema() -> tuple[Any, Any]:
    """The Payload and Payload.Metric message classes, from a descriptor built in code."""
    optional = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL
    repeated = descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED
    kinds = descriptor_pb2.FieldDescriptorProto
    file = descriptor_pb2.FileDescriptorProto(
        name="vigil_sparkplug_b.proto", package="vigil.sparkplug_b", syntax="proto2"
    )
    payload = file.message_type.add(name="Payload")
    metric = payload.nested_type.add(name="Metric")
    metric.oneof_decl.add(name="value")
    metric_fields = (
        ("name", 1, kinds.TYPE_STRING),
        ("alias", 2, kinds.TYPE_UINT64),
        ("timestamp", 3, kinds.TYPE_UINT64),
        ("datatype", 4, kinds.TYPE_UINT32),
        ("is_historical", 5, kinds.TYPE_BOOL),
        ("is_transient", 6, kinds.TYPE_BOOL),
        ("is_null", 7, kinds.TYPE_BOOL),
    )
    for name, number, kind in metric_fields:
        metric.field.add(name=name, number=number, type=kind, label=optional)
    value_fields = (
        ("int_value", 10, kinds.TYPE_UINT32),
        ("long_value", 11, kinds.TYPE_UINT64),
        ("float_value", 12, kinds.TYPE_FLOAT),
        ("double_value", 13, kinds.TYPE_DOUBLE),
        ("boolean_value", 14, kinds.TYPE_BOOL),
        ("string_value", 15, kinds.TYPE_STRING),
        ("bytes_value", 16, kinds.TYPE_BYTES),
    )
    for name, number, kind in value_fields:
        metric.field.add(name=name, number=number, type=kind, label=optional, oneof_index=0)
    payload.field.add(name="timestamp", number=1, type=kinds.TYPE_UINT64, label=optional)
    payload.field.add(
        name="metrics",
        number=2,
        type=kinds.TYPE_MESSAGE,
        label=repeated,
        type_name=".vigil.sparkplug_b.Payload.Metric",
    )
    payload.field.add(name="seq", number=3, type=kinds.TYPE_UINT64, label=optional)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    payload_class = message_factory.GetMessageClass(
        pool.FindMessageTypeByName("vigil.sparkplug_b.Payload")
    )
    metric_class = message_factory.GetMessageClass(
        pool.FindMessageTypeByName("vigil.sparkplug_b.Payload.Metric")
    )
    return payload_class, metric_class


_PayloadPB, _MetricPB = _schema()


def decode_payload(raw: bytes) -> Payload:
    """Bytes of an NBIRTH/DBIRTH/NDATA/DDATA/NDEATH/DDEATH/NCMD/DCMD as a ``Payload``.

    Raises ``MalformedPayload`` when the bytes are not a Sparkplug B payload."""
    try:
        message = _PayloadPB.FromString(raw)
    except (DecodeError, RuntimeError, ValueError) as err:
        raise MalformedPayload(f"not a Sparkplug B payload: {err}") from err
    metrics = []
    for pb in message.metrics:
        field = pb.WhichOneof("value")
        metrics.append(
            Metric(
                name=pb.name if pb.HasField("name") else None,
                alias=pb.alias if pb.HasField("alias") else None,
                timestamp=pb.timestamp if pb.HasField("timestamp") else None,
                datatype=pb.datatype,
                value=None if field is None else getattr(pb, field),
                is_null=pb.is_null,
                is_historical=pb.is_historical,
                is_transient=pb.is_transient,
            )
        )
    return Payload(
        timestamp=message.timestamp if message.HasField("timestamp") else None,
        seq=message.seq if message.HasField("seq") else None,
        metrics=metrics,
    )


def encode_payload(payload: Payload) -> bytes:
    """A ``Payload`` as protobuf bytes: for NCMD, and for simulated edge nodes."""
    message = _PayloadPB()
    if payload.timestamp is not None:
        message.timestamp = payload.timestamp
    if payload.seq is not None:
        message.seq = payload.seq
    for metric in payload.metrics:
        pb = message.metrics.add()
        if metric.name is not None:
            pb.name = metric.name
        if metric.alias is not None:
            pb.alias = metric.alias
        if metric.timestamp is not None:
            pb.timestamp = metric.timestamp
        if metric.datatype:
            pb.datatype = metric.datatype
        if metric.is_historical:
            pb.is_historical = True
        if metric.is_transient:
            pb.is_transient = True
        if metric.value is None or metric.is_null:
            pb.is_null = True
            continue
        field = _FIELD_OF.get(DataType(metric.datatype)) if metric.datatype <= 15 else None
        if field is None:
            raise ValueError(f"cannot encode a metric of datatype {metric.datatype}")
        setattr(pb, field, _carrier(DataType(metric.datatype), metric.value))
    return bytes(message.SerializeToString())


def _carrier(datatype: DataType, value: Value) -> Value:
    """Signed integers travel as their two's complement in the unsigned field."""
    bits = _SIGNED_BITS.get(datatype)
    if bits is not None and isinstance(value, int) and value < 0:
        return value + (1 << bits)
    return value


def metric_value(datatype: int, value: Value) -> float | bool | str | None:
    """What a metric's value means for Vigil: a number, a flag or a text; None otherwise.

    >>> metric_value(DataType.INT16, 65535), metric_value(DataType.BOOLEAN, True)
    (-1.0, True)
    >>> metric_value(DataType.STRING, "running"), metric_value(17, b"raw") is None
    ('running', True)
    """
    if value is None:
        return None
    try:
        kind = DataType(datatype)
    except ValueError:
        return None
    if kind is DataType.BOOLEAN:
        return bool(value)
    if kind in (DataType.STRING, DataType.TEXT) and isinstance(value, str):
        return value
    if kind in (DataType.FLOAT, DataType.DOUBLE) and isinstance(value, float):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    bits = _SIGNED_BITS.get(kind)
    if bits is not None:
        value &= (1 << bits) - 1
        if value >= 1 << (bits - 1):
            value -= 1 << bits
        return float(value)
    if kind in (DataType.UINT8, DataType.UINT16, DataType.UINT32, DataType.UINT64):
        return float(value)
    return None
