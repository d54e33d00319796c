"""Tensors -> the JSON answers of TF Serving's `util/json_tensor.cc`, without per-value Python.

The stock server writes answers with rapidjson's `PrettyWriter` and prints each float with
`WriteDecimal`: `absl::StrCat` (printf `%g`, six significant digits) unless that does not read
back as the same value, then `%.9g` (`%.17g` for doubles); `.0` is appended to tokens with
neither `.` nor `e`; NaN and infinities are the bare tokens `NaN`, `Infinity`, `-Infinity`.

A generator's answer holds up to millions of floats, so nothing here runs per value in
Python: the tokens come from one TensorFlow graph per dtype (`tf.strings.as_string` is printf
in C++, `tf.strings.to_number` is strtof/strtod) as one byte string with `\x01` between
them, and `nested_json` lays them out with one `bytes.replace` per kind of gap. 1024 MNIST
samples (800k floats, 69 MB in the columnar layout) take ~0.3 s, about half of it printing
the floats. Only string outputs (a few PNGs) are formatted value by value.

`make_predict_response` writes `{"predictions": ...}` (row requests) or `{"outputs": ...}`
(columnar requests) exactly as the stock server lays them out.
"""

import base64
import enum
import functools

import numpy as np
import tensorflow as tf

from tfgan.serving.errors import ServingError, datatype_of, dtype_name
from tfgan.serving.json_text import INDENT, quote

BYTES_SUFFIX = "_bytes"
# Significant digits of the round-trip format, and the first power of ten printed with an
# exponent by that format (integers below it print without `.` or `e` and get `.0`).
_FLOAT_FORMATS = {np.dtype(np.float32): (9, 1e9), np.dtype(np.float64): (17, 1e17)}
_INT_KINDS = "iu"


class RequestFormat(enum.Enum):
    """How a predict request gave its tensors: `ROW` (`instances`) or `COLUMNAR` (`inputs`)."""

    ROW = "row"
    COLUMNAR = "columnar"


def float_tokens(values):
    """`WriteDecimal` for every value of a float32 or float64 tensor.

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
    """`float_tokens` value by value in Python, for arrays holding subnormal numbers.

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


def _has_subnormals(array):
    if array.dtype not in _FLOAT_FORMATS:
        return False
    magnitude = np.abs(array)
    return bool(((magnitude > 0) & (magnitude < np.finfo(array.dtype).tiny)).any())


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


def _is_string(array):
    return array.dtype == object or array.dtype.kind in "SU"


def _check_writable(array):
    if _is_string(array) or array.dtype in _FLOAT_FORMATS or array.dtype == np.bool_:
        return
    if array.dtype.kind in _INT_KINDS and array.dtype.itemsize <= 8:
        return
    raise ServingError.invalid_argument(
        f"Failed to write JSON value for tensor type: {dtype_name(datatype_of(array))}"
    )


def _tokens(values):
    """Graph side of `AddSingleValueAndAdvance`: numbers and bools as tokens (strings pass)."""
    if values.dtype == tf.string:
        return values  # made by string_tokens or python_float_tokens
    if values.dtype.is_floating:
        return float_tokens(values)
    if values.dtype == tf.bool:
        return tf.where(values, "true", "false")
    return tf.strings.as_string(values)


@functools.lru_cache(maxsize=32)
def _joined_tokens_function(dtype):
    """One compiled graph per dtype: a tensor's tokens in row-major order, `\x01` between."""
    return tf.function(
        lambda values: tf.strings.reduce_join(  # flat first: where() broadcasts up to rank 8
            _tokens(tf.reshape(values, [-1])), separator=_TOKEN_SEPARATOR.decode("ascii")
        ),
        input_signature=[tf.TensorSpec(None, dtype)],
        autograph=False,
    )


# Control bytes never found in a token: JSON escapes them in strings, and b64 objects hold
# only newlines (0x0A, left out) and spaces. `nested_json` marks the gaps between tokens with
# them, then replaces each by the text it stands for in one C-level pass over the answer.
_TOKEN_SEPARATOR = b"\x01"
_GAP_CODES = bytes(code for code in range(1, 32) if code != 0x0A)


