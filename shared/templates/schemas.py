"""Request and response bodies of message templates (card 121) and quick replies (card 122)."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from shared.assistant.schemas import Intent
from shared.pagination import PageQuery
from shared.templates.rendering import placeholder_problems

NAME_MAX_CHARS = 120
CONTENT_MAX_CHARS = 4096  # WhatsApp's limit for one text message
CATEGORY_MAX_CHARS = 50
CONTEXT_MAX_CHARS = 40
MAX_CONTEXTS = 10
_CONTEXT = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

VariableName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")]
VariableValue = Annotated[str, StringConstraints(max_length=1000)] | Annotated[int, Field(ge=-(10**15), le=10**15)]
Variables = Annotated[dict[VariableName, VariableValue], Field(max_length=30)]


def clean_text(value: Any) -> Any:
    """Trimmed and not blank; Postgres refuses NUL in text, so without this check it would be a 500."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
    return value


def check_placeholders(value: Any) -> Any:
    """A text saved as a template must have well-formed `{{variable}}` placeholders."""
    if isinstance(value, str) and (problems := placeholder_problems(value)):
        raise ValueError("malformed placeholder: " + "; ".join(problems))
    return value


def context_key(value: str) -> str:
    """A context keyword as stored and matched: lower case, no accents, words joined by hyphens."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", value.casefold()) if not unicodedata.combining(c))
    return "-".join(re.findall(r"[a-z0-9]+", plain))


def _no_nul_values(value: Any) -> Any:
    if isinstance(value, dict) and any(isinstance(v, str) and "\x00" in v for v in value.values()):
        raise ValueError("values must not contain NUL characters")
    return value


# --- message templates ------------------------------------------------------------------------------------------


class TemplateCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Confirmação Consulta", "content": "Olá {{nome}}, confirmamos sua consulta para {{data}}."}
            ]
        },
    )

    name: str = Field(min_length=1, max_length=NAME_MAX_CHARS, description="unique regardless of case and spaces")
    content: str = Field(
        min_length=1, max_length=CONTENT_MAX_CHARS, description="the text, with {{variables}} such as {{nome}}"
    )
    category: str | None = Field(default=None, min_length=1, max_length=CATEGORY_MAX_CHARS)
    is_active: bool = True

    _clean = field_validator("name", "content", "category", mode="before")(clean_text)
    _placeholders = field_validator("content")(check_placeholders)


class TemplateUpdate(BaseModel):
    """Only the fields given change; `category: null` clears it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"content": "Oi {{nome}}!"}]})

    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX_CHARS)
    content: str | None = Field(default=None, min_length=1, max_length=CONTENT_MAX_CHARS)
    category: str | None = Field(default=None, min_length=1, max_length=CATEGORY_MAX_CHARS)
    is_active: bool | None = None

    _clean = field_validator("name", "content", "category", mode="before")(clean_text)
    _placeholders = field_validator("content")(check_placeholders)


class TemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str = Field(examples=["Confirmação Consulta"])
    content: str = Field(examples=["Olá {{nome}}, confirmamos sua consulta para {{data}}."])
    variables: list[str] = Field(description="the variables the content uses, in order", examples=[["nome", "data"]])
    category: str | None = Field(examples=["agendamento"])
    is_active: bool
    created_by_user_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class TemplatePath(BaseModel):
    template_id: uuid.UUID


class TemplateListQuery(PageQuery):
    search: str | None = Field(
        default=None, min_length=1, max_length=100, description="in the name or the content",
        json_schema_extra={"example": "consulta"},
    )  # fmt: skip
    category: str | None = Field(default=None, min_length=1, max_length=CATEGORY_MAX_CHARS)
    is_active: bool | None = None

    _clean = field_validator("search", "category", mode="before")(clean_text)


class TemplateRender(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"variables": {"data": "15/03 às 14h"}}]})

    variables: Variables = Field(default_factory=dict, description="values for the {{variables}}; they win")
    conversation_id: uuid.UUID | None = Field(
        default=None, description="fills nome and telefone from this conversation, and clinica"
    )

    _no_nul = field_validator("variables")(_no_nul_values)


class RenderedOut(BaseModel):
    template_id: uuid.UUID
    content: str = Field(examples=["Olá Maria, confirmamos sua consulta para 15/03 às 14h."])
    variables: dict[str, str] = Field(description="the values used", examples=[{"nome": "Maria", "data": "15/03"}])


# --- quick replies ----------------------------------------------------------------------------------------------


