"""How long a job waits for a registry between tries, and when it stops."""

from __future__ import annotations

from sagemaker_images.jobs.retry import RetryPolicy


def test_waits_double_from_the_first_delay_up_to_the_cap():
    policy = RetryPolicy(window_seconds=1000, first_delay=0.25, max_delay=30)
    assert [policy.wait(n) for n in range(1, 10)] == [0.25, 0.5, 1, 2, 4, 8, 16, 30, 30]


def test_tries_stop_once_the_waits_would_pass_the_window():
    policy = RetryPolicy(window_seconds=2, first_delay=0.25, max_delay=30)
    # 0.25 + 0.5 + 1 = 1.75 s waited after three tries; a fourth wait (2 s) would pass 2 s.
    assert [policy.next_delay(n) for n in range(1, 5)] == [0.25, 0.5, 1, None]


def test_a_window_shorter_than_the_first_wait_allows_no_retry():
    assert RetryPolicy(window_seconds=0.1).next_delay(1) is None
    assert RetryPolicy(window_seconds=0).next_delay(1) is None
