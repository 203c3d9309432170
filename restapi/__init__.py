"""What every part of the REST API shares: one error shape, strict JSON bodies, paginated
lists and usernames. No app's business lives here."""
