"""Notifications: each user reads and marks only her own, unread first (card 099)."""

import uuid
from datetime import timedelta

from sqlalchemy import select

from shared.db import session_scope, utcnow
from shared.notifications.models import Notification, NotificationPriority, NotificationType
from shared.users.models import Role
from tests.conftest import bearer

URL = "/api/v1/notifications"


def _notify(user, title, *, hours_ago=0, read=False, type_=NotificationType.NEW_LEAD,
            priority=NotificationPriority.NORMAL) -> uuid.UUID:  # fmt: skip
    created = utcnow() - timedelta(hours=hours_ago)
    with session_scope() as session:
        note = Notification(user_id=user.id, type=type_, priority=priority, title=title, message=f"about {title}",
                            created_at=created, read_at=created + timedelta(minutes=1) if read else None)  # fmt: skip
        session.add(note)
        session.flush()
        return note.id


def _read_at(notification_id):
    with session_scope() as session:
        return session.scalar(select(Notification.read_at).where(Notification.id == notification_id))


def test_a_user_sees_only_her_own_unread_first_then_newest(secretary_api, make_user, login):
    ana, bia, admin = make_user(), make_user(), make_user(Role.ADMIN)
    _notify(ana, "old unread", hours_ago=5)
    _notify(ana, "newest but read", hours_ago=1, read=True)
    _notify(ana, "recent unread", hours_ago=2)
    _notify(bia, "bia's")
    _notify(admin, "admin's")

    mine = secretary_api.get(URL, headers=bearer(login(ana)["access_token"]))
    admins = secretary_api.get(URL, headers=bearer(login(admin)["access_token"]))

    assert mine.status_code == 200
    assert [item["title"] for item in mine.json["items"]] == ["recent unread", "old unread", "newest but read"]
    assert {k: mine.json[k] for k in ("total", "page", "limit", "pages", "unread")} == {
        "total": 3, "page": 1, "limit": 20, "pages": 1, "unread": 2
    }  # fmt: skip
    first = mine.json["items"][0]
    assert set(first) == {"id", "type", "priority", "title", "message", "conversation_id", "lead_id", "read_at",
                          "created_at"}  # fmt: skip
    assert first["type"] == "NEW_LEAD" and first["read_at"] is None and first["created_at"].endswith("Z")
    assert mine.json["items"][2]["read_at"] is not None
    assert [item["title"] for item in admins.json["items"]] == ["admin's"]  # ADMIN sees only her own too


def test_filters_and_pages(secretary_api, make_user, login):
    ana = make_user()
    _notify(ana, "handoff", hours_ago=1, type_=NotificationType.HANDOFF, priority=NotificationPriority.HIGH)
    _notify(ana, "lead read", hours_ago=2, read=True)
    _notify(ana, "lead", hours_ago=3)
    headers = bearer(login(ana)["access_token"])

    def titles(**params):
        response = secretary_api.get(URL, query_string=params, headers=headers)
        assert response.status_code == 200, response.json
        return [item["title"] for item in response.json["items"]]

    assert titles(unread_only="true") == ["handoff", "lead"]
    assert titles(type="NEW_LEAD") == ["lead", "lead read"]
    assert titles(priority="HIGH") == ["handoff"]
    assert titles(type="NEW_LEAD", unread_only="true") == ["lead"]
    assert titles(limit=1, page=3) == ["lead read"]
    paged = secretary_api.get(URL, query_string={"limit": 2, "type": "NEW_LEAD"}, headers=headers).json
    assert (paged["total"], paged["pages"], paged["unread"]) == (2, 1, 2)  # unread ignores the filters
    bad = secretary_api.get(URL, query_string={"type": "PARTY", "limit": 0}, headers=headers)
    assert bad.status_code == 422
    assert {error["field"] for error in bad.json["errors"]} == {"type", "limit"}


def test_mark_read_is_idempotent_and_someone_elses_is_404(secretary_api, make_user, login):
    ana, bia = make_user(), make_user()
    mine = _notify(ana, "mine")
    hers = _notify(bia, "hers")
    headers = bearer(login(ana)["access_token"])

    first = secretary_api.put(f"{URL}/{mine}/read", headers=headers)
    again = secretary_api.put(f"{URL}/{mine}/read", headers=headers)
    other = secretary_api.put(f"{URL}/{hers}/read", headers=headers)
    unknown = secretary_api.put(f"{URL}/{uuid.uuid4()}/read", headers=headers)
    not_an_id = secretary_api.put(f"{URL}/nope/read", headers=headers)

    assert first.status_code == 200 and first.json["id"] == str(mine) and first.json["read_at"] is not None
    assert again.status_code == 200 and again.json["read_at"] == first.json["read_at"]
    assert other.status_code == unknown.status_code == not_an_id.status_code == 404
    assert other.json["title"] == "Not Found"
    assert _read_at(hers) is None
    listed = secretary_api.get(URL, headers=headers).json
    assert listed["unread"] == 0


def test_read_all_marks_only_the_callers_unread(secretary_api, make_user, login):
    ana, bia = make_user(), make_user()
    unread = [_notify(ana, "a"), _notify(ana, "b")]
    already = _notify(ana, "c", read=True)
    before = _read_at(already)
    hers = _notify(bia, "hers")
    headers = bearer(login(ana)["access_token"])

    done = secretary_api.put(f"{URL}/read-all", headers=headers)
    again = secretary_api.put(f"{URL}/read-all", headers=headers)

    assert done.status_code == 200 and done.json == {"updated": 2}
    assert again.json == {"updated": 0}
    assert all(_read_at(n) is not None for n in unread)
    assert _read_at(already) == before
    assert _read_at(hers) is None


def test_no_token_gets_401_on_every_notifications_route(secretary_api, make_user):
    note = _notify(make_user(), "x")
    for method, path in [("get", URL), ("put", f"{URL}/{note}/read"), ("put", f"{URL}/read-all")]:
        assert getattr(secretary_api, method)(path).status_code == 401, path
    assert _read_at(note) is None
