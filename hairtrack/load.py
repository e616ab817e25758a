"""Read photos from disk: the ``load`` stage (an edge module, it touches the file system).

:func:`load_image` turns a JPEG, PNG, TIFF, WebP or HEIC file into an ``(H, W, 3)`` uint8
RGB array the right way up (EXIF orientation applied) and keeps the file's metadata aside
in an :class:`ImageMeta`. :func:`read_meta` gives the same metadata from the header and
EXIF alone, without decoding the pixels, so a folder scan can date sessions cheaply.
:func:`save_png` writes an 8-bit PNG atomically and without metadata.

Every file hairtrack cannot use is refused with an :class:`~hairtrack.errors.InputError`
whose message names the file and the reason in one line; the input file is only ever
opened for reading.

Conversion rules, applied once on entry:

- grayscale (``L``) and 1-bit (``1``) images are replicated to three equal channels;
- 16-bit images (``I;16``, ``I;16B``, ...) are scaled by the full range of their type,
  ``round(v / 257)``, never stretched by their own min/max, so a dark photo stays dark.
  ``I`` (32-bit integer) data that fits in 0..65535 is treated as 16-bit, otherwise as
  0..2**31-1; ``F`` (float) data is taken as 0..1, 0..255 or 0..65535 by its maximum;
- images with transparency (``LA``, ``RGBA``, ``PA``, ``P``/``L``/``RGB`` with a
  transparent colour) are composited on **white**: a cut-out area then reads as bright
  skin-like background, never as dark hair, so it cannot inflate a hair measurement;
- ``CMYK``, ``YCbCr``, palette and other colour modes go through Pillow's ``convert``.

Pillow reduces 16-bit-per-channel RGB TIFFs to 8 bits itself on decoding (by keeping the
high byte), so those arrive at most one grey level below ``round(v / 257)``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import os
import re
import stat
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from os import PathLike
from typing import IO, Any

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from hairtrack.errors import InputError
from hairtrack.files import write_atomic

try:  # HEIC/HEIF support is optional at run time: without it only HEIC files are refused.
    import pillow_heif
except (ImportError, OSError) as exc:  # pragma: no cover - pillow-heif is a dependency
    _HEIF_MISSING: str | None = f"{type(exc).__name__}: {exc}"
else:
    pillow_heif.register_heif_opener()
    _HEIF_MISSING = None

__all__ = [
    "SUPPORTED_SUFFIXES",
    "ImageMeta",
    "LoadedImage",
    "load_image",
    "read_meta",
    "save_png",
]

logger = logging.getLogger(__name__)

#: File name suffixes (lower case) of the photos hairtrack reads.
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".heic", ".heif"}
)

_NOT_AN_IMAGE = "not a readable image (JPEG, PNG, TIFF, WebP or HEIC expected)"
_CORRUPT = "image data is truncated or corrupt"
_HEIF_NEEDS_PLUGIN = (
    "HEIC/HEIF images need the pillow-heif package, which is not installed "
    "(pip install pillow-heif)"
)

# Pillow format name -> the name hairtrack reports. MPO is a JPEG with extra frames
# (stereo or depth pictures from some phones); its first frame is the photo.
_FORMAT_NAMES = {
    "JPEG": "JPEG",
    "MPO": "JPEG",
    "PNG": "PNG",
    "TIFF": "TIFF",
    "WEBP": "WEBP",
    "HEIF": "HEIF",
}

# ISO-BMFF brands of HEIF still images, to recognise a HEIC file when pillow-heif is missing.
_HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1"}
)

_TAG_ORIENTATION = 0x0112
_TAG_MAKE = 271
_TAG_MODEL = 272
_TAG_DATETIME = 306
_TAG_DATETIME_ORIGINAL = 36867
_IFD_EXIF = 0x8769

_EXIF_DATETIME = re.compile(r"(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")


@dataclass(frozen=True)
class ImageMeta:
    """What hairtrack keeps of a photo's file and EXIF metadata.

    Attributes
    ----------
    path : str
        The file, as given.
    format : {'JPEG', 'PNG', 'TIFF', 'WEBP', 'HEIF'}
        The file's image format, found from its content (not its name).
    original_mode : str
        Pillow's mode of the decoded file before conversion to RGB, e.g. ``'RGB'``,
        ``'L'``, ``'I;16'``, ``'RGBA'``, ``'CMYK'``.
    size : tuple of int
        ``(width, height)`` in pixels, after the EXIF orientation is applied.
    orientation : int
        The EXIF orientation (1-8) that was applied to bring the photo upright; 1 if the
        file has none. For HEIC it is the file's own orientation, applied by the decoder.
    datetime_original : datetime or None
        EXIF ``DateTimeOriginal`` (or ``DateTime`` when that is missing), naive local
        camera time; None when absent or unreadable.
    camera : str or None
        EXIF ``Make`` and ``Model`` joined by a space (the make once, if the model
        already starts with it), or None.
    """

    path: str
    format: str
    original_mode: str
    size: tuple[int, int]
    orientation: int
    datetime_original: datetime | None
    camera: str | None

    def to_dict(self) -> dict[str, Any]:
        """The metadata as JSON-ready values (the date as an ISO 8601 string).

        Returns
        -------
        dict
            Keys ``path, format, original_mode, size ([width, height]), orientation,
            datetime_original (str or None), camera``.
        """
        return {
            "path": self.path,
            "format": self.format,
            "original_mode": self.original_mode,
            "size": [int(self.size[0]), int(self.size[1])],
            "orientation": int(self.orientation),
            "datetime_original": (
                None if self.datetime_original is None else self.datetime_original.isoformat()
            ),
            "camera": self.camera,
        }


@dataclass(frozen=True)
class LoadedImage:
    """A decoded photo and its metadata.

    Attributes
    ----------
    rgb : (H, W, 3) uint8 ndarray
        The pixels, C-contiguous and writable, EXIF orientation applied.
    meta : ImageMeta
        Where it came from; ``meta.size == (W, H)``.
    """

    rgb: np.ndarray
    meta: ImageMeta


def load_image(
    path: str | PathLike[str],
    *,
    max_pixels: int = 100_000_000,
    min_side: int = 16,
) -> LoadedImage:
    """Read a photo as an upright 8-bit RGB array, with its metadata.

    Parameters
    ----------
    path : str or path-like
        A JPEG, PNG, TIFF, WebP or HEIC/HEIF file. The format is found from the content;
        the file is never modified.
    max_pixels : int, optional
        Largest width x height accepted. It is checked from the header before any pixel
        is decoded, so a decompression bomb costs nothing. Pillow's own limit
        (``2 * PIL.Image.MAX_IMAGE_PIXELS``, about 179 MP) still applies above it.
    min_side : int, optional
        Smallest width or height accepted, in pixels.

    Returns
    -------
    LoadedImage
        ``rgb`` is an ``(H, W, 3)`` uint8 array; see the module docstring for how
        grayscale, 16-bit, transparent and CMYK files are converted. Multi-frame files
        (multi-page TIFF, MPO, animated WebP) give their first frame.

    Raises
    ------
    InputError
        If the file is missing, a directory, empty, unreadable, not one of the supported
        formats, truncated or corrupt, larger than ``max_pixels`` or smaller than
        ``min_side``. The message names the file and the reason in one line.

    Examples
    --------
    >>> img = load_image("patients/jane-doe/2026-01-15/crown.jpg")  # doctest: +SKIP
    >>> img.rgb.shape, img.meta.datetime_original  # doctest: +SKIP
    ((3024, 4032, 3), datetime.datetime(2026, 1, 15, 10, 42, 7))
    """
    name = os.fsdecode(path)
    with (
        _open_file(name) as fh,
        _open_image(fh, name, max_pixels=max_pixels, min_side=min_side) as im,
    ):
        meta = _header_meta(im, name)  # before decoding, exactly as read_meta sees it
        _decode(im, name, max_pixels)
        # Applies the EXIF orientation still pending (none for HEIC, whose decoder applies
        # it, nor for TIFF, which Pillow's TIFF plugin already turned while decoding).
        try:
            ImageOps.exif_transpose(im, in_place=True)
            rgb = _to_rgb(im, name)
        except MemoryError as exc:
            raise InputError(name, _no_memory_reason(im.size)) from exc
    size = (int(rgb.shape[1]), int(rgb.shape[0]))
    if size != meta.size:  # pragma: no cover - only if a decoder disagrees with its header
        logger.debug("%s: header says %s, decoded %s", name, meta.size, size)
        meta = dataclasses.replace(meta, size=size)
    return LoadedImage(rgb=rgb, meta=meta)


def read_meta(
    path: str | PathLike[str],
    *,
    max_pixels: int = 100_000_000,
    min_side: int = 16,
) -> ImageMeta:
    """Read a photo's metadata from its header and EXIF, without decoding the pixels.

    Cheap enough to run over a whole patient folder (e.g. to date sessions). It refuses
    what :func:`load_image` would refuse from the header alone; a file whose pixel data
    is truncated passes here and is refused when loaded.

    Parameters
    ----------
    path : str or path-like
        A JPEG, PNG, TIFF, WebP or HEIC/HEIF file.
    max_pixels : int, optional
        Largest width x height accepted.
    min_side : int, optional
        Smallest width or height accepted, in pixels.

    Returns
    -------
    ImageMeta
        The same as ``load_image(path).meta``. (Both ignore EXIF that a PNG stores after
        its pixel data; writers put it before.)

    Raises
    ------
    InputError
        As :func:`load_image`, for the reasons that show in the header.
    """
    name = os.fsdecode(path)
    with (
        _open_file(name) as fh,
        _open_image(fh, name, max_pixels=max_pixels, min_side=min_side) as im,
    ):
        return _header_meta(im, name)


def save_png(path: str | PathLike[str], array: np.ndarray) -> None:
    """Write an 8-bit grayscale or RGB PNG atomically, with no metadata.

    The image goes to a temporary file in the target's folder, which then replaces the
    target in one step (:func:`os.replace`), so a reader never sees a half-written file
    and a failed write leaves the old file (if any) intact. No EXIF, GPS, text, time or
    resolution chunk is written.

    Parameters
    ----------
    path : str or path-like
        Where to write; an existing file is replaced.
    array : (H, W) or (H, W, 3) uint8 or bool ndarray
        The image. A bool array is written as 0 / 255 (e.g. a hair mask, 255 = hair);
        an ``(H, W, 1)`` array as grayscale.

    Raises
    ------
    ValueError
        If the array is not uint8 or bool, or not of one of the shapes above.
    OSError
        If the file cannot be written.
    """
    arr = np.asarray(array)
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * np.uint8(255)
    if arr.dtype != np.uint8:
        raise ValueError(
            f"save_png needs a uint8 or bool array, got {arr.dtype}; "
            "convert it to 0-255 uint8 first"
        )
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 3)) or 0 in arr.shape:
        raise ValueError(
            f"save_png needs an (H, W) or (H, W, 3) array with H, W > 0, got shape {arr.shape}"
        )
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(arr)).save(buf, format="PNG")
    write_atomic(path, buf.getvalue())


# ---- opening ----------------------------------------------------------------------


@contextlib.contextmanager
def _open_file(path: str) -> Iterator[IO[bytes]]:
    """Open a file for binary reading, turning every refusal into an :class:`InputError`.

    Parameters
    ----------
    path : str
        The file.

    Yields
    ------
    file object
        Open in ``'rb'`` mode; closed on exit.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        raise InputError(path, "file not found") from exc
    except PermissionError as exc:
        raise InputError(path, "permission denied (the file cannot be read)") from exc
    except OSError as exc:
        raise InputError(path, f"file cannot be read ({exc.strerror or exc})") from exc
    if stat.S_ISDIR(st.st_mode):
        raise InputError(path, "is a directory, not an image file")
    if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block or never end
        raise InputError(path, "not a regular file")
    try:
        fh = open(path, "rb")  # closed by the with below
    except PermissionError as exc:
        raise InputError(path, "permission denied (the file cannot be read)") from exc
    except OSError as exc:
        raise InputError(path, f"file cannot be read ({exc.strerror or exc})") from exc
    with fh:
        if os.fstat(fh.fileno()).st_size == 0:
            raise InputError(path, "file is empty")
        yield fh


