"""Request and response bodies of the scripted multimedia messages (the `messages` table, cards 086, 087)."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from shared.conversations.models import MessageKind
from shared.pagination import PageQuery
from shared.templates.schemas import CONTENT_MAX_CHARS, NAME_MAX_CHARS, check_placeholders, clean_text

MAX_MEDIA = 10


class ScriptKind(enum.StrEnum):
    """The kinds of MessageKind a script can send (stickers, contacts and "other" are not scripted)."""

    TEXT = MessageKind.TEXT.value
    IMAGE = MessageKind.IMAGE.value
    VIDEO = MessageKind.VIDEO.value
    AUDIO = MessageKind.AUDIO.value
    VOICE = MessageKind.VOICE.value
    DOCUMENT = MessageKind.DOCUMENT.value
    LOCATION = MessageKind.LOCATION.value


class ScriptMedia(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    url: HttpUrl = Field(description="http(s); WAHA downloads the file from here")
    mimetype: str = Field(pattern=r"^[\w.+-]+/[\w.+-]+$", max_length=128, examples=["image/jpeg"])
    filename: str | None = Field(default=None, min_length=1, max_length=255, examples=["clinica.jpg"])
    caption: str | None = Field(default=None, min_length=1, max_length=1024, description="may use {{variables}}")

    _clean = field_validator("filename", "caption", mode="before")(clean_text)
    _placeholders = field_validator("caption")(check_placeholders)


class ScriptLocation(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    latitude: Decimal = Field(ge=-90, le=90, allow_inf_nan=False, examples=["-23.561414"])
    longitude: Decimal = Field(ge=-180, le=180, allow_inf_nan=False, examples=["-46.655881"])
    name: str | None = Field(default=None, min_length=1, max_length=255, examples=["Clínica Sorriso"])
    address: str | None = Field(default=None, min_length=1, max_length=1000, examples=["Av. Paulista, 1000"])

    _clean = field_validator("name", "address", mode="before")(clean_text)

    @field_validator("latitude", "longitude")
    @classmethod
    def _six_places(cls, value: Decimal) -> Decimal:
        return value.quantize(Decimal("0.000001"))  # the column keeps six decimals (about 10 cm)


class ScriptCreate(BaseModel):
    """TEXT needs `body`; IMAGE, VIDEO, AUDIO, VOICE and DOCUMENT need 1 to 10 `media`; LOCATION needs `location`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "boas_vindas", "kind": "TEXT", "body": "Olá {{nome}}! Bem-vinda à {{clinica}}."},
                {
                    "name": "como_chegar",
                    "kind": "LOCATION",
                    "body": "Te esperamos!",
                    "location": {"latitude": -23.561414, "longitude": -46.655881, "name": "Clínica"},
                },
            ]
        },
    )

    name: str = Field(min_length=1, max_length=NAME_MAX_CHARS, description="unique; the assistant picks it by name")
    kind: ScriptKind
    body: str | None = Field(
        default=None, min_length=1, max_length=CONTENT_MAX_CHARS,
        description="the text; for media, the caption of the first file that has none",
    )  # fmt: skip
    media: list[ScriptMedia] = Field(default_factory=list, max_length=MAX_MEDIA)
    location: ScriptLocation | None = None
    is_active: bool = True

    _clean = field_validator("name", "body", mode="before")(clean_text)
    _placeholders = field_validator("body")(check_placeholders)


class ScriptUpdate(BaseModel):
    """Only the fields given change (`media` replaces the whole list); the result must still be a valid script."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"body": "Oi {{nome}}!"}]})

    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX_CHARS)
    kind: ScriptKind | None = None
    body: str | None = Field(default=None, min_length=1, max_length=CONTENT_MAX_CHARS)
    media: list[ScriptMedia] | None = Field(default=None, max_length=MAX_MEDIA)
    location: ScriptLocation | None = None
    is_active: bool | None = None

    _clean = field_validator("name", "body", mode="before")(clean_text)
    _placeholders = field_validator("body")(check_placeholders)


class ScriptMediaOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    url: str
    mimetype: str
    filename: str | None
    caption: str | None


class ScriptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str = Field(examples=["boas_vindas"])
    kind: ScriptKind
    body: str | None
    variables: list[str] = Field(description="the {{variables}} of the body and captions", examples=[["nome"]])
    media: list[ScriptMediaOut]
    location: ScriptLocation | None
    is_active: bool
    created_by_user_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class ScriptPath(BaseModel):
    script_id: uuid.UUID


class ScriptListQuery(PageQuery):
    search: str | None = Field(
        default=None, min_length=1, max_length=100, description="in the name or the body",
        json_schema_extra={"example": "boas"},
    )  # fmt: skip
    kind: ScriptKind | None = None
    is_active: bool | None = None

    _clean = field_validator("search", mode="before")(clean_text)
