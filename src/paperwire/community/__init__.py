"""Community use cases: votes, submissions and curation, comments, organizations, claims."""
