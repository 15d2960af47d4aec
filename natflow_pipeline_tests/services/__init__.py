"""Real services the tests start themselves (and stop): moto S3/Cost Explorer, HTTP, NetBox,
dagster dev.

Under CI (``CI=true``) a service that cannot start is a test failure, never a skip.
"""
