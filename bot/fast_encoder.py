"""The sentence encoder exported to ONNX and run by ONNX Runtime: faster and torch-free.

PyTorch is needed to train (the fine-tune) but is slow at serving many short questions on a
small CPU. An export folder (written by bot.onnx_export, kept in the bot cache by bot.cache)
holds MODEL_FILE (tokens in, pooled unit-length embedding out), the tokenizer and CONFIG; a
restart loads it in a fraction of a second without torch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.runtime import limit_blas

FORMAT_VERSION = 1  # bump when the exported graph changes, so old exports are rebuilt
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG = "encoder.json"
# Questions per run, grouped by length so little padding is computed (fp32 graph, 200 at
# once: 16 -> 389/s, 32 -> 434/s, 64 -> 423/s; one run over two threads beat two runs over
# one thread each on latency, 3.3 against 6.1 ms for one question).
CHUNK = 32


class FastEncoder:
    """Encodes texts with an exported model folder (blocking; thread-safe)."""

    def __init__(self, folder: Path) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        config = json.loads((folder / CONFIG).read_text())
        if config.get("format") != FORMAT_VERSION:
            raise ValueError(f"{folder}: export format {config.get('format')} is not current")
        self.dim = int(config["dim"])
        self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self._tokenizer.enable_truncation(int(config["max_length"]))
        self._tokenizer.enable_padding(pad_id=int(config["pad_id"]), pad_token=config["pad_token"])
        options = ort.SessionOptions()  # one thread per core, as torch does
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(
            str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"]
        )
        limit_blas()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text, in input order."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for begin in range(0, len(order), CHUNK):
            rows = order[begin : begin + CHUNK]
            out[rows] = self._run([texts[i] for i in rows])
        return out

    def _run(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        (vectors,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask})
        return np.asarray(vectors, dtype=np.float32)
