"""Reading the cases page (/instances/) in tests: its rows as the page shows them."""

from __future__ import annotations

import re

from django.test import Client

ROW = re.compile(r'<tr class="case-row">(.*?)</tr>', re.S)
CELL = re.compile(r'<td data-label="([^"]+)">(.*?)</td>', re.S)
TAG = re.compile(r"<[^>]+>")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def case_rows(response) -> list[dict[str, str]]:
    """Each row as {column label: its text}, in page order."""
    assert response.status_code == 200, response.status_code
    return [
        {label: " ".join(TAG.sub(" ", html).split()) for label, html in CELL.findall(row)}
        for row in ROW.findall(response.content.decode())
    ]


def case_keys(response) -> list[str]:
    return [row["Case"] for row in case_rows(response)]
