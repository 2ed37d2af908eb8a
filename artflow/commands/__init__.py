"""CLI verbs that live in their own modules (loaded lazily by artflow.cli): train, models, export."""
