"""The moto fixture serves real S3 over HTTP on loopback."""

import boto3


def test_moto_server_speaks_s3(moto_server):
    s3 = boto3.client("s3", endpoint_url=moto_server)
    s3.create_bucket(Bucket="natflow-smoke")
    s3.put_object(Bucket="natflow-smoke", Key="k", Body=b"v")
    assert s3.get_object(Bucket="natflow-smoke", Key="k")["Body"].read() == b"v"
    assert moto_server.startswith("http://127.0.0.1:")
