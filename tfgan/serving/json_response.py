"""Tensors -> the JSON answers of TF Serving's `util/json_tensor.cc`, byte for byte.

The stock server writes with rapidjson's `PrettyWriter` (four-space indents; the row layout
puts each row's arrays on one line) and prints each float with `WriteDecimal`: `absl::StrCat`
(printf `%g`, six significant digits) unless that does not read back as the same value, then
`%.9g` (`%.17g` for doubles); `.0` is appended to tokens with neither `.` nor `e`; NaN and
infinities are the bare tokens `NaN`, `Infinity`, `-Infinity`; outputs named `*_bytes` are
`{"b64": ...}` objects. python-rapidjson cannot write this (it prints floats as Python's
`repr`, refuses NaN in the debug form, and has no `%g`), so it is written here:

- `debug_string`: `JsonValueToDebugString`, a value quoted in an error message (python-rapidjson
  lays values out the same way, `WM_SINGLE_LINE_ARRAY`, but prints `1e+30` for `1e30`, cannot
  stop at 256 bytes or at a NaN as the stock writer does, and loses repeated member names);
  `make_error_json`: the `{"error": ...}` body.
- `predict_response`: a `:predict` answer, without per-value Python for float32 (`_Answer`
  says how), made slab by slab as the REST server sends it.
- `classification_json`, `regression_json`: `:classify` / `:regress` answers (`"results"`).
"""

import base64
import copy
import dataclasses
import decimal
import enum
import functools
import itertools
import math
import re

import numpy as np

from tfgan.serving.errors import ServingError, datatype_of, dtype_name

INDENT = 4
_MAX_DEBUG_BYTES = 256


_ESCAPE_PATTERN = re.compile(r'["\\\x00-\x1f]')
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
                  "\t": "\\t"}


def quote(text):
    """A JSON string literal escaped as rapidjson's writer does (`\\u001F`, `/` kept)."""
    return '"' + _ESCAPE_PATTERN.sub(
        lambda m: _SHORT_ESCAPES.get(m.group(), "\\u%04X" % ord(m.group())), text
    ) + '"'


def format_double(value):
    """A finite double as rapidjson's `Writer::Double` prints it: `0.5`, `1e30`, `1.5e-7`."""
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign, digits, power = decimal.Decimal(repr(value)).normalize().as_tuple()  # shortest
    digits = "".join(map(str, digits))
    length = len(digits)
    point = length + power  # 10^(point-1) <= value < 10^point
    if 0 <= power and point <= 21:
        text = digits + "0" * power + ".0"
    elif 0 < point <= 21:
        text = digits[:point] + "." + digits[point:]
    elif -6 < point <= 0:
        text = "0." + "0" * -point + digits
    elif length == 1:
        text = f"{digits}e{point - 1}"
    else:
        text = f"{digits[0]}.{digits[1:]}e{point - 1}"
    return "-" * sign + text


def _debug_events(value, depth=0, before=""):
    """`value` as the writer's events: (text before the token, the token; None stops)."""
    if not isinstance(value, (dict, list)):
        yield before, _debug_scalar(value)
        return
    is_object = isinstance(value, dict)
    yield before, "{" if is_object else "["
    items = (getattr(value, "pairs", None) or value.items()) if is_object else value
    for index, item in enumerate(items):
        if is_object:  # PrettyWriter: each member on its own line; arrays on one line
            yield (",\n" if index else "\n") + _indent(depth + 1), quote(item[0])
            yield from _debug_events(item[1], depth + 1, ": ")
        else:
            yield from _debug_events(item, depth + 1, ", " if index else "")
    yield ("\n" + _indent(depth)) if is_object and len(items) else "", "}" if is_object else "]"


def _debug_scalar(value):
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, int):
        return str(value)
    return format_double(value) if math.isfinite(value) else None  # rapidjson refuses NaN


def debug_string(value):
    """rapidjson's `JsonValueToDebugString`: PrettyWriter with single-line arrays, stopped at
    the first event past 256 bytes (`JsonWriterWithLimit`) or at a NaN / infinity."""
    parts, size = [], 0
    for before, token in _debug_events(value):
        if size >= _MAX_DEBUG_BYTES:
            break
        parts.append(before)
        if token is None:
            break
        parts.append(token)
        size += len((before + token).encode("utf-8", "surrogateescape"))
    return "".join(parts)


def make_error_json(message):
    """The body of an error answer, `{"error": message}`, as `MakeJsonFromStatus` writes it."""
    return "{\n" + " " * INDENT + '"error": ' + quote(message) + "\n}"


