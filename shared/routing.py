"""The one routing table: which function owns which public path prefix.

The local stack serves every function behind one port from this table, and the production ingress is
generated from it. A path belongs to the function with the longest matching prefix.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Function:
    name: str  # functions/<name>/main.py, whose entry point is also called <name>; app.py has create_app()
    extra: str | None  # the optional dependency group its image installs
    prefixes: tuple[str, ...]  # public path prefixes it owns; empty for task and cron targets

    @property
    def source(self) -> str:
        return f"functions/{self.name}/main.py"


FUNCTIONS: tuple[Function, ...] = (Function("secretary_api", "api", ("/api/v1",)),)


def owner_of(path: str) -> Function | None:
    """The function that serves `path`, by longest prefix; None outside the public URL space."""
    best: tuple[int, Function] | None = None
    for function in FUNCTIONS:
        for prefix in function.prefixes:
            matches = path == prefix or path.startswith(prefix.rstrip("/") + "/")
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), function)
    return best[1] if best else None
