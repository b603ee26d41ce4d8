"""A minimal PDF text extractor in pure Python (standard library only).

Covers what most text PDFs use: classic xref tables and xref streams (PDF 1.5) with a scan of the
whole file as a fallback, object streams, the page tree with inherited resources, content streams
(FlateDecode with PNG predictors, ASCIIHex, ASCII85, RunLength, LZW), form XObjects, the text
operators Tj / TJ / ' / " with literal and hex strings, simple fonts (WinAnsi, MacRoman, Standard
encodings and /Differences) and ToUnicode CMaps (bfchar / bfrange, 1- and 2-byte codes).
Encrypted PDFs are refused. Importable without the agent SDK.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib

MAX_PAGES = 5000
MAX_FORM_DEPTH = 8
DEFAULT_MAX_CHARS = 100_000


class PDFError(Exception):
    """The input is not a PDF this extractor can read; `code` is the agent error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# ----------------------------------------------------------------------------------- objects


class Name(str):
    """A PDF name (/Type); a str subclass so it compares with plain strings."""


class Ref(tuple):
    __slots__ = ()

    def __new__(cls, num: int, gen: int):
        return super().__new__(cls, (num, gen))


class Stream:
    __slots__ = ("dict", "raw")

    def __init__(self, d: dict, raw: bytes) -> None:
        self.dict = d
        self.raw = raw


class Operator(str):
    """A content-stream operator (Tj, BT, ...)."""


WHITESPACE = b"\x00\t\n\x0c\r "
DELIMITERS = b"()<>[]{}/%"
_NUMBER = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)")
_REGULAR = re.compile(rb"[^\x00\t\n\x0c\r ()<>\[\]{}/%]+")
ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


