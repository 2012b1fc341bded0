"""Synthetic single-cell blood smear crops: :func:`make_blood_smears`.

The generator draws images that look like the ALL-IDB2 crops -- one white
cell in the centre of a field of red blood cells -- so that every part of
skleuk can be demonstrated and tested without the (non-redistributable)
ALL-IDB data.

Rendering model
---------------
Each image is rendered in floating point by the Beer-Lambert law of a
transmitted-light microscope: three stain "concentration" maps (eosin for
red cells and plasma, a purple nuclear stain, a blue cytoplasmic stain) are
multiplied by per-image stain absorbance vectors, summed into an optical
density, and turned into light by ``I = I0 * exp(-OD)`` under a per-image
illumination field. Blur, sensor noise and an automatic white balance /
exposure step follow, then the image is quantised to ``uint8``.

All geometry is expressed in red-cell diameters (``D``), so the same cell
looks the same at every ``image_size``: only the pixel grid changes.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy import ndimage
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["make_blood_smears"]

# Optical density (absorbance) of one unit of each stain in R, G, B.
# Eosin absorbs green and blue: red cells look salmon-pink. The nuclear
# stain absorbs red and, strongly, green: nuclei look purple. The
# cytoplasmic stain absorbs mostly red: cytoplasm looks pale blue.
_EOSIN_OD = np.array([0.13, 0.62, 0.50])
_NUCLEUS_OD = np.array([0.78, 1.30, 0.34])
_CYTOPLASM_OD = np.array([0.30, 0.17, 0.05])
# Light of an empty slide (slightly warm white).
_ILLUMINATION = np.array([0.94, 0.92, 0.93])

# Typical mean and standard deviation of the channels of an image, and how
# strongly the automatic contrast step pulls every image towards them.
_TARGET_MEAN = np.array([0.8, 0.68, 0.74])
_TARGET_STD = np.array([0.10, 0.13, 0.09])
_CONTRAST_STRENGTH = 1.0

# Field of view of a crop, in red-cell diameters (ALL-IDB2: about five).
_FIELD_OF_VIEW = 5.0

# Target names of the graded morphology axis.
_NAMES = {2: ["healthy", "ALL"], 4: ["Benign", "Early", "Pre", "Pro"]}

# Morphology at the two ends of the axis: t = 0 is a mature (small, normal)
# lymphocyte, t = 1 a lymphoblast. Intermediate classes interpolate.
_MORPHOLOGY = {
    # cell diameter, in red-cell diameters
    "cell_diameter": (1.25, 2.05),
    # nucleus diameter / cell diameter (N:C ratio along a diameter)
    "nc_ratio": (0.72, 0.88),
    # stain concentration of the nucleus (chromatin density)
    "nucleus_density": (1.35, 0.72),
    # relative contrast of chromatin clumps (coarse -> fine)
    "chromatin_contrast": (0.55, 0.10),
    # size of chromatin clumps, in red-cell diameters
    "chromatin_scale": (0.09, 0.035),
    # amplitude of the radial harmonics of the nuclear outline
    "irregularity": (0.015, 0.06),
    # probability of an indented (cleft) nucleus
    "indent_prob": (0.03, 0.3),
    # probability of visible nucleoli (1-3 of them when present)
    "nucleoli_prob": (0.0, 1.0),
    # stain concentration of the cytoplasm (basophilia)
    "basophilia": (0.9, 1.7),
}


def _target_names(n_classes):
    names = _NAMES.get(n_classes, [f"class_{k}" for k in range(n_classes)])
    return np.asarray(names, dtype=str)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _lerp(key, t):
    lo, hi = _MORPHOLOGY[key]
    return lo + (hi - lo) * t


class _Canvas:
    """Pixel grid of one image, with coordinates in red-cell diameters."""

    def __init__(self, size, fov):
        self.size = size
        self.px = fov / size  # size of one pixel, in red-cell diameters
        self.coords = (np.arange(size) + 0.5) * self.px
        # Soft edges: half a pixel, or a thin membrane, whichever is wider.
        self.edge = max(0.55 * self.px, 0.018)
        self.eosin = np.zeros((size, size), dtype=np.float32)
        self.nucleus = np.zeros((size, size), dtype=np.float32)
        self.cytoplasm = np.zeros((size, size), dtype=np.float32)

    def window(self, cy, cx, radius):
        """Slices and local coordinates of the box around a centre."""
        lo_r, hi_r = self._span(cy - radius, cy + radius)
        lo_c, hi_c = self._span(cx - radius, cx + radius)
        if lo_r >= hi_r or lo_c >= hi_c:
            return None
        dy = self.coords[lo_r:hi_r, None] - cy
        dx = self.coords[None, lo_c:hi_c] - cx
        return (slice(lo_r, hi_r), slice(lo_c, hi_c)), dy, dx

    def _span(self, lo, hi):
        lo = int(np.clip(np.floor(lo / self.px), 0, self.size))
        hi = int(np.clip(np.ceil(hi / self.px) + 1, 0, self.size))
        return lo, hi


def _blob(dy, dx, radius, harmonics, edge):
    """Soft mask of a round shape with a wavy outline."""
    rho = np.hypot(dy, dx)
    theta = np.arctan2(dy, dx)
    r_edge = np.full_like(rho, radius)
    for k, amp, phase in harmonics:
        r_edge += radius * amp * np.cos(k * theta + phase)
    return _sigmoid((r_edge - rho) / edge)


def _harmonics(rng, amplitude):
    """Random low-order outline harmonics (random rotation by the phases)."""
    return [
        (k, amplitude * rng.uniform(0.3, 1.0) / (k - 1), rng.uniform(0, 2 * np.pi))
        for k in (2, 3, 4, 5)
    ]


def _smooth_noise(rng, shape, sigma_px):
    """Unit-variance Gaussian random field with correlation ``sigma_px``.

    Wide fields are drawn on a coarse grid and upsampled bilinearly, which
    keeps the cost independent of the correlation length.
    """
    step = max(sigma_px / 2.0, 1.0)
    coarse = tuple(int(np.ceil(n / step)) + 2 for n in shape)
    field = rng.standard_normal(coarse)
    sigma = sigma_px / step
    if sigma > 0.3:
        field = ndimage.gaussian_filter(field, sigma, mode="wrap")
    if step > 1.0:
        field = ndimage.zoom(field, step, order=1, grid_mode=True, mode="nearest")
    field = field[: shape[0], : shape[1]]
    return field / (field.std() + 1e-12)


def _draw_red_cells(canvas, rng, wbc_centre, wbc_radius, coverage):
    """Red cells: pale discs with a central pallor, some overlapping."""
    fov = canvas.size * canvas.px
    margin = 0.6
    area = (fov + 2 * margin) ** 2
    n_target = int(round(coverage * area / (np.pi / 4)))
    centres = []
    keep_out = wbc_radius + 0.3
    for _ in range(6 * n_target):
        if len(centres) >= n_target:
            break
        c = rng.uniform(-margin, fov + margin, size=2)
        if np.hypot(*(c - wbc_centre)) < keep_out:
            continue
        if centres:
            d = np.hypot(*(np.asarray(centres) - c).T).min()
            # Mostly touching at most, sometimes overlapping (rouleaux-like).
            if d < 0.82 and rng.random() > 0.12:
                continue
            if d < 0.45:
                continue
        centres.append(c)
    for cy, cx in centres:
        radius = 0.5 * rng.lognormal(0.0, 0.06)
        win = canvas.window(cy, cx, 0.65)
        if win is None:
            continue
        sl, dy, dx = win
        # Elliptical, randomly rotated disc.
        angle = rng.uniform(0, np.pi)
        aspect = rng.uniform(0.82, 1.0)
        u = dy * np.cos(angle) + dx * np.sin(angle)
        v = -dy * np.sin(angle) + dx * np.cos(angle)
        rho = np.hypot(u, v / aspect) / radius
        mask = _sigmoid((1.0 - rho) * radius / canvas.edge)
        # Biconcave profile: thick rim, flat pale centre (central pallor).
        depth = rng.uniform(0.45, 0.75)
        pallor = rng.uniform(0.38, 0.5)
        off = rng.normal(0, 0.05, size=2)
        rho_p = np.hypot(u / radius - off[0], v / radius - off[1]) / pallor
        profile = 1.0 - depth * np.exp(-(rho_p**4))
        canvas.eosin[sl] += rng.uniform(0.5, 0.68) * mask * profile


def _draw_white_cell(canvas, rng, cy, cx, t, partial=False):
    """A lymphocyte-like cell whose morphology is set by ``t`` in [0, 1]."""
    jit = rng.lognormal
    cell_r = 0.5 * _lerp("cell_diameter", t) * jit(0.0, 0.07)
    nc = np.clip(_lerp("nc_ratio", t) + rng.normal(0, 0.02), 0.6, 0.93)
    nuc_r = nc * cell_r
    win = canvas.window(cy, cx, 1.3 * cell_r)
    if win is None:
        return
    sl, dy, dx = win
    # Cytoplasm (cell body).
    cell = _blob(dy, dx, cell_r, _harmonics(rng, 0.03), canvas.edge)
    baso = _lerp("basophilia", t) * jit(0.0, 0.15)
    texture = _smooth_noise(rng, cell.shape, 0.05 / canvas.px)
    canvas.cytoplasm[sl] += baso * cell * (1.0 + 0.12 * texture)
    # Red cells lying partly under the white cell are hidden by it.
    canvas.eosin[sl] *= 1.0 - 0.75 * cell
    # Nucleus, slightly eccentric.
    room = max(cell_r - nuc_r, 0.0)
    ang = rng.uniform(0, 2 * np.pi)
    shift = room * rng.uniform(0.2, 0.8)
    ny, nx = shift * np.sin(ang), shift * np.cos(ang)
    nmask = _blob(
        dy - ny, dx - nx, nuc_r, _harmonics(rng, _lerp("irregularity", t)), canvas.edge
    )
    if rng.random() < _lerp("indent_prob", t):
        a = rng.uniform(0, 2 * np.pi)
        iy, ix = ny + 1.05 * nuc_r * np.sin(a), nx + 1.05 * nuc_r * np.cos(a)
        notch = _sigmoid((0.35 * nuc_r - np.hypot(dy - iy, dx - ix)) / canvas.edge)
        nmask = nmask * (1.0 - notch)
    density = _lerp("nucleus_density", t) * jit(0.0, 0.07)
    scale = _lerp("chromatin_scale", t) / canvas.px
    chromatin = _smooth_noise(rng, cell.shape, scale)
    contrast = _lerp("chromatin_contrast", t)
    conc = density * np.clip(1.0 + contrast * chromatin, 0.3, None)
    # Nucleoli: 1-3 paler, slightly bluish spots in the nucleus.
    if not partial and rng.random() < _lerp("nucleoli_prob", t):
        for _ in range(rng.randint(1, 4)):
            a, r = rng.uniform(0, 2 * np.pi), nuc_r * rng.uniform(0.0, 0.5)
            oy, ox = ny + r * np.sin(a), nx + r * np.cos(a)
            size = rng.uniform(0.1, 0.16)
            spot = np.exp(-((((dy - oy) ** 2 + (dx - ox) ** 2) / size**2) ** 2))
            conc = conc * (1.0 - 0.6 * spot)
            canvas.cytoplasm[sl] += 0.6 * spot * nmask
    canvas.nucleus[sl] += conc * nmask
    # The cytoplasm is not seen through the nucleus.
    canvas.cytoplasm[sl] *= 1.0 - 0.7 * nmask


def _draw_platelets(canvas, rng):
    fov = canvas.size * canvas.px
    for _ in range(rng.poisson(0.8)):
        cy, cx = rng.uniform(0, fov, size=2)
        win = canvas.window(cy, cx, 0.3)
        if win is None:
            continue
        sl, dy, dx = win
        mask = _blob(dy, dx, rng.uniform(0.09, 0.16), _harmonics(rng, 0.25), 0.03)
        canvas.nucleus[sl] += rng.uniform(0.3, 0.6) * mask


def _render(rng, size, t, nuisance):
    """Render one float image in [0, 1] of shape (size, size, 3)."""
    fov = _FIELD_OF_VIEW * rng.lognormal(0.0, 0.08 * nuisance)
    canvas = _Canvas(size, fov)
    # The white cell is near the centre (a crop centred by a detector).
    jitter = 0.04 * fov * nuisance * np.sqrt(rng.random())
    ang = rng.uniform(0, 2 * np.pi)
    cy, cx = fov / 2 + jitter * np.sin(ang), fov / 2 + jitter * np.cos(ang)
    wbc_r = 0.5 * _lerp("cell_diameter", t)
    coverage = rng.uniform(0.3, 0.75)
    _draw_red_cells(canvas, rng, np.array([cy, cx]), wbc_r, coverage)
    _draw_platelets(canvas, rng)
    # Sometimes a second white cell, cut by the border, of any maturity.
    if rng.random() < 0.25:
        a = rng.uniform(0, 2 * np.pi)
        reach = 0.5 * fov / max(abs(np.cos(a)), abs(np.sin(a)))
        d = reach + rng.uniform(0.15, 0.7)
        _draw_white_cell(
            canvas,
            rng,
            fov / 2 + d * np.sin(a),
            fov / 2 + d * np.cos(a),
            rng.uniform(0, 1),
            partial=True,
        )
    _draw_white_cell(canvas, rng, cy, cx, t)
    # Thin plasma film.
    plasma = rng.uniform(0.02, 0.12) * (
        1.0 + 0.3 * _smooth_noise(rng, (size, size), 1.0 / canvas.px)
    )
    canvas.eosin += plasma

    # Per-image stain: hue and strength of each stain vary between slides.
    stains = np.stack([_EOSIN_OD, _NUCLEUS_OD, _CYTOPLASM_OD])
    stains = stains * rng.lognormal(0.0, 0.12 * nuisance, size=(3, 3))
    stains *= rng.lognormal(0.0, [[0.25], [0.3], [0.3]]) ** nuisance
    conc = np.stack([canvas.eosin, canvas.nucleus, canvas.cytoplasm], axis=-1)
    od = conc @ stains.astype(np.float32)
    # Illumination: tint, brightness and a vignette with a random centre.
    light = _ILLUMINATION * rng.lognormal(0.0, 0.04 * nuisance, size=3)
    light = light * rng.uniform(1.0 - 0.2 * nuisance, 1.05)
    vy, vx = rng.uniform(0, fov, size=2)
    dist2 = (canvas.coords[:, None] - vy) ** 2 + (canvas.coords[None, :] - vx) ** 2
    vignette = 1.0 - rng.uniform(0, 0.15) * nuisance * dist2 / fov**2
    img = np.exp(-od)
    img *= (vignette[..., None] * light).astype(np.float32)

    # Optics and sensor: defocus blur, Gaussian noise, a few dead pixels.
    sigma = rng.uniform(0.015, 0.015 + 0.075 * nuisance) / canvas.px
    if sigma > 0.25:
        img = ndimage.gaussian_filter(img, (sigma, sigma, 0), mode="nearest")
    noise = rng.standard_normal(img.shape).astype(np.float32)
    # (A smaller image is a downsampled photograph: it is less noisy.)
    noise_sd = rng.uniform(0.004, 0.025) * nuisance * min(1.0, np.sqrt(size / 128))
    img += noise * np.float32(noise_sd)
    if rng.random() < 0.15 * nuisance:
        n_bad = rng.binomial(size * size, 0.0005)
        rows, cols = rng.randint(0, size, (2, n_bad))
        img[rows, cols] = rng.choice([0.0, 1.0], size=(n_bad, 1))
    # Camera auto-exposure, white balance and auto-contrast: the mean and
    # spread of every colour channel are pulled towards random targets, so
    # that they carry (almost) no class information.
    flat = img.reshape(-1, 3)
    mean = flat.mean(axis=0, dtype=np.float64)
    std = flat.std(axis=0, dtype=np.float64) + 1e-6
    t_mean = _TARGET_MEAN * rng.lognormal(0.0, 0.04, size=3) * rng.uniform(0.9, 1.04)
    t_std = _TARGET_STD * rng.lognormal(0.0, 0.06, size=3) * rng.lognormal(0.0, 0.15)
    new_mean = mean ** (1.0 - nuisance) * t_mean**nuisance
    a_std = _CONTRAST_STRENGTH * nuisance
    new_std = std ** (1.0 - a_std) * t_std**a_std
    img -= mean.astype(np.float32)
    img *= (new_std / std).astype(np.float32)
    img += new_mean.astype(np.float32)
    return np.clip(img, 0.0, 1.0, out=img)


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_classes": [Interval(Integral, 2, 8, closed="both")],
        "image_size": [Interval(Integral, 16, None, closed="left")],
        "class_sep": [Interval(Real, 0, 1, closed="both")],
        "nuisance": [Interval(Real, 0, 1, closed="both")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_blood_smears(
    n_samples=260,
    n_classes=2,
    image_size=128,
    *,
    class_sep=1.0,
    nuisance=1.0,
    shuffle=True,
    random_state=None,
    return_X_y=False,
):
    """Generate synthetic single-cell blood smear crops (ALL-IDB2-like).

    Each image shows one white cell near the centre of a field of red blood
    cells -- pale pink discs with a central pallor, some overlapping, some
    cut by the border -- on a pale pink plasma background, like the crops of
    the ALL-IDB2 data set. The class is the maturity of the central cell,
    drawn from real morphology:

    * class 0, ``"healthy"``: a mature lymphocyte, small (about 1.25 red-cell
      diameters) with a dense, dark, round nucleus of coarse clumped
      chromatin and a thin rim of pale blue cytoplasm;
    * class 1, ``"ALL"``: a lymphoblast, large (about 2 red-cell diameters)
      with a large round nucleus (high nucleus-to-cytoplasm ratio), fine
      homogeneous and paler chromatin, 1-3 visible nucleoli, a more
      basophilic (bluer) cytoplasm, and sometimes an irregular or indented
      outline.

    With ``n_classes > 2`` the classes are evenly spaced along that
    morphology axis (cell and nucleus size, N:C ratio, chromatin density and
    texture, nucleoli, cytoplasm basophilia), class 0 the most mature.

    Nuisance variation is what real smears have, and none of it depends on
    the class: magnification (about +-8 %), stain hue and strength,
    illumination colour, brightness and vignetting, defocus blur, sensor
    noise and occasional dead pixels, cell position jitter (a few percent
    of the crop), random rotation and shape of every cell, red-cell density
    and overlap, platelets, and sometimes a second white cell cut by the
    border. A final automatic exposure / white balance step pulls the mean
    colour of every image to a random target, so **the class cannot be
    predicted from the mean colour or brightness of an image**: a model has
    to look at the cells.

    Parameters
    ----------
    n_samples : int, default=260
        Number of images (ALL-IDB2 has 260). Must be at least ``n_classes``.
        The classes are balanced: their sizes differ by at most one.

    n_classes : int, default=2
        Number of classes, from 2 to 8. Class names are ``["healthy",
        "ALL"]`` for 2 classes, the B-ALL subtypes ``["Benign", "Early",
        "Pre", "Pro"]`` for 4 classes, and ``"class_0"``, ``"class_1"``, ...
        otherwise.

    image_size : int, default=128
        Side of the square images, in pixels (at least 16). ALL-IDB2 crops
        are 257 pixels: pass ``image_size=257`` for ALL-IDB2-shaped data.
        The crop always covers the same field of view (about five red-cell
        diameters), so only the resolution changes.

    class_sep : float, default=1.0
        Fraction of the morphology range the classes span, in ``[0, 1]``.
        Smaller values make the classes more alike (harder); ``0`` makes
        them indistinguishable.

    nuisance : float, default=1.0
        Strength of the nuisance variation (stain, illumination, noise,
        magnification, position, white balance), in ``[0, 1]``. ``0`` gives
        clean images, useful for figures; the default mimics real data.

    shuffle : bool, default=True
        Whether to shuffle the images. If False they are ordered by class.

    random_state : int, RandomState instance or None, default=None
        Seed or generator for reproducible output. ``None`` draws a new
        data set at every call.

    return_X_y : bool, default=False
        If True, return ``(images, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the attributes:

        images : ndarray of shape (n_samples, image_size, image_size, 3)
            The RGB images, ``uint8``.
        target : ndarray of shape (n_samples,)
            The class of each image, ``int64`` in ``[0, n_classes)``.
        target_names : ndarray of shape (n_classes,)
            The name of each class (strings).
        DESCR : str
            Description of the generator and its classes.

    (images, target) : tuple if ``return_X_y`` is True
        The two arrays described above.

    See Also
    --------
    load_all_idb : Load the real ALL-IDB data from a local copy.

    Notes
    -----
    Images are rendered one by one with vectorised numpy (a loop over the
    cells of an image, each drawn on its bounding box). 260 images take
    about 2-3 seconds of CPU time at 128 pixels and about 7 seconds at 257
    pixels.

    Examples
    --------
    >>> from skleuk.datasets import make_blood_smears
    >>> smears = make_blood_smears(n_samples=6, image_size=32, random_state=0)
    >>> smears.images.shape, smears.images.dtype
    ((6, 32, 32, 3), dtype('uint8'))
    >>> smears.target_names.tolist()
    ['healthy', 'ALL']
    >>> sorted(smears.target.tolist())
    [0, 0, 0, 1, 1, 1]
    >>> X, y = make_blood_smears(8, n_classes=4, image_size=16,
    ...                          random_state=0, return_X_y=True)
    >>> X.shape, y.dtype
    ((8, 16, 16, 3), dtype('int64'))
    """
    if n_samples < n_classes:
        raise ValueError(
            f"n_samples={n_samples} is smaller than n_classes={n_classes}: "
            "make_blood_smears needs at least one image per class."
        )
    rng = check_random_state(random_state)
    target = np.arange(n_samples, dtype=np.int64) % n_classes
    target.sort()
    if shuffle:
        rng.shuffle(target)
    position = target / (n_classes - 1)
    position = 0.5 + class_sep * (position - 0.5)
    images = np.empty((n_samples, image_size, image_size, 3), dtype=np.uint8)
    for i, t in enumerate(position):
        # Biological variation: a cell is not exactly at its class's stage.
        t_i = float(np.clip(t + rng.normal(0.0, 0.04), 0.0, 1.0))
        img = _render(rng, image_size, t_i, float(nuisance))
        images[i] = np.round(img * 255.0).astype(np.uint8)

    if return_X_y:
        return images, target
    target_names = _target_names(n_classes)
    return Bunch(
        images=images,
        target=target,
        target_names=target_names,
        DESCR=_describe(n_samples, n_classes, image_size, target_names),
    )


def _describe(n_samples, n_classes, image_size, target_names):
    counts = np.bincount(np.arange(n_samples) % n_classes, minlength=n_classes)
    classes = "\n".join(
        f"    {k}: {name} ({counts[k]} images)" for k, name in enumerate(target_names)
    )
    return f"""\
.. _synthetic_blood_smears:

Synthetic blood smears (ALL-IDB2-like)
--------------------------------------

**Data set characteristics:**

:Number of images: {n_samples}
:Image shape: {image_size} x {image_size} x 3 (RGB, uint8)
:Number of classes: {n_classes}
:Classes:
{classes}
:Creator: skleuk.datasets.make_blood_smears (synthetic, no real patient data)

Each image is a single-cell crop: one white cell near the centre of a
field of red blood cells (pale pink discs with a central pallor, some
overlapping or cut by the border) on a pale plasma background, rendered
with the Beer-Lambert law of a transmitted-light microscope from three
stains (eosin, a purple nuclear stain, a blue cytoplasmic stain).

The class is the maturity of the central white cell. Class 0 is a mature
lymphocyte: small, with a dense dark round nucleus of coarse chromatin and a
thin rim of pale blue cytoplasm. The last class is a lymphoblast: large,
with a large nucleus (high nucleus-to-cytoplasm ratio), fine homogeneous
chromatin, 1-3 visible nucleoli, a bluer cytoplasm and sometimes an
irregular or indented outline. Classes in between are evenly spaced on
this morphology axis.

Nuisance variation does not depend on the class: magnification, stain hue
and strength, illumination, vignetting, blur, noise, position jitter,
rotation, red-cell density and overlap, platelets and a second partial
white cell. An automatic exposure / white balance step makes the mean
colour of an image carry no information about its class.

ALL-IDB2 crops are 257 x 257 pixels; the default 128 pixels keeps the data
small. The field of view (about five red-cell diameters) is the same at
every size.
"""
