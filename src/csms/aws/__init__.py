"""Adapters to AWS services. Only this package imports boto3."""
