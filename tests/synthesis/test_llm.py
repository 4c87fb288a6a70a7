"""The LLM provider against a real loopback server: both transports, retries, timeouts, cache replay, key hygiene."""
from __future__ import annotations

import pytest

from synthesis.llm import LLMConfig, LLMError, LLMProvider
from tests.synthesis.fake_llm import FakeChatServer, Reply

KEY = "sk-test-SECRET123"
MESSAGES = [{"role": "user", "content": "say hello"}]


def provider(server: FakeChatServer, cache, **overrides) -> LLMProvider:
    settings = {"model": "fake-model", "base_url": server.base_url, "api_key": KEY, "timeout_s": 5.0,
                "max_retries": 2, "backoff_s": 0.01, **overrides}
    return LLMProvider(LLMConfig(**settings), cache_dir=cache)


def no_key_anywhere(folder) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(errors="replace"), path


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_answers_through_both_transports(tmp_path, stream: bool) -> None:
    text = "hello " * 30  # several SSE chunks
    with FakeChatServer([Reply(text)]) as server:
        answer = provider(server, tmp_path, stream=stream).complete(MESSAGES)
    assert answer.text == text and not answer.cached and answer.attempts == 1
    sent = server.requests[0]
    assert sent["body"]["model"] == "fake-model" and bool(sent["body"].get("stream")) == stream
    assert sent["headers"]["authorization"] == f"Bearer {KEY}"  # the key goes to the server, and only there
    no_key_anywhere(tmp_path)


def test_retries_a_rate_limit_then_succeeds(tmp_path) -> None:
    with FakeChatServer([Reply(status=429, headers={"retry-after-ms": "5"}), Reply("fine")]) as server:
        answer = provider(server, tmp_path).complete(MESSAGES)
    assert answer.text == "fine" and answer.attempts == 2 and len(server.requests) == 2


def test_server_errors_exhaust_the_retries_without_leaking_the_key(tmp_path) -> None:
    with FakeChatServer([Reply(status=500)]) as server:
        with pytest.raises(LLMError) as caught:
            provider(server, tmp_path).complete(MESSAGES)
    assert len(server.requests) == 3 and "HTTP 500" in caught.value.message
    assert KEY not in str(caught.value) and KEY not in repr(caught.value)
    assert not list(tmp_path.rglob("*.json"))  # nothing cached for a failure


def test_a_slow_server_times_out(tmp_path) -> None:
    with FakeChatServer([Reply("late", delay_s=2.0)]) as server:
        with pytest.raises(LLMError) as caught:
            provider(server, tmp_path, timeout_s=0.3, max_retries=0).complete(MESSAGES)
    assert "no answer within 0.3 s" in caught.value.message


def test_a_refused_request_is_not_retried(tmp_path) -> None:
    with FakeChatServer([Reply(status=400)]) as server:
        with pytest.raises(LLMError, match="HTTP 400"):
            provider(server, tmp_path).complete(MESSAGES)
    assert len(server.requests) == 1


def test_cache_replays_offline_with_no_key(tmp_path, monkeypatch) -> None:
    with FakeChatServer([Reply("cached answer")]) as server:
        first = provider(server, tmp_path).complete(MESSAGES)
        url = server.base_url
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    offline = LLMProvider(LLMConfig("fake-model", base_url=url, stream=True), cache_dir=tmp_path)
    again = offline.complete(MESSAGES)  # the server is gone and there is no key: only the cache can answer
    assert again.text == first.text and again.cached and again.key == first.key
    no_key_anywhere(tmp_path)
    with pytest.raises(LLMError) as caught:  # a prompt never asked before needs the network
        offline.complete([{"role": "user", "content": "something else"}])
    assert caught.value.code == "XP010"


def test_the_key_is_masked_in_reprs(tmp_path) -> None:
    config = LLMConfig("m", base_url="http://127.0.0.1:9/v1", api_key=KEY)
    assert KEY not in repr(config) and KEY not in str(config)
    assert KEY not in repr(LLMProvider(config, cache_dir=tmp_path))


def test_the_cache_key_ignores_transport_and_secrets(tmp_path) -> None:
    plain = LLMProvider(LLMConfig("m", api_key=KEY), tmp_path).cache_key(MESSAGES)
    assert plain == LLMProvider(LLMConfig("m", api_key="other", stream=True, timeout_s=1), tmp_path).cache_key(MESSAGES)
    assert plain != LLMProvider(LLMConfig("m", temperature=0.7), tmp_path).cache_key(MESSAGES)
