"""The shared boto3 operations layer behind both front ends (the CLI and the console).

Every operation takes a ``Clients`` factory (never creates a client at import), returns data or
yields events, never prints, and raises only the exception types in ``operations.errors``.
"""
