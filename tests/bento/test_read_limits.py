"""Read limits with an explicit clock: per client and per user, independent, refilling at the rate."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from bento.auth.limits import ReadLimiter
from bento.auth.settings import load_auth_config
from bento.ingestion.settings import Bucket, ReadRateLimit, load_ingestion_config

LIMITS = ReadRateLimit(per_client=Bucket(per_second=1, burst=3), per_user=Bucket(per_second=0.5, burst=2))


def test_a_user_over_its_burst_waits_for_a_token_and_others_do_not() -> None:
    limiter = ReadLimiter(LIMITS)
    assert limiter.take("web", "u1", now=0.0) is None
    assert limiter.take("app", "u1", now=0.0) is None
    throttled = limiter.take("ios", "u1", now=0.0)
    assert throttled is not None and throttled.scope == "user" and throttled.retry_after_s == 2
    assert limiter.take("ios", "u2", now=0.0) is None, "another user of the same client"
    assert limiter.take("ios", "u1", now=2.0) is None, "one token back after 1 / 0.5 s"


def test_a_client_over_its_burst_is_throttled_whatever_the_user() -> None:
    limiter = ReadLimiter(LIMITS)
    assert [limiter.take("web", f"u{n}", now=0.0) for n in range(3)] == [None] * 3
    throttled = limiter.take("web", "u9", now=0.0)
    assert throttled is not None and throttled.scope == "client" and throttled.retry_after_s == 1
    assert limiter.take("other", "u9", now=0.0) is None
    assert limiter.take("web", "u9", now=0.5) is not None and limiter.take("web", "u9", now=1.6) is None


def test_a_key_of_its_own_limit_gets_its_own_buckets() -> None:
    limiter = ReadLimiter(LIMITS)
    own = Bucket(per_second=1, burst=10)
    assert all(limiter.take("big", f"u{n}", 0.0, own) is None for n in range(10))
    assert limiter.take("big", "u10", 0.0, own) is not None
    assert limiter.take("small", "u0", 0.0) is None


def test_read_limits_sit_beside_the_event_limits_and_are_validated(tmp_path) -> None:
    shipped = load_ingestion_config()
    assert shipped.read_rate_limit.per_user.burst > 0 and shipped.rate_limit.events_per_second > 0
    bad = tmp_path / "ingestion.yaml"
    bad.write_text(yaml.safe_dump({"read_rate_limit": {"per_user": {"per_second": 0, "burst": 5}}}))
    with pytest.raises(ValidationError, match="per_second"):
        load_ingestion_config(bad)


def test_auth_is_on_by_default_and_a_misspelt_setting_is_refused(tmp_path) -> None:
    assert load_auth_config().required is True
    empty = tmp_path / "auth.yaml"
    empty.write_text("")
    assert load_auth_config(empty).required is True, "the default lives in the model"
    typo = tmp_path / "typo.yaml"
    typo.write_text("requierd: false\n")
    with pytest.raises(ValidationError, match="requierd"):
        load_auth_config(typo)
