"""Where stored documents live: the one switch between the local disk and S3-compatible
object storage (docs/decisions/0017-object-storage.md).

esure/settings.py builds STORAGES["default"] with `default_storage_setting` from
ESURE_S3_BUCKET and ESURE_S3_ENDPOINT_URL; the apps only ever use Django's storage API
(FieldFile.save/open, default_storage), so nothing else knows which one it is. Credentials
and region are not settings: boto3 reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
AWS_DEFAULT_REGION (or the host's role) from the environment, and they are never logged.
"""

# Bytes of an object django-storages' S3File keeps in memory, the rest spilled to a temporary
# file: for a file opened in another mode than "rb" (esure.s3 streams every "rb" read).
S3_MAX_MEMORY_SIZE = 1024 * 1024

# Timeouts and retries of every S3 call: a store that does not answer makes a conclusion fail
# (and roll back) within seconds, instead of holding the transaction and its number counter
# for botocore's default 60 s per attempt.
S3_CONNECT_TIMEOUT = 5
S3_READ_TIMEOUT = 30
S3_MAX_ATTEMPTS = 3


def default_storage_setting(*, bucket="", endpoint_url="", location=""):
    """STORAGES["default"]: the local disk under MEDIA_ROOT without a bucket; with one,
    django-storages' S3 backend on that bucket (which must exist), reading in one GET
    (esure.s3, decision 0061).

    Objects are private (no ACL given: the bucket's own, private, policy applies) and never
    overwritten: a name that exists gets a suffix, so a stored original's bytes never change.
    esure serves them itself after its access checks; no bucket URL is ever handed out.
    `location` is a key prefix inside the bucket (tests give each test its own).
    """
    if not bucket:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    from botocore.config import Config  # only needed, and only imported, with a bucket

    return {
        "BACKEND": "esure.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            # Empty for AWS itself; the URL of any other S3-compatible store.
            "endpoint_url": endpoint_url or None,
            "location": location,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
            "max_memory_size": S3_MAX_MEMORY_SIZE,
            "client_config": Config(
                signature_version="s3v4",
                # Path-style addressing for a store of one's own (its host name is not a
                # wildcard DNS domain); AWS chooses for itself.
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                connect_timeout=S3_CONNECT_TIMEOUT,
                read_timeout=S3_READ_TIMEOUT,
                retries={"max_attempts": S3_MAX_ATTEMPTS, "mode": "standard"},
            ),
        },
    }


# Bytes read at a time when a stored file is streamed to the client (a bucket's answer; the
# local disk's file goes out by the server's sendfile).
STREAM_CHUNK = 64 * 1024


def stored_file_response(file, *, content_type, filename=None, as_attachment=False):
    """A FileResponse streaming a stored file — `file` a FieldFile or a default storage name —
    opened through its storage (from a bucket: one GET, esure.s3), with its Content-Length
    (FileResponse measures a file on disk itself; a bucket's answer states its size)."""
    from django.core.files.storage import default_storage  # not at import: settings import us
    from django.http import FileResponse

    storage = getattr(file, "storage", default_storage)
    opened = storage.open(getattr(file, "name", file), "rb")
    names = {"filename": filename} if filename else {}
    response = FileResponse(opened, content_type=content_type, as_attachment=as_attachment, **names)
    if not response.has_header("Content-Length") and getattr(opened, "size", None) is not None:
        response["Content-Length"] = str(opened.size)
    response.block_size = STREAM_CHUNK
    return response
