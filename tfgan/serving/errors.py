"""`ServingError`: a canonical status code and a message, and how each API edge shows it.

The core raises `ServingError`s with TensorFlow's canonical codes and the stock server's
messages (`Servable not found for request: Latest(mnist)`, ...); the REST edge answers with
`HTTP_STATUS[code]` (as TF Serving's `ToHTTPStatusCode`), the gRPC edge with the gRPC status
of the same number. The client maps both back, so it needs this module and no server module.
"""

import re

import tensorflow as tf
from tensorflow.core.framework import types_pb2
from tensorflow.core.protobuf import error_codes_pb2 as codes

HTTP_STATUS = {
    codes.OK: 200,
    codes.CANCELLED: 499,
    codes.UNKNOWN: 500,
    codes.INVALID_ARGUMENT: 400,
    codes.DEADLINE_EXCEEDED: 504,
    codes.NOT_FOUND: 404,
    codes.ALREADY_EXISTS: 409,
    codes.PERMISSION_DENIED: 403,
    codes.RESOURCE_EXHAUSTED: 429,
    codes.FAILED_PRECONDITION: 400,
    codes.ABORTED: 409,
    codes.OUT_OF_RANGE: 400,
    codes.UNIMPLEMENTED: 501,
    codes.INTERNAL: 500,
    codes.UNAVAILABLE: 503,
    codes.DATA_LOSS: 500,
    codes.UNAUTHENTICATED: 401,
}

# HTTP statuses back to canonical codes (400 and 500 stand for several; take the usual one).
CODES_BY_HTTP_STATUS = {
    **{status: code for code, status in HTTP_STATUS.items()},
    400: codes.INVALID_ARGUMENT,
    409: codes.ABORTED,
    413: codes.INVALID_ARGUMENT,
    500: codes.INTERNAL,
}


def _with_code(code):
    """A constructor of `ServingError`s with `code`: `ServingError.not_found(message)`."""
    return classmethod(lambda cls, message: cls(code, message))


class ServingError(Exception):
    """An error with a canonical status code, as TF Serving returns it.

    Args:
        code: int, a `tensorflow.error.Code` value (`error_codes_pb2.INVALID_ARGUMENT`, ...).
        message: str, the message clients see.
    """

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self):
        return f"{codes.Code.Name(self.code)}: {self.message}"

    invalid_argument = _with_code(codes.INVALID_ARGUMENT)
    not_found = _with_code(codes.NOT_FOUND)
    failed_precondition = _with_code(codes.FAILED_PRECONDITION)
    deadline_exceeded = _with_code(codes.DEADLINE_EXCEEDED)
    unimplemented = _with_code(codes.UNIMPLEMENTED)
    unavailable = _with_code(codes.UNAVAILABLE)
    internal = _with_code(codes.INTERNAL)

    @classmethod
    def from_tf_error(cls, error):
        """A `tf.errors.OpError` as a session reports it: eager-call decorations removed."""
        message = re.sub(
            r"^Graph execution error:\s*(Detected at node .*?<stack traces unavailable>\n)?", "",
            error.message, flags=re.DOTALL,
        )
        message = re.sub(r"^\{\{function_node [^}]*\}\}\s*", "", message)
        message = re.sub(r"\s*\[Op:[^\]]*\]\s*$", "", message)
        return cls(error.error_code, message)


def dtype_name(dtype):
    """TensorFlow's `DataTypeString` for a `DataType` enum value: `float`, `int32`, `string`..."""
    return types_pb2.DataType.Name(dtype)[len("DT_"):].lower()


def datatype_of(array):
    """The `DataType` enum of a numpy array (`object` and bytes arrays are DT_STRING)."""
    if array.dtype == object or array.dtype.kind in "SU":
        return types_pb2.DT_STRING
    return tf.as_dtype(array.dtype).as_datatype_enum


def shape_text(shape):
    """A shape as TensorFlow's messages print it: `[2,28,28,1]`."""
    return "[" + ",".join(str(d) for d in shape) + "]"
