"""A tiny PDF writer for the tests of the pdf-extractor agent.

make_pdf(pages=[["line 1", "line 2"], ...]) -> bytes. Options: compress (FlateDecode content
streams), xref_stream (a PDF 1.5 cross-reference stream and an object stream instead of the classic
table), info (the document information dictionary), font ("winansi": Helvetica with
WinAnsiEncoding, "tounicode": a Type0 font with 2-byte codes and a ToUnicode CMap), use_tj_array
(TJ with kerning, words split by a large gap), hex_strings.
"""

from __future__ import annotations

import zlib


def _literal(text: bytes) -> bytes:
    return b"(" + text.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _pdf_string(text: str) -> bytes:
    try:
        return _literal(text.encode("latin-1"))
    except UnicodeEncodeError:
        return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"


def _content(lines: list[str], font: str, use_tj_array: bool, hex_strings: bool) -> bytes:
    ops = [b"BT", b"/F1 12 Tf", b"14 TL", b"72 720 Td"]
    for n, line in enumerate(lines):
        if font == "tounicode":
            encoded = [
                b"<" + "".join(f"{ord(ch):04X}" for ch in word).encode() + b">"
                for word in line.split(" ")
            ]
        else:
            raw = [word.encode("cp1252") for word in line.split(" ")]
            encoded = [b"<" + w.hex().encode() + b">" if hex_strings else _literal(w) for w in raw]
        if use_tj_array:
            shown = b"[" + b" -250 ".join(encoded) + b"] TJ"
        elif font == "tounicode":
            shown = b"<" + b"0020".join(e[1:-1] for e in encoded) + b"> Tj"
        else:
            space = b"<20>" if hex_strings else b"( )"
            shown = b" ".join(e + b" Tj " + space + b" Tj" for e in encoded[:-1])
            shown = (shown + b" " if shown else b"") + encoded[-1] + b" Tj"
        ops.append(shown if n == 0 else b"T* " + shown)
    ops.append(b"ET")
    return b"\n".join(ops) + b"\n"


TOUNICODE = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
1 beginbfrange
<0000> <FFFF> <0000>
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end
"""


def make_pdf(
    pages: list[list[str]],
    *,
    compress: bool = False,
    xref_stream: bool = False,
    info: dict[str, str] | None = None,
    font: str = "winansi",
    use_tj_array: bool = False,
    hex_strings: bool = False,
) -> bytes:
    objects: dict[int, bytes] = {}

    def stream(d: bytes, data: bytes, flate: bool) -> bytes:
        if flate:
            data = zlib.compress(data)
            d += b" /Filter /FlateDecode"
        return (
            b"<< "
            + d
            + b" /Length "
            + str(len(data)).encode()
            + b" >>\nstream\n"
            + data
            + b"\nendstream"
        )

    n_pages = len(pages)
    page_ids = [10 + 2 * i for i in range(n_pages)]
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    kids = b" ".join(f"{p} 0 R".encode() for p in page_ids)
    objects[2] = (
        b"<< /Type /Pages /Kids ["
        + kids
        + b"] /Count "
        + str(n_pages).encode()
        + b" /Resources << /Font << /F1 3 0 R >> >> /MediaBox [0 0 612 792] >>"
    )
    if font == "tounicode":
        objects[3] = (
            b"<< /Type /Font /Subtype /Type0 /BaseFont /Arial /Encoding /Identity-H /DescendantFonts [5 0 R] /ToUnicode 4 0 R >>"
        )
        objects[4] = stream(b"", TOUNICODE, compress)
        objects[5] = (
            b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Arial /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> >>"
        )
    else:
        objects[3] = (
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
        )
    for pid, lines in zip(page_ids, pages, strict=True):
        objects[pid] = (
            b"<< /Type /Page /Parent 2 0 R /Contents " + str(pid + 1).encode() + b" 0 R >>"
        )
        objects[pid + 1] = stream(b"", _content(lines, font, use_tj_array, hex_strings), compress)
    if info:
        objects[6] = (
            b"<< "
            + b" ".join(b"/" + k.encode() + b" " + _pdf_string(v) for k, v in info.items())
            + b" >>"
        )

    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    if not xref_stream:
        for num in sorted(objects):
            offsets[num] = len(out)
            out += f"{num} 0 obj\n".encode() + objects[num] + b"\nendobj\n"
        size = max(objects) + 1
        xref_at = len(out)
        out += f"xref\n0 {size}\n".encode() + b"0000000000 65535 f \n"
        for num in range(1, size):
            if num in offsets:
                out += f"{offsets[num]:010d} 00000 n \n".encode()
            else:
                out += b"0000000000 00000 f \n"
        trailer = (
            f"<< /Size {size} /Root 1 0 R".encode() + (b" /Info 6 0 R" if info else b"") + b" >>"
        )
        out += b"trailer\n" + trailer + f"\nstartxref\n{xref_at}\n%%EOF\n".encode()
        return bytes(out)

    # PDF 1.5: non-stream objects go into one object stream, the rest stay top level.
    packed = [n for n in sorted(objects) if b"stream\n" not in objects[n]]
    header, body = [], bytearray()
    for num in packed:
        header.append(f"{num} {len(body)}")
        body += objects[num] + b"\n"
    head = " ".join(header).encode() + b"\n"
    objstm_num = max(objects) + 1
    objects[objstm_num] = stream(
        f"/Type /ObjStm /N {len(packed)} /First {len(head)}".encode(), head + bytes(body), True
    )
    for num in sorted(objects):
        if num in packed:
            continue
        offsets[num] = len(out)
        out += f"{num} 0 obj\n".encode() + objects[num] + b"\nendobj\n"
    xref_num = objstm_num + 1
    size = xref_num + 1
    rows = bytearray()
    for num in range(size):
        if num == xref_num:
            rows += bytes([1]) + len(out).to_bytes(4, "big") + b"\0"
        elif num in offsets:
            rows += bytes([1]) + offsets[num].to_bytes(4, "big") + b"\0"
        elif num in packed:
            rows += bytes([2]) + objstm_num.to_bytes(4, "big") + bytes([packed.index(num)])
        else:
            rows += bytes([0]) + b"\0\0\0\0" + b"\xff"
    xref_at = len(out)
    d = f"/Type /XRef /Size {size} /W [1 4 1] /Root 1 0 R".encode() + (
        b" /Info 6 0 R" if info else b""
    )
    out += f"{xref_num} 0 obj\n".encode() + stream(d, bytes(rows), True) + b"\nendobj\n"
    out += f"startxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)