def nested_json(tokens, shape, depth, single_line, keep=0):
    """`AddTensorValues`: nested arrays of tokens, as PrettyWriter lays them out.

    The text between two consecutive tokens depends only on how many inner axes start over
    at the second one, so the gaps of the token stream are marked with one code per kind and
    each code is replaced by its text with `bytes.replace` (no per-value Python).

    Args:
        tokens: bytes, the tensor's tokens in row-major order with `\x01` between them.
        shape: tuple of ints, the tensor's shape; every axis non-empty
            (`encode_predict_response` writes empty arrays as `[]` tokens first).
        depth: int, nesting of the outermost array written (the number of containers open
            around it); the array along axis `a` is written at nesting `depth + a - keep`.
        single_line: bool, rapidjson's `kFormatSingleLineArray` (row answers).
        keep: 0, or 1 to leave the leading axis unjoined.

    Returns:
        `keep=0`: a list of bytes whose concatenation is the text (no copy of the whole);
        `keep=1`: a list of bytes, the text of each index of the leading axis.

    Raises:
        ServingError: INVALID_ARGUMENT for more nested axes than there are codes (29).
    """
    levels = range(depth, depth + len(shape) - keep)  # nesting of each joined axis
    if len(levels) >= len(_GAP_CODES):
        raise ServingError.invalid_argument(
            f"Cannot write a tensor of rank {len(shape)} as JSON (at most"
            f" {len(_GAP_CODES) - 1 + keep} axes)"
        )

    def opening(level):
        return "[" if single_line else "[\n" + " " * (INDENT * (level + 1))

    def closing(level):
        return "]" if single_line else "\n" + " " * (INDENT * level) + "]"

    def separator(level):
        return ", " if single_line else ",\n" + " " * (INDENT * (level + 1))

    text = np.frombuffer(tokens, np.uint8).copy()
    gaps = np.flatnonzero(text == _TOKEN_SEPARATOR[0])
    # kinds[i]: how many inner axes start over at token i + 1; the last code marks a new row.
    kinds = np.zeros(len(gaps), np.uint8)
    row_code = _GAP_CODES[-1]
    for axis in range(keep + 1, len(shape)):
        period = int(np.prod(shape[axis:], dtype=np.int64))
        kinds[period - 1::period] += 1
    codes = np.frombuffer(_GAP_CODES, np.uint8)[kinds]
    if keep:
        row_size = int(np.prod(shape[1:], dtype=np.int64))
        codes[row_size - 1::row_size] = row_code
    text[gaps] = codes
    text = text.tobytes()
    for restarted in range(len(levels)):
        advancing = len(levels) - 1 - restarted
        gap = (
            "".join(closing(level) for level in reversed(levels[advancing + 1:]))
            + separator(levels[advancing])
            + "".join(opening(level) for level in levels[advancing + 1:])
        )
        text = text.replace(_GAP_CODES[restarted:restarted + 1], gap.encode("ascii"))
    first = "".join(opening(level) for level in levels).encode("ascii")
    last = "".join(closing(level) for level in reversed(levels)).encode("ascii")
    if not keep:
        return [first, text, last]
    return [first + row + last for row in text.split(bytes([row_code]))]


def _row_body(texts, names):
    """`MakeRowFormatJsonFromTensors`: `{"predictions": [...]}` from each output's row texts."""
    if len(names) == 1:
        body = b", ".join(texts[0])
    else:
        pad2, pad3 = " " * (INDENT * 2), " " * (INDENT * 3)
        keys = [f"\n{pad3}{quote(name)}: ".encode("utf-8") for name in names]
        opening, closing = f"\n{pad2}{{".encode("ascii"), f"\n{pad2}}}".encode("ascii")
        body = b",".join(
            opening + b",".join(key + row for key, row in zip(keys, rows)) + closing
            for rows in zip(*texts)
        )
    return b'{\n    "predictions": [' + body + b"\n    ]\n}"