BYTES_SUFFIX = "_bytes"
# Columns left at the start of every row for the writer (its separator marker).
MARKER_COLUMNS = 2
# Significant digits of the round-trip format, and the first power of ten printed with an
# exponent by that format (integers below it print without `.` or `e` and get `.0`).
_FLOAT_FORMATS = {np.dtype(np.float32): (9, 1e9), np.dtype(np.float64): (17, 1e17)}
_INT_KINDS = "iu"


# ---- float32 with numpy arithmetic ----------------------------------------------------------
#
# `%g` with P significant digits prints the value rounded to P digits, D x 10^(E-P+1) with
# 10^(P-1) <= D < 10^P: in fixed notation when -4 <= E < P, else as d.ddde+XX, without the
# fraction's trailing zeros (nor a bare "."). Here D always has nine digits (a six-digit D
# times 1000), so every token is a choice of bytes from one row of four uint64 words:
#
#   bytes 0-7    marker (2, the writer's), "-" or NUL, "0.000" (for 0.000ddd)
#   bytes 8-25   d0 . d1 . ... d8 .   D's digits, each followed by a possible decimal point
#   bytes 26-31  "0" (the ".0" of a nine-digit integer), "e-05", NUL
#
# and which bytes are kept depends only on the notation, E and the number of digits of D
# without its trailing zeros: one of 126 masks.

FLOAT32_WIDTH = 32
# Values formatted at once: numpy's temporaries of a slab stay in the CPU's cache.
FLOAT32_SLAB = 16384
_POW10_OFFSET = 64
_POW10 = np.array([float(f"1e{k}") for k in range(-_POW10_OFFSET, _POW10_OFFSET + 1)])
_PREFIXES = np.array([int.from_bytes(b"\0\0" + sign + b"0.000", "little")
                      for sign in (b"\0", b"-")], np.uint64)
# The digits of 0-9999, each followed by a "."; their trailing zeros (4 for 0); one digit.
_DIGIT_WORDS = np.array([int.from_bytes(b"".join(b"%c." % d for d in b"%04d" % i), "little")
                         for i in range(10000)], np.uint64)
_TRAILING_ZEROS4 = np.array([4 - len((b"%04d" % i).rstrip(b"0")) for i in range(10000)],
                            np.int32)
# The trailing zeros of d0..d7 given the key d4..d7 if not 0000, else 10000 + d0..d3.
_TRAILING_ZEROS8 = np.concatenate([_TRAILING_ZEROS4, 4 + _TRAILING_ZEROS4])
_LAST_DIGIT_WORDS = np.array([ord(str(d)) | ord(".") << 8 for d in range(10)], np.uint64)
# Bytes 26-31 for the exponent E: "0e", its sign and two digits, NUL.
_EXPONENT_WORDS = np.array([int.from_bytes(b"\0\0" + b"0e%+03d\0" % e, "little")
                            for e in range(-_POW10_OFFSET, _POW10_OFFSET + 1)], np.uint64)
# floor(log10(2^(b - 127))) for each biased float32 exponent b: floor(log10(|x|)) or one less,
# and the power of ten (10^that+1) that tells which.
_LOG10_OF_BINADE = np.floor((np.arange(256) - 127) * np.log10(2.0)).astype(np.int32)
_NEXT_POWER_OF_BINADE = _POW10.take(_LOG10_OF_BINADE + 1 + _POW10_OFFSET)
# How far from a rounding tie a value computed in float64 must be to round without doubt: the
# products below carry a relative error under 2^-51, i.e. under 5e-7 on nine-digit numbers.
_TIE_MARGIN = 1e-6
# A float64 this near (in units of its last place) a float32 rounding midpoint may convert to
# float32 differently from a correctly rounded strtof: such values take the exact path. (A
# guard: no value of the tests' 800k lands there; a six-digit decimal on a midpoint exactly,
# such as 3e10, converts exactly.)
_MIDPOINT_MARGIN = 16
_LOW29 = np.uint64((1 << 29) - 1)
_MIDPOINT_SHIFT = np.uint64((1 << 28) + _MIDPOINT_MARGIN)


