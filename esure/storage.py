"""Where stored documents live: the one switch between the local disk and S3-compatible
object storage (docs/decisions/0017-object-storage.md).

esure/settings.py builds STORAGES["default"] with `default_storage_setting` from
ESURE_S3_BUCKET and ESURE_S3_ENDPOINT_URL; the apps only ever use Django's storage API
(FieldFile.save/open, default_storage), so nothing else knows which one it is. Credentials
and region are not settings: boto3 reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
AWS_DEFAULT_REGION (or the host's role) from the environment, and they are never logged.
"""

# Bytes of one object a download keeps in memory; larger ones spill to a temporary file, so
# serving a PDF never holds more than this of it in memory (django-storages' S3File).
S3_MAX_MEMORY_SIZE = 1024 * 1024

# Timeouts and retries of every S3 call: a store that does not answer makes a conclusion fail
# (and roll back) within seconds, instead of holding the transaction and its number counter
# for botocore's default 60 s per attempt.
S3_CONNECT_TIMEOUT = 5
S3_READ_TIMEOUT = 30
S3_MAX_ATTEMPTS = 3


def default_storage_setting(*, bucket="", endpoint_url="", location=""):
    """STORAGES["default"]: the local disk under MEDIA_ROOT without a bucket; with one,
    django-storages' S3 backend on that bucket (which must exist).

    Objects are private (no ACL given: the bucket's own, private, policy applies) and never
    overwritten: a name that exists gets a suffix, so a stored original's bytes never change.
    esure serves them itself after its access checks; no bucket URL is ever handed out.
    `location` is a key prefix inside the bucket (tests give each test its own).
    """
    if not bucket:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    from botocore.config import Config  # only needed, and only imported, with a bucket

    return {
        "BACKEND": "storages.backends.s3.S3Storage",
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


# Bytes read from an object store's answer at a time while it is streamed to the client.
STREAM_CHUNK = 64 * 1024


class _Answer:
    """The body of one S3 GET as a read-only file: read as it arrives, its size from the
    answer's headers, its name the stored name. Closing it closes the answer."""

    def __init__(self, name, body, size):
        self.name, self._body, self.size = name, body, size

    def read(self, size=-1):
        return self._body.read(None if size is None or size < 0 else size)

    def close(self):
        self._body.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_stored(file, storage=None):
    """A stored file opened for reading from its start: `file` a FieldFile or a stored name
    (of `storage`, default_storage by default). The local disk's file itself; from a bucket
    the body of **one GET**, read as it arrives, with its `size`. django-storages' own
    S3File asks three times per file (a HEAD when opened, then s3transfer's HEAD and GET
    through a thread pool) and spools the whole object before its first byte: 13.7 → 3.6 ms
    and 10.4 → 2.3 ms of CPU a 56 kB PDF from SeaweedFS on this machine (bench/README.md).
    FileNotFoundError when there is no such object, as Storage.open raises it."""
    from django.core.files.storage import default_storage  # not at import: settings import us

    name = getattr(file, "name", file)
    storage = getattr(file, "storage", None) or storage or default_storage
    if not hasattr(storage, "bucket_name"):  # the local disk (FileSystemStorage)
        return storage.open(name, "rb")
    from botocore.exceptions import ClientError
    from storages.utils import clean_name

    # The object's key as S3Storage._open makes it: the storage's location + the name.
    key = storage._normalize_name(clean_name(name))
    try:
        answer = storage.connection.meta.client.get_object(Bucket=storage.bucket_name, Key=key)
    except ClientError as error:
        if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
            raise FileNotFoundError(f"no stored file {name}") from error
        raise
    return _Answer(name, answer["Body"], answer["ContentLength"])


def stored_file_response(file, *, content_type, filename=None, as_attachment=False, storage=None):
    """A FileResponse streaming a stored file (open_stored) with its Content-Length: the disk's
    file by the server's sendfile, a bucket's object as one GET, STREAM_CHUNK at a time."""
    from django.http import FileResponse

    opened = open_stored(file, storage)
    names = {"filename": filename} if filename else {}
    response = FileResponse(opened, content_type=content_type, as_attachment=as_attachment, **names)
    if isinstance(opened, _Answer):
        response["Content-Length"] = str(opened.size)
        response.block_size = STREAM_CHUNK
    return response
