"""The resize function: an API Gateway -> Lambda handler that resizes S3 originals with Pillow.

Imports only the standard library, Pillow and boto3; never the tooling around it.
"""
