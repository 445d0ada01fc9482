"""The HTTP API: FastAPI routers over the package's logic."""
