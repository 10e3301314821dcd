"""The demand forecast (card 143): patients' messages per day for the next `days`, with how far to trust it.

- History: patients' messages per day (shared/metrics/counts.py, the zone's days) over `history_days` (default 8
  weeks) ending on `end_date`, default yesterday: today is not over, and a partial last day would drag the level
  down. `start_date`, when given, starts the history instead. Days before the first day with a patient message
  are not history (the clinic was not there yet); at least 21 days of it are needed, else the answer has no
  forecast and says how many days there are.
- Model: Holt-Winters (statsmodels' ExponentialSmoothing) with an additive damped trend and additive weekly
  seasonality (period 7), its parameters fitted by maximum likelihood. `predicted_messages` is the point
  forecast rounded, never below 0.
- Interval: 80 %: the 10th and 90th percentiles of 1,000 simulated futures of the fitted model (normal errors with
  its residual variance), so it widens with the horizon; seeded, so the same history answers the same.
  `confidence` is that level, 0.8.
- Backtest: the same model fitted on the history up to 14 days before its last day forecasts those 14 days;
  `mae` is the mean absolute error in messages, `mape` the mean absolute percentage error over the days with
  messages (one decimal). It is set against the naive forecast made at the same moment: each day gets the count
  of the same weekday in the last week before the 14 days. It needs 21 + 14 days of history.
"""

from __future__ import annotations

import warnings
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from shared.auth import Principal
from shared.errors import FieldError, ValidationFailed
from shared.metrics.answers import MetaOut
from shared.metrics.context import MetricsContext, metrics_context
from shared.metrics.counts import message_counts
from shared.metrics.period import MetricsQuery, Period

MIN_HISTORY_DAYS = 21
MAX_HISTORY_DAYS = 365
BACKTEST_DAYS = 14
SEASON = 7
INTERVAL = 0.8
SIMULATIONS = 1000
MODEL = "Holt-Winters: additive damped trend, additive weekly seasonality"


class ForecastQuery(MetricsQuery):
    days: int = Field(default=7, ge=1, le=30, description="days to forecast, from the day after end_date")
    history_days: int = Field(default=56, ge=MIN_HISTORY_DAYS, le=MAX_HISTORY_DAYS,
                              description="days of history ending on end_date (default yesterday); ignored when "
                              "start_date is given")  # fmt: skip


class ForecastPointOut(BaseModel):
    date: str = Field(examples=["2025-01-20"])
    predicted_messages: int = Field(examples=[245])
    lower: int = Field(description="80 % interval, low end", examples=[220])
    upper: int = Field(description="80 % interval, high end", examples=[270])
    confidence: float = Field(description="the interval's level", examples=[0.8])


class ErrorsOut(BaseModel):
    mae: float = Field(description="mean absolute error, messages a day", examples=[12.3])
    mape: float | None = Field(description="mean absolute % error over days with messages", examples=[8.1])


class BacktestOut(BaseModel):
    start_date: str = Field(examples=["2026-11-17"])
    end_date: str = Field(examples=["2026-11-30"])
    model: ErrorsOut
    naive_same_weekday: ErrorsOut = Field(description="same weekday of the last week before the backtest")
    model_beats_naive: bool = Field(description="the model's mae is below the naive one's", examples=[True])


class HistoryOut(BaseModel):
    start_date: str | None = Field(description="the first day with a patient message", examples=["2026-10-06"])
    end_date: str = Field(examples=["2026-11-30"])
    days: int = Field(description="days of history used", examples=[56])
    needed: int = Field(examples=[MIN_HISTORY_DAYS])


class ForecastOut(MetaOut):
    model: str = Field(examples=[MODEL])
    history: HistoryOut
    forecast: list[ForecastPointOut] = Field(description="empty when the history is too short")
    backtest: BacktestOut | None = Field(description="null with less than 35 days of history")
    reason: str | None = Field(description="pt-BR: why there is no forecast", examples=[None])
    reason_en: str | None = Field(description="the same in English", examples=[None])


