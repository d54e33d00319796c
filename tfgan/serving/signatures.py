"""A predict request checked against a SignatureDef, as the stock server's `predict_util.cc`.

`input_values` turns the request's inputs (numpy values or `TensorProto`s) into the feeds, with
the stock server's messages for missing, extra and mistyped inputs; a `TensorProto` is checked
against its own content before anything is allocated. `output_aliases` checks an output filter.
"""

import math

import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2

from tfgan.serving.errors import ServingError, datatype_of, dtype_name

# A TensorProto may carry fewer values than its shape holds: TensorFlow repeats the last one.
# Such a fill may not expand a request past this many bytes (the stock server would allocate
# whatever the shape says: a 34-byte request declaring [1, 67108864] took 256 MiB).
MAX_FILL_BYTES = 16 * 2**20
_VALUE_FIELDS = ("float_val", "double_val", "int_val", "int64_val", "bool_val", "string_val",
                 "half_val", "uint32_val", "uint64_val", "scomplex_val", "dcomplex_val")


def check_rows(alias, info, shape, max_rows):
    """Refuses more leading rows than `max_rows` (0: no cap) on a batched input."""
    dims = info.tensor_shape.dim
    if max_rows and shape and dims and dims[0].size == -1 and shape[0] > max_rows:
        raise ServingError.invalid_argument(
            f"Input {alias} has {shape[0]} rows, more than this server's"
            f" max_samples_per_request={max_rows}"
        )


def _check_proto_size(alias, proto):
    """The declared shape of a `TensorProto` against what it carries, before allocating."""
    dims = [dim.size for dim in proto.tensor_shape.dim]
    if any(size < 0 for size in dims):
        raise ServingError.invalid_argument(f"tensor parsing error: {alias}")
    elements = math.prod(dims)
    try:
        itemsize = np.dtype(tf.dtypes.as_dtype(proto.dtype).as_numpy_dtype).itemsize
    except (TypeError, KeyError):  # DT_INVALID, DT_RESOURCE, ...: no values to read
        raise ServingError.invalid_argument(f"tensor parsing error: {alias}") from None
    if proto.tensor_content:
        if len(proto.tensor_content) != elements * itemsize:
            raise ServingError.invalid_argument(f"tensor parsing error: {alias}")
        return dims
    carried = max((len(getattr(proto, field)) for field in _VALUE_FIELDS), default=0)
    if carried < elements and elements * itemsize > MAX_FILL_BYTES:
        raise ServingError.invalid_argument(
            f"tensor parsing error: {alias} declares shape {dims} ({elements * itemsize} bytes)"
            f" but carries {carried} values; this server expands such a tensor to at most"
            f" {MAX_FILL_BYTES} bytes"
        )
    return dims


def _as_array(alias, value, info, max_rows):
    if not isinstance(value, tensor_pb2.TensorProto):
        array = np.asarray(value)
        check_rows(alias, info, array.shape, max_rows)
        return array
    check_rows(alias, info, _check_proto_size(alias, value), max_rows)
    try:
        return tf.make_ndarray(value)
    except (TypeError, ValueError, MemoryError):
        raise ServingError.invalid_argument(f"tensor parsing error: {alias}") from None


def check_num_samples(feeds, max_samples):
    """Refuses a scalar `num_samples` input above `max_samples` (0: no cap)."""
    value = feeds.get("num_samples")
    if max_samples and value is not None and value.ndim == 0 and int(value) > max_samples:
        raise ServingError.invalid_argument(
            f"num_samples={int(value)} is more than this server's"
            f" max_samples_per_request={max_samples}"
        )


def input_values(signature, inputs, max_rows=0):
    """`VerifyRequestInputsSize` + `GetInputValues`: the feeds (alias -> numpy array) of
    `inputs` (numpy values or `TensorProto`s), in the stock server's order and words; a tensor
    whose declared size its content does not back is refused before it is allocated."""
    request_names, signature_names = sorted(inputs), sorted(signature.inputs)
    if len(inputs) > len(signature.inputs) or (
        len(inputs) < len(signature.inputs) and not signature.defaults
    ):
        extra = sorted(set(request_names) - set(signature_names))
        missing = sorted(set(signature_names) - set(request_names))
        raise ServingError.invalid_argument(
            f"input size does not match signature: {len(inputs)}!={len(signature.inputs)}"
            f" len({{{','.join(request_names)}}}) != len({{{','.join(signature_names)}}})."
            f" Sent extra: {{{','.join(extra)}}}. Missing but required:"
            f" {{{','.join(missing)}}}."
        )
    feeds = {}
    for index, alias in enumerate(signature_names):
        info = signature.inputs[alias]
        if alias in inputs:
            value = _as_array(alias, inputs[alias], info, max_rows)
        elif alias in signature.defaults:
            value = _as_array(alias, signature.defaults[alias], info, max_rows)
        else:
            raise ServingError.invalid_argument(
                f"Signature input alias: {alias}(feed name: {info.name}) not found in request"
                " and no default value provided. Inputs expected to be in the request"
                f" {{{','.join(request_names)}}}, or default input alias set: "
                + ",".join(sorted(signature.defaults))
            )
        if datatype_of(value) != info.dtype:
            raise ServingError.invalid_argument(
                f"Expects arg[{index}] to be {dtype_name(info.dtype)} but"
                f" {dtype_name(datatype_of(value))} is provided"
            )
        if value.dtype.kind in "SU":
            value = np.vectorize(
                lambda v: v if isinstance(v, bytes) else str(v).encode(), otypes=[object]
            )(value)
        feeds[alias] = value
    used = [name for name in request_names if name in signature.inputs]
    if inputs and len(used) != len(inputs):
        raise ServingError.invalid_argument(
            f"Inputs contains invalid name. Used request inputs: {','.join(used)},"
            f" request input: {','.join(request_names)}"
        )
    return feeds


def output_aliases(signature, output_filter):
    """`PreProcessPrediction`'s output checks: the aliases to return."""
    aliases = []
    for alias in output_filter:
        if alias not in signature.outputs:
            raise ServingError.invalid_argument(
                f"output tensor alias not found in signature: {alias} Outputs expected to be"
                f" in the set {{{','.join(sorted(signature.outputs))}}}."
            )
        if alias in aliases:
            raise ServingError.invalid_argument(f"duplicate output tensor alias: {alias}")
        aliases.append(alias)
    return aliases or sorted(signature.outputs)
