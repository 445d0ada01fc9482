"""Herald: a serverless social-publishing engine."""

__version__ = "0.1.0"