def _formats() -> tuple[str, ...]:
    """Pillow format names that :func:`Image.open` may try (no others are ever parsed).

    MPO is not listed: Pillow registers no opener of its own for it, the JPEG opener
    returns an MPO image when it finds one.
    """
    names = ("JPEG", "PNG", "TIFF", "WEBP")
    return names if _HEIF_MISSING else (*names, "HEIF")


def _looks_like_heif(prefix: bytes) -> bool:
    """Whether the first bytes of a file are those of a HEIF still image (e.g. HEIC)."""
    return prefix[4:8] == b"ftyp" and prefix[8:12] in _HEIF_BRANDS


@contextlib.contextmanager
def _open_image(
    fh: IO[bytes], path: str, *, max_pixels: int, min_side: int
) -> Iterator[ImageFile.ImageFile]:
    """Parse an image header lazily and check its size before anything is decoded.

    Parameters
    ----------
    fh : binary file object
        The open file.
    path : str
        The file's name, for error messages.
    max_pixels, min_side : int
        Limits, see :func:`load_image`.

    Yields
    ------
    PIL.ImageFile.ImageFile
        The opened, not yet decoded, image; closed on exit.
    """
    prefix = fh.read(16)
    fh.seek(0)
    if _HEIF_MISSING and _looks_like_heif(prefix):
        logger.debug("pillow-heif unavailable: %s", _HEIF_MISSING)
        raise InputError(path, _HEIF_NEEDS_PLUGIN)
    formats = _formats()
    try:
        # Above PIL.Image.MAX_IMAGE_PIXELS Pillow warns; hairtrack applies its own limit
        # (max_pixels) right below, so the warning is noise here. (catch_warnings is
        # process-wide state, the usual caveat with threads applies.)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(fh, formats=formats)
    except Image.DecompressionBombError as exc:
        size = _header_size(fh, formats)
        raise InputError(path, _too_large_reason(size, max_pixels)) from exc
    except UnidentifiedImageError as exc:
        raise InputError(path, _NOT_AN_IMAGE) from exc
    except Exception as exc:  # a plugin choking on a damaged header
        logger.debug("opening %s failed", path, exc_info=True)
        raise InputError(path, _CORRUPT) from exc
    with im:
        width, height = im.size
        if width * height > max_pixels:
            raise InputError(path, _too_large_reason((width, height), max_pixels))
        if min(width, height) < min_side:
            raise InputError(
                path, f"image is {width}x{height} px, below the minimum of {min_side} px a side"
            )
        yield im


