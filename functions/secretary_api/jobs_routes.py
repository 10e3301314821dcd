"""/api/v1/jobs: the scheduler's jobs, their schedules, last run and next slot (MANAGE_QUEUE: ADMIN by default)."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.auth import require_permission
from shared.db import session_scope
from shared.http import API_PREFIX, SECURED, error_responses
from shared.jobs.catalogue import JOBS
from shared.jobs.schemas import JobListOut
from shared.jobs.service import list_jobs
from shared.users.permissions import Permission

api = APIBlueprint("jobs", __name__, url_prefix=f"{API_PREFIX}/jobs", abp_tags=[Tag(name="jobs")],
                   abp_security=SECURED)  # fmt: skip


# The jobs are the queue's scheduled side: whoever may retry failed tasks sees them.
@api.get("", responses={200: JobListOut, **error_responses(401, 403)})
@require_permission(Permission.MANAGE_QUEUE)
def list_jobs_route():
    """Every scheduled job: its schedule in the clinic's time zone, the run of its latest slot, its next slot."""
    with session_scope() as session:
        return JobListOut(items=list_jobs(session, JOBS)).model_dump(mode="json")
