"""The domain: images, versions, aliases. No HTTP, no JSON, no SQL text."""
