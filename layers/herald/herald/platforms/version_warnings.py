"""The warning a version near its end raises: a log line and a `PlatformVersionAgeing` metric
(Powertools, EMF), dimensioned by platform and version so one alarm covers both platforms.

The metric's value is the days left (0 once the version has ended or was never released), so an
alarm can fire on any data point and a dashboard shows the countdown.
"""

from __future__ import annotations

from datetime import date

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from herald.observability import NAMESPACE, logger
from herald.platforms.versions import VersionStatus

METRIC = "PlatformVersionAgeing"


def announce(found: list[VersionStatus], today: date, service: str = "herald") -> list[str]:
    """Log and count every version that is ageing, retired or unknown; returns the warnings."""
    warnings: list[str] = []
    for status in found:
        warning = status.warning(today)
        if warning is None:
            continue
        warnings.append(warning)
        logger.warning(
            warning,
            extra={"platform": status.platform, "version": status.version, "state": status.state},
        )
        # single_metric writes its own EMF line at once: this runs when the container is built,
        # which may be before any handler's log_metrics would flush.
        with single_metric(
            name=METRIC,
            unit=MetricUnit.Count,
            value=max(0, status.days_left(today) or 0),
            namespace=NAMESPACE,
            default_dimensions={"service": service},
        ) as metric:
            metric.add_dimension(name="Platform", value=status.platform)
            metric.add_dimension(name="Version", value=status.version)
    return warnings
