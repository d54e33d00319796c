"""The answer writer tfgan served with up to commit 043b7a9: the reference for the new one.

`tfgan.serving.json_response` replaced it (it took ~0.6 s for the 69 MB columnar answer of
1024 MNIST samples, issue 16). Kept below the line, byte for byte the stock server's text, so
that tests can check the new writer against it on random tensors and `scripts/bench_serve.py
--json_only` can time both in one run. `float_tokens` (TensorFlow's printf and strtof) lives
only here now; the functions the server still uses are imported, not copied; the classify /
regress writers it had are not needed here.

----
Tensors -> the JSON answers of TF Serving's `util/json_tensor.cc`, without per-value Python.

The stock server writes answers with rapidjson's `PrettyWriter` and prints each float with
`WriteDecimal`: `absl::StrCat` (printf `%g`, six significant digits) unless that does not read
back as the same value, then `%.9g` (`%.17g` for doubles); `.0` is appended to tokens with
neither `.` nor `e`; NaN and infinities are the bare tokens `NaN`, `Infinity`, `-Infinity`.

A generator's answer holds tens of thousands of floats, so every step here is one vectorised
TensorFlow string op over the whole tensor (`tf.strings.as_string` is printf in C++,
`tf.strings.to_number` is strtof/strtod, `reduce_join` nests the arrays): a 64-sample MNIST
answer (56k floats, 4.3 MB in the columnar layout) takes ~25 ms instead of ~270 ms with a
token per value in Python. Only string outputs (a few PNGs) are formatted value by value.

`make_predict_response` writes `{"predictions": ...}` (row requests) or `{"outputs": ...}`
(columnar requests) exactly as the stock server lays them out.
"""

import enum
import functools

import numpy as np
import tensorflow as tf

from tfgan.serving.json_response import INDENT, checked_outputs, quote
from tfgan.serving.json_response import is_string as _is_string
from tfgan.serving.json_response import python_float_tokens, string_tokens

# Significant digits of the round-trip format, and the first power of ten printed with an
# exponent by that format (integers below it print without `.` or `e` and get `.0`).
_FLOAT_FORMATS = {np.dtype(np.float32): (9, 1e9), np.dtype(np.float64): (17, 1e17)}


