"""Prometheus metrics: what the server counts, and its exposition at `GET /metrics`.

Counts and histograms are kept in plain dictionaries by the one event loop that serves
calls, and handed to prometheus-client's exposition at scrape time by a collector: its own
metric objects take a lock and a label lookup on every call (measured: about 2 µs a call
for the three request metrics, against a Describe's 30 µs under load; this way, 0.5 µs).
The queue of jobs and the database pool are read when scraped. No label ever holds a
resource name, an ARN or a key.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from sagemaker_images.resources.kinds import JOB_KINDS
from sagemaker_images.resources.states import AppStatus

CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"
# Seconds: from half a millisecond (a Describe) to ten seconds.
REQUEST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
JOB_STATES = ("queued", "running")
RESOLUTION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Histogram:
    """Bucket counts and a sum, as Prometheus wants them."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value

    def buckets(self) -> list[tuple[str, float]]:
        cumulative = 0
        found: list[tuple[str, float]] = []
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            cumulative += count
            found.append(("+Inf" if bound == float("inf") else repr(float(bound)), cumulative))
        return found


class Metrics:
    def __init__(self, version: str, backend: str) -> None:
        self.version = version
        self.backend = backend
        self.requests: dict[tuple[str, int, str], int] = {}
        self.durations: dict[str, Histogram] = {}
        self.in_flight = 0
        self.denials: dict[str, int] = {}  # calls a key's policies refused, by action
        self.job_durations: dict[tuple[str, str], Histogram] = {}
        self.resolutions: dict[str, Histogram] = {}
        # Read when scraped (see `app.py`): jobs by kind and state, apps by status, the
        # database pool.
        self.jobs: list[tuple[str, str, int]] = []
        self.apps: dict[str, int] = {}  # apps by status, in every account and region
        self.pool: dict[str, int] = {}
        self.sinks: list[SinkView] = []  # the event sinks, read when scraped
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    def request(self, operation: str, status: int, error: str, seconds: float) -> None:
        """Count one call: every call does, so the histogram's work is written out here."""
        key = (operation, status, error)
        requests = self.requests
        requests[key] = requests.get(key, 0) + 1
        histogram = self.durations.get(operation)
        if histogram is None:
            histogram = self.durations[operation] = Histogram(REQUEST_BUCKETS)
        histogram.counts[bisect.bisect_left(REQUEST_BUCKETS, seconds)] += 1
        histogram.sum += seconds

    def denied(self, action: str) -> None:
        """Count a call a policy refused (`action`: the operation's name, or AddTags)."""
        self.denials[action] = self.denials.get(action, 0) + 1

    def job(self, kind: str, outcome: str, seconds: float) -> None:
        key = (kind, outcome)
        if key not in self.job_durations:
            self.job_durations[key] = Histogram(JOB_BUCKETS)
        self.job_durations[key].observe(seconds)

    def resolution(self, outcome: str, seconds: float) -> None:
        if outcome not in self.resolutions:
            self.resolutions[outcome] = Histogram(RESOLUTION_BUCKETS)
        self.resolutions[outcome].observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    # -- the collector prometheus-client asks at scrape time ---------------------------------

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "sagemaker_images_requests",
            "SageMaker API calls answered, by operation, HTTP status and AWS error code.",
            labels=["operation", "status", "error"],
        )
        for (operation, status, error), count in sorted(dict(self.requests).items()):
            requests.add_metric([operation, str(status), error], count)
        yield requests
        denials = CounterMetricFamily(
            "sagemaker_images_access_denials",
            "SageMaker API calls a key's IAM policies refused, by the action refused.",
            labels=["action"],
        )
        for action, count in sorted(dict(self.denials).items()):
            denials.add_metric([f"sagemaker:{action}"], count)
        yield denials
        yield _histograms(
            "sagemaker_images_request_duration_seconds",
            "Time to answer a SageMaker API call, by operation.",
            ["operation"],
            [((operation,), h) for operation, h in dict(self.durations).items()],
        )
        yield GaugeMetricFamily(
            "sagemaker_images_requests_in_flight",
            "SageMaker API calls being answered now.",
            value=self.in_flight,
        )
        jobs = GaugeMetricFamily(
            "sagemaker_images_jobs",
            "Pending transitions in the database, by kind and state (queued or running).",
            labels=["kind", "state"],
        )
        counted = {(kind, state): count for kind, state, count in self.jobs}
        for kind in sorted({*JOB_KINDS, *(kind for kind, _ in counted)}):
            for state in JOB_STATES:
                jobs.add_metric([kind, state], counted.get((kind, state), 0))
        yield jobs
        apps = GaugeMetricFamily(
            "sagemaker_images_apps",
            "Studio apps in the database (every account and region), by status.",
            labels=["status"],
        )
        for app_status in AppStatus:
            apps.add_metric([app_status.value], self.apps.get(app_status.value, 0))
        yield apps
        yield _histograms(
            "sagemaker_images_job_duration_seconds",
            "Time from claiming a job to recording its outcome (done, gave_up, retried).",
            ["kind", "outcome"],
            list(dict(self.job_durations).items()),
        )
        resolutions = CounterMetricFamily(
            "sagemaker_images_registry_resolutions",
            "BaseImages resolved against their registry, by outcome.",
            labels=["outcome"],
        )
        for outcome, histogram in sorted(dict(self.resolutions).items()):
            resolutions.add_metric([outcome], sum(histogram.counts))
        yield resolutions
        yield _histograms(
            "sagemaker_images_registry_resolution_duration_seconds",
            "Time to resolve a BaseImage against its registry, by outcome.",
            ["outcome"],
            [((outcome,), h) for outcome, h in dict(self.resolutions).items()],
        )
        if self.pool:
            connections = GaugeMetricFamily(
                "sagemaker_images_database_connections",
                "PostgreSQL connections of this server's pool, by state.",
                labels=["state"],
            )
            for state in ("in_use", "idle"):
                connections.add_metric([state], self.pool.get(state, 0))
            yield connections
            yield GaugeMetricFamily(
                "sagemaker_images_database_waiting_callers",
                "Calls waiting for a PostgreSQL connection.",
                value=self.pool.get("waiting", 0),
            )
            yield CounterMetricFamily(
                "sagemaker_images_database_read_groups",
                "Statements that answered several reads waiting for a connection at once.",
                value=self.pool.get("read_groups", 0),
            )
            yield CounterMetricFamily(
                "sagemaker_images_database_grouped_reads",
                "Reads answered by those statements.",
                value=self.pool.get("grouped_reads", 0),
            )
        yield from _events(self.sinks)
        info = GaugeMetricFamily(
            "sagemaker_images_build_info",
            "The version of sagemaker-images and the database backend it serves from.",
            labels=["version", "backend"],
        )
        info.add_metric([self.version, self.backend], 1)
        yield info


