"""The one way into the log, whatever the transport: decode, validate, write, acknowledge.

A call returns only after accepted events and the dead letters for rejected
ones are committed, so a transport can acknowledge as soon as it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from typing import Literal

import msgspec

from vigil.config import IngestSettings
from vigil.errors import IngestError, MalformedPayload, Overloaded, PayloadTooLarge
from vigil.events import (
    Event,
    decode_batch_json,
    decode_batch_msgpack,
    decode_event_json,
    decode_event_msgpack,
    decode_raw_batch_json,
    decode_raw_batch_msgpack,
    encode_json,
    with_epoch_time,
)
from vigil.ingest.directory import DeviceDirectory, SequenceTracker
from vigil.ingest.validation import (
    Reason,
    Rejection,
    TimeWindow,
    check_event,
    check_sequence,
    storable_text,
)
from vigil.store.dead_letters import PruneDeadLetters
from vigil.store.event_log import Accepted, AppendJob, DeadLetter, EventLog, LogRecord
from vigil.store.registry import DeviceRef
from vigil.store.writer import GroupCommitWriter

Format = Literal["json", "msgpack"]

_TOO_DEEP = "nested too deeply"
PRUNE_EVERY_DEAD_LETTERS = 1000
"""Dead-letter retention runs (on the writer) after this many new dead letters."""


def _rejected(index: int, reason: Reason, detail: str, event: Event) -> tuple[Rejection, bytes]:
    """A rejection and the event's bytes for its dead letter."""
    rejection = Rejection(index=index, reason=reason, detail=detail, device=event.device)
    return rejection, encode_json(event)


class IngestResult(msgspec.Struct, frozen=True, kw_only=True):
    accepted: int
    duplicates: int
    rejected: list[Rejection]


class IngestCounters:
    """Totals since start, by outcome and reason; what ``/metrics`` reports."""

    def __init__(self) -> None:
        self.accepted: Counter[str] = Counter()
        self.rejected: Counter[tuple[str, str]] = Counter()
        self.accepted_by_tenant: Counter[str] = Counter()
        self.dead_letters_removed = 0
        self.overloaded: Counter[str] = Counter()
        """Requests shed with 503 and nothing stored, by cause: ``in_flight`` (all
        ``max_in_flight_requests`` taken), ``admission_wait`` (queued for admission too
        long), ``operator_lag`` (the operators stayed too far behind)."""
        self.gaps: dict[tuple[str, str], list[int]] = {}
        """Per (tenant, device): [gaps seen, sequence numbers skipped]. A device's
        ``seq`` goes up by one per event, so a jump means events that never arrived
        (a broker that dropped them, a device that lost them)."""

    def gap(self, tenant: str, device: str, missing: int) -> None:
        entry = self.gaps.get((tenant, device))
        if entry is None:
            self.gaps[(tenant, device)] = [1, missing]
        else:
            entry[0] += 1
            entry[1] += missing

    def sequence_gaps(self, tenant: str) -> dict[str, dict[str, int]]:
        """The tenant's devices with gaps since start: ``{device: {"gaps", "missing"}}``."""
        return {
            device: {"gaps": gaps, "missing": missing}
            for (owner, device), (gaps, missing) in sorted(self.gaps.items())
            if owner == tenant
        }


