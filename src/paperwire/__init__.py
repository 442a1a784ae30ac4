"""paperwire: a self-hosted, community-curated research-paper feed."""

__version__ = "0.1.0"
