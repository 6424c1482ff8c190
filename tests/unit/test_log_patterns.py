"""`pattern_of`: which parts of a log line are masked, which are kept, and idempotence."""

from __future__ import annotations

import pytest

from tools.patterns import pattern_of


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("timeout after 3000ms for order 123", "timeout after <duration> for order <num>"),
        ("retry in 1.5s (attempt 2)", "retry in <duration> (attempt <num>)"),
        ("Started app in 7.3 seconds (pid 1)", "Started app in <duration> (pid <num>)"),
        (
            "payment 3f2a9c1e-1b2c-4d3e-a4f5-0123456789ab failed",
            "payment <uuid> failed",
        ),
        ("connect to 10.0.3.17:5432 refused", "connect to <ip> refused"),
        ("peer fe80::1ff:fe23:4567:890a down", "peer <ip> down"),
        ("peer 2001:0db8:85a3:0000:0000:8a2e:0370:7334 down", "peer <ip> down"),
        ("mail to john.doe+ops@example.co.uk bounced", "mail to <email> bounced"),
        ("trace 753181c83ecb933910f5aaaa512d0b79 sampled", "trace <hex> sampled"),
        ("client 3fa9c2d1 over limit", "client <hex> over limit"),
        ("bad pointer 0xDEADbeef", "bad pointer <hex>"),
        ("session aZ3kP9qTx1 expired", "session <id> expired"),
        ('query "running shoes" returned 12 hits', 'query "<str>" returned <num> hits'),
        ("user 'bob' not found", "user '<str>' not found"),
        ("at 2026-11-20T08:42:06.070Z the job ran", "at <ts> the job ran"),
        ("GET /api/v1/products/12345 200 13ms", "GET /api/v1/products/<num> 200 <duration>"),
        (
            "GET /v1/payments/3f2a9c1e-1b2c-4d3e-a4f5-0123456789ab 503 3042ms",
            "GET /v1/payments/<uuid> 503 <duration>",
        ),
        (
            "upstream catalog returned 503 after 20ms",
            "upstream catalog returned 503 after <duration>",
        ),
        ("order ORD-1234567 confirmed: 42.50 EUR", "order ORD-<num> confirmed: <num> EUR"),
        ("deployed version 2.14.3 (previous 2.14.2)", "deployed version <num> (previous <num>)"),
        (
            "pool stats (total=50, active=50, idle=0)",
            "pool stats (total=<num>, active=<num>, idle=<num>)",
        ),
        # Apostrophes are not quotes; digits inside words (v1, HTTP2) are not numbers.
        (
            "You can't write against a read only replica.",
            "You can't write against a read only replica.",
        ),
        ("GET /api/v1/orders uses HTTP2 and sha256", "GET /api/v1/orders uses HTTP2 and sha256"),
        ("  many   spaces\tand\ttabs  ", "many spaces and tabs"),
    ],
)
def test_masks(message: str, expected: str) -> None:
    assert pattern_of(message) == expected


def test_lines_that_differ_only_in_variables_share_a_pattern() -> None:
    a = pattern_of("timeout after 3000ms for order 123")
    b = pattern_of("timeout after 4100ms for order 987")
    assert a == b
    uuid_a = "timeout waiting for payment 419d2b2f-d52d-4d43-aea8-ec2768c33e0e from 10.1.2.3"
    uuid_b = "timeout waiting for payment 00094392-8d9a-4172-a67f-0f1d0fbc30f6 from 10.9.8.7"
    assert pattern_of(uuid_a) == pattern_of(uuid_b)


def test_http_statuses_stay_apart() -> None:
    assert pattern_of("POST /v1/payments 503 3042ms") != pattern_of("POST /v1/payments 201 84ms")
    assert pattern_of("POST /v1/payments 201 84ms") == pattern_of("POST /v1/payments 201 91ms")


@pytest.mark.parametrize(
    "message",
    [
        "timeout after 3000ms for order 123",
        "connection pool exhausted (50/50 in use), waited 3000ms",
        'query "lego" returned 4000 hits in 13ms from 10.0.0.1:80 for bob@example.com',
        "payment 3f2a9c1e-1b2c-4d3e-a4f5-0123456789ab captured (12.50 EUR) trace abcdef0123456789",
        "GET /api/v1/products/12345 200 13ms",
        "HikariPool-1 - Pool stats (total=50, active=50, idle=0, waiting=120)",
        "peer ::1 down at 2026-11-20 08:42:06",
    ],
)
def test_idempotent(message: str) -> None:
    once = pattern_of(message)
    assert pattern_of(once) == once


def test_plain_text_is_unchanged() -> None:
    line = "connection reset by peer"
    assert pattern_of(line) == line
