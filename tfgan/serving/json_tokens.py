"""The JSON tokens of tensor values, as TF Serving's `util/json_tensor.cc` prints them.

Floats follow the stock `WriteDecimal`: `absl::StrCat` (printf `%g`, six significant digits)
unless that does not read back as the same value, then `%.9g` (`%.17g` for doubles); `.0` is
appended to tokens with neither `.` nor `e`; NaN and infinities are the bare tokens `NaN`,
`Infinity`, `-Infinity`. Integers print in decimal, bools as `true` / `false`, strings quoted
(`*_bytes` outputs as `{"b64": ...}` objects).

`token_rows` returns one row of bytes per value, for `json_writer` to lay out: NUL bytes in a
row are not part of the token and are dropped when rows are joined, so a digit can stay in a
fixed column whatever the token's length, and no step loops over values in Python. float32
values, by far the commonest in a generator's answer, are formatted with numpy arithmetic
(`float32_rows`), ~8x faster than TensorFlow's string ops (`float_tokens`: printf and strtof
in C++), which remain for float64; the few float32 values the arithmetic cannot settle are
formatted exactly in Python (`exact_float32_tokens`).
"""

import base64
import fractions

import numpy as np
import tensorflow as tf

from tfgan.serving.json_text import INDENT, quote

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
            _exceptional_float32_tokens(x[exact]), FLOAT32_WIDTH - MARKER_COLUMNS)
    return rows


def _exceptional_float32_tokens(values):
    """Tokens of the values `float32_rows` does not format (a few per answer)."""
    tokens = np.empty(values.size, object)
    zero = values == 0
    tokens[zero] = np.where(np.signbit(values[zero]), b"-0.0", b"0.0")
    nan = np.isnan(values)
    tokens[nan] = b"NaN"
    infinite = np.isinf(values)
    tokens[infinite] = np.where(values[infinite] > 0, b"Infinity", b"-Infinity")
    subnormal = _subnormal(values)
    if subnormal.any():
        tokens[subnormal] = python_float_tokens(values[subnormal])
    rest = ~(zero | nan | infinite | subnormal)
    tokens[rest] = exact_float32_tokens(values[rest])
    return tokens.astype("S")


def _reads_back_as(text, value):
    """Whether strtof (correctly rounded, ties to even) reads `text` as the float32 `value`."""
    value = abs(value)
    exact = fractions.Fraction(float(value))
    below = fractions.Fraction(float(np.nextafter(value, np.float32(0))))
    above = 2 * exact - below if value == np.finfo(np.float32).max else fractions.Fraction(
        float(np.nextafter(value, np.float32(np.inf))))
    low, high = (exact + below) / 2, (exact + above) / 2
    read = abs(fractions.Fraction(text))
    even = int(value.view(np.uint32)) % 2 == 0
    return low < read < high or (read in (low, high) and even)


def exact_float32_tokens(values):
    """`WriteDecimal` for normal float32 values, exactly, in Python (a few values per answer).

    Python's `%g` rounds exactly as printf does; whether six digits read back as the value is
    decided with fractions, as a correctly rounded strtof would.

    Returns:
        list of bytes.
    """
    tokens = []
    for value in values.reshape(-1):
        text = "%g" % float(value)
        if not _reads_back_as(text, value):
            text = "%.9g" % float(value)
        if "." not in text and "e" not in text:
            text += ".0"
        tokens.append(text.encode("ascii"))
    return tokens


# ---- the exact paths: TensorFlow string ops and Python ---------------------------------------


def float_tokens(values):
    """`WriteDecimal` for every value of a float32 or float64 tensor, in TensorFlow string ops.

    `tf.strings.as_string` is printf and `tf.strings.to_number` strtof / strtod, in C++: the
    stock server's functions. Used for float64 and for the values `float32_rows` cannot settle.
    TensorFlow's kernels flush subnormals to zero: those go to `python_float_tokens`.

    Args:
        values: float32 / float64 `tf.Tensor` or numpy array (graph-friendly: any shape).

    Returns:
        string `tf.Tensor` of the same shape holding each value's JSON token.
    """
    values = tf.convert_to_tensor(values)
    digits, exponent_from = _FLOAT_FORMATS[np.dtype(values.dtype.as_numpy_dtype)]
    six = tf.strings.as_string(values, shortest=True)
    finite = tf.math.is_finite(values)
    safe = tf.where(finite, values, tf.zeros_like(values))  # to_number must not meet "nan"
    six_ok = tf.equal(tf.strings.to_number(tf.where(finite, six, "0"), values.dtype), safe)
    exact = tf.strings.as_string(values, precision=digits, shortest=True)
    tokens = tf.where(six_ok, six, exact)
    magnitude = tf.abs(safe)
    plain_integer = (
        finite
        & tf.equal(safe, tf.floor(safe))
        & ((magnitude < 1e6) | (~six_ok & (magnitude < exponent_from)))
    )
    tokens = tf.where(plain_integer, tf.strings.join([tokens, ".0"]), tokens)
    tokens = tf.where(tf.math.is_nan(values), "NaN", tokens)
    infinity = tf.math.is_inf(values)
    return tf.where(infinity & (values > 0), "Infinity", tf.where(infinity, "-Infinity", tokens))


def python_float_tokens(array):
    """`WriteDecimal` value by value in Python, for subnormal numbers and single scores.

    TensorFlow's CPU kernels treat subnormals as zero (flush-to-zero), so `float_tokens`
    would print them as `0.0`; the stock server's writer prints them. They are rare (one
    value in a float32 output below 1.2e-38), so they take this slow path.

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


def _subnormal(array):
    magnitude = np.abs(array)
    return (magnitude > 0) & (magnitude < np.finfo(array.dtype).tiny)


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


def _with_marker_columns(matrix):
    rows = np.zeros((matrix.shape[0], MARKER_COLUMNS + matrix.shape[1]), np.uint8)
    rows[:, MARKER_COLUMNS:] = matrix
    return rows


def token_rows(array):
    """Each value's token as a row of bytes (NULs are not part of it), for numbers and bools.

    Args:
        array: numpy array of a float, integer or bool dtype (`is_writable`, not strings).

    Returns:
        uint8 array `[array.size, width]`; the first `MARKER_COLUMNS` columns are zero.
    """
    flat = array.reshape(-1)
    if flat.dtype == np.float32:  # (the writer calls float32_rows slab by slab itself)
        rows = np.empty((flat.size, FLOAT32_WIDTH), np.uint8)
        for start in range(0, flat.size, FLOAT32_SLAB):
            float32_rows(flat[start:start + FLOAT32_SLAB], out=rows[start:start + FLOAT32_SLAB])
        return rows
    if flat.dtype == np.float64:
        tokens = float_tokens(flat).numpy()
        subnormal = _subnormal(flat)
        if subnormal.any():
            tokens[subnormal] = python_float_tokens(flat[subnormal])
        return _with_marker_columns(_bytes_matrix(tokens))
    if flat.dtype == np.bool_:
        return _with_marker_columns(_bytes_matrix(np.where(flat, b"true", b"false")))
    return _with_marker_columns(_bytes_matrix(tf.strings.as_string(flat).numpy()))
