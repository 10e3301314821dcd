"""GET /api/v1/metrics/export: the dashboard's metrics as CSV or XLSX, against the hand-counted clinic described in
test_metrics_dashboard.py; every value read back must equal what the JSON endpoints answer."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import openpyxl
import pytest
from sqlalchemy import select

from shared.audit.models import AuditLog
from shared.conversations.export import BOM
from shared.db import session_scope
from shared.metrics import export
from shared.users.models import User
from tests.functions.test_metrics_dashboard import PERIOD, build_clinic, get

URL = "/api/v1/metrics/export"
# Per day of the period (São Paulo): patients' messages, ours, leads created, leads converted (converted_at), the
# mean of the waits that started that day.
DAYS = [
    ["2026-11-02", 2, 1, 1, 0, 360.0],  # C1 09:00, 23:59 / 09:02 (00:09 is Tuesday's); L1; W1 120 + W2 600
    ["2026-11-03", 0, 1, 0, 1, None],  # C1 00:09; L3 converted
    ["2026-11-04", 2, 2, 1, 1, 150.0],  # C2; L2; L1 converted; W3 60 + W4 240
    ["2026-11-05", 1, 1, 0, 0, 300.0],  # C3; L5 is deleted; W5
    ["2026-11-06", 0, 0, 1, 0, None],  # L4
    ["2026-11-07", 1, 1, 0, 0, 1800.0],  # C0; W7
    ["2026-11-08", 2, 0, 1, 0, None],  # C4, never answered; L6 at 23:50
]


@pytest.fixture
def clinic(people):
    return build_clinic(people)


def download(client, headers: dict, **params):
    response = client.get(URL, query_string={**PERIOD, **params}, headers=headers)
    assert response.status_code == 200, response.get_data()
    assert response.is_streamed
    return response


def sections(text: str, delimiter: str) -> dict[str, list[list[str]]]:
    """The CSV's heading, "Resumo" and "Por dia", each without its title line."""
    found, name = {"heading": []}, "heading"
    for row in csv.reader(io.StringIO(text), delimiter=delimiter):
        if row in (["Resumo"], ["Por dia"]):
            name = row[0]
            found[name] = []
        elif row:
            found[name].append(row)
    return found


def number(cell: str | None, decimal_mark: str = "."):
    if cell in ("", None):
        return None
    cell = cell.replace(decimal_mark, ".")
    return float(cell) if "." in cell else int(cell)


def trimmed(row) -> list:
    """A sheet row without the empty cells openpyxl pads it with."""
    values = list(row)
    while values and values[-1] is None:
        values.pop()
    return values


def expected_summary(client, headers: dict) -> dict[str, list]:
    """Métrica -> [value, previous, delta] from the JSON endpoints."""
    answers = {"summary": get(client, "dashboard/summary", headers, **PERIOD),
               "conversion": get(client, "metrics/conversion-rate", headers, **PERIOD),
               "response": get(client, "metrics/response-time", headers, **PERIOD),
               "sla": get(client, "metrics/sla-compliance", headers, **PERIOD),
               "nps": get(client, "metrics/nps", headers, **PERIOD)}  # fmt: skip
    return {label: [answers[source][field], answers[source]["previous"].get(field),
                    answers[source]["delta_pct"].get(field)]
            for label, source, field in export.SUMMARY_ROWS}  # fmt: skip