def _float32_masks():
    """The row masks by code: scientific `nd - 1`, fixed `9 * (E + 5) + nd - 1`."""
    def digit(i):
        return 8 + 2 * i

    def columns(scientific, exponent, length):
        keep = {2} | {digit(i) for i in range(length)}
        if scientific:
            keep |= {27, 28, 29, 30} | ({digit(0) + 1} if length > 1 else set())
        elif exponent < 0:
            keep |= {3, 4} | set(range(5, 5 - exponent - 1))
        else:
            keep |= {digit(i) for i in range(exponent + 1)} | {digit(exponent) + 1}
            if length <= exponent + 1:  # no fraction: ".0"
                keep.add(digit(exponent + 1) if exponent < 8 else 26)
        return sorted(keep)

    masks = np.zeros((9 + 13 * 9, FLOAT32_WIDTH), np.uint8)
    for length in range(1, 10):
        masks[length - 1, columns(True, 0, length)] = 0xFF
        for exponent in range(-4, 9):
            masks[9 * (exponent + 5) + length - 1, columns(False, exponent, length)] = 0xFF
    return masks.view("<u8")


_FLOAT32_MASKS = _float32_masks()


def float32_rows(values, out=None):
    """`WriteDecimal` for each value of a float32 array, as rows of bytes.

    Values are rounded in float64 arithmetic, exactly; the few whose rounding that cannot
    settle (within 1e-6 of a decimal tie, or near a float32 rounding midpoint when read back)
    are printed by `exact_float32_tokens`, and zeros, subnormals, NaN and infinities as the old
    writer printed them. Meant for slabs of ~16k values (numpy's temporaries stay in cache).

    Args:
        values: float32 numpy array, any shape.
        out: uint8 array `[values.size, 32]` to write into, or None for a new one.

    Returns:
        uint8 array `[values.size, 32]` (`out` if given); columns 0-1 are zero (the writer's
        marker).
    """
    x = np.ascontiguousarray(values, np.float32).reshape(-1)
    rows = np.empty((x.size, FLOAT32_WIDTH), np.uint8) if out is None else out
    biased = (x.view(np.uint32) >> 23) & 0xFF
    # Zeros, subnormals, infinities, NaN, and the binades next to them (where reading back
    # leaves the normal range): the exact paths.
    special = ((biased - 2) & 0xFF) >= 252
    magnitude = np.abs(x).astype(np.float64)
    magnitude[special] = 1.0
    biased[special] = 127
    # E = floor(log10(magnitude)): from the binary exponent, then one comparison.
    exponent = _LOG10_OF_BINADE.take(biased)
    exponent += magnitude >= _NEXT_POWER_OF_BINADE.take(biased)
    scaled = magnitude * _POW10.take((8 + _POW10_OFFSET) - exponent)  # nine digits, a point
    off = np.flatnonzero((scaled < 1e8) | (scaled >= 1e9))  # 10^-k is rounded in float64
    if off.size:
        exponent[off] += np.where(scaled[off] < 1e8, -1, 1)
        scaled[off] = magnitude[off] * _POW10.take((8 + _POW10_OFFSET) - exponent[off])
    whole = np.floor(scaled)
    fraction = scaled - whole
    nine = whole.astype(np.int32) + (fraction > 0.5)
    unsure = np.abs(fraction - 0.5) < _TIE_MARGIN
    scaled *= 1e-3
    np.floor(scaled, out=whole)
    fraction = scaled - whole
    six = whole.astype(np.int32) + (fraction > 0.5)
    unsure |= np.abs(fraction - 0.5) < _TIE_MARGIN
    # 9.99999999 rounds to 10.0000000: one digit more, the exponent one up.
    nine_exponent, six_exponent = exponent, exponent
    carry = nine == 10**9
    if carry.any():
        nine, nine_exponent = np.where(carry, 10**8, nine), exponent + carry
    carry = six == 10**6
    if carry.any():
        six, six_exponent = np.where(carry, 10**5, six), exponent + carry
    # Does the six-digit token read back as the same float32 (strtof: nearest, ties to even)?
    read_back = six * _POW10.take(six_exponent + (_POW10_OFFSET - 5))
    six_ok = read_back.astype(np.float32) == np.abs(x)
    # Within _MIDPOINT_MARGIN of bit pattern 2^28 in the 29 bits float32 drops: unsure.
    unsure |= ((read_back.view(np.uint64) + _MIDPOINT_SHIFT) & _LOW29) <= 2 * _MIDPOINT_MARGIN

    digits = np.where(six_ok, six * 1000, nine)
    exponent = np.where(six_ok, six_exponent, nine_exponent)
    tens = digits // 10
    high = tens // 10000
    middle, last = tens - high * 10000, digits - tens * 10
    trailing = _TRAILING_ZEROS8.take(np.where(middle != 0, middle, high + 10000)) + 1
    trailing[last != 0] = 0
    scientific = (exponent < -4) | (exponent >= 9 - 3 * six_ok)
    code = np.where(scientific, 8, 9 * exponent + 53) - trailing  # nd - 1 (+ 9 * (E + 5))

    words = rows.view("<u8")
    words[:, 0] = _PREFIXES.take(np.signbit(x).view(np.uint8))
    words[:, 1] = _DIGIT_WORDS.take(high)
    words[:, 2] = _DIGIT_WORDS.take(middle)
    words[:, 3] = _LAST_DIGIT_WORDS.take(last) | _EXPONENT_WORDS.take(exponent
                                                                      + _POW10_OFFSET)
    words &= _FLOAT32_MASKS.take(code, axis=0)

    exact = np.flatnonzero(special | unsure)
    if exact.size:
        rows[exact] = 0
        rows[exact, MARKER_COLUMNS:] = _bytes_matrix(
            python_float_tokens(x[exact]), FLOAT32_WIDTH - MARKER_COLUMNS)
    return rows


