"""The ``vigil`` command."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from vigil.config import Settings, load_settings
from vigil.errors import VigilError
from vigil.security import Role

DESCRIPTION = """\
Vigil turns telemetry from connected sensors into proactive action.

  vigil demo       a whole simulated region (two councils, a plant) with the web interface
  vigil serve      the platform against the store and broker named in a settings file
  vigil simulate   publish the simulated region to a running Vigil (HTTP or MQTT)
  vigil replay     feed a recorded data set through the same path as live devices
  vigil migrate    bring the database to the current schema
  vigil token      create an API token for a tenant and role
  vigil plan       plan a council's carer visits for a day
"""


def _settings(args: argparse.Namespace, **overrides: object) -> Settings:
    return load_settings(getattr(args, "config", None), **overrides)


def _web_flags(args: argparse.Namespace) -> dict[str, object]:
    """The ``web`` settings given as flags: only these beat the environment and the file."""
    return {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        help="settings file (TOML); VIGIL_* environment variables override it, flags override both",
    )


# One function per command: parse, build the settings, call ``vigil.commands``.


def _demo(args: argparse.Namespace) -> int:
    from vigil import commands

    settings = _settings(args, web={"demo_login": True, **_web_flags(args)})
    return commands.demo(
        settings,
        seed=args.seed,
        history_hours=args.history_hours,
        data_dir=args.data_dir,
        keep=args.keep,
    )


def _serve(args: argparse.Namespace) -> int:
    from vigil import commands

    return commands.serve(_settings(args, web=_web_flags(args)))


def _simulate(args: argparse.Namespace) -> int:
    from vigil import commands

    return commands.simulate(
        _settings(args),
        http=args.http,
        mqtt=args.mqtt,
        seed=args.seed,
        hours=args.hours,
        speed=args.speed,
    )


def _replay(args: argparse.Namespace) -> int:
    from vigil import commands

    return commands.replay(
        _settings(args),
        dataset=args.dataset,
        path=args.path,
        tenant=args.tenant,
        http=args.http,
        speed=args.speed,
        as_recorded=args.as_recorded,
    )


def _migrate(args: argparse.Namespace) -> int:
    from vigil import commands

    return commands.migrate(_settings(args))


def _token(args: argparse.Namespace) -> int:
    from vigil.platform import Platform

    platform = Platform(_settings(args))
    try:
        platform.registry.tenant(args.tenant)  # NotFound names it
        print(platform.tokens.create(args.tenant, args.name, args.role, now=time.time()))
    finally:
        platform.stop()
    return 0


def _plan(args: argparse.Namespace) -> int:
    import datetime as dt

    from vigil.planning.command import run_plan, write_plan

    _settings(args)  # checked now; the day's visits will come from its store once stored
    day = dt.date.fromisoformat(args.date) if args.date else dt.date.today()
    result = run_plan(args.tenant, day, seconds=args.seconds)
    output = args.output or Path(f"plan-{args.tenant}-{day.isoformat()}.json")
    write_plan(result, output, args.tenant, day)
    print(f"plan written to {output}")
    return 0 if result.report.kinds() <= {"unassigned"} else 1


def _date(text: str) -> str:
    import datetime as dt

    try:
        dt.date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from err
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vigil", description=DESCRIPTION, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser(
        "demo",
        help="run the demo region in one process with the web interface",
        description="Start an embedded platform on SQLite, fill it with a simulated region "
        "(history first, then live in real time) and serve the web interface.",
    )
    demo.set_defaults(func=_demo)
    _add_config(demo)
    demo.add_argument("--host", help="overrides web.host (default 127.0.0.1)")
    demo.add_argument("--port", type=int, help="overrides web.port (default 8000; 0: any free)")
    demo.add_argument("--seed", type=int, default=7, help="simulator seed (same seed, same region)")
    demo.add_argument(
        "--history-hours",
        type=float,
        default=48.0,
        help="history to fill in first (two nights: enough for the care alerts to show)",
    )
    demo.add_argument(
        "--data-dir", type=Path, default=Path("var/demo"), help="where the database goes"
    )
    demo.add_argument("--keep", action="store_true", help="keep the previous demo database")

    serve = commands.add_parser(
        "serve",
        help="run the platform from a settings file",
        description="Run ingest (HTTP, and MQTT when enabled), the operators and the web "
        "interface against the configured database and broker.",
    )
    serve.set_defaults(func=_serve)
    _add_config(serve)
    serve.add_argument("--host", help="overrides web.host")
    serve.add_argument("--port", type=int, help="overrides web.port")

    simulate = commands.add_parser(
        "simulate",
        help="publish the simulated region to a running Vigil",
        description="Register the simulated region in the configured store, then publish its "
        "events over HTTP (one gateway token per tenant) or MQTT.",
    )
    simulate.set_defaults(func=_simulate)
    _add_config(simulate)
    target = simulate.add_mutually_exclusive_group(required=True)
    target.add_argument(
        "--http", metavar="URL", help="base URL of Vigil, e.g. http://127.0.0.1:8000"
    )
    target.add_argument("--mqtt", metavar="HOST[:PORT]", help="MQTT broker Vigil subscribes to")
    simulate.add_argument("--seed", type=int, default=7)
    simulate.add_argument("--hours", type=float, default=1.0, help="simulated hours to publish")
    simulate.add_argument(
        "--speed", type=float, default=0.0,
        help="event-time seconds per wall second; 0 = as fast as acknowledged (the default), "
        "1 = real time",
    )  # fmt: skip

    replay = commands.add_parser(
        "replay",
        help="feed a recorded data set through the ingest path",
        description="Read a recorded data set (kasteren, ordonez, or a JSON-lines file of "
        "events), register its home and devices, shift it to end now, and ingest it.",
    )
    replay.set_defaults(func=_replay)
    _add_config(replay)
    replay.add_argument("dataset", help="kasteren | ordonez | PATH.jsonl")
    replay.add_argument(
        "--path",
        type=Path,
        help="shared/data, shared/data/adl or the data set's own folder "
        "(default: the shared/data/adl found beside the working directory)",
    )
    replay.add_argument("--tenant", default="replay", help="tenant to load it into")
    replay.add_argument("--http", metavar="URL", help="send over HTTP to a running Vigil instead")
    replay.add_argument("--speed", type=float, default=0.0, help="as for simulate")
    replay.add_argument(
        "--as-recorded", action="store_true", help="keep the recorded timestamps (no shift)"
    )

    migrate = commands.add_parser("migrate", help="bring the database to the current schema")
    migrate.set_defaults(func=_migrate)
    _add_config(migrate)

    token = commands.add_parser("token", help="create an API token")
    token.set_defaults(func=_token)
    _add_config(token)
    token.add_argument("--tenant", required=True)
    token.add_argument(
        "--role",
        required=True,
        choices=[role.value for role in Role],  # the roles security defines, installer too
    )
    token.add_argument("--name", required=True, help="who or what holds it")

    plan = commands.add_parser(
        "plan",
        help="plan a council's carer visits for a day",
        description="Plan the day's care visits (OR-Tools, warm-started from a greedy plan), "
        "check the plan independently, print what was placed, what was not and why, and "
        "write it as JSON or CSV. Until visits and carers are read from the store, a "
        "tenant's day is the simulated council day seeded by tenant and date.",
    )
    plan.set_defaults(func=_plan)
    _add_config(plan)
    plan.add_argument("--tenant", required=True)
    plan.add_argument("--date", type=_date, help="YYYY-MM-DD (default: today)")
    plan.add_argument("--seconds", type=float, default=30.0, help="search time (default 30)")
    plan.add_argument(
        "--output",
        type=Path,
        help="where to write the plan: .csv for CSV, otherwise JSON "
        "(default plan-TENANT-DATE.json)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except VigilError as err:
        print(f"vigil: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # e.g. the server or broker to send to is not there
        print(f"vigil: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
