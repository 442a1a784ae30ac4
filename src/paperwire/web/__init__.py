"""The web edge: HTML pages, the JSON API and feeds, over the feed services."""