def _columnar_body(texts, names):
    """`MakeColumnarFormatJsonFromTensors`: `{"outputs": ...}` from each output's text parts."""
    if len(names) == 1:
        return b"".join([b'{\n    "outputs": ', *texts[0], b"\n}"])
    pad2 = " " * (INDENT * 2)
    parts = [b'{\n    "outputs": {']
    for index, (name, text) in enumerate(zip(names, texts)):
        parts += [b"," if index else b"", f"\n{pad2}{quote(name)}: ".encode("utf-8"), *text]
    return b"".join(parts + [b"\n    }\n}"])


def _joined_tokens(name, array, leaf_depth):
    """An array's JSON tokens in row-major order with `\x01` between them, as bytes."""
    if _is_string(array):
        return _TOKEN_SEPARATOR.join(string_tokens(name, array, leaf_depth).reshape(-1))
    if _has_subnormals(array):
        return _TOKEN_SEPARATOR.join(python_float_tokens(array).reshape(-1))
    return _joined_tokens_function(tf.as_dtype(array.dtype))(array).numpy()


def encode_predict_response(outputs, request_format):
    """`MakeJsonFromTensors`: the body of a `:predict` answer, as UTF-8 bytes.

    Args:
        outputs: dict of output name -> numpy array (`object` arrays of `bytes` for strings).
        request_format: `RequestFormat` of the request; `ROW` answers `{"predictions": ...}`
            (one entry per batch row; objects per row when there are several outputs),
            `COLUMNAR` answers `{"outputs": ...}`.

    Returns:
        bytes, the JSON text exactly as the stock server lays it out.

    Raises:
        ServingError: INVALID_ARGUMENT for an empty map, a rank-0 output or outputs of
            different batch sizes in the row format, or a dtype JSON cannot carry.
    """
    if not outputs:
        raise ServingError.invalid_argument("Cannot convert empty tensor map to JSON")
    names = sorted(outputs)
    arrays = [np.asarray(outputs[name]) for name in names]
    for array in arrays:
        _check_writable(array)
    row = request_format == RequestFormat.ROW
    if row and _check_row_batch(names, arrays) == 0:
        return b'{\n    "predictions": []\n}'
    depth = (2 if len(names) > 1 else 1) + (1 if row else 0)  # nesting of each output's value
    texts = []
    for name, array in zip(names, arrays):
        leaf_depth = depth + array.ndim - (1 if row else 0)
        if array.size:
            tokens, shape = _joined_tokens(name, array, leaf_depth), array.shape
        else:  # PrettyWriter writes an empty array as `[]` at any nesting
            shape = array.shape[:array.shape.index(0)]
            tokens = _TOKEN_SEPARATOR.join([b"[]"] * int(np.prod(shape, dtype=np.int64)))
        texts.append(nested_json(tokens, shape, depth, row, keep=1 if row else 0))
    return (_row_body if row else _columnar_body)(texts, names)


def _check_row_batch(names, arrays):
    """The row format's checks: every output has the same leading dimension; returns it."""
    batch_size = -1
    for name, array in zip(names, arrays):
        if array.ndim == 0:
            raise ServingError.invalid_argument(f"Tensor name: {name} has no shape information ")
        if batch_size >= 0 and batch_size != array.shape[0]:
            raise ServingError.invalid_argument(
                f"Tensor name: {name} has inconsistent batch size: {array.shape[0]}"
                f" expecting: {batch_size}"
            )
        batch_size = array.shape[0]
    return batch_size


def make_predict_response(outputs, request_format):
    """`encode_predict_response` as a `str` (non-UTF-8 string outputs surrogate-escaped)."""
    return encode_predict_response(outputs, request_format).decode("utf-8", "surrogateescape")


def _score_token(value):
    return python_float_tokens(np.array([value], np.float32))[0].decode("ascii")


def classification_json(result):
    """`MakeJsonFromClassificationResult`: `{"result": [[["label", score], ...], ...]}`."""
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
    return '{\n    "result": [' + ", ".join(rows) + "\n    ]\n}"


def regression_json(result):
    """`MakeJsonFromRegressionResult`: `{"result": [value, ...]}`."""
    if not result.regressions:
        raise ServingError.invalid_argument("Cannot convert empty RegressionResults to JSON")
    values = [_score_token(regression.value) for regression in result.regressions]
    return '{\n    "result": [' + ", ".join(values) + "]\n}"
