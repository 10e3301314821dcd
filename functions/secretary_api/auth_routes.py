"""/api/v1/auth: login, refresh, logout, me."""

from flask_openapi3 import APIBlueprint, Tag

from shared.auth import current_principal, require_auth
from shared.cache import get_redis
from shared.db import session_scope
from shared.http import API_PREFIX, SECURED, error_responses
from shared.users import service
from shared.users.permissions import role_permissions
from shared.users.schemas import LoginIn, MeOut, RefreshIn, TokenPairOut, UserOut

api = APIBlueprint("auth", __name__, url_prefix=f"{API_PREFIX}/auth", abp_tags=[Tag(name="auth")])


def _tokens_out(pair) -> dict:
    return TokenPairOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.access_expires_in,
        refresh_expires_in=pair.refresh_expires_in,
    ).model_dump()


@api.post("/login", responses={200: TokenPairOut, **error_responses(400, 401, 422, 429)})
def login(body: LoginIn):
    """Exchange email and password for an access and a refresh token."""
    with session_scope() as session:
        return _tokens_out(service.log_in(session, get_redis(), body.email, body.password))


@api.post("/refresh", responses={200: TokenPairOut, **error_responses(400, 401, 422)})
def refresh(body: RefreshIn):
    """Rotate a refresh token: the old one stops working; replaying it revokes the whole login."""
    with session_scope() as session:
        return _tokens_out(service.refresh_session(session, body.refresh_token))


@api.post("/logout", security=SECURED, responses={204: None, **error_responses(401)})
@require_auth
def logout():
    """Revoke the access token in use and every refresh token of this login."""
    with session_scope() as session:
        service.log_out(session, current_principal())
    return "", 204


@api.get("/me", security=SECURED, responses={200: MeOut, **error_responses(401)})
@require_auth
def me():
    """The signed-in user, with what her role may do now."""
    principal = current_principal()
    with session_scope() as session:
        user = UserOut.model_validate(service.get_user(session, principal.user_id))
        held = sorted(role_permissions(session, principal.role))
    return MeOut(**user.model_dump(), permissions=held).model_dump(mode="json")
