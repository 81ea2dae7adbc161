"""Hostile files shared by the adversarial tests: a PDF decompression bomb."""

import struct
import zlib


def decompression_bomb_pdf(padding=100 * 1024 * 1024) -> bytes:
    """A PDF of ~100 KB whose catalog sits in an object stream that inflates to 100 MB of spaces."""
    obj1 = b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [] >> >>"
    obj2 = b"<< /Type /Pages /Kids [] /Count 0 >>"
    header = (b"1 0 2 %d " % (len(obj1) + padding)).ljust(32)
    compressor = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    parts = [compressor.compress(header + obj1)]
    parts += [compressor.compress(chunk) for _ in range(padding // len(chunk))]
    parts += [compressor.compress(obj2), compressor.flush()]
    stream = b"".join(parts)
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    object_stream_at = len(out)
    out += b"3 0 obj\n<< /Type /ObjStm /N 2 /First 32 /Filter /FlateDecode /Length %d >>\nstream\n" % len(stream)
    out += stream + b"\nendstream\nendobj\n"
    xref_at = len(out)
    rows = [(0, 0, 65535), (2, 3, 0), (2, 3, 1), (1, object_stream_at, 0), (1, xref_at, 0)]
    xref = b"".join(struct.pack(">BIH", *row) for row in rows)
    out += b"4 0 obj\n<< /Type /XRef /Size 5 /Root 1 0 R /W [1 4 2] /Index [0 5] /Length %d >>\nstream\n" % len(xref)
    out += xref + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)
