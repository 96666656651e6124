"""The pretrained classifiers of thesis Appendix B: digits (Table B.1) and CelebA (Table B.2).

Both tables list the same layers (width 1; ``NetOptions.width`` scales every count):

  Conv 32, k3, s1, LeakyReLU(0.3)
  Conv 64, k3, s1, LeakyReLU(0.3)
  MaxPool 2
  Dropout 0.25
  Flatten
  Dense 128, LeakyReLU(0.3)
  Dropout 0.5
  Dense 10, softmax (B.1: one digit class)  |  Dense 13, sigmoid (B.2: 13 CelebA attributes)

The tables give the convolutions' output at the input's size, so they pad ``same``;
the max-pool's "stride 1" and doubled output size are misprints: it is Keras'
``MaxPooling2D(2)`` (stride 2, 32x32 -> 16x16) of the Keras MNIST example these
layers come from. B.1 reads 32x32xC (C = the task's channels: 1 for MNIST2edge, 3 for
MNIST2SVHN), B.2 128x128x3, or any ``--image_size``.

The saved model maps float32 NHWC images in [-1, 1] to **probabilities**: the softmax
or sigmoid is inside the model, so ``keras.models.load_model(path)(x)`` is what the
semantic loss, SVHN pruning and pair class agreement use.
"""

from __future__ import annotations

from pathlib import Path

import keras

from scogan.nets.layers import NetOptions, conv, dense, dropout
from scogan.utils.config import ConfigurationError
from scogan.utils.precision import as_float32, float32_layers
from scogan.utils.registry import Registry

LEAKY_SLOPE = 0.3
CLASSIFIERS: Registry = Registry("classifier architecture")


def _classifier(image_shape: tuple[int, int, int], outputs: int, activation: str, options: NetOptions,
                name: str) -> keras.Model:
    c = options.channels
    images = keras.Input(image_shape, name="images")
    x = images
    for i, filters in enumerate((32, 64), start=1):
        x = conv(options, c(filters), 3, 1, f"conv{i}")(x)
        x = keras.layers.LeakyReLU(LEAKY_SLOPE, name=f"conv{i}_lrelu")(x)
    x = keras.layers.MaxPooling2D(2, name="pool")(x)
    x = dropout(0.25, "pool_dropout")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = dense(options, c(128), "hidden")(x)
    x = keras.layers.LeakyReLU(LEAKY_SLOPE, name="hidden_lrelu")(x)
    x = dropout(0.5, "hidden_dropout")(x)
    with float32_layers():  # probabilities in float32 under a mixed precision policy
        x = keras.layers.Dense(outputs, activation=activation, kernel_initializer=options.initializer(),
                               name="probabilities")(x)
    return keras.Model(images, x, name=name)


@CLASSIFIERS.register("digits")
def digit_classifier(image_shape: tuple[int, int, int], options: NetOptions, num_classes: int = 10) -> keras.Model:
    """Table B.1: images (N, H, W, C) in [-1, 1] -> softmax class probabilities (N, num_classes)."""
    return _classifier(image_shape, num_classes, "softmax", options, "digit_classifier")


@CLASSIFIERS.register("attributes")
def attribute_classifier(image_shape: tuple[int, int, int], options: NetOptions, num_labels: int = 13) -> keras.Model:
    """Table B.2: images (N, H, W, 3) in [-1, 1] -> independent sigmoid probabilities (N, num_labels)."""
    return _classifier(image_shape, num_labels, "sigmoid", options, "attribute_classifier")


def build_classifier(image_shape: tuple[int, int, int], num_outputs: int, multi_label: bool,
                     options: NetOptions) -> keras.Model:
    """The classifier for a task: Table B.1 for class ids, Table B.2 for multi-hot labels."""
    if num_outputs < 2 and not multi_label:
        raise ConfigurationError(f"a classifier needs at least two classes, the task has {num_outputs}")
    return CLASSIFIERS.get("attributes" if multi_label else "digits")(image_shape, options, num_outputs)


def load_classifier(path: str | Path | None, image_shape: tuple[int, int, int], num_outputs: int | None,
                    what: str = "the classifier") -> keras.Model:
    """A saved classifier (``--classifier_path``), frozen and checked against the task it will judge.

    Raises ConfigurationError when there is no path or file, or when its input shape or
    number of outputs does not fit ``image_shape`` / ``num_outputs`` (None: any number,
    for tasks without labels of their own).
    """
    if not path:
        raise ConfigurationError(f"{what} needs --classifier_path (train one with python main.py "
                                 "--gan_type classifier --cogan_data TASK)")
    if not Path(path).is_file():
        raise ConfigurationError(f"--classifier_path {path} does not exist")
    with float32_layers():  # a judge of other networks computes in float32 (utils.precision)
        model = as_float32(keras.models.load_model(path, compile=False))
    expected = tuple(model.input_shape[1:])
    if len(expected) != 3 or any(e is not None and e != s for e, s in zip(expected, image_shape)):
        raise ConfigurationError(f"classifier {path} reads images of shape {expected}; this task's "
                                 f"images are {tuple(image_shape)}")
    outputs = model.output_shape[-1]
    if num_outputs is not None and outputs != num_outputs:
        raise ConfigurationError(f"classifier {path} has {outputs} outputs; this task has {num_outputs} "
                                 "classes (labels)")
    model.trainable = False
    return model


def penultimate_features(model: keras.Model) -> keras.Model:
    """The classifier up to its last hidden layer: images -> (N, F) float32 features, the input
    of its output layer (``probabilities``; F = 128 at width 1, after the hidden dropout, which
    is the identity in inference). Shares the classifier's layers and weights (it leaves their
    ``trainable`` flags alone, so a model still in training is not frozen by it)."""
    try:
        output_layer = model.get_layer("probabilities")
    except ValueError:  # a classifier saved under other names: its last layer is the output
        output_layer = model.layers[-1]
    return keras.Model(model.input, output_layer.input, name=f"{model.name}_features")
