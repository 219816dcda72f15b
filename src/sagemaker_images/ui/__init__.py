"""The web catalog: a read-only view of the catalog at /ui/, server-rendered HTML."""
