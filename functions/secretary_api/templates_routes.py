"""Message templates, scripted messages and quick replies (cards 121, 122; the seed's scripts, cards 086, 087).

Reading and rendering needs USE_TEMPLATES; creating, changing and deleting needs MANAGE_TEMPLATES (audited).
"""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from shared.auth import current_principal, require_permission
from shared.db import session_scope
from shared.http import API_PREFIX, SECURED, error_responses
from shared.pagination import Page
from shared.templates import catalogue, quick_replies, scripts, suggestions
from shared.templates.schemas import (
    QuickReplyCreate,
    QuickReplyListQuery,
    QuickReplyOut,
    QuickReplyPath,
    QuickReplyUpdate,
    QuickReplyUse,
    RenderedOut,
    SuggestionQuery,
    SuggestionsOut,
    TemplateCreate,
    TemplateListQuery,
    TemplateOut,
    TemplatePath,
    TemplateRender,
    TemplateUpdate,
    UsedQuickReplyOut,
)
from shared.templates.script_schemas import ScriptCreate, ScriptListQuery, ScriptOut, ScriptPath, ScriptUpdate
from shared.users.permissions import Permission

api = APIBlueprint("templates", __name__, url_prefix=API_PREFIX, abp_tags=[Tag(name="templates")],
                   abp_security=SECURED)  # fmt: skip

USE = require_permission(Permission.USE_TEMPLATES)
MANAGE = require_permission(Permission.MANAGE_TEMPLATES)
TEMPLATE = "/templates/<uuid:template_id>"
SCRIPT = "/scripted-messages/<uuid:script_id>"
REPLY = "/quick-replies/<uuid:quick_reply_id>"
SCRIPTS = [Tag(name="scripted messages")]
REPLIES = [Tag(name="quick replies")]


# --- message templates ------------------------------------------------------------------------------------------


@api.get("/templates", responses={200: Page[TemplateOut], **error_responses(401, 403, 422)})
@USE
def list_templates(query: TemplateListQuery):
    """Message templates by name; filter by text, category and state."""
    with session_scope() as session:
        return catalogue.list_templates(session, query).model_dump(mode="json")


@api.post("/templates", responses={201: TemplateOut, **error_responses(400, 401, 403, 409, 422)})
@MANAGE
def create_template(body: TemplateCreate):
    """Create a template; malformed {{placeholders}} are 422, a name taken (in any case) 409."""
    with session_scope() as session:
        return catalogue.create_template(session, current_principal(), body).model_dump(mode="json"), 201


@api.get(TEMPLATE, responses={200: TemplateOut, **error_responses(401, 403, 404)})
@USE
def get_template(path: TemplatePath):
    """One message template."""
    with session_scope() as session:
        return catalogue.get_template(session, path.template_id).model_dump(mode="json")


@api.patch(TEMPLATE, responses={200: TemplateOut, **error_responses(400, 401, 403, 404, 409, 422)})
@MANAGE
def update_template(path: TemplatePath, body: TemplateUpdate):
    """Change a template's name, content, category or state; audited."""
    with session_scope() as session:
        return catalogue.update_template(session, current_principal(), path.template_id, body).model_dump(mode="json")


@api.delete(TEMPLATE, responses={204: None, **error_responses(401, 403, 404)})
@MANAGE
def delete_template(path: TemplatePath):
    """Delete a template; audited."""
    with session_scope() as session:
        catalogue.delete_template(session, current_principal(), path.template_id)
    return "", 204


@api.post(f"{TEMPLATE}/render", responses={200: RenderedOut, **error_responses(400, 401, 403, 404, 409, 422)})
@USE
def render_template(path: TemplatePath, body: TemplateRender):
    """Fill a template's variables (nome, telefone from a conversation; clinica); missing ones are 422."""
    with session_scope() as session:
        out = catalogue.render_template(session, current_principal(), path.template_id, body)
        return out.model_dump(mode="json")


# --- scripted messages ------------------------------------------------------------------------------------------


@api.get("/scripted-messages", tags=SCRIPTS, responses={200: Page[ScriptOut], **error_responses(401, 403, 422)})
@USE
def list_scripts(query: ScriptListQuery):
    """The assistant's scripted messages (text, media, location) by name."""
    with session_scope() as session:
        return scripts.list_scripts(session, query).model_dump(mode="json")


