"""GET /api/v1/jobs: every scheduled job, its schedule in the clinic's zone, its last run and next slot (ADMIN)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.jobs.catalogue import JOBS
from shared.jobs.runs import run_job
from shared.queue import get_task_queue


def by_name(response) -> dict[str, dict]:
    return {job["name"]: job for job in response.json["items"]}


def test_an_admin_sees_every_job_with_its_schedule_last_run_and_next_slot(secretary_api, people):
    before = datetime.now(UTC)
    listed = by_name(secretary_api.get("/api/v1/jobs", headers=people.admin_h))

    assert set(listed) == {"sweep", "housekeeping"}
    sweep, housekeeping = listed["sweep"], listed["housekeeping"]
    assert (sweep["schedule"], housekeeping["schedule"]) == ("every 1 min", "daily 03:30 America/Sao_Paulo")
    assert sweep["last_run"] is None and housekeeping["last_run"] is None
    assert "failed tasks" in sweep["description"] and housekeeping["only_when_open"] is False
    next_sweep = datetime.fromisoformat(sweep["next_slot"])
    next_housekeeping = datetime.fromisoformat(housekeeping["next_slot"])
    assert before < next_sweep <= before + timedelta(minutes=1) and next_sweep.second == 0
    assert (next_housekeeping.hour, next_housekeeping.minute) == (6, 30)  # 03:30 in São Paulo
    assert before < next_housekeeping <= before + timedelta(days=1)

    slot = datetime(2026, 12, 4, 8, 15, tzinfo=UTC)
    ran = run_job(JOBS.get("sweep"), slot, queue=get_task_queue())
    last = by_name(secretary_api.get("/api/v1/jobs", headers=people.admin_h))["sweep"]["last_run"]
    assert datetime.fromisoformat(last["slot"]) == slot
    assert (last["status"], last["attempts"], last["error"]) == ("SUCCEEDED", 1, None)
    assert last["duration_ms"] == ran.duration_ms
    assert last["outcome"] == {"unprocessed": {"conversations": 0, "messages": 0, "enqueued": 0},
                               "failed_tasks": {"rerun": 0, "waiting": 0, "left_for_admin": 0}}  # fmt: skip
    assert datetime.fromisoformat(last["finished_at"]) >= datetime.fromisoformat(last["started_at"])


def test_a_secretary_may_not_see_the_jobs(secretary_api, people):
    answer = secretary_api.get("/api/v1/jobs", headers=people.ana_h)
    assert answer.status_code == 403 and answer.json["status"] == 403
    assert secretary_api.get("/api/v1/jobs").status_code == 401
