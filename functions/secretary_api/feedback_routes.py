"""/api/v1/feedback: the patient's score after a closed conversation (card 134), and its NPS for ADMIN.

The blueprint has no default security: POST and the form page are public (the signed single-use token in the
body is the credential), and the ADMIN listing declares its own.
"""

from flask import Response
from flask_openapi3 import APIBlueprint, Tag

from shared.auth import require_permission
from shared.db import session_scope
from shared.feedback import service
from shared.feedback.form import feedback_form
from shared.feedback.schemas import FeedbackCreate, FeedbackPage, FeedbackQuery, FeedbackReceipt
from shared.http import API_PREFIX, SECURED, error_responses
from shared.users.permissions import Permission

api = APIBlueprint("feedback", __name__, url_prefix=f"{API_PREFIX}/feedback", abp_tags=[Tag(name="feedback")])


@api.post("", responses={201: FeedbackReceipt, **error_responses(400, 401, 404, 409, 422)})
def submit_feedback(body: FeedbackCreate):
    """A patient's 0-10 score and optional comment; no login, the token is the credential and works once."""
    with session_scope() as session:
        service.record_feedback(session, body)
    return FeedbackReceipt().model_dump(), 201


FORM_RESPONSE = {
    "description": "the pt-BR form page; its script reads the token from the link's #fragment and posts the score",
    "content": {"text/html": {"schema": {"type": "string"}, "example": '<!doctype html><html lang="pt-BR">…</html>'}},
}


@api.get("/form", responses={200: FORM_RESPONSE})
def feedback_form_page():
    """The public page the closing message links to (`/api/v1/feedback/form#<token>`): a 0-10 score and a comment."""
    page, headers = feedback_form()
    return Response(page, mimetype="text/html", headers=headers)


@api.get("", security=SECURED, responses={200: FeedbackPage, **error_responses(401, 403, 422)})
@require_permission(Permission.VIEW_FEEDBACK)
def list_feedback(query: FeedbackQuery):
    """Answers newest first, with the NPS (% promoters 9-10 minus % detractors 0-6) of the filtered set."""
    with session_scope() as session:
        return service.list_feedback(session, query).model_dump(mode="json")
