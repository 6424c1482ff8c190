"""Masking secrets and PII in tool results and in everything rendered.

Tokens, API keys, passwords, bearer headers, connection-string credentials, JWTs and private
keys are always masked; organisations add their own PII patterns in `engine.pii_patterns`.
Masks keep what helps a reader (the kind of secret, the key name, the URL's host) and drop the
value: `password=[redacted]`, `postgres://app:[redacted]@db:5432/payments`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.engine.answer import Answer, Evidence

MASK = "[redacted]"

# (pattern, replacement): replacements keep a non-secret prefix where it helps the reader.
_BUILTIN: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL
        ),
        "[redacted private key]",
    ),
    # scheme://user:password@host -> keep the user and the host.
    (
        re.compile(r"(?P<pre>\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(?=@)", re.IGNORECASE),
        rf"\g<pre>{MASK}",
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {MASK}"),
    (re.compile(r"(?i)\bToken token=[^\s,;\"']+"), f"Token token={MASK}"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{8,}"), f"xox-{MASK}"),
    (re.compile(r"\bxapp-[A-Za-z0-9-]{8,}"), f"xapp-{MASK}"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), f"sk-{MASK}"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), f"gh_{MASK}"),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), f"AKIA{MASK}"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), f"jwt:{MASK}"),
    # key=value / key: value for names that hold secrets; the key stays, the value goes.
    (
        re.compile(
            r"(?i)(?P<key>\b[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|"
            r"access[_-]?key|private[_-]?key|client[_-]?secret|authorization|credentials?)"
            r"[\"']?\s*[:=]\s*[\"']?)(?!(?:bearer|basic)\b)(?P<value>[^\s\"',;&}]{3,})"
        ),
        rf"\g<key>{MASK}",
    ),
)


class Redactor:
    """Masks secrets always, and the configured PII patterns."""

    def __init__(self, pii_patterns: Iterable[str] = ()) -> None:
        self._extra = tuple(re.compile(p) for p in pii_patterns)

    def redact(self, text: str) -> str:
        for pattern, replacement in _BUILTIN:
            text = pattern.sub(replacement, text)
        for pattern in self._extra:
            text = pattern.sub(MASK, text)
        return text

    def redact_answer(self, answer: Answer) -> Answer:
        """The answer text, evidence and proposals as they will be rendered, masked."""
        evidence = [
            Evidence(
                backend=e.backend,
                query=self.redact(e.query),
                start=e.start,
                end=e.end,
                summary=self.redact(e.summary),
                tool=e.tool,
                status=e.status,
            )
            for e in answer.evidence
        ]
        proposals = [
            p.model_copy(update={"rationale": self.redact(p.rationale)}) for p in answer.proposals
        ]
        return answer.model_copy(
            update={
                "answer": self.redact(answer.answer),
                "evidence": evidence,
                "proposals": proposals,
            }
        )
