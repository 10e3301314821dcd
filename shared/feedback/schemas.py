"""Request and response bodies of the feedback endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.audit.schemas import DateRangeQuery
from shared.feedback.models import COMMENT_MAX
from shared.pagination import Page, PageQuery


class FeedbackCreate(BaseModel):
    token: str = Field(
        min_length=1, max_length=200, description="the signed token from the closing message", examples=["AbC...xyz"]
    )
    score: int = Field(ge=0, le=10, description="0 (very bad) to 10 (excellent)", examples=[9])
    comment: str | None = Field(
        default=None, max_length=COMMENT_MAX, description="optional free text", examples=["Fui muito bem atendida."]
    )


class FeedbackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="the answer's id")
    conversation_id: uuid.UUID = Field(description="the conversation that was rated")
    score: int = Field(description="0 to 10", examples=[9])
    comment: str | None = Field(description="the patient's free text, if any", examples=["Ótimo atendimento"])
    created_at: datetime = Field(description="when the patient answered")


class FeedbackReceipt(BaseModel):
    """What the patient gets back: nothing that identifies the conversation."""

    received: bool = Field(default=True, examples=[True])
    message: str = Field(default="Obrigado pela sua avaliação!", examples=["Obrigado pela sua avaliação!"])


class FeedbackQuery(PageQuery, DateRangeQuery):
    """Pages of answers with `date_from` <= created_at < `date_to` (the audit log's date rules)."""


class NpsSummary(BaseModel):
    total: int = Field(description="answers in the filtered set", examples=[20])
    promoters: int = Field(description="scores 9-10", examples=[12])
    passives: int = Field(description="scores 7-8", examples=[5])
    detractors: int = Field(description="scores 0-6", examples=[3])
    nps: float | None = Field(
        description="% promoters - % detractors (-100..100); null with no answers", examples=[45.0]
    )


class FeedbackPage(Page[FeedbackOut]):
    nps: NpsSummary = Field(description="Net Promoter Score over every answer the filters select, not just this page")
