"""The restore drill's buckets (ops/restore-drill.sh with DRILL_S3_ENDPOINT_URL): create one,
or delete one with every object in it. Only buckets named esure-drill* are ever touched.

    python ops/s3-bucket.py create NAME
    python ops/s3-bucket.py destroy NAME

The store is ESURE_S3_ENDPOINT_URL (empty: AWS); credentials and region from the standard
AWS_* variables, as for esure itself.
"""

import os
import sys

import boto3


def main(action, name):
    if not name.startswith("esure-drill"):
        raise SystemExit(f"refusing to touch bucket {name!r}: not an esure-drill* bucket")
    s3 = boto3.resource("s3", endpoint_url=os.environ.get("ESURE_S3_ENDPOINT_URL") or None)
    bucket = s3.Bucket(name)
    if action == "create":
        bucket.create()
    elif action == "destroy":
        if bucket.creation_date is None:  # no such bucket: nothing to do
            return
        bucket.object_versions.delete()
        bucket.objects.delete()
        bucket.delete()
    else:
        raise SystemExit(f"unknown action {action!r}: create or destroy")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
