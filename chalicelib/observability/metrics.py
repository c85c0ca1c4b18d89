"""CloudWatch metrics (Powertools EMF): counters that say what happened, never whose or what secret."""
from __future__ import annotations

from typing import Any, Callable

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

metrics = Metrics(namespace="aether-agents", service="aether-agents-svc")


def count(name: str, value: int = 1) -> None:
    """Add to a counter; it is written out when the current invocation ends (see flush_after)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def flush_after(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware for every handler: write the invocation's metrics as one EMF line."""
    try:
        return get_response(event)
    finally:
        if metrics.metric_set:  # most reads count nothing; an empty flush only warns
            metrics.flush_metrics()
            # With POWERTOOLS_METRICS_DISABLED, Powertools keeps them, and prints them all once 100 pile up.
            metrics.clear_metrics()
