"""crypto_dash: a self-hosted, multi-tenant crypto price dashboard."""

__version__ = "0.1.0"