def _context_keys(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    if len(value) > MAX_CONTEXTS:  # counted as sent: duplicates are dropped below, after this check
        raise ValueError(f"at most {MAX_CONTEXTS} contexts")
    keys = []
    for item in value:
        key = context_key(item) if isinstance(item, str) else ""
        if not key or len(key) > CONTEXT_MAX_CHARS or not _CONTEXT.match(key):
            raise ValueError(f"{item!r} is not a context keyword (letters, digits and hyphens, up to 40)")
        keys.append(key)
    return list(dict.fromkeys(keys))


def _shortcut_key(value: Any) -> Any:
    """ "/Preco" and "preco" are the same shortcut: stored as "/preco"."""
    return "/" + value.strip().lower().lstrip("/") if isinstance(value, str) else value


class QuickReplyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Valores da avaliação",
                    "shortcut": "/preco",
                    "response": "Oi {{nome}}! A avaliação custa R$ 150, e o valor é abatido do tratamento.",
                    "contexts": ["preco"],
                    "intent": "price",
                }
            ]
        },
    )

    title: str = Field(min_length=1, max_length=NAME_MAX_CHARS)
    shortcut: str | None = Field(
        default=None, pattern=r"^/[a-z0-9_-]{1,31}$", description="unique, as in /preco (case-insensitive)"
    )
    response: str = Field(min_length=1, max_length=CONTENT_MAX_CHARS, description="may use {{variables}}")
    contexts: list[str] = Field(
        default_factory=list, max_length=MAX_CONTEXTS,
        description='keywords such as "agendamento", "preco", "endereco", "pos-procedimento" (accents ignored)',
    )  # fmt: skip
    intent: Intent | None = Field(default=None, description="the patient intent this reply answers")
    is_active: bool = True

    _clean = field_validator("title", "response", mode="before")(clean_text)
    _placeholders = field_validator("response")(check_placeholders)
    _contexts = field_validator("contexts", mode="before")(_context_keys)
    _shortcut = field_validator("shortcut", mode="before")(_shortcut_key)


class QuickReplyUpdate(BaseModel):
    """Only the fields given change; `shortcut: null` and `intent: null` clear them."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"contexts": ["preco", "convenio"]}]})

    title: str | None = Field(default=None, min_length=1, max_length=NAME_MAX_CHARS)
    shortcut: str | None = Field(default=None, pattern=r"^/[a-z0-9_-]{1,31}$")
    response: str | None = Field(default=None, min_length=1, max_length=CONTENT_MAX_CHARS)
    contexts: list[str] | None = Field(default=None, max_length=MAX_CONTEXTS)
    intent: Intent | None = None
    is_active: bool | None = None

    _clean = field_validator("title", "response", mode="before")(clean_text)
    _placeholders = field_validator("response")(check_placeholders)
    _contexts = field_validator("contexts", mode="before")(_context_keys)
    _shortcut = field_validator("shortcut", mode="before")(_shortcut_key)


class QuickReplyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str = Field(examples=["Valores da avaliação"])
    shortcut: str | None = Field(examples=["/preco"])
    response: str = Field(examples=["Oi {{nome}}! A avaliação custa R$ 150."])
    contexts: list[str] = Field(examples=[["preco"]])
    intent: Intent | None
    usage_count: int
    is_active: bool
    created_by_user_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class QuickReplyPath(BaseModel):
    quick_reply_id: uuid.UUID


class QuickReplyListQuery(PageQuery):
    search: str | None = Field(default=None, min_length=1, max_length=100, description="in the title or response")
    context: str | None = Field(default=None, min_length=1, max_length=CONTEXT_MAX_CHARS)
    is_active: bool | None = None

    _clean = field_validator("search", "context", mode="before")(clean_text)


class QuickReplyUse(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {"conversation_id": "6f1c2b1e-8d4a-4c2e-9a57-0b7e4d1f2a33", "variables": {"data": "15/03"}}
        },
    )

    conversation_id: uuid.UUID | None = Field(default=None, description="render the reply for this conversation")
    variables: Variables = Field(default_factory=dict)

    _no_nul = field_validator("variables")(_no_nul_values)


class SuggestionQuery(BaseModel):
    context: str | None = Field(
        default=None, min_length=1, max_length=CONTEXT_MAX_CHARS, description="a context keyword",
        json_schema_extra={"example": "agendamento"},
    )  # fmt: skip
    conversation_id: uuid.UUID | None = Field(
        default=None, description="infer the context from this conversation's last patient messages and intent"
    )
    limit: int = Field(default=5, ge=1, le=20)

    _clean = field_validator("context", mode="before")(clean_text)


class UsedQuickReplyOut(QuickReplyOut):
    rendered: str = Field(description="the response with the known variables filled; unknown ones stay {{...}}")
    missing_variables: list[str] = Field(description="variables a person still has to fill", examples=[["data"]])


class SuggestionOut(UsedQuickReplyOut):
    score: int = Field(description="how well it fits the context; ties go to the most used")


class SuggestionsOut(BaseModel):
    contexts: list[str] = Field(description="the contexts matched, strongest first", examples=[["agendamento"]])
    intent: Intent | None = Field(description="the conversation's last recorded intent, if any")
    items: list[SuggestionOut]
