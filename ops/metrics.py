"""Prometheus collectors read at scrape time from the database and Redis (no in-process counters:
web, worker and daphne processes all see the same numbers)."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from emotune.sockets import sockets_open
from ops import selectors


class EmotuneCollector(Collector):
    def collect(self):
        stats = selectors.job_stats(since=timedelta(days=1))
        jobs = GaugeMetricFamily(
            "emotune_jobs_finished_24h", "Jobs finished in the last 24 hours by type and outcome.",
            labels=["job", "outcome"],
        )
        p50 = GaugeMetricFamily("emotune_job_duration_p50_seconds", "Median duration of jobs that succeeded (24 h).",
                                labels=["job"])
        p95 = GaugeMetricFamily("emotune_job_duration_p95_seconds", "95th percentile duration (24 h).", labels=["job"])
        for row in stats:
            for outcome in ("succeeded", "failed", "cancelled"):
                jobs.add_metric([row["job"], outcome], row[outcome])
            if row["p50_s"] is not None:
                p50.add_metric([row["job"]], row["p50_s"])
                p95.add_metric([row["job"]], row["p95_s"])
        yield from (jobs, p50, p95)

        depth = GaugeMetricFamily("emotune_queue_depth", "Jobs waiting per RQ queue.", labels=["queue"])
        failed = GaugeMetricFamily("emotune_queue_failed", "Jobs in each queue's failed registry.", labels=["queue"])
        workers = GaugeMetricFamily("emotune_workers_alive", "Workers with a live heartbeat per queue.",
                                    labels=["queue"])
        gpu = GaugeMetricFamily("emotune_worker_gpu_used_bytes", "GPU memory used per worker.", labels=["worker"])
        redis_up = GaugeMetricFamily("emotune_redis_up", "1 when Redis answered this scrape.")
        try:
            queues, beats = selectors.queue_list(), selectors.worker_list()
            redis_up.add_metric([], 1)
        except Exception:  # noqa: BLE001 - a scrape must still answer when Redis is down
            queues, beats = [], []
            redis_up.add_metric([], 0)
        for queue in queues:
            depth.add_metric([queue["name"]], queue["depth"])
            failed.add_metric([queue["name"]], queue["failed"])
            alive = sum(1 for beat in beats if queue["name"] in (beat.get("queues") or []))
            workers.add_metric([queue["name"]], alive)
        for beat in beats:
            if beat.get("gpu"):
                gpu.add_metric([beat.get("name", "?")], beat["gpu"].get("used", 0))
        yield from (depth, failed, workers, gpu, redis_up)

        sockets = GaugeMetricFamily("emotune_websocket_sessions", "Open websocket sessions by kind (from their leases).",
                                    labels=["kind"])
        try:
            counts = sockets_open()
        except Exception:  # noqa: BLE001  Redis unreachable: emotune_redis_up says so
            counts = None
        if counts is not None:
            for kind in ("events", "voice"):
                sockets.add_metric([kind], counts.get(kind, 0))
            yield sockets


def registry() -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(EmotuneCollector())
    return reg
