"""Who is calling: access keys and their accounts, SigV4 signatures verified."""
