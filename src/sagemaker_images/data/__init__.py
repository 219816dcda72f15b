"""The catalog as data: backups, export and import in a documented format, and copies from
any SageMaker-compatible endpoint."""