def _header_size(fh: IO[bytes], formats: tuple[str, ...]) -> tuple[int, int] | None:
    """Size from the header of an image that Pillow refused to open as too large.

    :func:`PIL.Image.open` raises before it returns the image, so the format's own
    opener is called directly; it parses the header only.

    Returns
    -------
    tuple of int or None
        ``(width, height)``, or None if no opener could read the header.
    """
    fh.seek(0)
    prefix = fh.read(16)
    for fmt in formats:
        factory, accept = Image.OPEN.get(fmt, (None, None))
        if factory is None:
            continue
        accepted = True if accept is None else accept(prefix)
        if not accepted or isinstance(accepted, str):  # a str is Pillow's "almost" warning
            continue
        try:
            fh.seek(0)
            with factory(fh, "") as im:
                return tuple(im.size)
        except Exception:  # best effort, only to word the error
            continue
    return None


def _too_large_reason(size: tuple[int, int] | None, max_pixels: int) -> str:
    """Why an image is refused as too large (a possible decompression bomb)."""
    pillow_limit = None if Image.MAX_IMAGE_PIXELS is None else 2 * Image.MAX_IMAGE_PIXELS
    if size is None:
        limit = max_pixels if pillow_limit is None else min(max_pixels, pillow_limit)
        return (
            f"image is larger than the {_mp(limit)} MP limit; it may be a decompression "
            "bomb (an image built to exhaust memory)"
        )
    width, height = size
    pixels = width * height
    if pixels > max_pixels or pillow_limit is None:
        return (
            f"image is {width}x{height} px ({_mp(pixels)} MP), above the {_mp(max_pixels)} MP "
            "limit; if it is a genuine photo, raise max_pixels in the [load] parameters"
        )
    return (
        f"image is {width}x{height} px ({_mp(pixels)} MP), above Pillow's {_mp(pillow_limit)} "
        "MP decompression-bomb limit; if it is a genuine photo, raise "
        "PIL.Image.MAX_IMAGE_PIXELS as well as max_pixels"
    )


