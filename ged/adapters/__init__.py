"""Adapters to the outside world: database, file store, password hashing, jobs."""
