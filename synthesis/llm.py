"""An OpenAI-compatible chat client that is optional, replayable and never leaks its key.

Any server that speaks the chat-completions API works (hosted, vLLM, llama.cpp server, Ollama): the base URL,
model and key come from the caller or from OPENAI_BASE_URL / OPENAI_API_KEY. Every exchange is stored in a
`kernel_ir.store.ContentStore`, keyed by (model, messages, sampling parameters) and nothing else, so a re-run
with the same cache replays the answer with no network and no key at all. The key lives only in the SDK
client; it is masked in reprs and scrubbed from every error message, and never reaches the cache.

Retries (429, 5xx, timeouts, dropped connections) use our own backoff, not the SDK's, so that tests and
notebooks control the waiting and every attempt is counted in `Completion.attempts`.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from kernel_ir.diagnostics import XpilerError
from kernel_ir.store import ContentStore, content_key, default_root

RETRY_STATUSES = (408, 409, 429, 500, 502, 503, 504)


class LLMError(XpilerError):
    """The model could not be asked (no key, unreachable, retries spent); the message never holds the key."""


@dataclass(frozen=True)
class LLMConfig:
    """Where and how to ask. Fields left None come from the environment when a request has to be made.

    temperature/max_tokens/seed are the sampling parameters (part of the cache key); stream, timeout_s,
    max_retries and backoff_s only change how an answer travels, so a streamed answer replays a plain one.
    """

    model: str
    base_url: str | None = None
    api_key: str | None = None
    temperature: float = 0.0
    max_tokens: int = 4096
    seed: int | None = 0
    stream: bool = False
    timeout_s: float = 120.0
    max_retries: int = 3
    backoff_s: float = 1.0

    def __repr__(self) -> str:
        return (f"LLMConfig(model={self.model!r}, base_url={self.base_url!r}, api_key={mask(self.api_key)!r}, "
                f"stream={self.stream}, timeout_s={self.timeout_s}, max_retries={self.max_retries})")

    __str__ = __repr__

    def parameters(self) -> dict:
        return {"temperature": self.temperature, "max_tokens": self.max_tokens, "seed": self.seed}


def mask(key: str | None) -> str | None:
    return None if key is None else (key[:3] + "***" if len(key) > 8 else "***")


@dataclass(frozen=True)
class Completion:
    """One answer: its text, whether it came from the cache, its cache key, and the attempts it took."""

    text: str
    cached: bool
    key: str
    attempts: int = 0
    finish_reason: str | None = None


class LLMProvider:
    """Ask a chat model, through the cache. `cache_dir` defaults to <default_root()>/llm."""

    def __init__(self, config: LLMConfig, cache_dir: Path | str | None = None):
        self.config = config
        self.store = ContentStore(Path(cache_dir) if cache_dir is not None else default_root() / "llm")
        self._client = None

    def __repr__(self) -> str:
        return f"LLMProvider({self.config!r}, cache={str(self.store.folder)!r})"

    def cache_key(self, messages: list[dict]) -> str:
        return content_key("chat-completions", self.config.model, messages, self.config.parameters())

    def complete(self, messages: list[dict]) -> Completion:
        """The model's answer to `messages`: replayed from the cache when stored, else asked (with retries)."""
        key = self.cache_key(messages)
        stored = self.store.get(key)
        if stored is not None:
            return Completion(stored["text"], True, key, 0, stored.get("finish_reason"))
        text, finish, attempts = self._ask(messages)
        self.store.put(key, {"model": self.config.model, "messages": messages,
                             "parameters": self.config.parameters(), "text": text, "finish_reason": finish})
        return Completion(text, False, key, attempts, finish)

    # --------------------------------------------------------------------------------------- network ------

    def _ask(self, messages: list[dict]) -> tuple[str, str | None, int]:
        import openai

        client = self._connect()
        last = ""
        for attempt in range(1, self.config.max_retries + 2):
            try:
                text, finish = self._request(client, messages)
                return text, finish, attempt
            except openai.APIStatusError as err:
                if err.status_code not in RETRY_STATUSES:
                    raise self._error(f"the server refused the request (HTTP {err.status_code})", err) from None
                last = f"HTTP {err.status_code}"
                delay = _retry_after(err) or self.config.backoff_s * 2 ** (attempt - 1)
            except openai.APITimeoutError:  # before APIConnectionError: it is a subclass
                last, delay = f"no answer within {self.config.timeout_s:g} s", self.config.backoff_s * 2 ** (attempt - 1)
            except openai.APIConnectionError:
                last, delay = "the server could not be reached", self.config.backoff_s * 2 ** (attempt - 1)
            if attempt <= self.config.max_retries:
                time.sleep(min(delay, 60.0))
        raise LLMError("XP011", f"{self.config.model}: {last} after {self.config.max_retries + 1} attempts",
                       hint="check the server, or raise timeout/max_retries; a cached answer replays offline")

    def _request(self, client, messages: list[dict]) -> tuple[str, str | None]:
        common = {"model": self.config.model, "messages": messages, **self.config.parameters()}
        if self.config.seed is None:
            common.pop("seed")
        if not self.config.stream:
            response = client.chat.completions.create(**common)
            choice = response.choices[0]
            return choice.message.content or "", choice.finish_reason
        parts, finish = [], None
        for chunk in client.chat.completions.create(**common, stream=True):
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta
            if delta is not None and delta.content:
                parts.append(delta.content)
            finish = chunk.choices[0].finish_reason or finish
        return "".join(parts), finish

    def _connect(self):
        if self._client is None:
            import openai

            key = self.config.api_key or os.environ.get("OPENAI_API_KEY")
            base_url = self.config.base_url or os.environ.get("OPENAI_BASE_URL")
            if not key:
                raise LLMError("XP010", f"no API key for {self.config.model} and no cached answer",
                               hint="set OPENAI_API_KEY (any text for a local server) or pass the key option")
            self._secret = key
            self._client = openai.OpenAI(api_key=key, base_url=base_url, timeout=self.config.timeout_s,
                                         max_retries=0)
        return self._client

    def _error(self, message: str, err: Exception) -> LLMError:
        detail = scrub(str(err), getattr(self, "_secret", None))
        return LLMError("XP012", f"{self.config.model}: {scrub(message, getattr(self, '_secret', None))}",
                        detail=detail[:500])


def scrub(text: str, secret: str | None) -> str:
    """`text` with every occurrence of the key replaced by its mask."""
    return text.replace(secret, mask(secret) or "") if secret else text


def _retry_after(err) -> float | None:
    """A server-directed delay (Retry-After seconds, or retry-after-ms), when it sends one."""
    headers = getattr(getattr(err, "response", None), "headers", None) or {}
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        try:
            return float(headers[name]) * scale
        except (KeyError, TypeError, ValueError):
            continue
    return None
