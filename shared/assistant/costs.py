"""What a model call cost (card 090): USD per million tokens, per model, input and output."""

from __future__ import annotations

from decimal import Decimal

# Google's list prices for the paid tier, text input/output (standard context). Update with the price page;
# a model missing here costs 0 and is logged as unknown by `cost_of`'s caller.
PRICES_PER_MILLION: dict[str, tuple[Decimal, Decimal]] = {
    "gemini-2.5-pro": (Decimal("1.25"), Decimal("10.00")),
    "gemini-2.5-flash": (Decimal("0.30"), Decimal("2.50")),
    "gemini-2.5-flash-lite": (Decimal("0.10"), Decimal("0.40")),
    "gemini-2.0-flash": (Decimal("0.10"), Decimal("0.40")),
    "gemini-2.0-flash-lite": (Decimal("0.075"), Decimal("0.30")),
    "offline": (Decimal(0), Decimal(0)),
}
_MILLION = Decimal(1_000_000)


def cost_of(model: str, prompt_tokens: int, completion_tokens: int) -> Decimal | None:
    """USD cost of one call, to the micro-dollar; None for a model without a known price."""
    prices = PRICES_PER_MILLION.get(model.removeprefix("models/"))
    if prices is None:
        return None
    input_price, output_price = prices
    cost = (prompt_tokens * input_price + completion_tokens * output_price) / _MILLION
    return cost.quantize(Decimal("0.000001"))
