"""The ground every layer stands on: what each resource holds (`records`), each kind of
resource declared once (`kinds`), their states, ARNs and generated identifiers."""