@api.post("/scripted-messages", tags=SCRIPTS, responses={201: ScriptOut, **error_responses(400, 401, 403, 409, 422)})
@MANAGE
def create_script(body: ScriptCreate):
    """Create a scripted message; what it holds must fit its kind (422), its name be free (409)."""
    with session_scope() as session:
        return scripts.create_script(session, current_principal(), body).model_dump(mode="json"), 201


@api.get(SCRIPT, tags=SCRIPTS, responses={200: ScriptOut, **error_responses(401, 403, 404)})
@USE
def get_script(path: ScriptPath):
    """One scripted message with its files or place."""
    with session_scope() as session:
        return scripts.get_script(session, path.script_id).model_dump(mode="json")


@api.patch(SCRIPT, tags=SCRIPTS, responses={200: ScriptOut, **error_responses(400, 401, 403, 404, 409, 422)})
@MANAGE
def update_script(path: ScriptPath, body: ScriptUpdate):
    """Change a scripted message (`media` replaces the list); the result is checked like a new one; audited."""
    with session_scope() as session:
        return scripts.update_script(session, current_principal(), path.script_id, body).model_dump(mode="json")


@api.delete(SCRIPT, tags=SCRIPTS, responses={204: None, **error_responses(401, 403, 404)})
@MANAGE
def delete_script(path: ScriptPath):
    """Delete a scripted message; audited."""
    with session_scope() as session:
        scripts.delete_script(session, current_principal(), path.script_id)
    return "", 204


# --- quick replies ----------------------------------------------------------------------------------------------


@api.get("/quick-replies", tags=REPLIES, responses={200: Page[QuickReplyOut], **error_responses(401, 403, 422)})
@USE
def list_quick_replies(query: QuickReplyListQuery):
    """Quick replies, most used first; filter by text, context and state."""
    with session_scope() as session:
        return quick_replies.list_quick_replies(session, query).model_dump(mode="json")


@api.get(
    "/quick-replies/suggestions", tags=REPLIES, responses={200: SuggestionsOut, **error_responses(401, 403, 404, 422)}
)
@USE
def suggest_quick_replies(query: SuggestionQuery):
    """Quick replies for a context, or for a conversation (from its last patient messages and intent), best first."""
    with session_scope() as session:
        return suggestions.suggest_quick_replies(session, current_principal(), query).model_dump(mode="json")


@api.post("/quick-replies", tags=REPLIES, responses={201: QuickReplyOut, **error_responses(400, 401, 403, 409, 422)})
@MANAGE
def create_quick_reply(body: QuickReplyCreate):
    """Create a quick reply; a shortcut already taken is 409."""
    with session_scope() as session:
        return quick_replies.create_quick_reply(session, current_principal(), body).model_dump(mode="json"), 201


@api.get(REPLY, tags=REPLIES, responses={200: QuickReplyOut, **error_responses(401, 403, 404)})
@USE
def get_quick_reply(path: QuickReplyPath):
    """One quick reply."""
    with session_scope() as session:
        return quick_replies.get_quick_reply(session, path.quick_reply_id).model_dump(mode="json")


@api.patch(REPLY, tags=REPLIES, responses={200: QuickReplyOut, **error_responses(400, 401, 403, 404, 409, 422)})
@MANAGE
def update_quick_reply(path: QuickReplyPath, body: QuickReplyUpdate):
    """Change a quick reply; audited."""
    with session_scope() as session:
        out = quick_replies.update_quick_reply(session, current_principal(), path.quick_reply_id, body)
        return out.model_dump(mode="json")


@api.delete(REPLY, tags=REPLIES, responses={204: None, **error_responses(401, 403, 404)})
@MANAGE
def delete_quick_reply(path: QuickReplyPath):
    """Delete a quick reply; audited."""
    with session_scope() as session:
        quick_replies.delete_quick_reply(session, current_principal(), path.quick_reply_id)
    return "", 204


@api.post(
    f"{REPLY}/use",
    tags=REPLIES,
    responses={200: UsedQuickReplyOut, **error_responses(400, 401, 403, 404, 409, 422)},
)
@USE
def use_quick_reply(path: QuickReplyPath, body: QuickReplyUse):
    """Count one use (popular replies rank first); answer it rendered for `conversation_id` if given (else send {})."""
    with session_scope() as session:
        out = quick_replies.use_quick_reply(session, current_principal(), path.quick_reply_id, body)
        return out.model_dump(mode="json")