def _mp(pixels: int) -> str:
    """A pixel count in megapixels, e.g. ``'400'``, ``'1.2'``."""
    return f"{round(pixels / 1e6, 1):g}"


def _decode(im: ImageFile.ImageFile, path: str, max_pixels: int) -> None:
    """Decode the pixel data, turning decoder failures into an :class:`InputError`.

    Pillow refuses truncated data (``LOAD_TRUNCATED_IMAGES`` is left off), which is
    what hairtrack wants: half a photo would measure as a loss of hair.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im.load()
    except Image.DecompressionBombError as exc:
        raise InputError(path, _too_large_reason(im.size, max_pixels)) from exc
    except MemoryError as exc:
        raise InputError(path, _no_memory_reason(im.size)) from exc
    except Exception as exc:  # decoders raise OSError, SyntaxError, ValueError, ...
        logger.debug("decoding %s failed", path, exc_info=True)
        raise InputError(path, _CORRUPT) from exc


def _no_memory_reason(size: tuple[int, int]) -> str:
    """Why an image within the size limit still could not be loaded."""
    width, height = size
    return f"not enough memory to load this {width}x{height} px image"


# ---- EXIF -------------------------------------------------------------------------


def _header_meta(im: ImageFile.ImageFile, path: str) -> ImageMeta:
    """The metadata of an opened, not yet decoded, image.

    Shared by :func:`read_meta` and :func:`load_image`, so both report the same.

    Parameters
    ----------
    im : PIL.ImageFile.ImageFile
        The opened image.
    path : str
        The file's name, as given.

    Returns
    -------
    ImageMeta
    """
    exif = _exif_of(im)
    pending = _pending_orientation(exif)
    width, height = _stored_size(im)
    if pending in (5, 6, 7, 8):  # a quarter turn or a transposition swaps the axes
        width, height = height, width
    return ImageMeta(
        path=path,
        format=_FORMAT_NAMES[im.format or ""],
        original_mode=im.mode,
        size=(int(width), int(height)),
        orientation=_applied_orientation(im, pending),
        datetime_original=_exif_datetime(exif),
        camera=_exif_camera(exif),
    )


def _stored_size(im: ImageFile.ImageFile) -> tuple[int, int]:
    """``(width, height)`` of the pixels as stored in the file, before any orientation.

    Pillow's TIFF plugin reports ``im.size`` already turned by the orientation tag (it
    applies the tag itself when decoding), so the TIFF's own width and length are used.
    """
    tags = getattr(im, "tag_v2", None)
    if tags is not None:
        width, height = tags.get(256), tags.get(257)
        if isinstance(width, int) and isinstance(height, int):
            return width, height
    return im.size


def _exif_of(im: Image.Image) -> Image.Exif:
    """The image's EXIF as its header gave it, or an empty one if missing or unreadable.

    The base :meth:`PIL.Image.Image.getexif` is called on purpose: the PNG plugin's
    override decodes the whole image to look for an ``eXIf`` chunk after the pixel data
    (rare; PNG writers put it first), which would make :func:`read_meta` expensive.
    Pillow caches the result, so later calls (e.g. by ``exif_transpose``) see the same.
    """
    try:
        return Image.Image.getexif(im)
    except Exception:  # broken EXIF must not refuse a good photo
        logger.debug("unreadable EXIF in %s", getattr(im, "filename", "?"), exc_info=True)
        return Image.Exif()


def _pending_orientation(exif: Image.Exif) -> int:
    """The EXIF orientation still to be applied to the decoded pixels (1 = none)."""
    value = exif.get(_TAG_ORIENTATION, 1)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 8:
        return value
    return 1


def _applied_orientation(im: Image.Image, pending: int) -> int:
    """The orientation that brings the photo upright, for :attr:`ImageMeta.orientation`.

    pillow-heif applies a HEIC's orientation while decoding and resets the EXIF tag to
    1, keeping the original value in ``info['original_orientation']``.
    """
    if pending != 1:
        return pending
    original = im.info.get("original_orientation")
    if isinstance(original, int) and 1 <= original <= 8:
        return original
    return 1


def _exif_text(value: object) -> str | None:
    """An EXIF ASCII value as a stripped string (None if empty or not text)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return None
    text = value.replace("\x00", " ").strip()
    return text or None


