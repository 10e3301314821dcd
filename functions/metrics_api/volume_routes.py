"""Message volume, heatmap and peak hours (cards 128, 132, 146)."""

from __future__ import annotations

from functools import partial

from flask_openapi3 import APIBlueprint, Tag

from functions.metrics_api.answering import METRIC_ERRORS, answer_series
from shared.auth import require_permission
from shared.http import API_PREFIX, SECURED
from shared.metrics import volume
from shared.metrics.period import MetricsQuery
from shared.users.permissions import Permission

api = APIBlueprint("metrics_volume", __name__, url_prefix=f"{API_PREFIX}/metrics", abp_tags=[Tag(name="metrics")],
                   abp_security=SECURED)  # fmt: skip


@api.get("/message-volume", responses={200: volume.VolumeOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_message_volume(query: volume.VolumeQuery):
    """Messages per hour, day or week, both directions unless `direction` says one (card 128)."""
    return answer_series("message-volume", query, partial(volume.message_volume, query=query))


@api.get("/heatmap", responses={200: volume.HeatmapOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_heatmap(query: MetricsQuery):
    """Patients' messages per weekday and hour: all 7 x 24 cells (card 146)."""
    return answer_series("heatmap", query, volume.heatmap)


@api.get("/peak-hours", responses={200: volume.PeakHoursOut, **METRIC_ERRORS})
@require_permission(Permission.VIEW_METRICS)
def get_peak_hours(query: volume.PeakHoursQuery):
    """The three busiest hours of the day for patients' messages, and all 24 (card 132)."""
    return answer_series("peak-hours", query, partial(volume.peak_hours, query=query))
