"""The local stack: moto, Redis, uvicorn, an EventBridge stand-in, an SQS poller, a platform
sandbox. Only `make dev` and the tests import it; no Lambda function does."""