def _parse_exif_datetime(value: object) -> datetime | None:
    """Parse an EXIF date ``'YYYY:MM:DD HH:MM:SS'``; None for anything else.

    Examples
    --------
    >>> _parse_exif_datetime("2026:01:15 10:42:07")
    datetime.datetime(2026, 1, 15, 10, 42, 7)
    >>> _parse_exif_datetime("0000:00:00 00:00:00") is None
    True
    """
    text = _exif_text(value)
    if text is None:
        return None
    match = _EXIF_DATETIME.match(text)
    if match is None:
        return None
    try:
        return datetime(*(int(part) for part in match.groups()))
    except ValueError:  # month 13, day 0, ...
        return None


def _exif_datetime(exif: Image.Exif) -> datetime | None:
    """``DateTimeOriginal`` from the Exif IFD (or, misplaced, IFD0), else ``DateTime``."""
    try:
        exif_ifd = exif.get_ifd(_IFD_EXIF)
    except Exception:  # broken sub-IFD: fall back to IFD0
        exif_ifd = {}
    for value in (
        exif_ifd.get(_TAG_DATETIME_ORIGINAL),
        exif.get(_TAG_DATETIME_ORIGINAL),
        exif.get(_TAG_DATETIME),
    ):
        parsed = _parse_exif_datetime(value)
        if parsed is not None:
            return parsed
    return None