class Ingestor:
    def __init__(
        self,
        *,
        settings: IngestSettings,
        directory: DeviceDirectory,
        sequences: SequenceTracker,
        log: EventLog,
        writer: GroupCommitWriter,
        clock: Callable[[], float],
        on_commit: Callable[[list[LogRecord]], None] | None = None,
        registry: Callable[[], Iterable[DeviceRef]] | None = None,
        registry_refresh_seconds: float = 2.0,
        operator_lag: Callable[[], int] | None = None,
    ) -> None:
        self.settings = settings
        self.directory = directory
        self.sequences = sequences
        self.log = log
        self.writer = writer
        self.clock = clock
        self.on_commit = on_commit
        self.registry = registry
        self.registry_refresh_seconds = registry_refresh_seconds
        self.operator_lag = operator_lag
        self._registry_read = time.monotonic()
        self._admission = asyncio.Lock()
        self.counters = IngestCounters()
        self.window = TimeWindow(settings.max_future_seconds, settings.max_past_seconds)
        self._dead_since_prune = PRUNE_EVERY_DEAD_LETTERS  # prune once soon after start
        self.in_flight = 0
        self.peak_in_flight = 0
        self._advanced = asyncio.Event()
        self._waiting = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """One of ``max_in_flight_requests``; ``Overloaded`` at once when all are taken,
        before the caller has read or decoded anything."""
        limit = self.settings.max_in_flight_requests
        if self.in_flight >= limit:
            self.counters.overloaded["in_flight"] += 1
            raise Overloaded(f"{limit} requests are in flight; send again shortly")
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            yield
        finally:
            self.in_flight -= 1

    async def ingest(
        self,
        body: bytes,
        *,
        tenant: str,
        transport: str,
        source: str | None = None,
        format: Format = "json",
        expected_device: str | None = None,
        wait_limit: float | None = None,
    ) -> IngestResult:
        """Decode and ingest a batch (``{"v": 1, "events": [...]}``) or a single event.

        Raises ``PayloadTooLarge`` or ``MalformedPayload`` (after recording a dead
        letter) when the payload as a whole is unusable.
        """
        received = self.clock()
        try:
            events, rejections = self._decode(body, format)
        except IngestError as err:
            await self.record_rejection(
                err, tenant=tenant, transport=transport, source=source, body=body, received=received
            )
            raise
        return await self.ingest_events(
            events,
            tenant=tenant,
            transport=transport,
            source=source,
            received=received,
            decode_rejections=rejections,
            expected_device=expected_device,
            wait_limit=wait_limit,
        )

    def _decode(
        self, body: bytes, format: Format
    ) -> tuple[list[tuple[int, Event]], list[tuple[Rejection, bytes]]]:
        if len(body) > self.settings.max_body_bytes:
            raise PayloadTooLarge(len(body), self.settings.max_body_bytes)
        batch_decoder, raw_decoder, event_decoder = (
            (decode_batch_json, decode_raw_batch_json, decode_event_json)
            if format == "json"
            else (decode_batch_msgpack, decode_raw_batch_msgpack, decode_event_msgpack)
        )
        name = format.upper()
        # msgspec raises ValidationError (a DecodeError) for a schema violation,
        # DecodeError for bytes that are not the format, and RecursionError for
        # nesting deeper than the interpreter's stack: every one is an answer here.
        try:
            batch = batch_decoder(body)
        except msgspec.ValidationError as err:  # a subclass of DecodeError: first
            if "missing required field `events`" in str(err):
                return self._decode_single(body, event_decoder, name)
            # Some event is bad: decode them one by one below, to accept the rest.
        except msgspec.DecodeError as err:
            raise MalformedPayload(f"not valid {name}: {err}") from err
        except RecursionError as err:
            raise MalformedPayload(f"not valid {name}: {_TOO_DEEP}") from err
        else:
            self._check_batch_size(len(batch.events))
            return list(enumerate(batch.events)), []
        try:
            raw_batch = raw_decoder(body)
        except msgspec.ValidationError as err:
            raise MalformedPayload(f"not a batch: {err}") from err
        except msgspec.DecodeError as err:
            raise MalformedPayload(f"not valid {name}: {err}") from err
        except RecursionError as err:
            raise MalformedPayload(f"not valid {name}: {_TOO_DEEP}") from err
        if raw_batch.v != 1:
            raise IngestError(
                Reason.UNSUPPORTED_VERSION, f"schema version {raw_batch.v} is not supported (use 1)"
            )
        self._check_batch_size(len(raw_batch.events))
        events: list[tuple[int, Event]] = []
        rejections: list[tuple[Rejection, bytes]] = []
        for index, raw in enumerate(raw_batch.events):
            try:
                events.append((index, event_decoder(raw)))
            except (msgspec.DecodeError, RecursionError) as err:
                text = _TOO_DEEP if isinstance(err, RecursionError) else str(err)
                detail = text.replace("$", f"$.events[{index}]", 1)
                rejections.append(
                    (Rejection(index=index, reason=Reason.INVALID_EVENT, detail=detail), bytes(raw))
                )
        return events, rejections

    @staticmethod
    def _decode_single(
        body: bytes, event_decoder: Callable[[bytes], Event], name: str
    ) -> tuple[list[tuple[int, Event]], list[tuple[Rejection, bytes]]]:
        """One bare event, as a small device would send it."""
        try:
            return [(0, event_decoder(body))], []
        except msgspec.ValidationError as err:
            rejection = Rejection(index=0, reason=Reason.INVALID_EVENT, detail=str(err))
            return [], [(rejection, body)]
        except msgspec.DecodeError as err:  # e.g. an object followed by garbage
            raise MalformedPayload(f"not valid {name}: {err}") from err
        except RecursionError as err:
            raise MalformedPayload(f"not valid {name}: {_TOO_DEEP}") from err

    def _check_batch_size(self, count: int) -> None:
        limit = self.settings.max_batch_events
        if count > limit:
            raise IngestError(
                Reason.BATCH_TOO_LARGE, f"{count} events in one batch; the limit is {limit}"
            )

    async def ingest_events(
        self,
        events: list[tuple[int, Event]],
        *,
        tenant: str,
        transport: str,
        source: str | None,
        received: float | None = None,
        decode_rejections: Sequence[tuple[Rejection, bytes]] = (),
        expected_device: str | None = None,
        wait_limit: float | None = None,
    ) -> IngestResult:
        """Validate decoded events, write the good ones and the dead letters, and wait.

        ``wait_limit``: seconds this call may wait for admission (back-pressure)
        before ``Overloaded`` is raised with nothing stored; None waits as long as
        it takes (MQTT, where the broker holds what is not yet acknowledged)."""
        # Admitted one call at a time, in arrival order: the waits below must not let
        # a later message of a device overtake an earlier one (asyncio.Lock is FIFO).
        try:
            async with asyncio.timeout(wait_limit):
                await self._admission.acquire()
        except TimeoutError:
            self.counters.overloaded["admission_wait"] += 1
            raise Overloaded(
                f"the operators are behind; waited {wait_limit:g} s", retry_after=wait_limit or 1
            ) from None
        try:
            await self._wait_for_operators(wait_limit)
            await self._refresh_if_unknown(events)
            if received is None:
                received = self.clock()
            accepted, claims, rejected, maybe_resent = self._validate(
                events, tenant, received, expected_device
            )
        finally:
            self._admission.release()
        rejected[:0] = decode_rejections
        if maybe_resent:
            rejected.extend(await self._classify_resent(tenant, maybe_resent))

        dead = [
            DeadLetter(
                tenant=tenant,
                received=received,
                transport=transport,
                source=None if source is None else storable_text(source),
                reason=rejection.reason.value,
                detail=storable_text(rejection.detail),
                device=None if rejection.device is None else storable_text(rejection.device),
                raw=raw[: self.settings.dead_letter_raw_bytes],
            )
            for rejection, raw in rejected
        ]
        if accepted or dead:
            future = self.writer.submit(AppendJob(self.log, accepted, dead, self.on_commit))
            try:
                await asyncio.wrap_future(future)
            except BaseException:
                self.sequences.release(claims)
                raise
        self.counters.accepted[transport] += len(accepted)
        self.counters.accepted_by_tenant[tenant] += len(accepted)
        if dead:
            self._dead_lettered(len(dead))
        for rejection, _ in rejected:
            self.counters.rejected[(transport, rejection.reason.value)] += 1
        rejections = sorted((r for r, _ in rejected), key=lambda r: (r.index is None, r.index or 0))
        duplicates = sum(r.reason is Reason.DUPLICATE for r in rejections)
        return IngestResult(accepted=len(accepted), duplicates=duplicates, rejected=rejections)

    def _validate(
        self,
        events: list[tuple[int, Event]],
        tenant: str,
        received: float,
        expected_device: str | None,
    ) -> tuple[
        list[Accepted],
        list[tuple[str, str, int, int | None]],
        list[tuple[Rejection, bytes]],
        list[tuple[int, Event, Accepted, str]],
    ]:
        """Check every event and claim the sequences of the good ones, without awaiting."""
        accepted: list[Accepted] = []
        claims: list[tuple[str, str, int, int | None]] = []
        rejected: list[tuple[Rejection, bytes]] = []
        maybe_resent: list[tuple[int, Event, Accepted, str]] = []
        directory, sequences, window = self.directory, self.sequences, self.window
        for index, event in events:
            ref, reason, detail = check_event(
                event,
                tenant=tenant,
                now=received,
                window=window,
                directory=directory,
                expected_device=expected_device,
            )
            if ref is None:
                rejected.append(_rejected(index, reason, detail, event))
                continue
            event = with_epoch_time(event)
            item = Accepted(event, received, ref.entity_number, ref.device_number)
            previous, reason, detail = check_sequence(event, sequences)
            if reason is Reason.OUT_OF_ORDER:
                maybe_resent.append((index, event, item, detail))
            elif reason is not None:
                rejected.append(_rejected(index, reason, detail, event))
            else:
                claims.append((event.tenant, event.device, event.seq, previous))
                accepted.append(item)
                if previous is not None and event.seq != previous + 1:
                    self.counters.gap(event.tenant, event.device, event.seq - previous - 1)
        return accepted, claims, rejected, maybe_resent

    recheck_seconds = 0.5
    """While held back, the lag is also looked at this often without being woken (a
    runtime that failed, or a lag source that does not call ``operators_advanced``)."""

    def operators_advanced(self, offset: int = 0) -> None:
        """The operators have processed more of the log: wake input held back.

        Safe to call from any thread (the runtime calls it from its own); costs a
        counter look-up unless input is waiting."""
        loop = self._loop
        if self._waiting and loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._advanced.set)

    async def _wait_for_operators(self, wait_limit: float | None) -> None:
        """Back-pressure: hold new input while the operators are far behind the log.

        Woken by ``operators_advanced`` rather than polling."""
        if self.operator_lag is None:
            return
        if self.operator_lag() <= self.settings.max_operator_lag:
            return
        self._loop = asyncio.get_running_loop()
        deadline = None if wait_limit is None else time.monotonic() + wait_limit
        self._waiting += 1
        try:
            while True:
                self._advanced.clear()  # before the look: progress after it wakes us
                if self.operator_lag() <= self.settings.max_operator_lag:
                    return
                wait = self.recheck_seconds
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        self.counters.overloaded["operator_lag"] += 1
                        raise Overloaded(
                            f"the operators are behind; waited {wait_limit:g} s",
                            retry_after=wait_limit,
                        )
                    wait = min(wait, left)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._advanced.wait()
        finally:
            self._waiting -= 1

    async def _refresh_if_unknown(self, events: list[tuple[int, Event]]) -> None:
        """Devices registered by another process (an administrator, ``vigil simulate``)
        become known within ``registry_refresh_seconds``, without a restart."""
        if self.registry is None:
            return
        now = time.monotonic()
        if now - self._registry_read < self.registry_refresh_seconds:
            return
        self._registry_read = now  # at most one look (and one reload) per interval
        get = self.directory.get
        if all(get(event.tenant, event.device) is not None for _, event in events):
            return
        self.directory.replace(await asyncio.to_thread(lambda: list(self.registry())))  # type: ignore[misc]

    async def _classify_resent(
        self, tenant: str, candidates: list[tuple[int, Event, Accepted, str]]
    ) -> list[tuple[Rejection, bytes]]:
        keys = [(a.device_number, e.seq, e.timestamp) for _, e, a, _ in candidates]
        found = await asyncio.to_thread(self.log.accepted_already, tenant, keys)
        result = []
        for index, event, item, detail in candidates:
            if (item.device_number, event.seq) in found:
                reason, detail = Reason.DUPLICATE, f"sequence {event.seq} was already accepted"
            else:
                reason = Reason.OUT_OF_ORDER
                detail += "; devices must send in sequence order"
            result.append(_rejected(index, reason, detail, event))
        return result

    async def record_rejection(
        self,
        err: IngestError,
        *,
        tenant: str | None,
        transport: str,
        source: str | None,
        body: bytes,
        received: float | None = None,
    ) -> None:
        """Keep a payload refused as a whole; ``tenant`` None when the sender is unknown."""
        if received is None:
            received = self.clock()
        letter = DeadLetter(
            tenant=tenant,
            received=received,
            transport=transport,
            source=None if source is None else storable_text(source),
            reason=err.reason,
            detail=storable_text(err.detail),
            raw=body[: self.settings.dead_letter_raw_bytes],
        )
        self.counters.rejected[(transport, err.reason)] += 1
        await asyncio.wrap_future(self.writer.submit(AppendJob(self.log, (), [letter])))
        self._dead_lettered(1)

    def _dead_lettered(self, count: int) -> None:
        """Apply dead-letter retention every ``PRUNE_EVERY_DEAD_LETTERS``, in the
        background: nobody waits for it."""
        self._dead_since_prune += count
        if self._dead_since_prune < PRUNE_EVERY_DEAD_LETTERS:
            return
        self._dead_since_prune = 0
        settings = self.settings
        job = PruneDeadLetters(
            max_per_source=settings.dead_letter_max_per_source,
            max_per_tenant=settings.dead_letter_max_per_tenant,
            max_age_seconds=settings.dead_letter_max_age_days * 86400,
            now=self.clock(),
        )
        future = self.writer.submit(job)

        def done(future: Future[int]) -> None:
            if future.exception() is None:
                self.counters.dead_letters_removed += future.result()

        future.add_done_callback(done)
