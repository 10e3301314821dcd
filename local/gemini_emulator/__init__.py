"""A Gemini (Generative Language API) emulator that the real google-genai SDK talks to unchanged.

It answers generateContent (and streamGenerateContent) with scripted steps or a default answer, which is a
JSON instance of the request's response schema when there is one, so `response.parsed` works; embedContent
and batchEmbedContents with deterministic vectors; errors in Google's `{"error": {code, message, status}}`.
Control routes under `/_emulator/` (see `control_routes`) script answers and list what was asked.

    python -m local.gemini_emulator --port 8090 --api-key K

    with EmulatorServer(port=0, api_keys=["k"]) as gemini:
        client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=gemini.url))
        gemini.script({"json": {"reply": "Oi!"}}, {"status": 429})
"""

from local.gemini_emulator.emulator import GeminiEmulator
from local.gemini_emulator.schema_instance import GREETING
from local.gemini_emulator.script import ScriptError
from local.gemini_emulator.server import EmulatorServer

__all__ = ["GREETING", "EmulatorServer", "GeminiEmulator", "ScriptError"]
