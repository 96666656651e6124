"""Architectures by name (``--g_arch`` / ``--d_arch``) and the coupled builders.

A registered architecture is a function ``(image_shape, NetOptions) -> Architecture``
listing its blocks; ``build_generators`` / ``build_discriminators`` turn it into k
coupled networks sharing the first (generator) or last (discriminator) blocks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from scogan.nets.coupled import Architecture, CoupledDiscriminator, CoupledGenerator, resolve_shared
from scogan.nets.digit import digit_discriminator, digit_generator
from scogan.nets.faces import faces_discriminator, faces_generator
from scogan.nets.layers import NetOptions
from scogan.nets.resnet import resnet_generator
from scogan.nets.rotate import rotate_discriminator, rotate_generator
from scogan.utils.config import ConfigurationError
from scogan.utils.registry import Registry

ArchitectureFn = Callable[[tuple[int, int, int], NetOptions], Architecture]

GENERATORS: Registry[ArchitectureFn] = Registry("generator architecture")
DISCRIMINATORS: Registry[ArchitectureFn] = Registry("discriminator architecture")

GENERATORS.register("digit")(digit_generator)
DISCRIMINATORS.register("digit")(digit_discriminator)
GENERATORS.register("rotate")(rotate_generator)
DISCRIMINATORS.register("rotate")(rotate_discriminator)
GENERATORS.register("faces")(faces_generator)  # Tables A.1 (128), A.3 (256), a 64x64 variant
DISCRIMINATORS.register("faces")(faces_discriminator)  # Tables A.2 (128), A.4 (256), 64x64
GENERATORS.register("resnet")(resnet_generator)  # CycleGAN-style residual trunk; D: faces

__all__ = [
    "DISCRIMINATORS",
    "GENERATORS",
    "Architecture",
    "CoupledDiscriminator",
    "CoupledGenerator",
    "NetOptions",
    "build_discriminators",
    "build_generators",
    "check_image_size",
    "default_discriminator_width",
    "resolve_architecture",
    "resolve_shared",
    "valid_image_sizes",
]


def resolve_architecture(arch: str, image_shape: tuple[int, int, int]) -> str:
    """``arch``, or for ``auto`` the thesis net for this image size."""
    if arch != "auto":
        return arch
    size = image_shape[0]
    if size in AUTO_ARCHITECTURES:
        return AUTO_ARCHITECTURES[size]
    raise ValueError(f"no default architecture for {size}x{size} images (known sizes: "
                     f"{sorted(AUTO_ARCHITECTURES)}); pass --g_arch and --d_arch")


# Image size -> the registered architecture ``auto`` picks (same name for G and D).
# 64: the face nets with one block fewer at the wide end (see nets.faces).
AUTO_ARCHITECTURES = {32: "digit", 64: "faces", 128: "faces", 256: "faces"}


def _takes(registry: Registry[ArchitectureFn], arch: str | None, shape: tuple[int, int, int]) -> bool:
    """True if ``arch`` (None: any registered one; ``auto``: the pick for this size) takes ``shape``."""
    try:
        names = registry.names() if arch is None else [resolve_architecture(arch, shape)]
    except ValueError:  # auto has no net for this size
        return False
    for name in names:
        try:
            registry.get(name)(shape, NetOptions())  # lists blocks only: no layer is built
            return True
        except ValueError:
            continue
    return False


def valid_image_sizes(g_arch: str | None = None, d_arch: str | None = None, channels: int = 3,
                      largest: int = 1024) -> list[int]:
    """The sizes S <= ``largest`` of S x S x ``channels`` images that both architectures take.

    ``None`` stands for any registered architecture (what data loaders check, not knowing
    the nets), ``auto`` for the one ``resolve_architecture`` picks at each size.
    """
    return [s for s in range(1, largest + 1) if _takes(GENERATORS, g_arch, (s, s, channels))
            and _takes(DISCRIMINATORS, d_arch, (s, s, channels))]


def check_image_size(size: int, g_arch: str | None = None, d_arch: str | None = None,
                     channels: int = 3) -> None:
    """ConfigurationError naming the valid sizes unless a generator ``g_arch`` and a
    discriminator ``d_arch`` (None: any registered one) take ``size`` x ``size`` images."""
    shape = (size, size, channels)
    if _takes(GENERATORS, g_arch, shape) and _takes(DISCRIMINATORS, d_arch, shape):
        return
    if g_arch is None and d_arch is None:
        nets = "no generator and discriminator pair takes"
    else:
        nets = f"--g_arch {g_arch or 'any'} with --d_arch {d_arch or 'any'} cannot take"
    valid = ", ".join(map(str, valid_image_sizes(g_arch, d_arch, channels))) or "none"
    auto = ", ".join(map(str, valid_image_sizes("auto", "auto", channels)))
    hint = "" if (g_arch, d_arch) == ("auto", "auto") else f"; with --g_arch/--d_arch auto: {auto}"
    raise ConfigurationError(f"--image_size {size}: {nets} {size}x{size} images; valid sizes "
                             f"(up to 1024): {valid}{hint}")


# Discriminators that are small at the thesis width (digit: 20, 50 and 500 units), so a
# CPU run can afford them at full size next to a scaled-down generator; on mnist2edge that
# is what makes a short run couple its pairs (docs/results/pixel_agreement.md).
SMALL_DISCRIMINATORS = frozenset({"digit", "rotate"})


def default_discriminator_width(arch: str, image_shape: tuple[int, int, int], width: float) -> float:
    """The discriminator width when ``--d_width`` is not given: at least the thesis width
    (1.0) for ``SMALL_DISCRIMINATORS``, otherwise ``width`` (the generators')."""
    return max(1.0, width) if resolve_architecture(arch, image_shape) in SMALL_DISCRIMINATORS else width


def build_generators(
    arch: str, image_shape: tuple[int, int, int], num_domains: int, shared_layers: int | None,
    noise_dim: int, options: NetOptions,
) -> CoupledGenerator:
    """k coupled generators of architecture ``arch`` producing ``image_shape`` images."""
    arch = resolve_architecture(arch, image_shape)
    return CoupledGenerator(GENERATORS.get(arch)(image_shape, options), num_domains, shared_layers, noise_dim,
                            arch=arch)


def build_discriminators(
    arch: str, image_shapes: Sequence[tuple[int, int, int]], shared_layers: int | None,
    options: NetOptions,
) -> CoupledDiscriminator:
    """One discriminator per image shape, coupled through their last ``shared_layers`` blocks."""
    arch = resolve_architecture(arch, tuple(image_shapes[0]))
    architecture = DISCRIMINATORS.get(arch)(tuple(image_shapes[0]), options)
    return CoupledDiscriminator(architecture, len(image_shapes), shared_layers, image_shapes, arch=arch)
