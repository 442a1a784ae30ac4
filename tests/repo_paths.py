"""Where the tests find the repository, the real data and the embedding-model cache.

A module of its own so that any test can import these: pytest loads every ``conftest.py``
under the module name ``conftest``, so ``from conftest import ...`` in a test gets
whichever conftest was loaded last (in a whole run, tests/browser's).
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT.parent / "shared" / "data"
HF_DIR = DATA_DIR / "hf-daily-papers"
LISTINGS_DIR = DATA_DIR / "arxiv-daily-listings"
FORMATS_DIR = DATA_DIR / "arxiv-formats"
SCIFACT_DIR = DATA_DIR / "eval" / "scifact"
# The optimized embedding model is built once from the packaged weights and kept here
# between runs (git-ignored); concurrent builds are safe (atomic rename).
MODEL_DIR = REPO_ROOT / ".cache" / "models"
