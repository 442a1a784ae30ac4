"""Search: keyword (BM25), semantic (embeddings) and hybrid, plus related papers.

The indexes are files derived from the store and rebuildable from it; the store's work
queues say what is out of date (see ``paperwire.store.search_state``).
"""
