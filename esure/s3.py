"""The bucket's storage backend (decision 0061): django-storages' S3 backend, whose files open
for reading in one GET.

django-storages' own `S3File` asks three times per file read — a HEAD when it is opened (to
fail early on a missing object), then s3transfer's HEAD and GET through a thread pool — and
spools the whole object before its first byte: 13.7 ms and 10.4 ms of CPU for a 56 kB PDF
from SeaweedFS on this machine, against 3.6 and 2.3 ms for one GET read as it arrives
(bench/README.md). Every reader goes through the storage API (`FieldFile.open`,
`default_storage.open`), so each one gets it here; writes are django-storages' own.

Only imported with a bucket (esure.storage.default_storage_setting names it): boto3 is not
loaded by a process that stores on the local disk.
"""

from botocore.exceptions import ClientError
from storages.backends import s3
from storages.utils import clean_name


class S3Storage(s3.S3Storage):
    def _open(self, name, mode="rb"):
        if mode != "rb":
            return super()._open(name, mode)
        # The object's key as S3Storage._open makes it: the storage's location + the name.
        key = self._normalize_name(clean_name(name))
        try:
            answer = self.connection.meta.client.get_object(Bucket=self.bucket_name, Key=key)
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                raise FileNotFoundError(f"File does not exist: {name}") from error
            raise
        return Answer(name, answer["Body"], answer["ContentLength"])


class Answer:
    """The body of one GET as a read-only file: read as it arrives, its size from the
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