def float_tokens(values):
    """`WriteDecimal` for every value of a float32 or float64 tensor, in TensorFlow string ops.

    `tf.strings.as_string` is printf and `tf.strings.to_number` strtof / strtod, in C++: the
    stock server's functions. TensorFlow's kernels flush subnormals to zero: those go to
    `python_float_tokens`.

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


class RequestFormat(enum.Enum):
    """How a predict request gave its tensors: `ROW` (`instances`) or `COLUMNAR` (`inputs`)."""

    ROW = "row"
    COLUMNAR = "columnar"


def _has_subnormals(array):
    if array.dtype not in _FLOAT_FORMATS:
        return False
    magnitude = np.abs(array)
    return bool(((magnitude > 0) & (magnitude < np.finfo(array.dtype).tiny)).any())


def _tokens(values):
    """Graph side of `AddSingleValueAndAdvance`: numbers and bools as tokens (strings pass)."""
    if values.dtype == tf.string:
        return values  # made by string_tokens or python_float_tokens
    if values.dtype.is_floating:
        return float_tokens(values)
    if values.dtype == tf.bool:
        return tf.where(values, "true", "false")
    return tf.strings.as_string(values)


def nested_json(tokens, rank, depth, single_line, keep=0):
    """`AddTensorValues`: nested arrays of tokens, as PrettyWriter lays them out.

    Joins the innermost axis first, up to axis `keep`; the array along axis `a` is written
    at nesting `depth + a - keep` (the number of containers open around it).

    Args:
        tokens: string `tf.Tensor` of rank `rank` (its dimensions may be unknown).
        rank: int.
        depth: int, nesting of the outermost array written.
        single_line: bool, rapidjson's `kFormatSingleLineArray` (row answers).
        keep: int, leading axes left unjoined.

    Returns:
        string `tf.Tensor` of shape `tokens.shape[:keep]`.
    """
    texts = tokens
    for axis in reversed(range(keep, rank)):
        if single_line:
            opening, separator, closing = "[", ", ", "]"
        else:
            level = depth + axis - keep
            inner = " " * (INDENT * (level + 1))
            opening, separator = "[\n" + inner, ",\n" + inner
            closing = "\n" + " " * (INDENT * level) + "]"
        empty = tf.equal(tf.shape(texts)[-1], 0)
        joined = tf.strings.reduce_join(texts, axis=-1, separator=separator)
        texts = tf.where(empty, "[]", tf.strings.join([opening, joined, closing]))
    return texts


def _row_body(tensors, names, ranks):
    """`MakeRowFormatJsonFromTensors` on graph tensors: `{"predictions": [...]}`."""
    objects = len(names) > 1
    # Depth at which each row's value is written: inside {"predictions": [ (and a row object).
    value_depth = 3 if objects else 2
    rows = [
        nested_json(_tokens(tensor), rank, value_depth, True, keep=1)
        for tensor, rank in zip(tensors, ranks)
    ]
    if objects:
        pad2, pad3 = " " * (INDENT * 2), " " * (INDENT * 3)
        fields = [tf.strings.join([f"\n{pad3}{quote(name)}: ", row])
                  for name, row in zip(names, rows)]
        items = tf.strings.join(
            [f"\n{pad2}{{", tf.strings.join(fields, separator=","), f"\n{pad2}}}"]
        )
        body = tf.strings.reduce_join(items, separator=",")
    else:
        body = tf.strings.reduce_join(rows[0], separator=", ")
    return tf.strings.join(['{\n    "predictions": [', body, "\n    ]\n}"])


def _columnar_body(tensors, names, ranks):
    """`MakeColumnarFormatJsonFromTensors` on graph tensors: `{"outputs": ...}`."""
    objects = len(names) > 1
    value_depth = 2 if objects else 1
    values = [
        nested_json(_tokens(tensor), rank, value_depth, False)
        for tensor, rank in zip(tensors, ranks)
    ]
    if not objects:
        return tf.strings.join(['{\n    "outputs": ', values[0], "\n}"])
    pad2 = " " * (INDENT * 2)
    fields = [tf.strings.join([f"\n{pad2}{quote(name)}: ", value])
              for name, value in zip(names, values)]
    body = tf.strings.join(["{", tf.strings.join(fields, separator=","), "\n    }"])
    return tf.strings.join(['{\n    "outputs": ', body, "\n}"])


@functools.lru_cache(maxsize=256)
def _answer_function(request_format, layout):
    """One compiled graph per answer layout: ((name, dtype, rank), ...) and request format.

    A graph runs every op of the answer in one call; eager ops cost ~0.1 ms each in
    dispatch, which is most of the time of a one-sample answer.
    """
    names = [name for name, _, _ in layout]
    ranks = [rank for _, _, rank in layout]
    body = _row_body if request_format == RequestFormat.ROW else _columnar_body
    signature = [tf.TensorSpec([None] * rank, dtype) for _, dtype, rank in layout]
    return tf.function(
        lambda *tensors: body(tensors, names, ranks), input_signature=signature, autograph=False
    )


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
    names, arrays, batch_size = checked_outputs(outputs, request_format)
    if request_format == RequestFormat.ROW:
        value_depth = 3 if len(names) > 1 else 2
        if batch_size == 0:
            return b'{\n    "predictions": []\n}'
        leaf = [value_depth + array.ndim - 1 for array in arrays]
    else:
        leaf = [(2 if len(names) > 1 else 1) + array.ndim for array in arrays]
    arrays = [
        string_tokens(name, array, depth) if _is_string(array)
        else python_float_tokens(array) if _has_subnormals(array) else array
        for name, array, depth in zip(names, arrays, leaf)
    ]
    layout = tuple(
        (name, tf.string if array.dtype == object else tf.as_dtype(array.dtype), array.ndim)
        for name, array in zip(names, arrays)
    )
    return _answer_function(request_format, layout)(*arrays).numpy()


def make_predict_response(outputs, request_format):
    """`encode_predict_response` as a `str` (non-UTF-8 string outputs surrogate-escaped)."""
    return encode_predict_response(outputs, request_format).decode("utf-8", "surrogateescape")
