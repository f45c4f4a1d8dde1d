from aiadmin.yclients.rate_limiter import SlidingWindowLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


def test_the_sixth_request_in_a_second_waits_for_the_window():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(5, 200, clock=clock, sleep=clock.sleep)
    assert [limiter.acquire() for _ in range(5)] == [0.0] * 5
    assert limiter.acquire() == 1.0


def test_no_more_than_200_requests_leave_in_any_minute():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(5, 200, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(260):
        limiter.acquire()
        stamps.append(clock.now)
    for i, t in enumerate(stamps):
        assert sum(1 for u in stamps[i:] if u - t < 60) <= 200
        assert sum(1 for u in stamps[i:] if u - t < 1) <= 5
