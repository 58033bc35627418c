"""The bot brain: knowledge-base matching, confidence policy and evaluation."""

from bot.brain import Brain
from bot.decision import Action, Candidate, Decision, Reason
from bot.kb import Entry
from bot.kbfile import KBFormatError, dump_jsonl, load_entries

__all__ = [
    "Action",
    "Brain",
    "Candidate",
    "Decision",
    "Entry",
    "KBFormatError",
    "Reason",
    "dump_jsonl",
    "load_entries",
]
