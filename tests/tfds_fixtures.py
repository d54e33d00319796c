"""Writes real, prepared tensorflow-datasets directories offline, for the data tests, and
stands in for the network: `reachable` / `unreachable` replace `socket.create_connection`, the
connection `tfgan.data.tfds_images.check_reachable` makes before a download."""

import os
import socket

import tensorflow as tf
import tensorflow_datasets as tfds


def write_prepared_tfds(data_dir, name, images, labels):
    """Writes `images` as the prepared `train` split of tfds data set `name` under `data_dir`.

    The files are what `download_and_prepare` leaves behind (one tfrecord shard, then
    dataset_info.json and features.json), so tfds reads them without any download.
    """
    builder = tfds.builder(name, data_dir=data_dir)
    out_dir = os.fspath(builder.data_path)
    os.makedirs(out_dir)
    template = tfds.core.ShardedFileTemplate(
        data_dir=out_dir,
        template="{DATASET}-{SPLIT}.{FILEFORMAT}-{SHARD_X_OF_Y}",
        dataset_name=builder.name,
        filetype_suffix="tfrecord",
    )
    features = builder.info.features
    shard = os.path.join(out_dir, f"{builder.name}-train.tfrecord-00000-of-00001")
    with tf.io.TFRecordWriter(shard) as writer:
        for image, label in zip(images, labels):
            writer.write(features.serialize_example({"image": image, "label": int(label)}))
    split = tfds.core.SplitInfo(
        name="train", shard_lengths=[len(images)], num_bytes=0, filename_template=template
    )
    tfds.folder_dataset.write_metadata(
        data_dir=out_dir, features=features, split_infos=[split], filename_template=template
    )


class Connection:
    """A connection that was made (and is closed at once)."""

    def close(self):
        pass


def reachable(monkeypatch):
    """Every host answers (no connection is made): the download itself decides."""
    monkeypatch.setattr(socket, "create_connection", lambda address, timeout: Connection())


def unreachable(monkeypatch):
    """No host answers, as on a machine without network; returns the addresses tried."""
    tried = []

    def refuse(address, timeout):
        tried.append(address)
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", refuse)
    return tried
