"""`GAN(keras.Model)`: two networks, two optimizers and one `train_step` that runs a schedule."""

import collections
import contextlib

import keras
import tensorflow as tf

from tfgan import adversaries, losses, penalties, priors, schedules

# What `train_step` logs, in the order history.csv and the progress line show them.
LOG_NAMES = ("d_loss", "g_loss", "d_real", "d_fake", "gradient_penalty", "d_updated")

# What one forward pass of both networks yields; `gradient_penalty` is None when unused.
ForwardPass = collections.namedtuple(
    "ForwardPass", ["real_logits", "fake_logits", "d_loss", "g_loss", "gradient_penalty"]
)


@keras.saving.register_keras_serializable(package="tfgan")
class GAN(keras.Model):
    """A generator and a discriminator trained against each other by `fit`.

    `train_step` follows the keras-io GAN examples: sample `z` from the prior, update the
    discriminator under its own tape over `discriminator.trainable_weights`, sample a fresh `z`,
    update the generator over `generator.trainable_weights` only. The order and number of
    updates come from a `tfgan.schedules.Schedule`; the losses come from `compile`.

    A class-conditional GAN (a generator with `num_classes > 0`, and a discriminator that
    takes `labels`, e.g. `tfgan.models.ProjectionDiscriminator`) trains on `(samples, labels)`
    batches: as in keras-io's `conditional_gan.py`, the generator makes samples for the real
    batch's labels and the discriminator judges both under them. `compile`'s
    `class_loss_weight` adds classification losses (AC-GAN, Odena et al. 2017; dual projection).

    With `pack = m > 1` the discriminator judges packs of m samples (PacGAN, Lin et al. 2018,
    https://arxiv.org/abs/1712.04086): every batch it sees, real or generated, goes through
    `pack_samples` first, so a batch of `b` samples gives `b / m` logits, the gradient penalty
    interpolates between real and generated packs, and the `"worse"` schedule compares the
    networks on pack logits. The discriminator must be built for `packed_shape(data_shape, m)`.
    `pack = 1` is the plain GAN (packing is then the identity).

    Calling the model, `gan(x)`, scores data with the discriminator (one logit per pack);
    `generate(z)` makes samples with `sampling_generator` (the EMA copy when `ema_decay` is set).

    Args:
        generator: `keras.Model` with attributes `z_dim`, `data_shape` and
            `output_activation`, mapping `[batch, z_dim]` to `[batch, *data_shape]` float32;
            it must round-trip through `from_config(get_config())` when `ema_decay` is set.
        discriminator: `keras.Model` mapping packs `[batch, *packed_shape(data_shape, pack)]`
            to logits `[batch, 1]` float32 (with `pack=1`, samples `[batch, *data_shape]`).
        prior: str, the latent prior, one of `tfgan.priors.PRIORS`. Defaults to `"uniform"`.
        schedule: `tfgan.schedules.Schedule` or None for `Alternating()` (1:1).
            Defaults to `None`.
        ema_decay: float in [0, 1) or None. When set, `ema_generator` keeps an exponential
            moving average of the generator's weights (Karras et al. 2018,
            https://arxiv.org/abs/1710.10196; Yazici et al. 2019,
            https://arxiv.org/abs/1806.04498), updated after every generator update as
            `w_ema = decay * w_ema + (1 - decay) * w`, batch-norm statistics included.
            Defaults to `None`.
        ema_warmup: bool, ramp the EMA's decay up over the first generator updates:
            `decay_t = min(ema_decay, (1 + t) / (10 + t))` at the update after `t` earlier
            ones (the ramp of `tf.train.ExponentialMovingAverage`'s `num_updates`), so the
            average forgets the initial weights within tens of updates instead of
            `1 / (1 - ema_decay)`; needs `ema_decay`. Defaults to `False`.
        seed: int or None, seed of the generator that draws `z` and the penalty's
            interpolation weights. Defaults to `None`.
        pack: int >= 1, samples the discriminator judges at once; every batch size must be a
            multiple of it. Defaults to `1`.
        **kwargs: `keras.Model` arguments such as `name`.

    Raises:
        ValueError: if `prior` is unknown, `ema_decay` is outside [0, 1), `ema_warmup` is set
            without `ema_decay`, or `pack` is not a positive int.

    Example:

    ```python
    gan = GAN(generator, discriminator, prior="uniform", schedule=Alternating(g_steps=2))
    gan.compile(keras.optimizers.Adam(2e-5), keras.optimizers.Adam(2e-5))
    gan.build_all(generator.data_shape)
    gan.fit(dataset, epochs=1, steps_per_epoch=100)
    samples = gan.generate(tfgan.priors.stateless_prior(16, generator.z_dim, "uniform", 0))
    ```
    """

    def __init__(
        self,
        generator,
        discriminator,
        prior="uniform",
        schedule=None,
        ema_decay=None,
        seed=None,
        pack=1,
        ema_warmup=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        priors.validate_prior(prior)
        if ema_decay is not None and not 0.0 <= ema_decay < 1.0:
            raise ValueError(
                f"ema_decay must be None or in [0, 1). Received: ema_decay={ema_decay!r}"
            )
        if ema_warmup and ema_decay is None:
            raise ValueError(
                f"ema_warmup needs an ema_decay. Received: ema_warmup={ema_warmup!r}")
        _check_pack(pack)
        self.generator = generator
        self.discriminator = discriminator
        self.prior = prior
        self.schedule = schedule or schedules.Alternating()
        # 0 for an unconditional GAN; the generator's classes otherwise.
        self.num_classes = int(getattr(generator, "num_classes", 0))
        if self.num_classes and pack != 1:
            raise ValueError(
                "A conditional GAN judges one label per sample; a pack would mix labels. "
                f"Received: pack={pack}")
        self.ema_decay = ema_decay
        self.ema_warmup = bool(ema_warmup)
        self.seed = seed
        self.pack = pack
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Keras does not make seed generators checkpoint dependencies; the GAN does, so a run
        # resumed from a checkpoint draws the same z as one that never stopped.
        self._track_trackable(self.seed_generator.state, name="seed_generator_state")
        # Training steps taken; callbacks and checkpoints read it.
        self.step = self.add_weight(
            name="step",
            shape=(),
            dtype="int64",
            initializer="zeros",
            trainable=False,
            aggregation="only_first_replica",
        )
        self.ema_generator = None
        if ema_decay is not None:
            ema_config = {**generator.get_config(), "name": f"{generator.name}_ema"}
            self.ema_generator = generator.__class__.from_config(ema_config)
        self.d_optimizer = None
        self.g_optimizer = None
        # Running means of what `train_step` logs, over the steps since the last
        # `reset_metrics()` (each epoch of `fit`; each log interval of `tfgan.training_loop`).
        self.trackers = {name: keras.metrics.Mean(name=name) for name in LOG_NAMES}
        self.gradient_penalty_weight = 0.0
        self.gradient_penalty_kind = "wgan_gp"
        self.gradient_penalty_every = 1
        self.generator_needs_real = False
        self.unrolled_steps = 0
        self.unrolled_learning_rate = None
        self.adversary_weighting = "mean"
        self.adversary_temperature = 1.0
        self.class_loss_weight = 0.0
        self.classify_generated = True
        self.mode_seeking_weight = 0.0

    def compile(
        self,
        d_optimizer,
        g_optimizer,
        loss="non_saturating",
        gradient_penalty_weight=0.0,
        gradient_penalty="wgan_gp",
        unrolled_steps=0,
        unrolled_learning_rate=None,
        jit_compile=False,
        steps_per_execution=1,
        adversary_weighting="mean",
        adversary_temperature=1.0,
        class_loss_weight=0.0,
        gradient_penalty_every=1,
        classify_generated=True,
        mode_seeking_weight=0.0,
    ):
        """Sets the optimizers and the loss family.

        Under the `"mixed_float16"` dtype policy each optimizer is wrapped in a
        `keras.optimizers.LossScaleOptimizer`. If the model is already built, both optimizers
        are built too, so a checkpoint can be restored into them before the first step.

        Args:
            d_optimizer: `keras.optimizers.Optimizer` for the discriminator.
            g_optimizer: `keras.optimizers.Optimizer` for the generator.
            loss: str, one of `tfgan.losses.LOSSES`, or a `tfgan.losses.GANLoss` (or its
                fields as a tuple). Defaults to `"non_saturating"`.
            gradient_penalty_weight: float >= 0, weight of the gradient penalty added to the
                discriminator's loss; 0 turns it off. Defaults to `0.0`.
            gradient_penalty: str, the penalty, one of `tfgan.penalties.PENALTIES`:
                `"wgan_gp"` on interpolates, `"r1"` on real, `"r2"` on generated packs,
                `"r1_r2"` on both. Defaults to `"wgan_gp"`.
            unrolled_steps: int >= 0, K: each generator update takes its loss against the
                discriminator K gradient steps ahead, differentiated through the steps (Metz
                et al. 2017, https://arxiv.org/abs/1611.02163); the discriminator itself
                keeps its own update. Needs the `"alternating"` schedule; 0 turns it off.
                Defaults to `0`.
            unrolled_learning_rate: float > 0, the step size of those plain gradient steps
                (the paper's eta); needed when `unrolled_steps` is set. Defaults to `None`.
            jit_compile: bool, compile the train step with XLA. Defaults to `False`.
            steps_per_execution: int, train steps per compiled call. Defaults to `1`.
            adversary_weighting: str, one of `tfgan.adversaries.WEIGHTINGS`: how a network's
                losses against several adversaries (a `GeneratorMixture`, a
                `DiscriminatorEnsemble`) make its loss. Defaults to `"mean"`.
            adversary_temperature: float >= 0, the `"softmax"` weighting's temperature.
                Defaults to `1.0`.
            class_loss_weight: float >= 0, the weight of the classification losses on the
                class logits of the discriminator's `logits_and_class_logits`
                (`tfgan.models.AuxiliaryClassifierDiscriminator`,
                `ProjectionDiscriminator`): the generator adds
                `auxiliary_classifier_generator_loss` on its samples, the discriminator
                AC-GAN's `auxiliary_classifier_discriminator_loss` (Odena et al. 2017,
                https://arxiv.org/abs/1610.09585) or, without `classify_generated`, the
                cross-entropy on real data alone. 0 turns them off. Defaults to `0.0`.
            gradient_penalty_every: int >= 1, k: lazy regularisation (StyleGAN2, Karras et
                al. 2020, https://arxiv.org/abs/1912.04958, section 3.1): the penalty is
                taken at every k-th step only, weighted k times, so its weight per step is
                unchanged at 1/k of its cost; the logged `gradient_penalty` averages the
                steps that took it. Defaults to `1` (every step).
            classify_generated: bool, whether the discriminator's classification loss also
                takes the generated samples under the labels they were made for (AC-GAN) or
                real data only (the label matching of Han et al. 2021's dual projection GAN,
                https://arxiv.org/abs/2108.09016: the classifier learns real classes only,
                and cannot learn to read the generator's faults as the class asked for).
                Defaults to `True`.
            mode_seeking_weight: float >= 0, the weight of `tfgan.losses.mode_seeking_loss`
                in the generator's loss (MSGAN, Mao et al. 2019,
                https://arxiv.org/abs/1903.05628): each generator update asks the second half
                of its batch for the first half's labels and pairs the halves. Needs the
                `"alternating"` schedule and a single generator; 0 turns it off. Defaults to
                `0.0`.

        Raises:
            ValueError: if `loss` or `gradient_penalty` is unknown, `gradient_penalty_weight`
                is negative, `gradient_penalty_every` is not a positive int, `unrolled_steps`
                is set without the alternating schedule or a
                positive `unrolled_learning_rate`, a single-replica schedule (`"worse"`) is
                used under a strategy with more than one replica, or `class_loss_weight` is
                negative or set for a discriminator without class logits, or
                `mode_seeking_weight` is negative, or positive with another schedule or a
                mixture of generators.
        """
        super().compile(
            optimizer=None, jit_compile=jit_compile, steps_per_execution=steps_per_execution
        )
        if gradient_penalty_weight < 0:
            raise ValueError(
                "gradient_penalty_weight must be >= 0. "
                f"Received: gradient_penalty_weight={gradient_penalty_weight!r}"
            )
        penalties.check_penalty(gradient_penalty)
        if isinstance(gradient_penalty_every, bool) or not isinstance(
                gradient_penalty_every, int) or gradient_penalty_every < 1:
            raise ValueError("gradient_penalty_every must be a positive int. Received: "
                             f"gradient_penalty_every={gradient_penalty_every!r}")
        adversaries.check_weighting(adversary_weighting)
        if isinstance(unrolled_steps, bool) or not isinstance(unrolled_steps, int) \
                or unrolled_steps < 0:
            raise ValueError(
                f"unrolled_steps must be an int >= 0. Received: unrolled_steps={unrolled_steps!r}")
        if unrolled_steps and not isinstance(self.schedule, schedules.Alternating):
            raise ValueError(
                "unrolled_steps needs the 'alternating' schedule. "
                f"Received: schedule={self.schedule.kind!r}")
        if unrolled_steps and not (unrolled_learning_rate or 0) > 0:
            raise ValueError(
                "unrolled_steps needs an unrolled_learning_rate > 0. "
                f"Received: unrolled_learning_rate={unrolled_learning_rate!r}")
        if not class_loss_weight >= 0 or (
                class_loss_weight
                and not hasattr(self.discriminator, "logits_and_class_logits")):
            raise ValueError(
                "class_loss_weight must be >= 0, and > 0 only for a discriminator with "
                f"class logits. Received: class_loss_weight={class_loss_weight!r}")
        if not mode_seeking_weight >= 0 or (mode_seeking_weight and (
                not isinstance(self.schedule, schedules.Alternating)
                or len(adversaries.members(self.generator)) > 1)):
            raise ValueError(
                "mode_seeking_weight must be >= 0, and > 0 only with the 'alternating' "
                "schedule and a single generator (it pairs the samples of one generator update)."
                f" Received: mode_seeking_weight={mode_seeking_weight!r}")
        num_replicas = self.distribute_strategy.num_replicas_in_sync
        if self.schedule.single_replica and num_replicas > 1:
            # Optimizers synchronise replicas with `merge_call`, which cannot run inside the
            # `tf.cond` that picks the network to update.
            raise ValueError(
                f"schedule kind {self.schedule.kind!r} needs a single replica. "
                f"Received: num_replicas_in_sync={num_replicas}"
            )
        if self.dtype_policy.name == "mixed_float16":
            d_optimizer = _with_loss_scaling(d_optimizer)
            g_optimizer = _with_loss_scaling(g_optimizer)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        loss_pair = losses.get_losses(loss) if isinstance(loss, str) else losses.GANLoss(*loss)
        self.generator_loss_fn = loss_pair.generator_loss
        self.discriminator_loss_fn = loss_pair.discriminator_loss
        self.generator_needs_real = loss_pair.generator_needs_real
        self.gradient_penalty_weight = float(gradient_penalty_weight)
        self.gradient_penalty_kind = gradient_penalty
        self.gradient_penalty_every = gradient_penalty_every
        self.unrolled_steps = unrolled_steps
        self.unrolled_learning_rate = unrolled_learning_rate
        self.adversary_weighting = adversary_weighting
        self.adversary_temperature = float(adversary_temperature)
        self.class_loss_weight = float(class_loss_weight)
        self.classify_generated = bool(classify_generated)
        self.mode_seeking_weight = float(mode_seeking_weight)
        if self.built:
            self._build_optimizers()

    @property
    def metrics(self):
        """The trackers `train_step` updates: `d_loss`, `g_loss`, `d_real`, `d_fake`, then
        `gradient_penalty` when its weight is positive and `d_updated` under `"worse"`."""
        names = list(LOG_NAMES[:4])
        if self.gradient_penalty_weight > 0:
            names.append("gradient_penalty")
        names.extend(self.schedule.log_names)
        return [self.trackers[name] for name in names]

    def build_all(self, data_shape):
        """Creates every variable, ready for `tf.train.Checkpoint(gan=gan).restore(...)`.

        Same as `build((None, *data_shape))`; see `build`.

        Args:
            data_shape: tuple, the shape of one real example, e.g. `(28, 28, 1)`.

        Raises:
            ValueError: if `data_shape` is not the generator's `data_shape`.
        """
        self.build((None, *data_shape))

    def build(self, input_shape=None):
        """Creates every variable: both networks, the EMA copy and, if compiled, both optimizers.

        The EMA copy starts as an exact copy of the generator. Building everything up front
        lets `tf.train.Checkpoint(gan=gan).restore(...)` restore the state exactly before the
        first step. Building again creates nothing and leaves the EMA copy alone.

        Args:
            input_shape: tuple or None, the shape of a real batch, `(batch, *data_shape)`; only
                checked against `generator.data_shape`. Defaults to `None`.

        Raises:
            ValueError: if `input_shape` does not match the generator's `data_shape`.
        """
        data_shape = tuple(self.generator.data_shape)
        if input_shape is not None and tuple(input_shape)[1:] != data_shape:
            raise ValueError(
                f"input_shape must be (batch, *{data_shape}). Received: input_shape={input_shape}"
            )
        # Eagerly, even when Keras builds the model while tracing `fit`'s first step.
        with tf.init_scope():
            z = tf.zeros((1, self.generator.z_dim))
            labels = tf.zeros((1,), tf.int32) if self.num_classes else None
            adversaries.call_network(self.generator, z, labels)
            adversaries.call_network(
                self.discriminator, tf.zeros((1, *packed_shape(data_shape, self.pack))), labels)
            if self.ema_generator is not None and not self.ema_generator.built:
                adversaries.call_network(self.ema_generator, z, labels)
                for ema_weight, weight in zip(self.ema_generator.weights, self.generator.weights):
                    ema_weight.assign(weight)
            if self.d_optimizer is not None:
                self._build_optimizers()

    def _build_optimizers(self):
        for optimizer, network in (
            (self.d_optimizer, self.discriminator),
            (self.g_optimizer, self.generator),
        ):
            if not optimizer.built:
                optimizer.build(network.trainable_weights)

    def call(self, inputs, labels=None, training=None):
        """Scores data with the discriminator, one logit per pack of `pack` samples.

        Args:
            inputs: float tensor `[batch, *data_shape]`, `batch` a multiple of `pack`.
            labels: int32 tensor `[batch]` for a conditional GAN, else None. Defaults to
                `None`.
            training: bool or None, passed to the discriminator. Defaults to `None`.

        Returns:
            float32 logits `[batch / pack, 1]`.
        """
        return adversaries.call_network(
            self.discriminator, pack_samples(inputs, self.pack), labels, training=training)

    @property
    def sampling_generator(self):
        """The generator to sample from: `ema_generator` if EMA is on, else `generator`."""
        return self.ema_generator if self.ema_generator is not None else self.generator

    def generate(self, z, labels=None, training=False):
        """Maps latent vectors (and, if conditional, labels) to samples with
        `sampling_generator`.

        Args:
            z: float32 tensor `[batch, z_dim]`.
            labels: int32 tensor `[batch]` for a conditional GAN, else None. Defaults to
                `None`.
            training: bool, passed to the generator. Defaults to `False`.

        Returns:
            float32 tensor `[batch, *data_shape]`.
        """
        return adversaries.call_network(self.sampling_generator, z, labels, training=training)

    def train_step(self, data):
        """Runs one step of the schedule on a batch of real data (labelled, if conditional).

        As in keras-io's conditional GAN, the generated half of every update is made for the
        real batch's labels, so real and generated samples are judged under the same labels.

        Args:
            data: float tensor `[batch, *data_shape]`, or a tuple `(real, labels)` with int32
                labels `[batch]` (needed by a conditional GAN, ignored by another).

        Returns:
            dict of float32 scalars, the running means of `metrics` since they were last reset
            (`fit` resets them every epoch): `d_loss` and `g_loss` (the losses last minimised,
            `d_loss` including the weighted penalty), `d_real` and `d_fake` (mean sigmoid of the
            discriminator's logits on real and generated packs), `gradient_penalty` when its
            weight is positive, and the schedule's own `log_names` (`"worse"`: `d_updated`,
            the share of steps that updated the discriminator rather than the generator).
        """
        real, labels = self._real_batch(data)
        if not self.built:
            # Without a distribution strategy `fit` does not build the model first.
            self.build(tuple(real.shape))
        # Under lazy regularisation, whether this step takes the penalty (read before the
        # count moves on); every step does otherwise.
        penalty_due = self._penalty_due() if self.gradient_penalty_every > 1 else None
        forward, schedule_logs = self.schedule.run(self, real, labels)
        self.step.assign_add(1)
        values = {
            "d_loss": forward.d_loss,
            "g_loss": forward.g_loss,
            "d_real": tf.reduce_mean(tf.sigmoid(forward.real_logits)),
            "d_fake": tf.reduce_mean(tf.sigmoid(forward.fake_logits)),
            **schedule_logs,
        }
        for name, value in values.items():
            self.trackers[name].update_state(value)
        if forward.gradient_penalty is not None:
            self.trackers["gradient_penalty"].update_state(
                forward.gradient_penalty, sample_weight=penalty_due)
        return {tracker.name: tracker.result() for tracker in self.metrics}

    def _real_batch(self, data):
        """`(real, labels)` of a batch; labels are None for an unconditional GAN."""
        real, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        if not self.num_classes:
            return real, None
        if labels is None:
            raise ValueError("A conditional GAN trains on (samples, labels) batches. "
                             "Received: a batch without labels")
        return real, tf.cast(labels, tf.int32)

    def update_discriminator(self, real, labels):
        """One discriminator update against a fresh `z`; returns its `ForwardPass`."""
        z = self._sample_z(tf.shape(real)[0])
        with tf.GradientTape() as tape:
            forward = self._forward(real, labels, z)
            scaled_loss = self._scaled(forward.d_loss, self.d_optimizer)
        self.apply_discriminator(
            tape.gradient(scaled_loss, self.discriminator.trainable_weights))
        return forward

    def update_generator(self, real, labels):
        """One generator update on a fresh `z` (against the unrolled discriminator if
        `unrolled_steps` is set, with the mode seeking loss if weighted); returns its loss."""
        z = self._sample_z(tf.shape(real)[0])
        generated_labels = labels
        if self.mode_seeking_weight and labels is not None:
            # The pairs of the mode seeking loss are made for the same label.
            first_half = labels[:tf.shape(labels)[0] // 2]
            generated_labels = tf.concat([first_half, first_half], axis=0)
        with tf.GradientTape() as tape:
            generated = adversaries.generated_blocks(
                self.generator, z, generated_labels, training=True)
            g_loss = self._generator_update_loss(real, labels, generated, generated_labels)
            if self.mode_seeking_weight:
                g_loss += self.mode_seeking_weight * losses.mode_seeking_loss(generated, z)
            scaled_loss = self._scaled(g_loss, self.g_optimizer)
        self.apply_generator(tape.gradient(scaled_loss, self.generator.trainable_weights))
        return g_loss

    def joint_gradients(self, real, labels):
        """One forward pass on a fresh `z`: `(ForwardPass, d_grads, g_grads)`, nothing applied."""
        z = self._sample_z(tf.shape(real)[0])
        with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
            forward = self._forward(real, labels, z)
            d_scaled_loss = self._scaled(forward.d_loss, self.d_optimizer)
            g_scaled_loss = self._scaled(forward.g_loss, self.g_optimizer)
        d_grads = d_tape.gradient(d_scaled_loss, self.discriminator.trainable_weights)
        g_grads = g_tape.gradient(g_scaled_loss, self.generator.trainable_weights)
        return forward, d_grads, g_grads

    def apply_discriminator(self, grads):
        """Applies the discriminator's gradients."""
        self.d_optimizer.apply(grads, self.discriminator.trainable_weights)

    def _sample_z(self, batch_size):
        """Draws this replica's `[batch_size, z_dim]` rows of one global batch of `z`.

        Every replica draws the same global batch from the (mirrored) seed generator and keeps
        its own rows, so replicas never share a `z`, and N replicas see exactly the `z` that one
        replica would on the N-times larger batch.
        """
        num_replicas = tf.distribute.get_strategy().num_replicas_in_sync
        z = priors.sample_prior(
            num_replicas * batch_size, self.generator.z_dim, self.prior, self.seed_generator
        )
        if num_replicas == 1:
            return z
        replica_id = tf.distribute.get_replica_context().replica_id_in_sync_group
        return tf.reshape(z, (num_replicas, batch_size, self.generator.z_dim))[replica_id]

    def _forward(self, real, labels, z):
        """Runs both networks once and computes both losses (and the penalty, if weighted).

        The discriminator sees packs; the penalty is taken on whole real and generated packs
        (WGAN-GP interpolates between them), its gradient norm over the discriminator's packed
        input. A conditional GAN generates for `labels` and judges both sides under them;
        with a class loss weight (AC-GAN, dual projection) each loss adds its weighted
        classification loss.
        """
        real_packs = pack_samples(real, self.pack)
        generated = adversaries.generated_blocks(self.generator, z, labels, training=True)
        generated_packs = pack_samples(generated, self.pack)
        real_logits, real_classes = self._judge(real_packs, labels)
        fake_logits, fake_classes = self._judge(generated_packs, labels)
        d_loss = self._discriminator_loss(real_logits, fake_logits)
        g_loss = self._generator_loss(real_logits, fake_logits)
        if self.class_loss_weight:
            d_class_loss, g_class_loss = self._class_losses(real_classes, fake_classes, labels)
            d_loss += self.class_loss_weight * d_class_loss
            g_loss += self.class_loss_weight * g_class_loss
        gradient_penalty = None
        if self.gradient_penalty_weight > 0:
            gradient_penalty = self._gradient_penalty(real_packs, generated_packs, labels)
            d_loss += (self.gradient_penalty_weight * self.gradient_penalty_every
                       * gradient_penalty)
        return ForwardPass(real_logits, fake_logits, d_loss, g_loss, gradient_penalty)

    def _gradient_penalty(self, real_packs, generated_packs, labels):
        """Each discriminator's own penalty, summed; 0 on a step lazy regularisation skips."""
        def penalty():
            return tf.add_n([
                penalties.gradient_penalty(self.gradient_penalty_kind, member, real_packs,
                                           generated_packs, self.seed_generator, labels)
                for member in adversaries.members(self.discriminator)])

        if self.gradient_penalty_every == 1:
            return penalty()
        return tf.cond(self._penalty_due() > 0, penalty, lambda: tf.constant(0.0))

    def _penalty_due(self):
        """1.0 on the steps that take the gradient penalty, else 0.0."""
        return tf.cast(self.step % self.gradient_penalty_every == 0, tf.float32)

    def _judge(self, packs, labels):
        """`(logits [batch, J], class logits [batch, K] or None)` of `packs` under `labels`:
        with a class loss weight, both from one pass of the discriminator."""
        if self.class_loss_weight:
            return self.discriminator.logits_and_class_logits([packs, labels], training=True)
        return adversaries.member_logits(self.discriminator, packs, labels, training=True), None

    def _class_losses(self, real_class_logits, fake_class_logits, labels):
        """The classification losses `(discriminator's, generator's)` for `labels`."""
        g_class_loss = losses.auxiliary_classifier_generator_loss(labels, fake_class_logits)
        if not self.classify_generated:  # the same cross-entropy, of real data
            return (losses.auxiliary_classifier_generator_loss(labels, real_class_logits),
                    g_class_loss)
        return (losses.auxiliary_classifier_discriminator_loss(
                    labels, real_class_logits, fake_class_logits), g_class_loss)

    def _generator_update_loss(self, real, labels, generated, generated_labels):
        """The loss of an alternating generator update on samples made for `generated_labels`,
        against the unrolled discriminator if `unrolled_steps` is set; the real packs are
        scored (under their `labels`) only for a relativistic loss."""
        real_packs = pack_samples(real, self.pack)
        generated_packs = pack_samples(generated, self.pack)
        with self._unrolled_discriminator(real_packs, labels, generated_packs, generated_labels):
            fake_logits, fake_classes = self._judge(generated_packs, generated_labels)
            real_logits = None
            if self.generator_needs_real:
                real_logits = self._judge(real_packs, labels)[0]
            g_loss = self._generator_loss(real_logits, fake_logits)
            if self.class_loss_weight:
                g_loss += self.class_loss_weight * losses.auxiliary_classifier_generator_loss(
                    generated_labels, fake_classes)
            return g_loss

    def _unrolled_discriminator(self, real_packs, labels, generated_packs, generated_labels):
        """A scope in which the discriminator's weights are `unrolled_steps` steps ahead.

        Metz et al. 2017, "Unrolled Generative Adversarial Networks",
        https://arxiv.org/abs/1611.02163, section 2: from `theta_0` = the discriminator's
        weights, `theta_{k+1} = theta_k - eta * grad_theta L_D(theta_k)` on these packs, each
        step differentiable, so the generator's gradient sees how the discriminator would
        answer its move. The steps are values in a `keras.StatelessScope`: the variables, the
        power-iteration vectors and the dropout seeds keep their state. With 0 steps the scope
        does nothing.
        """
        if not self.unrolled_steps:
            return contextlib.nullcontext()
        weights = self.discriminator.trainable_weights
        values = [tf.convert_to_tensor(weight) for weight in weights]
        for _ in range(self.unrolled_steps):
            with tf.GradientTape() as tape:
                tape.watch(values)
                with keras.StatelessScope(list(zip(weights, values))):
                    d_loss = self._discriminator_loss(
                        adversaries.member_logits(
                            self.discriminator, real_packs, labels, training=True),
                        adversaries.member_logits(
                            self.discriminator, generated_packs, generated_labels,
                            training=True))
            grads = tape.gradient(d_loss, values)
            # Dense: a class embedding's gradient comes as IndexedSlices.
            values = [value - self.unrolled_learning_rate
                      * tf.cast(tf.convert_to_tensor(grad), value.dtype)
                      for value, grad in zip(values, grads)]
        return keras.StatelessScope(list(zip(weights, values)))

    def _pair_losses(self, real_logits, fake_logits, loss_of_pair):
        """`loss_of_pair(real, fake)` for every discriminator j and generator k: `[J][K]`.

        Pair (j, k) takes column j of the logits on block k of the real and generated packs
        (generator k made generated block k; the real packs are split alike, so relativistic
        losses pair equal counts). `real_logits` may be None when the loss does not read it.
        """
        num_generators = len(adversaries.members(self.generator))
        fake_blocks = tf.split(fake_logits, num_generators, axis=0)
        real_blocks = (tf.split(real_logits, num_generators, axis=0) if real_logits is not None
                       else [None] * num_generators)
        return [[loss_of_pair(None if real is None else real[:, j:j + 1], fake[:, j:j + 1])
                 for real, fake in zip(real_blocks, fake_blocks)]
                for j in range(fake_logits.shape[1])]

    def _weighted(self, losses):
        return adversaries.weighted_sum(losses, self.adversary_weighting,
                                        self.adversary_temperature)

    def _discriminator_loss(self, real_logits, fake_logits):
        """The sum over discriminators of each one's weighted loss against the generators.

        Args:
            real_logits: float32 `[packs, J]`, every discriminator's logits on the real packs.
            fake_logits: float32 `[packs, J]`, on the generated packs.
        """
        pairs = self._pair_losses(real_logits, fake_logits, self.discriminator_loss_fn)
        return tf.add_n([self._weighted(against_generators) for against_generators in pairs])

    def _generator_loss(self, real_logits, fake_logits):
        """The sum over generators of each one's weighted loss against the discriminators;
        relativistic families compare with the real logits too (`real_logits` may be None
        otherwise)."""
        if self.generator_needs_real:
            loss_of_pair = self.generator_loss_fn
        else:
            def loss_of_pair(real, fake):
                return self.generator_loss_fn(fake)
        pairs = self._pair_losses(real_logits, fake_logits, loss_of_pair)
        return tf.add_n([self._weighted(list(against_discriminators))
                         for against_discriminators in zip(*pairs)])

    def _scaled(self, loss, optimizer):
        """The loss to differentiate: this replica's share, times the optimizer's loss scale.

        Optimizers sum gradients over replicas, so dividing by the replica count makes the
        update that of the mean loss over the global batch (as Keras's `compute_loss` does).
        """
        num_replicas = tf.distribute.get_strategy().num_replicas_in_sync
        return optimizer.scale_loss(loss / num_replicas)

    def apply_generator(self, grads):
        """Applies the generator's gradients, then moves the EMA copy towards the new weights."""
        self.g_optimizer.apply(grads, self.generator.trainable_weights)
        if self.ema_generator is not None:
            decay = self.ema_decay
            if self.ema_warmup:
                # The optimizer has counted this update: t earlier ones, 0 at the first.
                t = tf.cast(self.g_optimizer.iterations, tf.float32) - 1.0
                decay = tf.minimum(decay, (1.0 + t) / (10.0 + t))
            # Under a mirrored strategy each replica writes its own copy, from identical values.
            for ema_weight, weight in zip(self.ema_generator.weights, self.generator.weights):
                ema_weight.assign(decay * ema_weight + (1.0 - decay) * weight)

    def get_config(self):
        """Returns the constructor arguments, networks serialised with Keras."""
        config = super().get_config()
        config.update(
            {
                "generator": keras.saving.serialize_keras_object(self.generator),
                "discriminator": keras.saving.serialize_keras_object(self.discriminator),
                "prior": self.prior,
                "schedule": self.schedule.get_config(),
                "ema_decay": self.ema_decay,
                "seed": self.seed,
                "pack": self.pack,
                "ema_warmup": self.ema_warmup,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        """Rebuilds an unbuilt `GAN` (fresh weights) from `get_config()`."""
        config = dict(config)
        config["generator"] = keras.saving.deserialize_keras_object(config["generator"])
        config["discriminator"] = keras.saving.deserialize_keras_object(config["discriminator"])
        config["schedule"] = schedules.Schedule.from_config(config["schedule"])
        return cls(**config)


def packed_shape(data_shape, pack):
    """The shape of one pack: `data_shape` with its last axis `pack` times longer.

    Args:
        data_shape: tuple of ints, the shape of one sample, e.g. `(2,)` or `(28, 28, 3)`.
        pack: int >= 1, samples per pack.

    Returns:
        tuple of ints, e.g. `(8,)` for points `(2,)` and `pack=4`, `(28, 28, 12)` for images
        `(28, 28, 3)`.

    Raises:
        ValueError: if `pack` is not a positive int.
    """
    _check_pack(pack)
    data_shape = tuple(data_shape)
    return (*data_shape[:-1], data_shape[-1] * pack)


def pack_samples(samples, pack):
    """Concatenates each run of `pack` consecutive samples along the last axis (PacGAN).

    Lin et al. 2018, "PacGAN: The power of two samples in generative adversarial networks",
    https://arxiv.org/abs/1712.04086: the discriminator judges `pack` samples drawn together
    from the same distribution. Pack `k` holds samples `k * pack, ..., k * pack + pack - 1`,
    joined along the feature axis for points and the channel axis for images:

        points [6, 2], pack 3: pack 0 = [x0 | x1 | x2], pack 1 = [x3 | x4 | x5] -> [2, 6]
        images [4, H, W, C], pack 2: pack 0's channels are x0's C then x1's C -> [2, H, W, 2C]

    `pack=1` returns the samples unchanged.

    Args:
        samples: tensor `[batch, *data_shape]`, `batch` a multiple of `pack`; `data_shape`
            must be static.
        pack: int >= 1, samples per pack.

    Returns:
        tensor `[batch / pack, *packed_shape(data_shape, pack)]` of the samples' dtype.

    Raises:
        ValueError: if `pack` is not a positive int, or the static `batch` is not a multiple
            of it.
    """
    _check_pack(pack)
    samples = tf.convert_to_tensor(samples)
    batch, *data_shape = samples.shape
    if batch is not None and batch % pack:
        raise ValueError(
            f"The batch size must be a multiple of pack={pack}. Received: batch_size={batch}"
        )
    # [n, pack, *data_shape] -> [n, *data_shape[:-1], pack, data_shape[-1]] -> packs.
    grouped = tf.reshape(samples, [-1, pack, *data_shape])
    rank = len(data_shape)
    grouped = tf.transpose(grouped, [0, *range(2, rank + 1), 1, rank + 1])
    return tf.reshape(grouped, [-1, *packed_shape(data_shape, pack)])


def _check_pack(pack):
    if isinstance(pack, bool) or not isinstance(pack, int) or pack < 1:
        raise ValueError(f"pack must be a positive int. Received: pack={pack!r}")


def _with_loss_scaling(optimizer):
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer)
