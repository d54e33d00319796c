"""Classify, Regress and MultiInference: tf.Example signatures run as the stock server runs them.

As TF Serving's `classifier.cc` / `regressor.cc`: each example is serialized after the
request's context (so an example's features override the context's), the serialized batch is
fed to the signature's `inputs`, and its `classes` / `scores` (or `outputs`) become a
`ClassificationResult` (`RegressionResult`), with the stock server's checks and messages.
A `MultiInferenceRequest` runs several such signatures of one model on one input, checked as
`multi_inference.cc` checks its tasks.
"""

import numpy as np
from google.protobuf import text_format
from tensorflow.core.framework import types_pb2
from tensorflow_serving.apis import classification_pb2, regression_pb2

from tfgan.serving.errors import ServingError, datatype_of, shape_text
from tfgan.serving.protocol import DEFAULT_SIGNATURE

# An `InferenceTask`'s `method_name` -> the method `check_example_signature` takes.
TASK_METHODS = {"tensorflow/serving/classify": "classify", "tensorflow/serving/regress": "regress"}


def serialized_examples(examples, context=None):
    """The `inputs` tensor of a tf.Example request: an `object` array of the context's bytes
    followed by each example's; INVALID_ARGUMENT `Input is empty.` without examples."""
    if not examples:
        raise ServingError.invalid_argument("Input is empty.")
    prefix = context.SerializeToString() if context is not None else b""
    out = np.empty(len(examples), dtype=object)
    out[:] = [prefix + example.SerializeToString() for example in examples]
    return out


def examples_of(request_input):
    """(examples, context) of a gRPC `Input` (`example_list` or `example_list_with_context`)."""
    kind = request_input.WhichOneof("kind")
    if kind == "example_list":
        return list(request_input.example_list.examples), None
    if kind == "example_list_with_context":
        listed = request_input.example_list_with_context
        return list(listed.examples), listed.context
    return [], None


def check_example_signature(signature, method):
    """`PreProcessClassification` / `PreProcessRegression`: the stock INVALID_ARGUMENT unless
    `method` (`classify`, `regress`) can run the signature: one `inputs` input and
    `classes` / `scores` (or one `outputs`) output."""
    if len(signature.inputs) != 1:
        raise ServingError.invalid_argument("Expected one input Tensor.")
    kind = "classification" if method == "classify" else "regression"
    if method == "classify" and len(signature.outputs) not in (1, 2):
        raise ServingError.invalid_argument(
            f"Expected one or two output Tensors, found {len(signature.outputs)}"
        )
    if method == "regress" and len(signature.outputs) != 1:
        raise ServingError.invalid_argument("Expected one output Tensor.")
    if "inputs" not in signature.inputs:
        raise ServingError.invalid_argument(
            f"No {kind} inputs found in SignatureDef: " + text_format.MessageToString(signature)
        )
    if method == "classify" and not {"classes", "scores"} & set(signature.outputs):
        raise ServingError.invalid_argument(
            'Expected classification signature outputs to contain at least one of "classes"'
            ' or "scores". Signature was: ' + text_format.MessageToString(signature)
        )
    if method == "regress" and "outputs" not in signature.outputs:
        raise ServingError.invalid_argument(
            "No regression outputs found in SignatureDef: "
            + text_format.MessageToString(signature)
        )


def checked_tasks(tasks, signature_defs):
    """The `(signature name, "classify" / "regress")` of each `InferenceTask`, checked as
    `multi_inference.cc` does against the servable's `signature_defs`: every task names the
    first task's model (versions are not read), no signature twice, each one there and
    runnable by its method; UNIMPLEMENTED for a method other than classify / regress."""
    model_name = tasks[0].model_spec.name
    checked = []
    for task in tasks:
        if not task.model_spec.name:
            raise ServingError.invalid_argument("Found ModelSpec with an empty model name.")
        if task.model_spec.name != model_name:
            raise ServingError.invalid_argument(
                "All ModelSpecs in a MultiInferenceRequest must access the same model name.")
        name = task.model_spec.signature_name or DEFAULT_SIGNATURE
        if any(name == seen for seen, _ in checked):
            raise ServingError.invalid_argument(f"Duplicate evaluation of signature: {name}")
        signature = signature_defs.get(name)
        if signature is None:
            raise ServingError.invalid_argument(
                f"Requested signature not found in model graph: {name}")
        method = TASK_METHODS.get(task.method_name)
        if method is None:
            raise ServingError.unimplemented(
                f"Unsupported signature method_name: {task.method_name}")
        check_example_signature(signature, method)
        checked.append((name, method))
    return checked


def _dtype_name(array):
    return types_pb2.DataType.Name(datatype_of(array))


def classification_result(outputs, num_examples):
    """`PostProcessClassificationResult`: `classes` [n, k] strings and/or `scores` [n, k]
    (the stock INVALID_ARGUMENT for a bad shape or dtype)."""
    classes, scores = outputs.get("classes"), outputs.get("scores")
    for name, array, dtype in (("classes", classes, "DT_STRING"), ("scores", scores, "DT_FLOAT")):
        if array is None:
            continue
        if array.ndim != 2:
            raise ServingError.invalid_argument(
                "Expected Tensor shape: [batch_size num_classes] but got "
                + shape_text(array.shape))
        if _dtype_name(array) != dtype:
            raise ServingError.invalid_argument(
                f"Expected {name} Tensor of {dtype}. Got: {_dtype_name(array)}")
        if array.shape[0] != num_examples:
            raise ServingError.invalid_argument(
                f"Expected {name} output batch size of {num_examples}. Got: {array.shape[0]}")
    if classes is not None and scores is not None and classes.shape[1] != scores.shape[1]:
        raise ServingError.invalid_argument(
            "Tensors class and score should match in dim_size(1). Got"
            f" {classes.shape[1]} vs. {scores.shape[1]}")
    num_classes = (classes if classes is not None else scores).shape[1]
    result = classification_pb2.ClassificationResult()
    for i in range(num_examples):
        classifications = result.classifications.add()
        for c in range(num_classes):
            entry = classifications.classes.add()
            if classes is not None:
                label = classes[i, c]
                # A proto3 string: labels that are not UTF-8 keep their text with U+FFFD.
                entry.label = (label.decode("utf-8", "replace") if isinstance(label, bytes)
                               else str(label))
            if scores is not None:
                entry.score = float(scores[i, c])
    return result


def regression_result(outputs, num_examples):
    """`PostProcessRegressionResult`: `outputs` [n] or [n, 1] float (the stock
    INVALID_ARGUMENT for a bad shape or dtype)."""
    array = outputs["outputs"]
    if not (array.ndim == 1 or (array.ndim == 2 and array.shape[1] == 1)):
        raise ServingError.invalid_argument(
            "Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got "
            + shape_text(array.shape))
    if array.shape[0] != num_examples:
        raise ServingError.invalid_argument(
            "Input batch size did not match output batch size: "
            f"{num_examples} vs. {array.shape[0]}")
    if _dtype_name(array) != "DT_FLOAT":
        raise ServingError.invalid_argument(
            f"Expected output Tensor of DT_FLOAT.  Got: {_dtype_name(array)}")
    result = regression_pb2.RegressionResult()
    for value in array.reshape(-1)[:num_examples]:
        result.regressions.add().value = float(value)
    return result