@dataclass(frozen=True, slots=True)
class SinkView:
    """An event sink as the metrics show it: by its label (no credentials in it)."""

    label: str
    written: int  # events this server wrote for it
    delivered: int  # of them, events this server sent it
    retried: int  # sends it refused, each retried later
    undelivered: int  # events in the database waiting for it (any server's)
    oldest_age: float  # seconds since the oldest of them was written (0: none)


def _events(sinks: Sequence[SinkView]) -> Iterator[Metric]:
    families = (
        ("written", CounterMetricFamily, "State-change events written for a sink, by this server."),
        ("delivered", CounterMetricFamily, "Events a sink took, sent by this server."),
        ("retried", CounterMetricFamily, "Sends of events a sink refused, to be retried."),
        ("undelivered", GaugeMetricFamily, "Events in the database waiting for a sink."),
        (
            "oldest_age",
            GaugeMetricFamily,
            "Seconds since the oldest event waiting for a sink was written (0: none waits).",
        ),
    )
    for field, family, documentation in families:
        name = (
            "sagemaker_images_events_oldest_undelivered_age_seconds"
            if field == "oldest_age"
            else f"sagemaker_images_events_{field}"
        )
        metric = family(name, documentation, labels=["sink"])
        for sink in sinks:
            metric.add_metric([sink.label], getattr(sink, field))
        yield metric


def _histograms(
    name: str,
    documentation: str,
    labels: list[str],
    histograms: Iterable[tuple[tuple[str, ...], Histogram]],
) -> Metric:
    family = HistogramMetricFamily(name, documentation, labels=labels)
    for label_values, histogram in sorted(histograms, key=lambda item: item[0]):
        family.add_metric(list(label_values), histogram.buckets(), histogram.sum)
    return family


def describe_pool(stats: dict[str, Any]) -> dict[str, int]:
    """psycopg_pool's statistics as the gauges above read them."""
    size = int(stats.get("pool_size", 0))
    idle = int(stats.get("pool_available", 0))
    counts = {name: int(stats.get(name, 0)) for name in ("waiting", "read_groups", "grouped_reads")}
    return {"in_use": max(0, size - idle), "idle": idle, **counts}
