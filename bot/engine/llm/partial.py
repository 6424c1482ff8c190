"""The honest partial answer, written by Vigie (not the model) when the loop did not conclude.

It says why the loop stopped (step limit, deadline, endpoint failure), what was checked (each
query of the evidence, with the first line of its result) and what was not (the tool calls
the model asked for that never ran), in the question's language. Every figure in it comes
from the evidence, like any answer.
"""

from __future__ import annotations

from bot.engine.answer import Evidence, Language
from bot.engine.llm.run import RunSnapshot, StopReason

_TEXT: dict[str, dict[str, str]] = {
    "en": {
        StopReason.STEP_LIMIT: (
            "Partial answer: I stopped after {steps} model turns (the limit) before reaching a "
            "conclusion."
        ),
        StopReason.DEADLINE: (
            "Partial answer: the {deadline} s allowed for a question ran out before I reached a "
            "conclusion."
        ),
        StopReason.LLM_ERROR: (
            "Partial answer: the language model failed ({error}), so I could not reach a "
            "conclusion."
        ),
        "checked": "Checked so far:",
        "nothing_checked": "Nothing was checked yet.",
        "not_checked": "Not checked:",
        "rest_not_checked": (
            "Not checked: the rest of the investigation; the question is not fully answered."
        ),
        "retry": "Ask again with a narrower question (one service, a shorter window).",
        "error": "error",
    },
    "fr": {
        StopReason.STEP_LIMIT: (
            "Réponse partielle : je me suis arrêté après {steps} tours du modèle (la limite) "
            "sans avoir pu conclure."
        ),
        StopReason.DEADLINE: (
            "Réponse partielle : les {deadline} s accordées à une question sont écoulées avant "
            "que je puisse conclure."
        ),
        StopReason.LLM_ERROR: (
            "Réponse partielle : le modèle de langage a échoué ({error}) ; je n'ai pas pu conclure."
        ),
        "checked": "Vérifié jusqu'ici :",
        "nothing_checked": "Rien n'a encore été vérifié.",
        "not_checked": "Non vérifié :",
        "rest_not_checked": (
            "Non vérifié : la suite de l'enquête ; la question n'a pas de réponse complète."
        ),
        "retry": "Reposez une question plus ciblée (un service, une fenêtre plus courte).",
        "error": "erreur",
    },
}


def _first_line(text: str, max_chars: int = 160) -> str:
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= max_chars else line[: max_chars - 1] + "…"


def partial_answer(
    snapshot: RunSnapshot,
    evidence: list[Evidence],
    language: Language,
    *,
    reason: StopReason,
    deadline_s: float,
) -> str:
    words = _TEXT[language]
    lines = [
        words[reason].format(
            steps=snapshot.steps,
            deadline=f"{deadline_s:g}",
            error=snapshot.error or "?",
        )
    ]
    if evidence:
        lines.append(words["checked"])
        for item in evidence:
            outcome = _first_line(item.summary)
            if item.status == "error":
                outcome = f"{words['error']}: {outcome}"
            query = f" `{item.query}`" if item.query else ""
            lines.append(f"- {item.tool}{query}: {outcome}")
    else:
        lines.append(words["nothing_checked"])
    if snapshot.not_checked:
        lines.append(words["not_checked"])
        lines.extend(f"- {call}" for call in snapshot.not_checked)
    else:
        lines.append(words["rest_not_checked"])
    lines.append(words["retry"])
    return "\n".join(lines)
