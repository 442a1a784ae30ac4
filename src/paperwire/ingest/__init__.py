"""Ingestion: turning arXiv and Hugging Face data into paperwire's records.

The parsers in this package are pure: they take bytes (or lines of bytes) and
a path used only for error messages, and they yield
:class:`~paperwire.models.ParsedRecord` or :class:`~paperwire.models.RecordError`
values. They never touch the database or the network, so the same code reads a
file on disk, a bulk archive and an HTTP response body.

- ``arxiv_ids``: every spelling of an arXiv identifier -> (id, version)
- ``hf_daily``: Hugging Face ``/api/daily_papers`` responses (three shapes)
- ``arxiv_listing``: daily arXiv listing JSON lines
- ``kaggle``: the Kaggle/Cornell ``arxiv-metadata-oai-snapshot`` JSON lines
- ``arxiv_oai``: OAI-PMH ``arXivRaw`` pages (ListRecords, GetRecord)
- ``arxiv_atom``: arXiv Atom API responses
- ``generic``: the documented JSON-lines format for papers not on arXiv
- ``files``: finding input files, detecting their format, reading them

Shared helpers: ``text`` (whitespace, paragraphs, author strings, LaTeX accents),
``values`` (typed field access, dates), ``jsonl`` (the JSON-lines loop) and
``xmltree`` (XML with line numbers, entity declarations refused).
"""
