"""Progress: the pure rule (`rule`), per-content rules (`rules`), the callback use case (`ingest`) and
what it needs from storage (`ports`)."""