# ---- value by value, for the few values the arithmetic does not settle ----------------------


def python_float_tokens(array):
    """`WriteDecimal` value by value in Python: float64 outputs (rare: tfgan exports float32),
    single scores, and the float32 values `float32_rows` leaves (zeros, subnormals, NaN,
    infinities, values within 1e-6 of a decimal tie). Python's `%g` rounds as printf does, and
    `float(text)` is correctly rounded; a six-digit decimal is never near enough a float32
    rounding midpoint for the double between them to round differently from strtof.

    Returns:
        numpy `object` array of bytes, of the array's shape.
    """
    digits, _ = _FLOAT_FORMATS[array.dtype]
    tokens = []
    for value in array.reshape(-1).tolist():
        if value != value:
            text = "NaN"
        elif value in (float("inf"), float("-inf")):
            text = "Infinity" if value > 0 else "-Infinity"
        else:
            text = "%g" % value
            if array.dtype.type(float(text)) != array.dtype.type(value):
                text = "%.*g" % (digits, value)
            if "." not in text and "e" not in text:
                text += ".0"
        tokens.append(text.encode("ascii"))
    out = np.empty(len(tokens), dtype=object)
    out[:] = tokens
    return out.reshape(array.shape)


# ---- other dtypes ----------------------------------------------------------------------------


def _b64_token(data, depth):
    """A `{"b64": ...}` object written at nesting `depth` (number of open containers)."""
    inner = " " * (INDENT * (depth + 1))
    encoded = base64.b64encode(data).decode("ascii")
    return "{\n" + inner + '"b64": "' + encoded + '"\n' + " " * (INDENT * depth) + "}"