def test_the_csv_has_a_bom_a_summary_equal_to_the_json_and_a_row_per_day(metrics_api, clinic):
    response = download(metrics_api, clinic.admin_h, format="csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="metricas-2026-11-02-a-2026-11-08.csv"'
    text = response.get_data().decode("utf-8")
    assert text.startswith(BOM)
    found = sections(text.removeprefix(BOM), ",")
    assert found["heading"][1:4] == [["Período", "02/11/2026 a 08/11/2026"], ["Fuso horário", "America/Sao_Paulo"],
                                     ["Escopo", "Clínica inteira"]]  # fmt: skip
    assert found["Resumo"][0] == list(export.SUMMARY_HEADER)
    summary = {row[0]: [number(cell) for cell in row[1:]] for row in found["Resumo"][1:]}
    assert summary == expected_summary(metrics_api, clinic.admin_h)
    # Spot checks against the hand count: 4 active conversations (1 the week before: +300 %), 6 answered waits.
    assert summary["Conversas ativas"] == [4, 1, 300.0] and summary["Tempo médio de resposta (s)"][0] == 520.0
    assert summary["Novos leads hoje"] == [1, None, None]
    assert found["Por dia"][0] == list(export.DAILY_HEADER)
    assert [[row[0], *(number(cell) for cell in row[1:])] for row in found["Por dia"][1:]] == DAYS
    wednesday = get(metrics_api, "metrics/response-time", clinic.admin_h, start_date="2026-11-04",
                    end_date="2026-11-04")  # fmt: skip
    assert wednesday["avg_seconds"] == DAYS[2][5]
    volume = get(metrics_api, "metrics/message-volume", clinic.admin_h, **PERIOD)
    assert [[point["inbound"], point["outbound"]] for point in volume["data"]] == [day[1:3] for day in DAYS]


def test_the_semicolon_csv_for_excel_in_portuguese_and_a_secretarys_own_numbers(metrics_api, clinic):
    with session_scope() as session:
        session.get(User, clinic.ana.id).full_name = '=HYPERLINK("http://mal.example")'
    response = download(metrics_api, clinic.ana_h, separator="semicolon")
    found = sections(response.get_data().decode("utf-8").removeprefix(BOM), ";")
    assert found["heading"][3] == ["Escopo", '\'=HYPERLINK("http://mal.example")']  # neutralised, not a formula
    summary = {row[0]: [number(cell, ",") for cell in row[1:]] for row in found["Resumo"][1:]}
    assert summary == expected_summary(metrics_api, clinic.ana_h)
    # Ana's: C1 and C3 only; W1, W2, W5: 340.0, written with the decimal comma.
    row = next(row for row in found["Resumo"] if row[0] == "Tempo médio de resposta (s)")
    assert row[1] == "340,0"
    days = [[row[0], *(number(cell, ",") for cell in row[1:])] for row in found["Por dia"][1:]]
    assert days[0] == ["2026-11-02", 2, 1, 1, 0, 360.0] and days[2] == ["2026-11-04", 0, 0, 0, 1, None]
    bad = metrics_api.get(URL, query_string={**PERIOD, "user_id": str(clinic.bia.id)}, headers=clinic.ana_h)
    assert bad.status_code == 403


def test_the_xlsx_has_a_summary_sheet_and_a_sheet_of_days(metrics_api, clinic):
    response = download(metrics_api, clinic.admin_h, format="xlsx", tz="UTC")
    assert response.mimetype == export.MIMETYPES["xlsx"]
    assert response.headers["Content-Disposition"].endswith('filename="metricas-2026-11-02-a-2026-11-08.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
    assert book.sheetnames == ["Resumo", "Por dia"]
    rows = [trimmed(row) for row in book["Resumo"].iter_rows(values_only=True)]
    assert rows[2] == ["Fuso horário", "UTC"] and rows[6] == list(export.SUMMARY_HEADER)
    summary = {row[0]: [*row[1:], None, None][:3] for row in rows[7:]}
    utc = get(metrics_api, "dashboard/summary", clinic.admin_h, tz="UTC", **PERIOD)
    assert summary["Conversas ativas"] == [utc["active_conversations"], utc["previous"]["active_conversations"],
                                           utc["delta_pct"]["active_conversations"]]  # fmt: skip
    assert summary["Tempo médio de resposta (s)"][0] == 471.4 == utc["avg_response_time_seconds"]
    days = [list(row) for row in book["Por dia"].iter_rows(values_only=True)]
    assert days[0] == list(export.DAILY_HEADER) and len(days) == 8
    # In UTC, Monday holds C0's Sunday-evening exchange (W0 180) and C1's 23:59 is Tuesday's: 09:00 and 22:00
    # patients', 22:03 and 09:02 ours; waits W0 and W1.
    assert days[1] == [datetime(2026, 11, 2), 2, 2, 1, 0, 150.0]
    assert trimmed(days[7]) == [datetime(2026, 11, 8), 0, 0, 0, 0]  # C4 and L6 fall on 11-09 in UTC


def test_each_export_is_audited_without_patient_data(metrics_api, clinic):
    response = download(metrics_api, clinic.admin_h, format="csv", separator="semicolon")
    response.get_data()
    with session_scope() as session:
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "metrics.exported")).one()
        assert entry.entity_id == response.headers["X-Export-ID"] and entry.user_id == clinic.admin.id
        assert entry.new_value == {"format": "csv", "separator": "semicolon", "start_date": "2026-11-02",
                                   "end_date": "2026-11-08", "tz": "America/Sao_Paulo", "user_id": None}  # fmt: skip
    assert metrics_api.get(URL).status_code == 401
    bad = metrics_api.get(URL, query_string={"format": "pdf"}, headers=clinic.admin_h)
    assert bad.status_code == 422
