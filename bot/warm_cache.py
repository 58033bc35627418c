"""`python -m bot.warm_cache`: export the default encoder to ONNX into the bot cache.

Run by `make install` and the Docker build, so even a first start answers without torch.
"""

from __future__ import annotations

from bot.cache import base_export_dir, cached_export, default_cache_dir
from bot.runtime import DEFAULT_MODEL
from bot.torch_encoder import load_model


def main() -> None:
    """Export the default model into the bot cache; print where, or that torch will serve."""
    folder = base_export_dir(default_cache_dir(), DEFAULT_MODEL)
    encoder = cached_export(load_model(DEFAULT_MODEL), folder)
    print(f"exported encoder: {folder}" if encoder else "ONNX export failed; torch will serve")


if __name__ == "__main__":
    main()
