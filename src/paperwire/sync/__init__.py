"""Keeping the feed fresh: arXiv (Atom API, OAI-PMH) and Hugging Face daily-list syncs."""