def _exif_camera(exif: Image.Exif) -> str | None:
    """``'Make Model'`` from EXIF, the make once if the model repeats it; or None."""
    make = _exif_text(exif.get(_TAG_MAKE))
    model = _exif_text(exif.get(_TAG_MODEL))
    if make and model and model.lower().startswith(make.lower()):
        return model
    joined = " ".join(part for part in (make, model) if part)
    return joined or None


# ---- pixels -----------------------------------------------------------------------


def _to_rgb(im: Image.Image, path: str) -> np.ndarray:
    """Convert a decoded image of any supported mode to an ``(H, W, 3)`` uint8 array.

    See the module docstring for the rules.

    Returns
    -------
    (H, W, 3) uint8 ndarray
        C-contiguous and writable (never a view of Pillow's buffer).
    """
    mode = im.mode
    if "transparency" in im.info and mode in ("L", "RGB", "P"):
        return _on_white(np.asarray(im.convert("RGBA")))
    if mode == "RGB":
        return np.array(im, dtype=np.uint8, order="C")
    if mode in ("L", "1"):
        return _gray_to_rgb(np.asarray(im.convert("L")))
    if mode.startswith("I;16") or mode in ("I", "F"):
        return _gray_to_rgb(_scale_to_uint8(np.asarray(im), mode))
    if mode in ("LA", "La", "PA", "RGBA", "RGBa"):
        return _on_white(np.asarray(im.convert("RGBA")))
    try:
        converted = im.convert("RGB")  # P, CMYK, YCbCr, RGBX, ...
    except (ValueError, OSError) as exc:
        raise InputError(path, f"colour mode {mode} is not supported") from exc
    return np.array(converted, dtype=np.uint8, order="C")


def _gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    """Replicate an ``(H, W)`` uint8 array to ``(H, W, 3)``."""
    return np.repeat(gray[:, :, np.newaxis], 3, axis=2)


def _on_white(rgba: np.ndarray) -> np.ndarray:
    """Composite an ``(H, W, 4)`` uint8 RGBA array on white, rounding to nearest.

    ``out = round((c * a + 255 * (255 - a)) / 255)``; the sum is at most 65025, so
    uint16 holds it.
    """
    alpha = rgba[:, :, 3:4].astype(np.uint16)
    out = rgba[:, :, :3].astype(np.uint16)  # in-place from here: photos can be large
    out *= alpha
    out += 255 * (255 - alpha)  # an (H, W, 1) temporary
    out += 127
    out //= 255
    return out.astype(np.uint8)


def _scale_to_uint8(values: np.ndarray, mode: str) -> np.ndarray:
    """Scale a high-bit-depth grayscale array to uint8 by its type's nominal range.

    Parameters
    ----------
    values : (H, W) ndarray
        uint16 (``I;16*``), int32 (``I``) or float32 (``F``) pixels.
    mode : str
        The Pillow mode they came from.

    Returns
    -------
    (H, W) uint8 ndarray

    Examples
    --------
    >>> _scale_to_uint8(np.array([[0, 128, 129, 65535]], np.uint16), "I;16")
    array([[  0,   0,   1, 255]], dtype=uint8)
    """
    if mode == "F":
        data = np.nan_to_num(values.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        top = float(data.max(initial=0.0))
        full = 1.0 if top <= 1.0 else 255.0 if top <= 255.0 else 65535.0
        np.clip(data, 0.0, full, out=data)
        data *= np.float32(255.0 / full)
        return np.rint(data).astype(np.uint8)
    if mode == "I" and (values.min(initial=0) < 0 or values.max(initial=0) > 65535):
        full = 2**31 - 1  # genuinely 32-bit data: its type's positive range
        return np.rint(np.clip(values, 0, full) * (255.0 / full)).astype(np.uint8)
    # round(v / 257) in integers (65535 / 257 = 255 exactly), in place on one uint32 copy.
    data = values.astype(np.uint32)
    data += 128
    data //= 257
    return data.astype(np.uint8)
