"""The public feedback form (card 134): the page the closing message links to, in pt-BR.

It carries no data: the token stays in the link's fragment, which the browser never sends, and the page's script
posts it with the score to POST /api/v1/feedback. Its Content-Security-Policy allows only its own inline script and
style (by hash) and requests to this origin.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from importlib import resources

from shared.feedback.models import COMMENT_MAX


@cache
def feedback_form() -> tuple[bytes, dict[str, str]]:
    """The page and the headers it is served with."""
    page = resources.files("shared.feedback").joinpath("form.html").read_text(encoding="utf-8")
    page = page.replace("__COMMENT_MAX__", str(COMMENT_MAX))
    script, style = (_hash(_inline(page, tag)) for tag in ("script", "style"))
    policy = (f"default-src 'none'; script-src {script}; style-src {style}; connect-src 'self'; "
              "form-action 'none'; base-uri 'none'; frame-ancestors 'none'")  # fmt: skip
    headers = {
        "Content-Security-Policy": policy,
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }
    return page.encode("utf-8"), headers


def _inline(page: str, tag: str) -> str:
    found = re.search(rf"<{tag}>(.*?)</{tag}>", page, re.DOTALL)
    if found is None:
        raise RuntimeError(f"form.html has no <{tag}>")
    return found.group(1)


def _hash(source: str) -> str:
    digest = base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{digest}'"
