"""Transport and composition: FastAPI app, settings, endpoints, CLI. No business rules."""
