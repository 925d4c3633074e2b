"""With ``REDIS_URL``, the endpoint's calls and the jobs' model calls draw on one budget per model:
a grant taken elsewhere (here by this process, as a worker's job would take it, through the same
``RateLimiter`` on the same Redis) leaves the endpoint less, and past it the endpoint answers 429
with the limiter's wait, without calling the upstream."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from suite_ai.llm.ratelimit import Limits, RateLimiter
from tests.fakes.mistral_server import FakeMistralServer, reply_for
from tests.support.processes import start_web
from tests.support.redis_server import RedisServer

TOKEN = "docs-backend-model-token"


@pytest.fixture
def redis_url(tmp_path) -> Iterator[str]:
    server = RedisServer(tmp_path)
    server.start()
    yield server.url
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_the_endpoint_and_the_jobs_share_the_limiter_through_redis(redis_url, tmp_path) -> None:
    with FakeMistralServer(api_key="mistral-key") as upstream:
        process, web = start_web(
            tmp_path,
            REDIS_URL=redis_url,
            SUITE_AI_SERVICE_TOKENS=TOKEN,
            MISTRAL_SERVER_URL=upstream.url,
            MISTRAL_API_KEY=upstream.api_key,
            SUITE_AI_MODEL_ROUTES="shared=mistral:shared-upstream",
            SUITE_AI_MODEL_LIMITS="shared-upstream=2/0",
            SUITE_AI_MODEL_ENDPOINT_MAX_WAIT="2",
        )
        try:
            # A worker's job takes one of the two requests of the minute.
            worker_side = RateLimiter(Limits(), redis_url, per_model={"shared-upstream": Limits(2, 0)})
            assert worker_side.try_acquire("shared-upstream", 100).granted
            client = openai.OpenAI(base_url=f"{web}/v1", api_key=TOKEN, max_retries=0, timeout=30)
            answer = client.chat.completions.create(model="shared", messages=[{"role": "user", "content": "un"}])
            assert answer.choices[0].message.content == reply_for("un")
            with pytest.raises(openai.RateLimitError) as limited:
                client.chat.completions.create(model="shared", messages=[{"role": "user", "content": "deux"}])
            assert int(limited.value.response.headers["retry-after"]) > 2
            assert len(upstream.requests) == 1
            # And the worker finds the budget spent by the endpoint.
            assert not worker_side.try_acquire("shared-upstream", 100).granted
        finally:
            process.stop()
