"""Why the bot would decide what it decides: the policy's signals for one question, in words.

For the admin's "try a question": the same decision a visitor would get (Index.decide_many),
with the numbers behind it and a reason code the page can explain.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.decision import Action, Decision, Reason
from bot.encoding import encode
from bot.index import Index, score_queries


class Why:
    """Reason codes of an explanation (strings: they go out as JSON as they are)."""

    CONFIDENT = "confident"  # answered: at or above the answer threshold, clear of the rest
    BELOW_ANSWER = "below_answer"  # asks "did you mean": above clarify, below answer
    TOO_CLOSE = "too_close"  # asks: the runner-up is within the margin (nearest-neighbour mode)
    SCORERS_DISAGREE = "scorers_disagree"  # asks: head and nearest phrasing differ (head mode)
    BELOW_CLARIFY = "below_clarify"  # escalates: below the clarify threshold
    NO_ALTERNATIVE = "no_alternative"  # escalates: unsure, and nothing else to offer
    ASKED_FOR_HUMAN = "asked_for_human"  # escalates: the visitor asked for a person
    EMPTY = "empty"  # escalates: the knowledge base has no entries


@dataclass(frozen=True)
class Explanation:
    """A decision with the signals that led to it."""

    decision: Decision
    why: str  # one of Why
    confidence: float
    runner_up_gap: float | None  # top ranking score minus the second one
    agree: bool  # the independent signals point at the same entry
    thresholds: dict[str, float]
    stage: str


def explain(index: Index, text: str) -> Explanation:
    """Decide `text` as a visitor's first question, and say why (blocking: encodes)."""
    decision = index.decide_many([text])[0]
    t = index.thresholds_for(decision.language)
    if not index.entries:
        return Explanation(decision, Why.EMPTY, 0.0, None, False, t.as_dict(), index.stage)
    scores = score_queries(
        encode(index.model, [text]), index.vectors, index.starts, index.head, t.margin
    )
    ranking = sorted((float(x) for x in scores.ranking[0]), reverse=True)
    gap = round(ranking[0] - ranking[1], 4) if len(ranking) > 1 else None
    agree = bool(scores.agree[0])
    confidence = float(scores.confidence[0])  # unrounded: compared with the thresholds
    if decision.reason is Reason.ASKED_FOR_HUMAN:
        why = Why.ASKED_FOR_HUMAN
    elif decision.action is Action.ANSWER:
        why = Why.CONFIDENT
    elif decision.action is Action.CLARIFY:
        if confidence < t.answer:
            why = Why.BELOW_ANSWER
        else:
            why = Why.SCORERS_DISAGREE if index.head is not None else Why.TOO_CLOSE
    elif confidence < t.clarify:
        why = Why.BELOW_CLARIFY
    else:
        why = Why.NO_ALTERNATIVE
    return Explanation(decision, why, decision.score, gap, agree, t.as_dict(), index.stage)