def string_tokens(name, array, leaf_depth):
    """The JSON tokens of a string array, value by value (`*_bytes` outputs as `b64` objects).

    Returns:
        numpy `object` array of bytes, of the array's shape.
    """
    as_bytes = [v if isinstance(v, bytes) else str(v).encode("utf-8") for v in array.reshape(-1)]
    if name.endswith(BYTES_SUFFIX):
        tokens = [_b64_token(v, leaf_depth).encode("ascii") for v in as_bytes]
    else:
        tokens = [
            quote(v.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
            for v in as_bytes
        ]
    out = np.empty(len(tokens), dtype=object)
    out[:] = tokens
    return out.reshape(array.shape)


def is_string(array):
    return array.dtype == object or array.dtype.kind in "SU"


def is_writable(array):
    """Whether the stock writer has a JSON form for the array's dtype."""
    if is_string(array) or array.dtype in _FLOAT_FORMATS or array.dtype == np.bool_:
        return True
    return array.dtype.kind in _INT_KINDS and array.dtype.itemsize <= 8


def _bytes_matrix(tokens, width=None):
    """`bytes` tokens (numpy `S` or `object` array) as a NUL-padded uint8 matrix."""
    tokens = np.asarray(tokens).reshape(-1)
    if tokens.dtype.kind != "S":
        tokens = tokens.astype("S")
    width = max(width or 0, tokens.dtype.itemsize, 1)
    return np.ascontiguousarray(tokens.astype(f"S{width}")).view(np.uint8).reshape(-1, width)


def token_rows(array):
    """Each value's token as a row of bytes (NULs are not part of it; the first
    `MARKER_COLUMNS` columns are zero), for float64, integer and bool arrays (float32 values
    are formatted slab by slab as the answer is written, `float32_rows`)."""
    flat = array.reshape(-1)
    if flat.dtype == np.float64:
        tokens = python_float_tokens(flat)
    else:
        tokens = np.where(flat, b"true", b"false") if flat.dtype == np.bool_ else flat.astype("S")
    return np.pad(_bytes_matrix(tokens), ((0, 0), (MARKER_COLUMNS, 0)))


# Markers are bytes no token or separator holds: one control byte (not "\n") when an answer
# has at most 30 separators, else that byte and one from 0x21 up (up to 30 x 223).
_MARKER_LEADS = np.frombuffer(bytes([b for b in range(1, 32) if b != 0x0A]), np.uint8)
_MARKER_FIRST = 0x21
_MARKER_SPAN = 256 - _MARKER_FIRST
# Bytes of token rows handled at once: enough that Python's per-slab calls cost little, few
# enough that numpy's temporaries stay in the CPU's cache.
_SLAB_BYTES = 1 << 19
# A guess of a string token's bytes, for sizing slabs.
_STRING_BYTES = 256


class RequestFormat(enum.Enum):
    """How a predict request gave its tensors: `ROW` (`instances`) or `COLUMNAR` (`inputs`)."""

    ROW = "row"
    COLUMNAR = "columnar"


def _indent(level):
    return " " * (INDENT * level)


@dataclasses.dataclass
class _Block:
    """How one output's values are written: one array per row (row layout) or the whole tensor.

    Attributes:
        shape: tuple of int, the shape of one block of values.
        opening, closing: str, the text before the block's first value and after its last.
        separators: list of str; `separators[k]` goes between two values when the `k` innermost
            arrays close (and open again) between them.
        empty_text: str or None, the whole block when it holds no value.
    """

    shape: tuple
    opening: str
    closing: str
    separators: list
    empty_text: str = None

    @classmethod
    def pretty(cls, shape, depth):
        """An array written at nesting `depth` by PrettyWriter: one value per line."""
        rank = len(shape)

        def close(axis):
            return "\n" + _indent(depth + axis) + "]"

        def open_(axis):
            return "[\n" + _indent(depth + axis + 1)

        return cls(
            shape=shape,
            opening="".join(open_(a) for a in range(rank)),
            closing="".join(close(a) for a in reversed(range(rank))),
            separators=[
                "".join(close(a) for a in range(rank - 1, rank - 1 - k, -1))
                + ",\n" + _indent(depth + rank - k)
                + "".join(open_(a) for a in range(rank - k, rank))
                for k in range(rank)
            ],
            empty_text=_empty_text(shape, depth, False) if 0 in shape else None,
        )

    @classmethod
    def single_line(cls, shape):
        """An array written on one line (rapidjson's `kFormatSingleLineArray`)."""
        rank = len(shape)
        return cls(shape=shape, opening="[" * rank, closing="]" * rank,
                   separators=["]" * k + ", " + "[" * k for k in range(rank)],
                   empty_text=_empty_text(shape, 0, True) if 0 in shape else None)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def separator_indices(self):
        """For each value of a block, the index of the separator before it: `len(shape)` for
        the first, else the number of arrays that close before it."""
        counts = np.zeros(self.size, np.uint8)
        period = 1
        for dim in reversed(self.shape[1:]):
            period *= dim
            counts[::period] += 1
        counts[0] = len(self.shape)
        return counts


def _empty_text(shape, depth, single_line):
    """An array with no values (a dimension is 0), as `AddTensorValues` writes it."""
    if shape[0] == 0:
        return "[]"
    child = _empty_text(shape[1:], depth + 1, single_line)
    if single_line:
        return "[" + ", ".join([child] * shape[0]) + "]"
    inner = _indent(depth + 1)
    return ("[\n" + inner + (",\n" + inner).join([child] * shape[0]) + "\n" + _indent(depth)
            + "]")


@dataclasses.dataclass
class _Document:
    """An answer's text around its values: `prefix`, `repeats` units joined by `between`, `suffix`.

    Attributes:
        unit: list of str (text) and int (an output's block of values, by index).
        blocks: list of `_Block`, one per output.
    """

    prefix: str
    unit: list
    repeats: int
    between: str
    suffix: str
    blocks: list


def _document(names, shapes, request_format):
    """`MakeColumnarFormatJsonFromTensors` / `MakeRowFormatJsonFromTensors` as a `_Document`."""
    several = len(names) > 1

    def members(level):
        """Each output as a member of an object at `level`: its name, then its block."""
        unit = []
        for index, name in enumerate(names):
            unit += [("," if index else "") + f"\n{_indent(level)}{quote(name)}: ", index]
        return unit

    if request_format == RequestFormat.COLUMNAR:
        blocks = [_Block.pretty(shape, 2 if several else 1) for shape in shapes]
        if not several:
            return _Document('{\n    "outputs": ', [0], 1, "", "\n}", blocks)
        return _Document('{\n    "outputs": {', members(2), 1, "", "\n    }\n}", blocks)
    blocks = [_Block.single_line(shape[1:]) for shape in shapes]
    batch = shapes[0][0]
    if not several:
        return _Document('{\n    "predictions": [', [0], batch, ", ", "\n    ]\n}", blocks)
    unit = [f"\n{_indent(2)}{{", *members(3), f"\n{_indent(2)}}}"]
    return _Document('{\n    "predictions": [', unit, batch, ",", "\n    ]\n}", blocks)


class PredictResponse:
    """A `:predict` answer's JSON text: `length` bytes, made chunk by chunk as it is iterated.

    Iterate it once; joined, the chunks are the text exactly as the stock server lays it out.

    Attributes:
        length: int, the text's length in bytes.
    """

    def __init__(self, chunks, length):
        self._chunks = iter(chunks)
        self.length = length

    def __iter__(self):
        return self._chunks


class _Answer:
    """One answer: its values' token rows with their markers, and the separators they name.

    Each value's token is a row of bytes (float32 in numpy arithmetic, `float32_rows`; other
    dtypes `token_rows`) starting with a marker byte that names the separator before it;
    dropping the rows' NUL bytes gives a compact text, and one `bytes.replace` per separator
    gives the answer. The layout of a small answer is cached by its format, names and shapes.

    Args:
        document: `_Document`.
        tokens: list, per output, in C order: float32 values (formatted slab by slab), uint8
            token rows (`token_rows`) or an object array of `bytes` tokens (strings).
    """

    def __init__(self, document, tokens):
        self.document = document
        self.tokens = tokens
        items = []  # the unit with each block opened and closed: str, or ("values", index)
        for item in document.unit:
            block = None if isinstance(item, str) else document.blocks[item]
            if block is None:
                items.append(item)
            elif block.empty_text is not None:
                items.append(block.empty_text)
            else:
                items += [block.opening, ("values", item), block.closing]
        places = [i for i, item in enumerate(items) if not isinstance(item, str)]
        self.order = [items[i][1] for i in places]  # outputs with values, in document order
        if not places:
            unit = "".join(items)
            self.text = (document.prefix + document.between.join([unit] * document.repeats)
                         + document.suffix)
            return
        self.text = None
        head, tail = "".join(items[:places[0]]), "".join(items[places[-1] + 1:])
        separators = [document.prefix + head]  # before the answer's first value
        self.trailer = (tail + document.suffix).encode("utf-8")
        self.ids = []  # per output in `order`: the separator before each value of one block
        counts = []  # how many values each separator precedes
        for position, (place, index) in enumerate(zip(places, self.order)):
            block = document.blocks[index]
            if position == 0:
                first = tail + document.between + head  # before each later unit's first value
            else:
                first = "".join(items[places[position - 1] + 1:place])
            rank = len(block.shape)
            # Separator index k -> id: k arrays close (k < rank) or the block starts (rank).
            by_index = np.array([len(separators) + 1 + k for k in range(rank)]
                                + [len(separators)], np.uint16)
            separators += [first] + block.separators
            indices = block.separator_indices()
            self.ids.append(by_index.take(indices))
            counts += list(zip(by_index.tolist(),
                               (np.bincount(indices, minlength=rank + 1)
                                * document.repeats).tolist()))
        counts += [(0, 1), (int(self.ids[0][0]), -1)]  # the answer's first value
        if len(separators) > len(_MARKER_LEADS) * _MARKER_SPAN:
            raise ServingError.invalid_argument(
                "Too many outputs and dimensions to write as JSON")
        self.short_markers = len(separators) <= len(_MARKER_LEADS)
        self._buffer = None
        totals = np.zeros(len(separators), np.int64)
        for separator_id, count in counts:
            totals[separator_id] += count
        encoded = [text.encode("utf-8") for text in separators]
        marker_bytes = 1 if self.short_markers else 2
        # What expanding the markers adds to the compact text's length.
        self.growth = int(sum(totals[i] * (len(encoded[i]) - marker_bytes)
                              for i in np.flatnonzero(totals).tolist()))
        # The commonest expansions last, so that the others run over the compact text.
        self.replaces = [(self._marker(i), encoded[i]) for i in sorted(
            np.flatnonzero(totals).tolist(), key=lambda i: totals[i] * len(encoded[i]))]

    def _slab_ids(self, position, start, stop):
        """The separator ids of values `[start, stop)` of the output at `position`."""
        block_ids = self.ids[position]
        if stop <= len(block_ids):
            ids = block_ids[start:stop]
        else:
            ids = block_ids.take(np.arange(start, stop) % len(block_ids))
        if start == 0 and position == 0:
            ids = ids.copy()
            ids[0] = 0
        return ids

    def _marker(self, separator_id):
        if self.short_markers:
            return _MARKER_LEADS[separator_id:separator_id + 1].tobytes()
        return bytes([_MARKER_LEADS[separator_id // _MARKER_SPAN],
                      _MARKER_FIRST + separator_id % _MARKER_SPAN])

    def _compact(self, index, start, stop):
        """The compact text (markers and tokens) of values `[start, stop)` of an output."""
        tokens = self.tokens[index]
        ids = self._slab_ids(self.order.index(index), start, stop)
        if tokens.dtype == object:
            pieces = [None] * (2 * len(ids))
            pieces[0::2] = [self._marker(i) for i in ids.tolist()]
            pieces[1::2] = tokens[start:stop].tolist()
            return b"".join(pieces)
        if tokens.dtype == np.float32:
            if self._buffer is None or len(self._buffer) < stop - start:
                self._buffer = np.empty((stop - start, FLOAT32_WIDTH), np.uint8)
            rows = float32_rows(tokens[start:stop], out=self._buffer[:stop - start])
        else:
            rows = tokens[start:stop]
        if self.short_markers:
            rows[:, 0] = _MARKER_LEADS.take(ids)
        else:
            rows[:, 0] = _MARKER_LEADS.take(ids // _MARKER_SPAN)
            rows[:, 1] = _MARKER_FIRST + ids % _MARKER_SPAN
        # translate drops NULs at ~0.6 ns a byte, numpy's boolean indexing at ~1.5.
        return rows.tobytes().translate(None, b"\0")

    def expand(self, compact):
        for marker, separator in self.replaces:
            compact = compact.replace(marker, separator)
        return compact

    def _width(self, index):
        tokens = self.tokens[index]
        if tokens.dtype == np.float32:
            return FLOAT32_WIDTH
        return tokens.shape[1] if tokens.dtype == np.uint8 else _STRING_BYTES

    def compact_slabs(self):
        """The answer's compact text (markers and tokens), slab by slab: a list of `bytes`."""
        document = self.document
        slabs = []
        if len(self.order) == 1 or document.repeats == 1:
            for index in self.order:
                size = len(self.tokens[index])
                step = max(1, _SLAB_BYTES // self._width(index))
                slabs += [self._compact(index, start, min(size, start + step))
                          for start in range(0, size, step)]
        else:
            # Each output's compact text in its own slabs (whole rows), cut into rows, then
            # the rows' pieces interleaved: row 0's blocks, row 1's, ...
            per_row = [document.blocks[i].size for i in self.order]
            pieces = []
            for position, (index, size) in enumerate(zip(self.order, per_row)):
                step = max(1, _SLAB_BYTES // (self._width(index) * size))
                pieces.append([])
                for start in range(0, document.repeats, step):
                    stop = min(document.repeats, start + step)
                    compact = self._compact(index, start * size, stop * size)
                    pieces[-1] += self._rows(compact, position, start)
            row_bytes = sum(size * self._width(i) for size, i in zip(per_row, self.order))
            step = max(1, _SLAB_BYTES // row_bytes)
            for start in range(0, document.repeats, step):
                rows = zip(*(output[start:start + step] for output in pieces))
                slabs.append(b"".join(piece for row in rows for piece in row))
        return slabs

    def response(self):
        """The answer as a `PredictResponse`: the compact text made, its expansion lazy."""
        if self.text is not None:
            text = self.text.encode("utf-8", "surrogateescape")
            return PredictResponse([text], len(text))
        slabs = self.compact_slabs()
        length = sum(len(slab) for slab in slabs) + self.growth + len(self.trailer)
        return PredictResponse(itertools.chain(map(self.expand, slabs), [self.trailer]), length)

    def _rows(self, compact, position, first_row):
        """The compact text of whole rows of one output, cut at each row's first marker."""
        marker = self._marker(self.ids[position][0])  # (the answer's first value has 0's)
        found = np.frombuffer(compact, np.uint8)
        hits = found[:len(found) - len(marker) + 1] == marker[0]
        if len(marker) == 2:
            hits &= found[1:] == marker[1]
        starts = np.flatnonzero(hits).tolist()
        if first_row == 0 and position == 0:
            starts.insert(0, 0)
        view = memoryview(compact)
        return [view[a:b] for a, b in zip(starts, starts[1:] + [len(compact)])]


def checked_outputs(outputs, request_format):
    """`MakeJsonFromTensors`'s checks of the outputs to answer.

    Returns:
        (sorted output names, their numpy arrays, the common leading dimension for a `ROW`
        request or None).
    """
    if not outputs:
        raise ServingError.invalid_argument("Cannot convert empty tensor map to JSON")
    names = sorted(outputs)
    arrays = [np.asarray(outputs[name]) for name in names]
    for array in arrays:
        if not is_writable(array):
            raise ServingError.invalid_argument(
                f"Failed to write JSON value for tensor type: {dtype_name(datatype_of(array))}")
    if request_format.name != "ROW":
        return names, arrays, None
    batch_size = -1  # the row format's checks: one leading dimension everywhere
    for name, array in zip(names, arrays):
        if array.ndim == 0:
            raise ServingError.invalid_argument(f"Tensor name: {name} has no shape information ")
        if batch_size >= 0 and batch_size != array.shape[0]:
            raise ServingError.invalid_argument(
                f"Tensor name: {name} has inconsistent batch size: {array.shape[0]}"
                f" expecting: {batch_size}"
            )
        batch_size = array.shape[0]
    return names, arrays, batch_size


# Answers of up to this many values keep their layout (separators, markers) cached by names,
# shapes and format: a server answers the same shapes again and again, and the layout costs
# more than the values' tokens in a small answer.
_CACHED_LAYOUT_VALUES = 1 << 16


@functools.lru_cache(maxsize=256)
def _cached_layout(request_format, names, shapes):
    return _Answer(_document(names, shapes, request_format), None)


def predict_response(outputs, request_format):
    """`MakeJsonFromTensors`: the `:predict` answer to `outputs` (name -> numpy array, `object`
    arrays of `bytes` for strings), `{"predictions": ...}` for a `ROW` request, `{"outputs":
    ...}` for a `COLUMNAR` one, as a `PredictResponse`: every token is made here, the
    separators between them as it is iterated.

    Raises:
        ServingError: INVALID_ARGUMENT for an empty map, a rank-0 output or outputs of
            different batch sizes in the row format, or a dtype JSON cannot carry.
    """
    names, arrays, batch_size = checked_outputs(outputs, request_format)
    several = len(names) > 1
    if request_format == RequestFormat.ROW:
        if batch_size == 0:
            empty = b'{\n    "predictions": []\n}'
            return PredictResponse([empty], len(empty))
        leaf_depths = [(3 if several else 2) + array.ndim - 1 for array in arrays]
    else:
        leaf_depths = [(2 if several else 1) + array.ndim for array in arrays]
    tokens = [
        string_tokens(name, array, depth).reshape(-1)
        if is_string(array)
        else np.ascontiguousarray(array).reshape(-1) if array.dtype == np.float32
        else token_rows(array)
        for name, array, depth in zip(names, arrays, leaf_depths)
    ]
    floats = [i for i, array in enumerate(arrays) if array.dtype == np.float32]
    if 1 < len(floats) and sum(arrays[i].size for i in floats) <= FLOAT32_SLAB:
        # Few values: one call formats them all (numpy's cost here is per call, not value).
        rows = float32_rows(np.concatenate([tokens[i] for i in floats]))
        ends = np.cumsum([arrays[i].size for i in floats]).tolist()
        for i, start, end in zip(floats, [0] + ends, ends):
            tokens[i] = rows[start:end]
    shapes = tuple(array.shape for array in arrays)
    if sum(array.size for array in arrays) <= _CACHED_LAYOUT_VALUES:
        answer = copy.copy(_cached_layout(request_format, tuple(names), shapes))
        answer.tokens = tokens
        return answer.response()
    return _Answer(_document(names, shapes, request_format), tokens).response()


def encode_predict_response(outputs, request_format):
    """`predict_response` joined: the answer as one `bytes`."""
    return b"".join(predict_response(outputs, request_format))


def _score_token(value):
    return python_float_tokens(np.array([value], np.float32))[0].decode("ascii")


def classification_json(result):
    """`MakeJsonFromClassificationResult`: `{"results": [[["label", score], ...], ...]}`."""
    if not result.classifications:
        raise ServingError.invalid_argument("Cannot convert empty ClassificationResults to JSON")
    rows = []
    for classifications in result.classifications:
        pairs = [
            "[" + quote(entry.label) + ", "
            + _score_token(entry.score) + "]"
            for entry in classifications.classes
        ]
        rows.append("[" + ", ".join(pairs) + "]")
    return '{\n    "results": [' + ", ".join(rows) + "\n    ]\n}"


def regression_json(result):
    """`MakeJsonFromRegressionResult`: `{"results": [value, ...]}`."""
    if not result.regressions:
        raise ServingError.invalid_argument("Cannot convert empty RegressionResults to JSON")
    values = [_score_token(regression.value) for regression in result.regressions]
    return '{\n    "results": [' + ", ".join(values) + "]\n}"