class Lexer:
    """Tokens of PDF syntax over `data` from `pos`. Strings come back as bytes, names as Name,
    numbers as int / float, keywords (true, obj, R, Tj, ...) as Operator."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def skip_space(self) -> None:
        data, n = self.data, len(self.data)
        while self.pos < n:
            c = data[self.pos]
            if c in WHITESPACE:
                self.pos += 1
            elif c == 0x25:  # % comment to end of line
                end = data.find(b"\n", self.pos)
                end2 = data.find(b"\r", self.pos)
                ends = [e for e in (end, end2) if e != -1]
                self.pos = min(ends) if ends else n
            else:
                break

    def token(self):
        """The next token, or None at the end of the data."""
        self.skip_space()
        data = self.data
        if self.pos >= len(data):
            return None
        c = data[self.pos : self.pos + 1]
        if c == b"(":
            return self._literal()
        if c == b"<":
            if data[self.pos + 1 : self.pos + 2] == b"<":
                self.pos += 2
                return Operator("<<")
            return self._hex()
        if c == b">":
            if data[self.pos + 1 : self.pos + 2] == b">":
                self.pos += 2
                return Operator(">>")
            self.pos += 1
            return Operator(">")
        if c in (b"[", b"]", b"{", b"}"):
            self.pos += 1
            return Operator(c.decode())
        if c == b"/":
            m = _REGULAR.match(data, self.pos + 1)
            raw = m.group(0) if m else b""
            self.pos += 1 + len(raw)
            return Name(
                re.sub(rb"#([0-9A-Fa-f]{2})", lambda x: bytes([int(x[1], 16)]), raw).decode(
                    "latin-1"
                )
            )
        m = _REGULAR.match(data, self.pos)
        if not m:  # a stray delimiter such as ')'
            self.pos += 1
            return Operator(c.decode("latin-1"))
        word = m.group(0)
        self.pos = m.end()
        if _NUMBER.fullmatch(word):
            try:
                return int(word) if b"." not in word else float(word)
            except ValueError:
                return 0
        return Operator(word.decode("latin-1"))

    def _literal(self) -> bytes:
        data, n = self.data, len(self.data)
        i = self.pos + 1
        depth = 1
        out = bytearray()
        while i < n:
            c = data[i]
            if c == 0x5C:  # backslash
                i += 1
                if i >= n:
                    break
                e = data[i : i + 1]
                if e in ESCAPES:
                    out += ESCAPES[e]
                    i += 1
                elif e in b"01234567":
                    m = re.match(rb"[0-7]{1,3}", data[i : i + 3])
                    out.append(int(m.group(0), 8) & 0xFF)
                    i += len(m.group(0))
                elif e == b"\r":  # line continuation
                    i += 2 if data[i + 1 : i + 2] == b"\n" else 1
                elif e == b"\n":
                    i += 1
                else:
                    out += e
                    i += 1
                continue
            if c == 0x28:
                depth += 1
            elif c == 0x29:
                depth -= 1
                if depth == 0:
                    i += 1
                    break
            out.append(c)
            i += 1
        self.pos = i
        return bytes(out)

    def _hex(self) -> bytes:
        end = self.data.find(b">", self.pos)
        end = len(self.data) if end == -1 else end
        digits = re.sub(rb"[^0-9A-Fa-f]", b"", self.data[self.pos + 1 : end])
        self.pos = end + 1
        if len(digits) % 2:
            digits += b"0"
        return binascii.unhexlify(digits)


def parse_object(lex: Lexer, tok=None):
    """One complete object (arrays and dictionaries included; `n g R` becomes a Ref)."""
    if tok is None:
        tok = lex.token()
    if isinstance(tok, Operator):
        if tok == "[":
            items = []
            while True:
                t = lex.token()
                if t is None or t == "]":
                    return _refs(items)
                items.append(parse_object(lex, t))
        if tok == "<<":
            items = []
            while True:
                t = lex.token()
                if t is None or t == ">>":
                    break
                items.append(parse_object(lex, t))
            items = _refs(items)
            return {
                items[i]: items[i + 1]
                for i in range(0, len(items) - 1, 2)
                if isinstance(items[i], Name)
            }
        if tok == "true":
            return True
        if tok == "false":
            return False
        if tok == "null":
            return None
    return tok


def _refs(items: list) -> list:
    """Fold `int int R` triples into Ref."""
    out: list = []
    for item in items:
        if (
            isinstance(item, Operator)
            and item == "R"
            and len(out) >= 2
            and type(out[-1]) is int
            and type(out[-2]) is int
        ):
            gen, num = out.pop(), out.pop()
            out.append(Ref(num, gen))
        else:
            out.append(item)
    return out


# ----------------------------------------------------------------------------------- filters


def _png_unpredict(data: bytes, columns: int, colors: int = 1, bpc: int = 8) -> bytes:
    bpp = max(1, colors * bpc // 8)
    row_len = (columns * colors * bpc + 7) // 8
    out = bytearray()
    prev = bytearray(row_len)
    i = 0
    while i + 1 + row_len <= len(data) + 0:
        ftype = data[i]
        row = bytearray(data[i + 1 : i + 1 + row_len])
        i += 1 + row_len
        for x in range(row_len):
            left = row[x - bpp] if x >= bpp else 0
            up = prev[x]
            if ftype == 1:
                row[x] = (row[x] + left) & 0xFF
            elif ftype == 2:
                row[x] = (row[x] + up) & 0xFF
            elif ftype == 3:
                row[x] = (row[x] + ((left + up) >> 1)) & 0xFF
            elif ftype == 4:
                ul = prev[x - bpp] if x >= bpp else 0
                p = left + up - ul
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else ul)
                row[x] = (row[x] + pred) & 0xFF
        out += row
        prev = row
    return bytes(out)


def _flate(data: bytes) -> bytes:
    try:
        return zlib.decompress(data)
    except zlib.error:
        # Truncated or slightly damaged streams: keep what decompresses (raw deflate too).
        for wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS):
            d = zlib.decompressobj(wbits)
            try:
                out = d.decompress(data)
            except zlib.error:
                continue
            if out:
                return out
        raise


def _lzw(data: bytes, early: int = 1) -> bytes:
    out = bytearray()
    table = [bytes([i]) for i in range(256)] + [b"", b""]
    width, bitpos, prev = 9, 0, None
    total = len(data) * 8
    while bitpos + width <= total:
        byte, value = bitpos >> 3, 0
        chunk = int.from_bytes(data[byte : byte + 4].ljust(4, b"\0"), "big")
        value = (chunk >> (32 - (bitpos & 7) - width)) & ((1 << width) - 1)
        bitpos += width
        if value == 256:
            table, width, prev = table[:258], 9, None
            continue
        if value == 257:
            break
        if prev is None:
            entry = table[value]
        elif value < len(table):
            entry = table[value]
            table.append(prev + entry[:1])
        else:
            entry = prev + prev[:1]
            table.append(entry)
        out += entry
        prev = entry
        if len(table) + early >= (1 << width) and width < 12:
            width += 1
    return bytes(out)


def decode_stream(stream: Stream, resolve) -> bytes:
    d = stream.dict
    filters = resolve(d.get("Filter"))
    parms = resolve(d.get("DecodeParms"))
    if filters is None:
        return stream.raw
    if not isinstance(filters, list):
        filters, parms = [filters], [parms]
    elif not isinstance(parms, list):
        parms = [parms] * len(filters)
    data = stream.raw
    for f, p in zip(filters, parms + [None] * len(filters), strict=False):
        f = resolve(f)
        p = resolve(p) or {}
        if f in ("FlateDecode", "Fl"):
            data = _flate(data)
        elif f in ("LZWDecode", "LZW"):
            data = _lzw(data, int(p.get("EarlyChange", 1)))
        elif f in ("ASCIIHexDecode", "AHx"):
            digits = re.sub(rb"[^0-9A-Fa-f]", b"", data.split(b">")[0])
            data = binascii.unhexlify(digits + b"0" * (len(digits) % 2))
        elif f in ("ASCII85Decode", "A85"):
            body = re.sub(rb"\s", b"", data)
            body = body[2:] if body.startswith(b"<~") else body
            body = body.split(b"~>")[0]
            data = base64.a85decode(body)
        elif f in ("RunLengthDecode", "RL"):
            out, i = bytearray(), 0
            while i < len(data) and data[i] != 128:
                n = data[i]
                if n < 128:
                    out += data[i + 1 : i + 2 + n]
                    i += n + 2
                else:
                    out += data[i + 1 : i + 2] * (257 - n)
                    i += 2
            data = bytes(out)
        else:
            raise PDFError("unsupported_filter", f"stream filter {f} is not supported")
        if isinstance(p, dict) and int(resolve(p.get("Predictor", 1)) or 1) >= 10:
            data = _png_unpredict(
                data,
                int(resolve(p.get("Columns", 1)) or 1),
                int(resolve(p.get("Colors", 1)) or 1),
                int(resolve(p.get("BitsPerComponent", 8)) or 8),
            )
    return data


# ---------------------------------------------------------------------------------- document

_OBJ_HEADER = re.compile(rb"(?<![0-9])(\d{1,10})\s+(\d{1,5})\s+obj\b")


class Document:
    def __init__(self, data: bytes) -> None:
        start = data.find(b"%PDF-")
        if start == -1 or start > 1024:
            raise PDFError("not_a_pdf", "the input does not start with a %PDF- header")
        self.data = data
        m = re.match(rb"%PDF-(\d\.\d)", data[start:])
        self.version = m.group(1).decode() if m else None
        self.offsets: dict[int, int] = {}  # object number -> file offset
        self.in_objstm: dict[int, tuple[int, int]] = {}  # object number -> (stream num, index)
        self.cache: dict[int, object] = {}
        self.trailer: dict = {}
        self.warnings: list[str] = []
        try:
            self._read_xref_chain()
        except (PDFError, ValueError, IndexError, KeyError, TypeError, zlib.error) as exc:
            self.warnings.append(f"xref unreadable ({exc}); objects located by scanning the file")
            self.offsets, self.in_objstm, self.trailer = {}, {}, {}
        if not self.trailer.get("Root") or not self._sane_offsets():
            self._scan()
        if "Encrypt" in self.trailer:
            raise PDFError("encrypted_pdf", "the PDF is encrypted; decrypt it first")

    # xref ---------------------------------------------------------------------------------
    def _read_xref_chain(self) -> None:
        idx = self.data.rfind(b"startxref")
        if idx == -1:
            raise PDFError("no_xref", "no startxref")
        offset = Lexer(self.data, idx + 9).token()
        seen: set[int] = set()
        while isinstance(offset, int) and offset not in seen and 0 <= offset < len(self.data):
            seen.add(offset)
            lex = Lexer(self.data, offset)
            tok = lex.token()
            if tok == "xref":
                trailer = self._xref_table(lex)
            elif isinstance(tok, int):
                trailer = self._xref_stream(offset)
            else:
                raise PDFError("bad_xref", f"no xref at offset {offset}")
            for key, value in trailer.items():
                self.trailer.setdefault(key, value)
            if isinstance(trailer.get("XRefStm"), int):
                self._xref_stream(trailer["XRefStm"])
            offset = trailer.get("Prev")

    def _xref_table(self, lex: Lexer) -> dict:
        while True:
            tok = lex.token()
            if tok == "trailer":
                d = parse_object(lex)
                return d if isinstance(d, dict) else {}
            if not isinstance(tok, int):
                raise PDFError("bad_xref", "malformed xref table")
            first, count = tok, lex.token()
            for i in range(count):
                off, _gen, kind = lex.token(), lex.token(), lex.token()
                if (
                    kind == "n"
                    and (first + i) not in self.offsets
                    and first + i not in self.in_objstm
                ):
                    self.offsets[first + i] = off
                elif kind == "f":
                    self.offsets.setdefault(first + i, -1)

    def _xref_stream(self, offset: int) -> dict:
        obj = self._parse_at(offset)
        if not isinstance(obj, Stream):
            raise PDFError("bad_xref", "xref stream expected")
        d = obj.dict
        data = decode_stream(obj, self.resolve_direct)
        widths = d["W"]
        index = d.get("Index") or [0, d["Size"]]
        row = sum(widths)
        pos = 0
        for first, count in zip(index[::2], index[1::2], strict=False):
            for num in range(first, first + count):
                fields, p = [], pos
                for w in widths:
                    fields.append(int.from_bytes(data[p : p + w], "big") if w else None)
                    p += w
                pos += row
                kind = 1 if widths[0] == 0 else fields[0]
                if num in self.offsets or num in self.in_objstm:
                    continue
                if kind == 1:
                    self.offsets[num] = fields[1]
                elif kind == 2:
                    self.in_objstm[num] = (fields[1], fields[2] or 0)
                elif kind == 0:
                    self.offsets[num] = -1
        return d

    def _sane_offsets(self) -> bool:
        for num, off in list(self.offsets.items())[:50]:
            if off >= 0 and not self.data.startswith(str(num).encode(), off):
                return False
        return True

    def _scan(self) -> None:
        """Recovery: locate every `n g obj` in file order (later definitions win)."""
        self.offsets, self.in_objstm, self.cache = {}, {}, {}
        for m in _OBJ_HEADER.finditer(self.data):
            self.offsets[int(m.group(1))] = m.start()
        trailer: dict = {}
        for m in re.finditer(rb"trailer\s*<<", self.data):
            d = parse_object(Lexer(self.data, m.start() + 7))
            if isinstance(d, dict):
                trailer.update(d)
        for num in list(self.offsets):
            obj = self.get(num)
            if isinstance(obj, Stream):
                if obj.dict.get("Type") == "XRef":
                    for key in ("Root", "Info", "Encrypt"):
                        if key in obj.dict:
                            trailer.setdefault(key, obj.dict[key])
                elif obj.dict.get("Type") == "ObjStm":
                    self._objstm_numbers(num, int(self.resolve(obj.dict.get("N", 0)) or 0))
        if "Root" not in trailer:
            for num in list(self.offsets) + list(self.in_objstm):
                obj = self.get(num)
                if isinstance(obj, dict) and obj.get("Type") == "Catalog":
                    trailer["Root"] = Ref(num, 0)
        self.trailer = trailer

    def _objstm_numbers(self, stm_num: int, n: int) -> None:
        stm = self.get(stm_num)
        data = decode_stream(stm, self.resolve)
        lex = Lexer(data)
        for i in range(n):
            num, _off = lex.token(), lex.token()
            if isinstance(num, int) and num not in self.offsets:
                self.in_objstm.setdefault(num, (stm_num, i))

    # objects ------------------------------------------------------------------------------
    def _parse_at(self, offset: int):
        lex = Lexer(self.data, offset)
        lex.token(), lex.token()
        if lex.token() != "obj":
            raise PDFError("bad_object", f"no object at offset {offset}")
        obj = parse_object(lex)
        save = lex.pos
        if lex.token() == "stream" and isinstance(obj, dict):
            pos = lex.pos
            if self.data[pos : pos + 2] == b"\r\n":
                pos += 2
            elif self.data[pos : pos + 1] in (b"\n", b"\r"):
                pos += 1
            length = obj.get("Length")
            if isinstance(length, Ref):
                length = self.resolve(length)
            end = pos + length if isinstance(length, int) and length >= 0 else -1
            if end < 0 or self.data[end : end + 40].lstrip()[:9] != b"endstream":
                found = self.data.find(b"endstream", pos)
                end = len(self.data) if found == -1 else found
                while end > pos and self.data[end - 1 : end] in (b"\n", b"\r"):
                    end -= 1
            return Stream(obj, self.data[pos:end])
        lex.pos = save
        return obj

    def get(self, num: int):
        if num in self.cache:
            return self.cache[num]
        self.cache[num] = None  # breaks reference cycles during parsing
        obj = None
        try:
            if num in self.offsets and self.offsets[num] >= 0:
                obj = self._parse_at(self.offsets[num])
            elif num in self.in_objstm:
                stm_num, index = self.in_objstm[num]
                obj = self._from_objstm(stm_num, index, num)
        except (PDFError, ValueError, IndexError, KeyError, TypeError, zlib.error) as exc:
            self.warnings.append(f"object {num} unreadable: {exc}")
        self.cache[num] = obj
        return obj

    def _from_objstm(self, stm_num: int, index: int, num: int):
        stm = self.get(stm_num)
        if not isinstance(stm, Stream):
            return None
        data = decode_stream(stm, self.resolve)
        n = int(self.resolve(stm.dict.get("N", 0)) or 0)
        first = int(self.resolve(stm.dict.get("First", 0)) or 0)
        lex = Lexer(data)
        pairs = [(lex.token(), lex.token()) for _ in range(n)]
        offset = next((off for onum, off in pairs if onum == num), None)
        if offset is None and index < len(pairs):
            offset = pairs[index][1]
        return parse_object(Lexer(data, first + int(offset))) if offset is not None else None

    def resolve(self, obj, depth: int = 0):
        while isinstance(obj, Ref) and depth < 32:
            obj = self.get(obj[0])
            depth += 1
        return obj

    def resolve_direct(self, obj):
        """Resolve only what is already known (while reading the xref itself)."""
        if isinstance(obj, Ref) and obj[0] in self.offsets and self.offsets[obj[0]] >= 0:
            return self.resolve(obj)
        return None if isinstance(obj, Ref) else obj

    # pages --------------------------------------------------------------------------------
    def pages(self) -> list[dict]:
        root = self.resolve(self.trailer.get("Root"))
        if not isinstance(root, dict):
            raise PDFError("no_catalog", "the PDF has no document catalog")
        out: list[dict] = []
        seen: set[int] = set()

        def walk(ref, inherited: dict, depth: int) -> None:
            if depth > 64 or len(out) >= MAX_PAGES:
                return
            if isinstance(ref, Ref):
                if ref[0] in seen:
                    return
                seen.add(ref[0])
            node = self.resolve(ref)
            if not isinstance(node, dict):
                return
            attrs = dict(inherited)
            for key in ("Resources", "MediaBox", "Rotate"):
                if key in node:
                    attrs[key] = node[key]
            kids = self.resolve(node.get("Kids"))
            if node.get("Type") == "Pages" or (
                node.get("Type") != "Page" and isinstance(kids, list)
            ):
                for kid in kids or []:
                    walk(kid, attrs, depth + 1)
            else:
                page = dict(node)
                page.update({k: v for k, v in attrs.items() if k not in node})
                out.append(page)

        walk(root.get("Pages"), {}, 0)
        return out

    def metadata(self) -> dict:
        info = self.resolve(self.trailer.get("Info"))
        meta: dict = {}
        if isinstance(info, dict):
            for key, value in info.items():
                value = self.resolve(value)
                if isinstance(value, bytes):
                    text = decode_text_string(value)
                    if key in ("CreationDate", "ModDate"):
                        text = pdf_date(text)
                    meta[_snake(key)] = text
                elif isinstance(value, Name):
                    meta[_snake(key)] = str(value)
        return meta


def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()


def decode_text_string(value: bytes) -> str:
    """PDF text strings: UTF-16BE with BOM, UTF-8 with BOM, else PDFDocEncoding (~Latin-1)."""
    if value.startswith(b"\xfe\xff"):
        return value[2:].decode("utf-16-be", errors="replace")
    if value.startswith(b"\xef\xbb\xbf"):
        return value[3:].decode("utf-8", errors="replace")
    return value.decode("latin-1")


def pdf_date(text: str) -> str:
    """D:YYYYMMDDHHmmSSOHH'mm' -> ISO 8601 (as much as is there); unknown forms unchanged."""
    m = re.match(
        r"(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Zz+-])?(\d{2})?'?(\d{2})?",
        text.strip(),
    )
    if not m:
        return text
    y, mo, d, h, mi, s, tz, tzh, tzm = m.groups()
    out = f"{y}-{mo or '01'}-{d or '01'}"
    if h:
        out += f"T{h}:{mi or '00'}:{s or '00'}"
        if tz in ("Z", "z"):
            out += "Z"
        elif tz:
            out += f"{tz}{tzh or '00'}:{tzm or '00'}"
    return out


# ------------------------------------------------------------------------------------ fonts

# StandardEncoding differs from Latin-1 in a few printable places.
_STANDARD = {0x27: "\u2019", 0x60: "\u2018", 0xA4: "\u2044", 0xA6: "\u0192", 0xA9: "'", 0xAA: "\u201c",
             0xAE: "\ufb01", 0xAF: "\ufb02", 0xB1: "\u2013", 0xB7: "\u2022", 0xBA: "\u201d",
             0xBC: "\u2026", 0xD0: "\u2014", 0xE1: "\u00c6", 0xF1: "\u00e6", 0xF5: "\u0131",
             0xF8: "\u0142", 0xF9: "\u00f8", 0xFA: "\u0153", 0xFB: "\u00df"}  # fmt: skip

GLYPHS = {
    "space": " ", "exclam": "!", "quotedbl": '"', "numbersign": "#", "dollar": "$", "percent": "%",
    "ampersand": "&", "quotesingle": "'", "quoteright": "\u2019", "quoteleft": "\u2018",
    "parenleft": "(", "parenright": ")", "asterisk": "*", "plus": "+", "comma": ",",
    "hyphen": "-", "minus": "\u2212", "period": ".", "slash": "/", "colon": ":", "semicolon": ";",
    "less": "<", "equal": "=", "greater": ">", "question": "?", "at": "@", "bracketleft": "[",
    "backslash": "\\", "bracketright": "]", "asciicircum": "^", "underscore": "_", "grave": "`",
    "braceleft": "{", "bar": "|", "braceright": "}", "asciitilde": "~", "bullet": "\u2022",
    "endash": "\u2013", "emdash": "\u2014", "quotedblleft": "\u201c", "quotedblright": "\u201d",
    "quotesinglbase": "\u201a", "quotedblbase": "\u201e", "ellipsis": "\u2026", "fi": "fi",
    "fl": "fl", "ff": "ff", "ffi": "ffi", "ffl": "ffl", "Euro": "\u20ac", "trademark": "\u2122",
    "copyright": "\u00a9", "registered": "\u00ae", "degree": "\u00b0", "dagger": "\u2020",
    "section": "\u00a7", "paragraph": "\u00b6", "germandbls": "\u00df", "dotlessi": "\u0131",
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "nbspace": "\u00a0", "sterling": "\u00a3",
    "yen": "\u00a5", "cent": "\u00a2", "multiply": "\u00d7", "divide": "\u00f7",
}  # fmt: skip
_ACCENTS = {"acute": "\u0301", "grave": "\u0300", "circumflex": "\u0302", "dieresis": "\u0308",
            "tilde": "\u0303", "ring": "\u030a", "cedilla": "\u0327", "caron": "\u030c"}  # fmt: skip


def glyph_to_unicode(name: str) -> str | None:
    if name in GLYPHS:
        return GLYPHS[name]
    if len(name) == 1 and name.isalpha():
        return name
    m = re.fullmatch(r"uni([0-9A-Fa-f]{4})+", name)
    if m:
        return "".join(chr(int(name[i : i + 4], 16)) for i in range(3, len(name), 4))
    m = re.fullmatch(r"u([0-9A-Fa-f]{4,6})", name)
    if m:
        return chr(int(m.group(1), 16))
    for accent, mark in _ACCENTS.items():  # eacute, Adieresis, ccedilla, ...
        if len(name) == len(accent) + 1 and name.endswith(accent) and name[0].isalpha():
            import unicodedata

            return unicodedata.normalize("NFC", name[0] + mark)
    return None


def base_table(name: str | None) -> list[str]:
    if name == "MacRomanEncoding":
        return [bytes([i]).decode("mac_roman") for i in range(256)]
    if name == "StandardEncoding":
        return [_STANDARD.get(i, chr(i) if i < 0x80 else "") for i in range(256)]
    # WinAnsiEncoding (and the default for simple fonts here): cp1252, Latin-1 where undefined.
    return [bytes([i]).decode("cp1252", errors="ignore") or chr(i) for i in range(256)]


class Font:
    def __init__(self, doc: Document, font: dict) -> None:
        self.two_byte = font.get("Subtype") == "Type0"
        self.cmap: dict[int, str] = {}
        self.code_lengths: set[int] = set()
        self.table: list[str] | None = None
        tu = doc.resolve(font.get("ToUnicode"))
        if isinstance(tu, Stream):
            try:
                self._parse_cmap(decode_stream(tu, doc.resolve))
            except (PDFError, ValueError, zlib.error) as exc:
                doc.warnings.append(f"ToUnicode CMap unreadable: {exc}")
        if not self.two_byte:
            enc = doc.resolve(font.get("Encoding"))
            if isinstance(enc, dict):
                table = base_table(doc.resolve(enc.get("BaseEncoding")))
                code = 0
                for item in doc.resolve(enc.get("Differences")) or []:
                    item = doc.resolve(item)
                    if isinstance(item, int):
                        code = item
                    elif isinstance(item, Name):
                        if 0 <= code < 256:
                            uni = glyph_to_unicode(item)
                            if uni is not None:
                                table[code] = uni
                        code += 1
            else:
                table = base_table(enc if isinstance(enc, Name) else None)
            self.table = table
        elif not self.cmap:
            doc.warnings.append(
                "a composite (Type0) font has no ToUnicode map: its text is skipped"
            )

    def _parse_cmap(self, data: bytes) -> None:
        lex = Lexer(data)
        operands: list = []
        while True:
            tok = lex.token()
            if tok is None:
                break
            if isinstance(tok, Operator) and tok == "[":
                operands.append(parse_object(lex, tok))
                continue
            if not isinstance(tok, Operator) or tok in ("<<", ">>"):
                operands.append(tok)
                continue
            if tok == "endcodespacerange":
                for lo in operands[::2]:
                    if isinstance(lo, bytes):
                        self.code_lengths.add(len(lo))
            elif tok == "endbfchar":
                for src, dst in zip(operands[::2], operands[1::2], strict=False):
                    if isinstance(src, bytes) and isinstance(dst, bytes | Name):
                        self.code_lengths.add(len(src))
                        self.cmap[int.from_bytes(src, "big")] = _utf16(dst)
            elif tok == "endbfrange":
                for i in range(0, len(operands) - 2, 3):
                    lo, hi, dst = operands[i : i + 3]
                    if not (isinstance(lo, bytes) and isinstance(hi, bytes)):
                        continue
                    self.code_lengths.add(len(lo))
                    a, b = int.from_bytes(lo, "big"), int.from_bytes(hi, "big")
                    if b - a > 65535:
                        continue
                    if isinstance(dst, list):
                        for k, item in enumerate(dst[: b - a + 1]):
                            if isinstance(item, bytes):
                                self.cmap[a + k] = _utf16(item)
                    elif isinstance(dst, bytes) and dst:
                        base = int.from_bytes(dst, "big")
                        prefix = _utf16(dst[:-2]) if len(dst) > 2 else ""
                        for k in range(b - a + 1):
                            last = (base + k) & 0xFFFF if len(dst) > 2 else base + k
                            self.cmap[a + k] = prefix + _utf16(last.to_bytes(2, "big"))
            operands = []

    def decode(self, raw: bytes) -> str:
        if self.cmap:
            lengths = sorted(self.code_lengths or ({2} if self.two_byte else {1}), reverse=True)
            out, i = [], 0
            while i < len(raw):
                for n in lengths:
                    code = int.from_bytes(raw[i : i + n], "big")
                    if code in self.cmap and i + n <= len(raw):
                        out.append(self.cmap[code])
                        i += n
                        break
                else:
                    n = lengths[-1] if not self.two_byte else 2
                    if self.table and n == 1:
                        out.append(self.table[raw[i]])
                    i += n
            return "".join(out)
        if self.two_byte:
            return ""
        table = self.table or base_table(None)
        return "".join(table[b] for b in raw)


def _utf16(value) -> str:
    if isinstance(value, Name):
        return glyph_to_unicode(value) or ""
    if len(value) % 2:
        value = b"\0" + value
    return value.decode("utf-16-be", errors="replace")


# ---------------------------------------------------------------------------- text extraction


class TextState:
    """Accumulates text with line breaks from vertical moves and spaces from horizontal gaps."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.line_y: float | None = None
        self.pending_space = False

    def newline(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")
        self.pending_space = False

    def move(self, y: float, x_gap: bool = False) -> None:
        if self.line_y is not None and abs(y - self.line_y) > 0.5:
            self.newline()
        elif x_gap:
            self.pending_space = True
        self.line_y = y

    def emit(self, text: str) -> None:
        if not text:
            return
        last = self.parts[-1] if self.parts else "\n"
        if self.pending_space and not last.endswith((" ", "\n")) and not text.startswith(" "):
            self.parts.append(" ")
        self.pending_space = False
        self.parts.append(text)

    def text(self) -> str:
        joined = "".join(self.parts)
        lines = [re.sub(r"[ \t]+", " ", line).strip() for line in joined.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _content_tokens(data: bytes):
    """(operands, operator) pairs of a content stream; inline images are skipped."""
    lex = Lexer(data)
    operands: list = []
    while True:
        tok = lex.token()
        if tok is None:
            return
        if isinstance(tok, Operator) and tok in ("[", "<<"):
            operands.append(parse_object(lex, tok))
        elif isinstance(tok, Operator) and tok not in ("true", "false", "null"):
            if tok == "BI":
                end = re.compile(rb"\sEI(?=[\s]|$)").search(data, lex.pos)
                lex.pos = end.end() if end else len(data)
                operands = []
                continue
            yield operands, tok
            operands = []
        else:
            operands.append(parse_object(lex, tok))


def _num(value, default: float = 0.0) -> float:
    return (
        float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default
    )


def extract_page(doc: Document, page: dict) -> str:
    state = TextState()
    contents = doc.resolve(page.get("Contents"))
    streams = contents if isinstance(contents, list) else [contents]
    data = b"\n".join(
        _safe_decode(doc, s) for s in (doc.resolve(x) for x in streams) if isinstance(s, Stream)
    )
    _run_content(doc, data, doc.resolve(page.get("Resources")) or {}, state, 0, {})
    return state.text()


def _safe_decode(doc: Document, stream: Stream) -> bytes:
    try:
        return decode_stream(stream, doc.resolve)
    except (PDFError, ValueError, zlib.error) as exc:
        doc.warnings.append(f"content stream unreadable: {exc}")
        return b""


def _run_content(doc, data: bytes, resources, state: TextState, depth: int, font_cache) -> None:
    resources = resources if isinstance(resources, dict) else {}
    fonts = doc.resolve(resources.get("Font")) or {}
    xobjects = doc.resolve(resources.get("XObject")) or {}
    font: Font | None = None
    leading = 0.0
    tm = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]  # text matrix
    lm = list(tm)  # line matrix

    def set_line(tx: float, ty: float) -> None:
        nonlocal tm, lm
        a, b, c, d, e, f = lm
        lm = [a, b, c, d, tx * a + ty * c + e, tx * b + ty * d + f]
        tm = list(lm)
        state.move(lm[5], x_gap=tx > 0)

    def show(raw) -> None:
        if isinstance(raw, bytes):
            state.emit(font.decode(raw) if font else raw.decode("latin-1"))

    for operands, op in _content_tokens(data):
        if op == "BT":
            tm, lm = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
            state.pending_space = True
        elif op == "ET":
            state.pending_space = True
        elif op == "Tf" and operands:
            name = operands[0]
            key = (id(fonts), name)
            if key not in font_cache:
                fdict = doc.resolve(fonts.get(name)) if isinstance(fonts, dict) else None
                font_cache[key] = Font(doc, fdict) if isinstance(fdict, dict) else None
            font = font_cache[key]
        elif op == "TL" and operands:
            leading = _num(operands[-1])
        elif op in ("Td", "TD") and len(operands) >= 2:
            tx, ty = _num(operands[-2]), _num(operands[-1])
            if op == "TD":
                leading = -ty
            set_line(tx, ty)
        elif op == "Tm" and len(operands) >= 6:
            new = [_num(v) for v in operands[-6:]]
            gap = abs(new[4] - tm[4]) > 0.5
            lm, tm = list(new), list(new)
            state.move(new[5], x_gap=gap)
        elif op == "T*":
            set_line(0, -leading)
            state.newline()
        elif op == "Tj" and operands:
            show(operands[-1])
        elif op in ("'", '"') and operands:
            set_line(0, -leading)
            state.newline()
            show(operands[-1])
        elif op == "TJ" and operands and isinstance(operands[-1], list):
            for item in operands[-1]:
                if isinstance(item, bytes):
                    show(item)
                elif isinstance(item, int | float) and item < -180:
                    state.pending_space = True
        elif op == "Do" and operands and depth < MAX_FORM_DEPTH and isinstance(xobjects, dict):
            xobj = doc.resolve(xobjects.get(operands[-1]))
            if isinstance(xobj, Stream) and xobj.dict.get("Subtype") == "Form":
                inner = doc.resolve(xobj.dict.get("Resources")) or resources
                _run_content(doc, _safe_decode(doc, xobj), inner, state, depth + 1, font_cache)


# -------------------------------------------------------------------------------------- API


def extract(pdf: bytes, max_chars: int | None = None, progress=None) -> dict:
    """{"pages", "text", "per_page": [{"page", "text", "chars"}], "metadata", "truncated",
    "warnings"}; raises PDFError for input that is not a readable PDF."""
    limit = DEFAULT_MAX_CHARS if max_chars is None else max(0, int(max_chars))
    doc = Document(pdf)
    pages = doc.pages()
    if not pages:
        raise PDFError("no_pages", "the PDF has no pages")
    per_page, budget, truncated = [], limit, False
    for number, page in enumerate(pages, start=1):
        text = extract_page(doc, page)
        full = len(text)
        if len(text) > budget:
            text, truncated = text[: max(0, budget)], True
        budget -= len(text) + (2 if text else 0)  # the blank line that joins pages in "text"
        per_page.append({"page": number, "text": text, "chars": full})
        if progress:
            progress(100 * number / len(pages), f"page {number} of {len(pages)}")
    text = "\n\n".join(p["text"] for p in per_page if p["text"])
    if len(text) > limit:
        text, truncated = text[:limit], True
    metadata = doc.metadata()
    metadata["pdf_version"] = doc.version
    return {
        "pages": len(pages),
        "text": text,
        "per_page": per_page,
        "metadata": metadata,
        "truncated": truncated,
        "warnings": list(dict.fromkeys(doc.warnings))[:20],
    }


def extract_base64(value: str, max_chars: int | None = None, progress=None) -> dict:
    try:
        pdf = base64.b64decode(
            re.sub(r"\s+", "", value.split(",", 1)[-1] if value.startswith("data:") else value),
            validate=True,
        )
    except (binascii.Error, ValueError) as exc:
        raise PDFError("bad_input", f"pdf_base64 is not valid base64: {exc}") from exc
    return extract(pdf, max_chars, progress)
