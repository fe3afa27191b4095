"""A real OPC UA server (asyncua's own) for the tests, run as a child process.

``python tests/integration/opcua_server.py PORT`` serves one machine's tags at
``opc.tcp://127.0.0.1:PORT/vigil/`` in namespace 2 (``ns=2;s=m1.temperature`` and the
rest of ``TAGS``), prints ``ready`` and then takes one JSON command a line on stdin,
answering each with one JSON line:

- ``{"write": "m1.temperature", "value": 21.5}``: a good value, stamped now at the
  source; answers ``{"source_time": <epoch s>}``.
- ``{"bad": "m1.temperature"}``: the node's status becomes ``BadSensorFailure``.

It stops on end of input or SIGTERM. The tests start it again on the same port to
play a server restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from asyncua import Server, ua

NAMESPACE = "urn:vigil:tests:plant"
TAGS: dict[str, tuple[Any, ua.VariantType]] = {
    "m1.temperature": (20.0, ua.VariantType.Double),
    "m1.cycle_count": (0, ua.VariantType.Int32),
    "m1.running": (True, ua.VariantType.Boolean),
    "m1.state": ("running", ua.VariantType.String),
}
"""Node name (its string id) -> initial value and OPC UA type."""


async def serve(port: int) -> None:
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/vigil/")
    index = await server.register_namespace(NAMESPACE)
    machine = await server.nodes.objects.add_object(index, "M1")
    nodes = {}
    for name, (value, kind) in TAGS.items():
        nodes[name] = await machine.add_variable(ua.NodeId(name, index), name, value, kind)
    async with server:
        print("ready", flush=True)
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            answer = await command(nodes, json.loads(line))
            print(json.dumps(answer), flush=True)


async def command(nodes: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC)
    if "write" in order:
        name = order["write"]
        variant = ua.Variant(order["value"], TAGS[name][1])
        await nodes[name].write_value(ua.DataValue(variant, SourceTimestamp=now))
        return {"source_time": now.timestamp()}
    name = order["bad"]
    status = ua.StatusCode(ua.StatusCodes.BadSensorFailure)
    variant = ua.Variant(TAGS[name][0], TAGS[name][1])
    await nodes[name].write_value(ua.DataValue(variant, StatusCode=status, SourceTimestamp=now))
    return {"source_time": now.timestamp()}


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    asyncio.run(serve(int(sys.argv[1])))
