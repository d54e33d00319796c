"""`TrainConfig`: every training option in one place, validated before anything is written.

The command-line flags of `tfgan-train` are generated from the fields below (its
`define_flags`), so a default or a help text lives here and nowhere else.
"""

import dataclasses
import json

from tfgan import priors
from tfgan.adversaries import WEIGHTINGS
from tfgan.data.toys import LABELLED_TOYS, TOYS
from tfgan.distribute import STRATEGIES
from tfgan.divergence import DEFAULT_BOUND
from tfgan.learning_rates import LR_SCHEDULES
from tfgan.losses import LOSSES
from tfgan.models import (
    ARCHITECTURES,
    CLASSIFYING,
    CONDITIONINGS,
    HIDDEN_ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
)
from tfgan.penalties import PENALTIES
from tfgan.schedules import SCHEDULES


class ConfigError(ValueError):
    """A training option, or a combination of them, that cannot work. One line, for the user."""


OPTIMIZERS = ("adam", "rmsprop")
ON_NAN = ("stop", "rollback")


def _option(default, help, **metadata):
    return dataclasses.field(default=default, metadata={"help": help, **metadata})


@dataclasses.dataclass
class TrainConfig:
    """All options of one training run. Field names are the flag names."""

    # Where and how long.
    workdir: str = _option("", "Run directory: checkpoints, plots, history.csv, TensorBoard.")
    steps: int = _option(10000, "Total training iterations (a resumed run continues to this).")
    batch_size: int = _option(64, "Real samples per iteration.")
    seed: int = _option(0, "Seed for data order, initial weights, z draws and the fixed sample z.")

    # Data.
    dataset: str = _option(
        "mnist",
        "quadratic, gaussian_1d, two_curves, ring, grid, mnist, folder, stacked_mnist, or any "
        "tensorflow-datasets image data set (fashion_mnist, cifar10, ...).",
    )
    data_dir: str = _option("", "tensorflow-datasets data directory (default: tfds's own).")
    mnist_path: str = _option(
        "", "Local MNIST: a Keras-layout mnist.npz or a folder with the four idx .gz files."
    )
    image_dir: str = _option("", "Folder of images for --dataset=folder.")
    image_size: int = _option(0, "Square size images of --dataset=folder are resized to (0: keep).")
    conditional: bool = _option(
        False, "Class-conditional GAN: train on (samples, labels) and generate the class asked "
        "for. Labels: MNIST's digits, a tensorflow-datasets set's 'label', --dataset=folder's "
        "class sub-folders, the mode of a ring or grid point.")
    conditioning: str = _option(
        "projection", f"How a conditional discriminator sees the label: {', '.join(CONDITIONINGS)} "
        "(projection: Miyato & Koyama 2018; dual_projection: projection whose class embedding "
        "is also trained as a classifier of real data, Han et al. 2021; concat: one-hot label "
        "as extra input channels, as keras-io and TF-GAN; acgan: an auxiliary classifier, "
        "Odena et al. 2017).")
    draw_labels: bool = _option(
        False, "With --conditional: train on the labels, sample without them. Exports, "
        "tfgan-sample and the metrics see an unconditional generator that draws each "
        "sample's class from extra components of z (the class-balanced mixture, no labels "
        "input): the quality labels give, for users who want any sample.")
    acgan_weight: float = _option(
        1.0, "--conditioning=acgan or dual_projection: weight of the classification losses "
        "added to both networks' losses.")
    class_stddev: bool = _option(
        False, "--conditioning=projection or dual_projection: the discriminator also scores "
        "how much its features vary over the batch's samples of each class (the minibatch "
        "standard deviation of Karras et al. 2018, within a class), against generators "
        "that draw each class too alike.")
    mode_seeking_weight: float = _option(
        0.0, "Mode seeking (MSGAN, Mao et al. 2019): weight of the generator's 1 / ratio of "
        "its samples' distance to their z's distance over pairs made for the same label; "
        "pushes unlike z to unlike samples against mode collapse (0: off; alternating "
        "schedule, one generator, even --batch_size).")

    # Networks.
    architecture: str = _option("mlp", f"Network family: {', '.join(ARCHITECTURES)}.")
    z_dim: int = _option(100, "Latent dimension.")
    prior: str = _option("uniform", "Latent prior: uniform on [-1, 1] or normal.")
    g_hidden_units: tuple = _option((128,), "MLP generator hidden layer sizes.", item_type=int)
    d_hidden_units: tuple = _option((128,), "MLP discriminator hidden layer sizes.", item_type=int)
    activation: str = _option("relu", "MLP hidden activation: relu or leaky_relu.")
    output_activation: str = _option(
        "sigmoid", "Generator output: sigmoid ([0, 1]), tanh ([-1, 1]) or linear (data units)."
    )
    d_feature_units: int = _option(
        0, "MLP discriminator: a linear feature layer of this size before the logit (0: none)."
    )
    width: float = _option(1.0, "DCGAN filter-count multiplier.")
    d_width: float = _option(
        0.0, "DCGAN discriminator filter-count multiplier (0: --width); a smaller one gives the "
        "weak discriminators of Metz et al. 2017 and PacGAN's harder Stacked MNIST.")
    dropout: float = _option(0.3, "DCGAN discriminator dropout rate.")
    kernel_size: int = _option(
        5, "DCGAN kernel side in both networks (odd); 3 costs 9/25 of the tutorial's 5.")
    minibatch: bool = _option(False, "Minibatch discrimination in the discriminator.")
    spectral_norm: bool = _option(
        False, "Spectral normalization of every discriminator layer with a kernel (Miyato et "
        "al. 2018): each computes with its kernel divided by its largest singular value.")
    num_kernels: int = _option(5, "Minibatch discrimination kernels.")
    kernel_dim: int = _option(3, "Minibatch discrimination kernel dimension.")

    pack: int = _option(
        1, "PacGAN packing: the discriminator judges this many samples at once (1: off)."
    )
    num_generators: int = _option(
        1, "Generators trained as one mixture (MAD-GAN, Ghosh et al. 2018): each maps its "
        "share of every batch; a sample comes from the one its z picks.")
    num_discriminators: int = _option(
        1, "Discriminators, each trained against every generator (GMAN, Durugkar et al. 2017).")
    adversary_weighting: str = _option(
        "mean", f"How a network's losses against several adversaries make its loss: "
        f"{', '.join(WEIGHTINGS)} (softmax: the adversaries it does worst against count most, "
        "see --adversary_temperature).")
    adversary_temperature: float = _option(
        1.0, "Temperature of --adversary_weighting=softmax (0: the mean; large: the max).")

    # Objective and schedule.
    loss: str = _option("non_saturating", f"GAN loss: {', '.join(LOSSES)}.")
    gradient_penalty_weight: float = _option(
        0.0, "Weight of --gradient_penalty (0: off). WGAN-GP: 10 in its paper; R1/R2: gamma, "
        "each penalty being 1/2 the mean squared gradient norm.")
    gradient_penalty_every: int = _option(
        1, "Lazy regularisation (StyleGAN2): take the gradient penalty every this many steps, "
        "weighted as many times (R1's cost paid once in k steps; 1: every step).")
    gradient_penalty: str = _option(
        "wgan_gp", f"Gradient penalty on the discriminator: {', '.join(PENALTIES)} (wgan_gp on "
        "interpolates, Gulrajani et al. 2017; r1 on real data, r2 on generated, r1_r2 both, "
        "Mescheder et al. 2018, R3GAN).")
    schedule: str = _option(
        "alternating",
        "alternating (k_d D then k_g G updates), simultaneous, or worse (update only the "
        "currently worse network).",
    )
    k_d: int = _option(1, "Discriminator updates per iteration (alternating schedule).")
    k_g: int = _option(1, "Generator updates per iteration (alternating schedule).")
    unrolled_steps: int = _option(
        0, "Unrolled GAN (Metz et al. 2017): each generator update takes its loss against the "
        "discriminator this many gradient steps ahead, differentiated through them (0: off; "
        "alternating schedule).")
    unrolled_learning_rate: float = _option(
        0.0, "Step size of the unrolled steps, plain gradient descent as in the paper (0: the "
        "discriminator's learning rate).")
    d_confidence: float = _option(
        0.6, "Worse schedule: D counts as the worse network until it beats one scoring real "
        "data d_confidence and generated data 1 - d_confidence (0.5: the game's equilibrium).")

    # Optimisation.
    optimizer: str = _option("adam", "adam or rmsprop, for both networks.")
    learning_rate: float = _option(
        1e-3, "Learning rate of both networks, unless --d_learning_rate or --g_learning_rate "
        "sets one.")
    d_learning_rate: float = _option(
        0.0, "Discriminator learning rate (0: --learning_rate). Two time-scale updates (TTUR, "
        "Heusel et al. 2017) give the discriminator a larger one than the generator.")
    g_learning_rate: float = _option(0.0, "Generator learning rate (0: --learning_rate).")
    lr_schedule: str = _option(
        "constant", f"Learning rates over the run: {', '.join(LR_SCHEDULES)} (linear and cosine "
        "decay to 0 at --steps, after the warm-up).")
    lr_warmup_steps: int = _option(
        0, "Steps over which the learning rates ramp up linearly from 0 (0: none).")
    beta1: float = _option(0.9, "Adam beta_1.")
    beta2: float = _option(0.999, "Adam beta_2.")
    ema_decay: float = _option(
        0.0, "Exponential moving average of generator weights for sampling (0: off)."
    )
    ema_warmup: bool = _option(
        False, "Ramp the EMA's decay up as min(--ema_decay, (1 + t) / (10 + t)) after t "
        "generator updates, so an average of the first weights never serves.")
    mixed_precision: bool = _option(
        False, "Mixed precision: mixed_float16 with loss scaling on GPU, mixed_bfloat16 on CPU."
    )
    jit_compile: bool = _option(False, "Compile the train step with XLA.")
    strategy: str = _option(
        "default", "Devices to train on: default (one), mirrored (every GPU, or every logical "
        "CPU), multi_worker (the processes TF_CONFIG names; the chief writes --workdir). "
        "--batch_size is the global batch, split across the replicas.")
    steps_per_execution: int = _option(
        0, "Train steps per compiled call (0: chosen from the step's FLOPs, many for small "
        "networks). Logging, grids and checkpoints still happen at their exact steps.")

    # Outputs.
    sample_every: int = _option(1000, "Write a sample grid every N steps.")
    num_grid_samples: int = _option(16, "Samples in each grid (points: samples per scatter).")
    log_every: int = _option(100, "Progress line, losses.png and TensorBoard every N steps.")
    checkpoint_every: int = _option(1000, "Checkpoint every N steps.")
    on_nan: str = _option(
        "stop", "A NaN or Inf loss: stop (the last good checkpoint stays the latest) or "
        "rollback (resume from the last good checkpoint, up to 3 times, then stop).")
    divergence_bound: float = _option(
        DEFAULT_BOUND, "A loss or weight past this magnitude counts as diverged: the run stops "
        "as on a NaN (see --on_nan) and tfgan-export refuses the weights (0: NaN and Inf only).")
    eval_every: int = _option(0, "Compute the data set's metrics every N steps (0: off).")
    eval_num_samples: int = _option(1000, "Generated samples per evaluation.")
    export_dir: str = _option("", "Export a SavedModel here at the end (TF Serving layout).")
    model_name: str = _option("", "Model name under --export_dir (default: the dataset name).")

    def validate(self):
        """Checks every option that can be checked without data. Raises `ConfigError`."""
        _check(bool(self.workdir), "--workdir is required")
        for name in ("steps", "batch_size", "z_dim", "sample_every", "log_every",
                     "checkpoint_every", "num_grid_samples", "k_d", "k_g",
                     "num_kernels", "kernel_dim", "kernel_size", "pack", "eval_num_samples",
                     "num_generators", "num_discriminators"):
            value = getattr(self, name)
            _check(value > 0, f"--{name} must be a positive integer, got {value}")
        for name in ("learning_rate", "width"):
            value = getattr(self, name)
            _check(value > 0, f"--{name} must be positive, got {value}")
        _check(all(u > 0 for u in self.g_hidden_units + self.d_hidden_units),
               "--g_hidden_units and --d_hidden_units must be positive integers")
        _check(self.d_feature_units >= 0, "--d_feature_units must be >= 0")
        _check(self.d_width >= 0, f"--d_width must be >= 0 (0: --width), got {self.d_width}")
        _check(self.eval_every >= 0, "--eval_every must be >= 0")
        _check(self.divergence_bound >= 0, "--divergence_bound must be >= 0")
        for name in ("d_learning_rate", "g_learning_rate"):
            value = getattr(self, name)
            _check(value >= 0, f"--{name} must be >= 0 (0: --learning_rate), got {value}")
        _check(self.steps_per_execution >= 0, "--steps_per_execution must be >= 0")
        _check(self.lr_warmup_steps >= 0, "--lr_warmup_steps must be >= 0")
        _check(self.unrolled_steps >= 0, "--unrolled_steps must be >= 0")
        _check(self.unrolled_learning_rate >= 0, "--unrolled_learning_rate must be >= 0")
        _check(not self.unrolled_steps or self.schedule == "alternating",
               f"--unrolled_steps needs --schedule=alternating, got --schedule={self.schedule}")
        _check(self.batch_size % self.pack == 0,
               f"--batch_size ({self.batch_size}) must be a multiple of --pack ({self.pack})")
        _check(self.batch_size % (self.pack * self.num_generators) == 0,
               f"--batch_size ({self.batch_size}) must be a multiple of --pack times "
               f"--num_generators ({self.pack * self.num_generators}): each generator's share "
               "of a batch is whole packs")
        _check(self.adversary_temperature >= 0, "--adversary_temperature must be >= 0")
        _check_choice("adversary_weighting", self.adversary_weighting, WEIGHTINGS)
        _check(self.image_size >= 0, "--image_size must be >= 0")
        _check(0.0 <= self.ema_decay < 1.0, f"--ema_decay must be in [0, 1), got {self.ema_decay}")
        _check(0.0 <= self.dropout < 1.0, f"--dropout must be in [0, 1), got {self.dropout}")
        _check(self.kernel_size >= 1 and self.kernel_size % 2 == 1,
               f"--kernel_size must be an odd int >= 1, got {self.kernel_size}")
        _check(self.gradient_penalty_weight >= 0, "--gradient_penalty_weight must be >= 0")
        _check(self.gradient_penalty_every >= 1, "--gradient_penalty_every must be >= 1")
        _check_choice("prior", self.prior, priors.PRIORS)
        _check_choice("architecture", self.architecture, ARCHITECTURES)
        _check_choice("activation", self.activation, HIDDEN_ACTIVATIONS)
        _check_choice("output_activation", self.output_activation, OUTPUT_ACTIVATIONS)
        _check_choice("loss", self.loss, LOSSES)
        _check_choice("gradient_penalty", self.gradient_penalty, PENALTIES)
        _check_choice("schedule", self.schedule, SCHEDULES)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        _check(not self.scheduled_learning_rates or self.schedule != "worse",
               "--lr_schedule and --lr_warmup_steps need --schedule=alternating or simultaneous "
               "(the worse schedule's update counts are not known in advance)")
        _check(self.lr_schedule == "constant" or self.lr_warmup_steps < self.steps,
               f"--lr_warmup_steps ({self.lr_warmup_steps}) must be less than --steps "
               f"({self.steps}) with --lr_schedule={self.lr_schedule}")
        _check(not self.ema_warmup or self.ema_decay > 0, "--ema_warmup needs --ema_decay > 0")
        _check_choice("on_nan", self.on_nan, ON_NAN)
        _check_choice("strategy", self.strategy, STRATEGIES)
        _check(self.schedule == "alternating" or (self.k_d, self.k_g) == (1, 1),
               f"--k_d/--k_g repeat updates only with --schedule=alternating, got "
               f"--schedule={self.schedule} --k_d={self.k_d} --k_g={self.k_g}")
        _check(0.5 <= self.d_confidence < 1,
               f"--d_confidence must be in [0.5, 1), got {self.d_confidence}")
        _check(self.mode_seeking_weight >= 0, "--mode_seeking_weight must be >= 0")
        if self.mode_seeking_weight:
            _check(self.schedule == "alternating" and self.num_generators == 1
                   and self.batch_size % 2 == 0,
                   "--mode_seeking_weight needs --schedule=alternating, --num_generators=1 and "
                   "an even --batch_size: it pairs the two halves of one generator's batch, got "
                   f"--schedule={self.schedule} --num_generators={self.num_generators} "
                   f"--batch_size={self.batch_size}")
        _check(self.dataset != "folder" or bool(self.image_dir),
               "--dataset=folder needs --image_dir")
        self._validate_conditional()
        return self

    def _validate_conditional(self):
        """Refuses the combinations a class-conditional GAN cannot train, each with why."""
        _check_choice("conditioning", self.conditioning, CONDITIONINGS)
        _check(self.acgan_weight > 0, f"--acgan_weight must be positive, got {self.acgan_weight}")
        _check(not self.class_stddev or (self.conditional and self.conditioning in (
            "projection", "dual_projection")), "--class_stddev needs --conditional and "
            "--conditioning=projection or dual_projection (it joins the projection's logit), "
            f"got conditional={self.conditional}, conditioning={self.conditioning}")
        if not self.conditional:
            _check(not self.draw_labels, "--draw_labels needs --conditional: it draws the "
                   "class of a conditional generator")
            return
        _check(self.dataset not in TOYS or self.dataset in LABELLED_TOYS,
               f"--conditional needs labelled data; of the toys only {', '.join(LABELLED_TOYS)} "
               f"have labels (each point's mode), got --dataset={self.dataset}")
        _check(self.dataset != "stacked_mnist",
               "--conditional: stacked_mnist has no class labels (each image is three digits)")
        _check(self.pack == 1,
               f"--conditional needs --pack=1: a pack would mix labels, got --pack={self.pack}")
        if self.conditioning in CLASSIFYING:
            _check(self.num_discriminators == 1,
                   f"--conditioning={self.conditioning} needs --num_discriminators=1 (each "
                   "discriminator would need its own classifier loss)")
            _check(not self.unrolled_steps,
                   f"--conditioning={self.conditioning} cannot take --unrolled_steps: the "
                   "unrolled discriminator steps would leave out its classification loss")

    def to_json(self):
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values):
        """Builds a config from `to_json`'s dict, ignoring keys this version does not know."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        kwargs = {}
        for key, value in values.items():
            if key in known:
                kwargs[key] = tuple(value) if isinstance(value, list) else value
        return cls(**kwargs)

    @property
    def scheduled_learning_rates(self):
        """Whether the learning rates change over the run (a decay or a warm-up)."""
        return self.lr_schedule != "constant" or self.lr_warmup_steps > 0

    def network_learning_rate(self, network):
        """The learning rate of `network`, `"d"` or `"g"`: its own flag, else --learning_rate."""
        return getattr(self, f"{network}_learning_rate") or self.learning_rate

    @property
    def export_model_name(self):
        return self.model_name or self.dataset


# Options that shape the networks or the data: a workdir trained with one value cannot be
# resumed with another.
MODEL_OPTIONS = (
    "dataset", "architecture", "z_dim", "prior", "g_hidden_units", "d_hidden_units",
    "activation", "output_activation", "d_feature_units", "width", "d_width", "minibatch",
    "num_kernels", "kernel_dim", "kernel_size", "pack", "num_generators", "num_discriminators", "loss",
    "schedule", "optimizer", "ema_decay", "image_size", "conditional", "conditioning",
    "class_stddev",
    # Power-iteration vectors are variables of the discriminator.
    "spectral_norm",
    # A scheduled learning rate leaves the optimizers without a learning-rate variable.
    "lr_schedule", "lr_warmup_steps",
)


def _check(condition, message):
    if not condition:
        raise ConfigError(message)


def _check_choice(name, value, choices):
    _check(value in choices, f"--{name} must be one of {', '.join(choices)}; got {value!r}")
