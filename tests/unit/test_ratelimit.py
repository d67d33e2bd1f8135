"""RateLimiter: a sliding window per key (§5.4)."""

from ewallet.scheduling.ratelimit import RateLimiter


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TestSlidingWindow:
    def test_allows_up_to_the_limit_then_refuses(self) -> None:
        limiter = RateLimiter(3, 60.0, FakeTime())
        assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]

    def test_counts_each_key_apart(self) -> None:
        limiter = RateLimiter(1, 60.0, FakeTime())
        assert limiter.allow("a")
        assert limiter.allow("b")
        assert not limiter.allow("a")

    def test_allows_again_once_the_window_has_passed(self) -> None:
        time = FakeTime()
        limiter = RateLimiter(2, 60.0, time)
        limiter.allow("a")
        time.now += 30
        limiter.allow("a")
        assert not limiter.allow("a")
        time.now += 30
        assert limiter.allow("a")  # the first event left the window
        assert not limiter.allow("a")

    def test_a_refused_request_does_not_count(self) -> None:
        time = FakeTime()
        limiter = RateLimiter(1, 60.0, time)
        limiter.allow("a")
        for _ in range(10):
            limiter.allow("a")
        time.now += 60
        assert limiter.allow("a")

    def test_zero_disables_the_limit(self) -> None:
        limiter = RateLimiter(0, 60.0, FakeTime())
        assert all(limiter.allow("a") for _ in range(1000))
