"""The knowledge-base file (YAML) a clinic maintains, validated strictly: an unknown key is a typo, not data."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.errors import BadRequest, FieldError, ValidationFailed

Text = Annotated[str, Field(min_length=1)]
# An amount as people write it in Brazil ("1.250,50", "180") or as a program would ("1250.5").
_BRAZILIAN_AMOUNT = r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?|\d+(?:,\d{1,2})?"
_DOTTED_AMOUNT = r"\d+\.\d{1,2}"
_AMOUNT = re.compile(rf"^\s*(?:R\$\s*)?({_BRAZILIAN_AMOUNT}|{_DOTTED_AMOUNT})\s*$")
_AMOUNT_IN_TEXT = re.compile(rf"R\$\s*({_BRAZILIAN_AMOUNT}|{_DOTTED_AMOUNT})(?![\d.,]*\d)")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Clinic(_Strict):
    name: Text
    address: Text
    phone: Text | None = None
    hours: Text | None = None
    maps_url: Text | None = Field(default=None, pattern=r"^https?://")


class Service(_Strict):
    name: Text
    # Always Brazilian style ("R$ 180,00"), or free text such as "sob consulta" / "a partir de R$ 900,00".
    price: str | None = None
    description: Text | None = None
    preparation: Text | None = None

    @field_validator("price", mode="before")
    @classmethod
    def _brazilian_price(cls, value: Any) -> Any:
        return format_price(value) if value is not None else None


class Faq(_Strict):
    question: Text
    answer: Text


class KnowledgeBaseFile(_Strict):
    clinic: Clinic
    services: list[Service] = Field(default_factory=list)
    insurance: list[Text] = Field(default_factory=list)
    faqs: list[Faq] = Field(default_factory=list)

    @field_validator("services")
    @classmethod
    def _unique_service_names(cls, services: list[Service]) -> list[Service]:
        seen: set[str] = set()
        for service in services:
            if service.name.casefold() in seen:
                raise ValueError(f"service {service.name!r} appears twice")
            seen.add(service.name.casefold())
        return services


def format_price(value: Any) -> str:
    """A price as Brazilians write it: 180 -> "R$ 180,00"; amounts inside free text are formatted too."""
    if isinstance(value, bool):
        raise ValueError("a price must be a number or text")
    if isinstance(value, int | float | Decimal):
        return _format_amount(Decimal(str(value)))
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a price must be a number or text")
    whole = _AMOUNT.match(value)
    if whole:
        return _format_amount(_parse_amount(whole.group(1)))
    return _AMOUNT_IN_TEXT.sub(lambda found: _format_amount(_parse_amount(found.group(1))), value.strip())


def _parse_amount(text: str) -> Decimal:
    if re.fullmatch(_DOTTED_AMOUNT, text):
        return Decimal(text)
    return Decimal(text.replace(".", "").replace(",", "."))


def _format_amount(amount: Decimal) -> str:
    try:
        cents = amount.quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValueError("a price must be a finite amount") from None
    if not cents.is_finite() or cents < 0:
        raise ValueError("a price cannot be negative")
    english = f"{cents:,.2f}"  # 1,250.50
    return "R$ " + english.translate(str.maketrans(",.", ".,"))


def parse_knowledge_base(text: str, source: str = "the file") -> KnowledgeBaseFile:
    """Validate a knowledge-base YAML document; BadRequest if it is not YAML, ValidationFailed naming each field."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BadRequest(f"{source} is not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise BadRequest(f"{source} must be a YAML mapping with clinic, services, insurance and faqs")
    try:
        return KnowledgeBaseFile.model_validate(document)
    except ValidationError as exc:
        errors = [_field_error(error) for error in exc.errors()]
        raise ValidationFailed(errors, f"{source} has {len(errors)} problem(s)") from None


def load_knowledge_base(path: str | Path) -> KnowledgeBaseFile:
    """Read and validate a knowledge-base YAML file."""
    return parse_knowledge_base(Path(path).read_text(encoding="utf-8"), source=str(path))


def _field_error(error: dict[str, Any]) -> FieldError:
    location = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(".")
    if error["type"] == "extra_forbidden":
        return FieldError(location or "file", f"unknown field; expected one of {_allowed_keys(error['loc'])}")
    message = error["msg"].removeprefix("Value error, ")
    return FieldError(location or "file", message)


def _allowed_keys(location: tuple[Any, ...]) -> str:
    """The keys allowed beside an unknown one, so that a typo's message shows the right spelling."""
    model: type[BaseModel] = KnowledgeBaseFile
    for part in location[:-1]:
        if isinstance(part, str):
            annotation = model.model_fields[part].annotation
            model = getattr(annotation, "__args__", (annotation,))[0]
    return ", ".join(model.model_fields)
