"""The one Logger, one Metrics and one (lazily created) Tracer of the product.

Every module logs through the standard ``logging.getLogger(__name__)``; those loggers sit
under the ``csms`` logger that Powertools configures here, so their lines come out as
structured JSON on Lambda, or as one readable line each in a terminal (``csms dev``).
"""

from __future__ import annotations

import json
import warnings
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics

from csms.settings import get_settings

_settings = get_settings()

_CONSOLE_SKIP = frozenset(
    {
        "level",
        "message",
        "timestamp",
        "service",
        "location",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "xray_trace_id",
        "sampling_rate",
    }
)


def _console(record: dict[str, Any]) -> str:
    """One terminal line: time, level, message, then the structured keys as k=v."""
    timestamp = str(record.get("timestamp", ""))
    clock = timestamp[11:23] if len(timestamp) >= 23 else timestamp
    fields = " ".join(
        f"{key}={value if isinstance(value, str | int | float) else json.dumps(value, default=str)}"
        for key, value in record.items()
        if key not in _CONSOLE_SKIP and value is not None
    )
    return f"{clock} {record.get('level', '')!s:<7} {record.get('message', '')}  {fields}".rstrip()


# Named after the package so every `logging.getLogger("csms.…")` propagates into it.
logger = Logger(
    service="csms",
    level=_settings.log_level,
    utc=True,
    json_serializer=_console if _settings.log_format == "console" else None,
)

metrics = Metrics(namespace=_settings.metrics_namespace, service=_settings.service_name)
# connect and disconnect flush metrics on every invocation but rarely have any (only
# EventsNotRecorded): Powertools would warn each time.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def add_count(name: str, value: int) -> None:
    """Emit a count metric, only when it is not 0.

    CloudWatch bills a custom metric for every hour in which it receives a data point
    ($0.30 a metric-month): a job counter sent as 0 every minute costs as much as one that
    counts. Alarms on these counts treat missing data as not breaching, and a graph shows no
    point where nothing happened. Gauges (a level, like chargers online) use
    ``metrics.add_metric`` and are sent every run.
    """
    if value:
        from aws_lambda_powertools.metrics import MetricUnit

        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


@cache
def tracer() -> Any:
    """The X-Ray tracer, created only when tracing is on (it costs ~300 ms of cold start)."""
    if not _settings.tracing:
        return None
    from aws_lambda_powertools import Tracer

    return Tracer(service=_settings.service_name)


def bind_invocation(**keys: Any) -> None:
    """Attach keys (charge_point_id, connection_id, ocpp_unique_id...) to every log line
    of this invocation, so one charger's story can be followed across functions."""
    # Thread-local: the local stack runs many invocations concurrently in one process.
    logger.thread_safe_append_keys(**keys)


def reset_invocation() -> None:
    """Forget the keys of the previous invocation on this thread."""
    logger.thread_safe_clear_keys()