def forecast_context(session: Session, actor: Principal, query: ForecastQuery) -> MetricsContext:
    """The request's context over the history the forecast is fitted on."""
    ctx = metrics_context(session, actor, query)
    last = query.end_date or ctx.now.astimezone(ctx.period.zone).date() - timedelta(days=1)
    first = query.start_date or last - timedelta(days=query.history_days - 1)
    if first > last or (last - first).days >= MAX_HISTORY_DAYS:
        message = f"the history runs from start_date to end_date (default yesterday), 1 to {MAX_HISTORY_DAYS} days"
        raise ValidationFailed([FieldError("start_date", message)])
    return ctx.with_period(Period(first, last, ctx.period.zone))


def daily_patient_messages(session: Session, ctx: MetricsContext) -> list[int]:
    """Patients' messages on each day of the period, zeros included."""
    found = {start.date(): counts.patient for start, counts in message_counts(session, ctx, "day").items()}
    return [found.get(day, 0) for day in ctx.period.each_day()]


def _fit(values: list[int]) -> Any:
    import numpy as np
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    model = ExponentialSmoothing(np.asarray(values, dtype=float), trend="add", damped_trend=True, seasonal="add",
                                 seasonal_periods=SEASON, initialization_method="estimated")  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence notes on short or flat histories; the backtest judges the fit
        return model.fit(use_brute=False)


def _points(fit: Any, first: date, days: int) -> list[dict]:
    import numpy as np

    predicted = fit.forecast(days)
    futures = fit.simulate(days, repetitions=SIMULATIONS, error="add", anchor="end", rng=np.random.default_rng(0))
    low, high = np.percentile(np.asarray(futures).reshape(days, -1), [50 - INTERVAL * 50, 50 + INTERVAL * 50], axis=1)
    return [{"date": (first + timedelta(days=n)).isoformat(), "predicted_messages": max(0, round(predicted[n])),
             "lower": max(0, round(low[n])), "upper": max(0, round(high[n])), "confidence": INTERVAL}
            for n in range(days)]  # fmt: skip


def _errors(predicted: list[int], actual: list[int]) -> dict:
    misses = [abs(p - a) for p, a in zip(predicted, actual, strict=True)]
    relative = [miss / a * 100 for miss, a in zip(misses, actual, strict=True) if a > 0]
    return {"mae": round(sum(misses) / len(misses), 1),
            "mape": round(sum(relative) / len(relative), 1) if relative else None}  # fmt: skip


def backtest(values: list[int], last_day: date) -> dict | None:
    """The model and the naive same-weekday forecast over the history's last 14 days."""
    train, actual = values[:-BACKTEST_DAYS], values[-BACKTEST_DAYS:]
    if len(train) < MIN_HISTORY_DAYS:
        return None
    model = [max(0, round(value)) for value in _fit(train).forecast(BACKTEST_DAYS)]
    naive = [train[len(train) - SEASON + n % SEASON] for n in range(BACKTEST_DAYS)]
    scores = {"model": _errors(model, actual), "naive_same_weekday": _errors(naive, actual)}
    return {"start_date": (last_day - timedelta(days=BACKTEST_DAYS - 1)).isoformat(),
            "end_date": last_day.isoformat(), **scores,
            "model_beats_naive": scores["model"]["mae"] < scores["naive_same_weekday"]["mae"]}  # fmt: skip


def _too_short(days: int) -> dict:
    return {"forecast": [], "backtest": None,
            "reason": f"Histórico insuficiente: {days} dias desde a primeira mensagem de paciente; são necessários "
                      f"{MIN_HISTORY_DAYS}.",
            "reason_en": f"Not enough history: {days} days since the first patient message; {MIN_HISTORY_DAYS} are "
                         "needed."}  # fmt: skip


def forecast(session: Session, ctx: MetricsContext, query: ForecastQuery) -> dict:
    """The next `query.days` days' patient messages, fitted on the context's period."""
    values, period = daily_patient_messages(session, ctx), ctx.period
    started = next((n for n, value in enumerate(values) if value), len(values))
    values = values[started:]
    history = {"start_date": (period.first_day + timedelta(days=started)).isoformat() if values else None,
               "end_date": period.last_day.isoformat(), "days": len(values), "needed": MIN_HISTORY_DAYS}  # fmt: skip
    if len(values) < MIN_HISTORY_DAYS:
        return {"model": MODEL, "history": history, **_too_short(len(values))}
    points = _points(_fit(values), period.last_day + timedelta(days=1), query.days)
    return {"model": MODEL, "history": history, "forecast": points, "backtest": backtest(values, period.last_day),
            "reason": None, "reason_en": None}  # fmt: skip
