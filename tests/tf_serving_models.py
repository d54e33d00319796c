"""TF Serving's own test models, made here with TensorFlow as its `testdata/*.py` scripts make them.

Re-expressed (not copied) from tensorflow/serving's `servables/tensorflow/testdata/`:

- `half_plus_two` (`saved_model_half_plus_two.py`, the TF1 path): a v1 graph with variables
  `a=0.5, b=2, c=3`, serialized `tf.Example`s parsed into `x` (and `x2`), `y = a*x + b`,
  `y2 = a*x + c`, `y3 = a2*x2 + c2`; signatures `serving_default` (`x` -> `y`),
  `regress_x_to_y`, `regress_x_to_y2`, `regress_x2_to_y3`, `classify_x_to_y`; an asset file
  assigned by the `main_op`.
- `half_plus_three`: the same graph with `b=3`, written as TF1-era exports were, with
  reference variables and a `legacy_init_op`.
- `half_plus_two_tf2` (the script's `tf2=True` path): a `tf.Module` saved with
  `tf.saved_model.save`, the same signatures as TF2 functions.
- `counter` (`export_counter.py`): a reference variable and four stateful signatures
  (`get_counter`, `incr_counter`, `incr_counter_by`, `reset_counter`) whose outputs are
  `float_ref` tensors, which `tf.saved_model.load` cannot load.

Each is written to `<base>/00000123`, the version TF Serving's test data uses.
"""

import os

import tensorflow as tf

v1 = tf.compat.v1
VERSION_DIR = "00000123"
PREDICT, REGRESS, CLASSIFY = ("tensorflow/serving/predict", "tensorflow/serving/regress",
                              "tensorflow/serving/classify")


def _feature_spec():
    return {"x": tf.io.FixedLenFeature([1], tf.float32),
            "x2": tf.io.FixedLenFeature([1], tf.float32, default_value=[0.0])}


def _signature(inputs, outputs, method):
    info = v1.saved_model.utils.build_tensor_info
    return v1.saved_model.signature_def_utils.build_signature_def(
        {key: info(t) for key, t in inputs.items()},
        {key: info(t) for key, t in outputs.items()}, method)


def half_plus(base, b=2.0, tf1_era=False):
    """Writes `half_plus_two` (or, with `b=3` and `tf1_era`, `half_plus_three`) under `base`."""
    path = os.path.join(base, VERSION_DIR)
    assets = os.path.join(os.path.dirname(base), ".half_plus_assets")
    os.makedirs(assets, exist_ok=True)
    with open(os.path.join(assets, "foo.txt"), "w") as f:
        f.write("asset-file-contents")
    with tf.Graph().as_default() as graph, v1.Session(graph=graph) as session:
        def variable(value, name):
            return v1.Variable(value, name=name, use_resource=not tf1_era)

        a, b_var, c = variable(0.5, "a"), variable(float(b), "b"), variable(3.0, "c")
        serialized = v1.placeholder(tf.string, name="tf_example", shape=[None])
        example = v1.parse_example(serialized, _feature_spec())
        x = tf.identity(example["x"], name="x")
        y = tf.identity(a * x + b_var, name="y")
        y2 = tf.identity(a * x + c, name="y2")
        x2 = tf.identity(example["x2"], name="x2")
        y3 = tf.identity(variable(0.5, "a2") * x2 + variable(3.0, "c2"), name="y3")
        asset = tf.constant(os.path.join(assets, "foo.txt"))
        v1.add_to_collection(v1.GraphKeys.ASSET_FILEPATHS, asset)
        filename = v1.Variable("foo.txt", name="filename_tensor", trainable=False,
                               collections=[])
        init = tf.group(v1.saved_model.main_op.main_op(), filename.assign("foo.txt"))
        session.run(v1.global_variables_initializer())
        builder = v1.saved_model.Builder(path)
        builder.add_meta_graph_and_variables(
            session, ["serve"],
            signature_def_map={
                "serving_default": _signature({"x": x}, {"y": y}, PREDICT),
                "regress_x_to_y": _signature({"inputs": serialized}, {"outputs": y}, REGRESS),
                "regress_x_to_y2": _signature({"inputs": serialized}, {"outputs": y2}, REGRESS),
                "regress_x2_to_y3": _signature({"inputs": x2}, {"outputs": y3}, REGRESS),
                "classify_x_to_y": _signature({"inputs": serialized}, {"scores": y}, CLASSIFY),
            },
            assets_collection=v1.get_collection(v1.GraphKeys.ASSET_FILEPATHS),
            **({"legacy_init_op": init} if tf1_era else {"main_op": init}))
        builder.save()
    return base


class _HalfPlusTwo(tf.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = tf.Variable(0.5), tf.Variable(2.0), tf.Variable(3.0)

    def _parsed_x(self, serialized):
        return tf.io.parse_example(serialized, _feature_spec())["x"]

    @tf.function(input_signature=[tf.TensorSpec([1], tf.float32)])
    def predict(self, x):
        return {"y": self.a * x + self.b}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
    def regress_xy(self, serialized):
        return {"outputs": self.a * self._parsed_x(serialized) + self.b}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
    def classify_xy(self, serialized):
        return {"scores": self.a * self._parsed_x(serialized) + self.b}


def half_plus_two_tf2(base):
    """Writes the native TF2 `half_plus_two` under `base`."""
    model = _HalfPlusTwo()
    tf.saved_model.save(model, os.path.join(base, VERSION_DIR), signatures={
        "serving_default": model.predict, "regress_x_to_y": model.regress_xy,
        "classify_x_to_y": model.classify_xy})
    return base


def counter(base):
    """Writes `saved_model_counter` under `base`: reference-variable outputs."""
    with tf.Graph().as_default() as graph, v1.Session(graph=graph) as session:
        count = v1.Variable(0.0, dtype=tf.float32, name="counter", use_resource=False)
        delta = v1.placeholder(tf.float32, name="delta")
        signatures = {
            "get_counter": _signature({}, {"output": count}, PREDICT),
            "incr_counter": _signature({}, {"output": count.assign_add(1.0)}, PREDICT),
            "incr_counter_by": _signature({"delta": delta},
                                          {"output": count.assign_add(delta)}, PREDICT),
            "reset_counter": _signature({}, {"output": count.assign(0.0)}, PREDICT),
        }
        session.run(v1.global_variables_initializer())
        builder = v1.saved_model.Builder(os.path.join(base, VERSION_DIR))
        builder.add_meta_graph_and_variables(session, ["serve"], signature_def_map=signatures)
        builder.save()
    return base


def saved_model_save(base):
    """The model of the stock test `test_tf_saved_model_save`: `y = 3 * 2 * x`."""
    root = tf.train.Checkpoint()
    root.v1, root.v2 = tf.Variable(3.0), tf.Variable(2.0)
    root.f = tf.function(lambda x: {"y": root.v1 * root.v2 * x})
    tf.saved_model.save(root, os.path.join(base, VERSION_DIR),
                        root.f.get_concrete_function(tf.TensorSpec(None, tf.float32)))
    return base


def saved_model_save_multiple_signatures(base):
    """The model of `test_tf_saved_model_save_multiple_signatures`: `y` = 1 or 2."""
    root = tf.train.Checkpoint()
    spec = [tf.TensorSpec(None, tf.float32)]
    root.f = tf.function(lambda x: {"y": 1.0}, input_signature=spec)
    root.g = tf.function(lambda x: {"y": 2.0}, input_signature=spec)
    tf.saved_model.save(root, os.path.join(base, VERSION_DIR), signatures={
        "serving_default": root.f, "custom_signature_key": root.g})
    return base
