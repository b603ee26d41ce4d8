"""Identity document uploads: the type is decided by the file's first bytes, never its name.

`KycMemoryUploadHandler` keeps the upload in memory (up to the size limit) so the clear document
never touches a temporary file on disk; anything larger is counted but not kept.
"""

from __future__ import annotations

from io import BytesIO

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler

DEFAULT_MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

# (magic prefix, content type). PDF may start after a little junk in the wild; we accept only
# files that start with the header, which every mainstream producer writes.
MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
)
ALLOWED_TYPES = tuple(content_type for _, content_type in MAGIC)


def max_document_bytes() -> int:
    return int(getattr(settings, "KYC_MAX_DOCUMENT_BYTES", DEFAULT_MAX_DOCUMENT_BYTES))


def sniff_content_type(head: bytes) -> str | None:
    """The document type from its first bytes, or None when it is not JPEG, PNG or PDF."""
    for prefix, content_type in MAGIC:
        if head.startswith(prefix):
            return content_type
    return None


class KycMemoryUploadHandler(FileUploadHandler):
    """Keeps each uploaded file in memory up to the KYC limit; a bigger one arrives empty with its
    real `size`, so the form refuses it as too large without ever holding or spooling it."""

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = BytesIO()
        self.limit = max_document_bytes()
        self.overflow = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if self.overflow or self.buffer.tell() + len(raw_data) > self.limit:
            self.overflow = True
            self.buffer = BytesIO()
        else:
            self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
