"""Container registries: image references, the registries file, the OCI Distribution client
that resolves a reference to its digest, and drift between pinned and current digests."""
