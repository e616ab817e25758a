"""Tests of :mod:`hairtrack.load`; every file is written by the test itself."""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import warnings
import zlib
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from hairtrack import load as load_mod
from hairtrack.errors import InputError
from hairtrack.load import (
    SUPPORTED_SUFFIXES,
    ImageMeta,
    load_image,
    read_meta,
    save_png,
)

# ---- helpers --------------------------------------------------------------------------

BLOCK = 16
# Distinct, saturated colours: blocks stay recognisable after JPEG / HEIC compression.
PALETTE = np.array(
    [
        [230, 25, 25],
        [25, 200, 25],
        [25, 25, 230],
        [240, 240, 30],
        [30, 230, 230],
        [230, 30, 230],
        [250, 250, 250],
        [10, 10, 10],
        [240, 130, 20],
        [120, 60, 200],
        [128, 128, 128],
        [20, 120, 60],
        [200, 120, 150],
        [90, 50, 20],
        [160, 200, 250],
    ],
    dtype=np.uint8,
)


def blocks(rows: int = 3, cols: int = 5) -> np.ndarray:
    """Non-square RGB image of BLOCK-px blocks, each a different colour (no symmetry)."""
    idx = np.arange(rows * cols).reshape(rows, cols)
    return np.ascontiguousarray(PALETTE[idx].repeat(BLOCK, axis=0).repeat(BLOCK, axis=1))


def block_centres(image: np.ndarray) -> np.ndarray:
    """The centre pixel of every BLOCK x BLOCK block, shape (rows, cols, channels)."""
    half = BLOCK // 2
    return image[half::BLOCK, half::BLOCK].astype(int)


def noise(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def write(path: Path, image: Image.Image | np.ndarray, fmt: str, **kw) -> Path:
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    image.save(path, format=fmt, **kw)
    return path


def heif_available() -> bool:
    try:
        Image.new("RGB", (16, 16)).save(io.BytesIO(), format="HEIF", quality=-1)
    except Exception:
        return False
    return True


needs_heif = pytest.mark.skipif(
    not heif_available(), reason="pillow-heif cannot write HEIC here (no HEVC encoder)"
)


# CIPA DC-008 (EXIF), tag 0x0112: the visual side on which the stored image's 0th row
# and 0th column lie. Ground truth for orientation, independent of Pillow's mapping.
ROW0_COL0 = {
    1: ("top", "left"),
    2: ("top", "right"),
    3: ("bottom", "right"),
    4: ("bottom", "left"),
    5: ("left", "top"),
    6: ("right", "top"),
    7: ("right", "bottom"),
    8: ("left", "bottom"),
}


def upright(stored: np.ndarray, orientation: int) -> np.ndarray:
    """How a viewer shows ``stored`` pixels tagged with an EXIF orientation."""
    row0, col0 = ROW0_COL0[orientation]
    out = stored
    if row0 in ("left", "right"):
        out = out.transpose(1, 0, 2)  # stored row 0 -> column 0, stored column 0 -> row 0
        if row0 == "right":
            out = out[:, ::-1]
        if col0 == "bottom":
            out = out[::-1]
    else:
        if row0 == "bottom":
            out = out[::-1]
        if col0 == "right":
            out = out[:, ::-1]
    return np.ascontiguousarray(out)


def png_with_size(path: Path, width: int, height: int) -> Path:
    """A small valid PNG whose IHDR claims ``width`` x ``height`` (CRC fixed up)."""
    buf = io.BytesIO()
    Image.new("L", (16, 16), 100).save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    assert data[12:16] == b"IHDR"
    struct.pack_into(">II", data, 16, width, height)
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


def png_chunks(path: Path) -> list[bytes]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, kinds = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kinds.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return kinds


def assert_refused(path: Path, reason: str, **kw) -> InputError:
    with pytest.raises(InputError) as info:
        load_image(path, **kw)
    err = info.value
    message = str(err)
    assert path.name in message
    assert reason in message
    assert "\n" not in message
    assert err.path == str(path)
    return err


def on_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha.astype(float)[..., None] / 255.0
    return np.round(rgb.astype(float) * a + 255.0 * (1.0 - a)).astype(np.uint8)


# ---- formats ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "suffix", "kw", "name"),
    [
        ("PNG", ".png", {}, "PNG"),
        ("TIFF", ".tif", {}, "TIFF"),
        ("TIFF", ".tiff", {"compression": "tiff_lzw"}, "TIFF"),
        ("WEBP", ".webp", {"lossless": True}, "WEBP"),
    ],
)
def test_lossless_formats_round_trip_exactly(tmp_path, fmt, suffix, kw, name):
    pixels = noise(40, 56)
    path = write(tmp_path / f"img{suffix}", pixels, fmt, **kw)
    img = load_image(path)
    np.testing.assert_array_equal(img.rgb, pixels)
    assert img.rgb.dtype == np.uint8
    assert img.rgb.flags.c_contiguous and img.rgb.flags.writeable
    assert img.meta.format == name
    assert img.meta.original_mode == "RGB"
    assert img.meta.size == (56, 40)
    assert img.meta.orientation == 1
    assert img.meta.datetime_original is None and img.meta.camera is None


def test_jpeg_round_trips_within_tolerance(tmp_path):
    pixels = blocks()
    path = write(tmp_path / "img.jpg", pixels, "JPEG", quality=95)
    img = load_image(path)
    assert img.meta.format == "JPEG"
    assert img.rgb.shape == pixels.shape
    assert np.abs(img.rgb.astype(int) - pixels).mean() < 6  # ringing at block edges
    assert np.abs(block_centres(img.rgb) - block_centres(pixels)).max() <= 8


@needs_heif
def test_heic_round_trips_within_tolerance(tmp_path):
    pixels = blocks()
    path = write(tmp_path / "img.heic", pixels, "HEIF", quality=-1)
    img = load_image(path)
    assert img.meta.format == "HEIF"
    assert img.rgb.shape == pixels.shape
    assert np.abs(block_centres(img.rgb) - block_centres(pixels)).max() <= 12


def test_multi_picture_jpeg_gives_its_first_frame(tmp_path):
    # MPO: what some phones and stereo cameras write as .jpg (extra depth / second view).
    first, second = blocks(), np.full((48, 80, 3), 40, np.uint8)
    path = tmp_path / "phone.jpg"
    Image.fromarray(first).save(
        path, format="MPO", save_all=True, append_images=[Image.fromarray(second)], quality=95
    )
    with Image.open(path) as im:
        assert im.format == "MPO"
    img = load_image(path)
    assert img.meta.format == "JPEG"
    assert np.abs(block_centres(img.rgb) - block_centres(first)).max() <= 8


def test_format_is_found_from_content_not_name(tmp_path):
    pixels = noise(20, 24)
    path = write(tmp_path / "actually_png.jpg", pixels, "PNG")
    img = load_image(path)
    assert img.meta.format == "PNG"
    np.testing.assert_array_equal(img.rgb, pixels)


def test_supported_suffixes():
    assert {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".heic", ".heif"} <= set(
        SUPPORTED_SUFFIXES
    )
    assert all(s == s.lower() and s.startswith(".") for s in SUPPORTED_SUFFIXES)


# ---- EXIF orientation -------------------------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_exif_orientation_puts_each_pixel_where_a_viewer_shows_it(tmp_path, fmt, orientation):
    stored = blocks(3, 5)  # 48 x 80, every block a different colour
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = write(tmp_path / f"o{orientation}.{fmt.lower()}", stored, fmt, exif=exif)
    expected = upright(stored, orientation)

    img = load_image(path)
    assert img.rgb.shape == expected.shape
    if fmt == "PNG":
        np.testing.assert_array_equal(img.rgb, expected)
    else:
        assert np.abs(block_centres(img.rgb) - block_centres(expected)).max() <= 8
    assert img.meta.orientation == orientation
    assert img.meta.size == (expected.shape[1], expected.shape[0])
    assert read_meta(path) == img.meta


@pytest.mark.parametrize("mode", ["L", "I;16", "P", "RGBA"])
def test_orientation_applies_to_every_mode(tmp_path, mode):
    gray = noise(24, 40)[..., 0]
    if mode == "L":
        image, expected_gray = Image.fromarray(gray), gray
    elif mode == "I;16":
        image, expected_gray = Image.fromarray(gray.astype(np.uint16) * 257), gray
    elif mode == "P":
        image = Image.fromarray(gray).convert("P")  # web palette: compare with its RGB
        expected_gray = None
    else:
        image = Image.fromarray(np.dstack([gray, gray, gray, np.full_like(gray, 255)]))
        expected_gray = gray
    assert image.mode == mode
    exif = Image.Exif()
    exif[0x0112] = 6
    path = write(tmp_path / "img.png", image, "PNG", exif=exif)
    if expected_gray is None:
        stored = np.asarray(image.convert("RGB"))
    else:
        stored = np.repeat(expected_gray[..., None], 3, axis=2)
    img = load_image(path)
    np.testing.assert_array_equal(img.rgb, upright(stored, 6))
    assert img.meta.original_mode == mode


@needs_heif
def test_heic_orientation_is_applied_once(tmp_path):
    # pillow-heif stores the orientation as HEIF transforms and libheif applies them on
    # decoding; the EXIF tag must not then rotate the picture a second time.
    pixels = blocks(3, 5)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = write(tmp_path / "img.heic", pixels, "HEIF", exif=exif, quality=-1)
    img = load_image(path)
    assert img.rgb.shape == pixels.shape
    assert np.abs(block_centres(img.rgb) - block_centres(pixels)).max() <= 12
    assert img.meta.orientation == 6
    assert read_meta(path) == img.meta


def test_junk_orientation_is_ignored(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 9
    pixels = noise(20, 30)
    path = write(tmp_path / "img.png", pixels, "PNG", exif=exif)
    img = load_image(path)
    np.testing.assert_array_equal(img.rgb, pixels)
    assert img.meta.orientation == 1


# ---- colour modes -----------------------------------------------------------------------


def test_grayscale_is_replicated(tmp_path):
    gray = noise(20, 30)[..., 0]
    img = load_image(write(tmp_path / "g.png", gray, "PNG"))
    assert img.meta.original_mode == "L"
    np.testing.assert_array_equal(img.rgb, np.dstack([gray] * 3))


def sixteen_bit_values() -> np.ndarray:
    edges = [0, 1, 128, 129, 256, 257, 385, 386, 32767, 32768, 65407, 65408, 65534, 65535]
    rest = np.random.default_rng(1).integers(0, 65536, 20 * 24 - len(edges))
    return np.concatenate([edges, rest]).astype(np.uint16).reshape(20, 24)


@pytest.mark.parametrize(("fmt", "suffix"), [("PNG", ".png"), ("TIFF", ".tif")])
def test_16_bit_gray_is_scaled_by_the_type_range(tmp_path, fmt, suffix):
    values = sixteen_bit_values()
    img = load_image(write(tmp_path / f"g16{suffix}", values, fmt))
    assert img.meta.original_mode.startswith("I;16")
    expected = np.round(values / 257.0).astype(np.uint8)  # never a half: 257 is odd
    np.testing.assert_array_equal(img.rgb, np.dstack([expected] * 3))


def test_dark_16_bit_image_is_not_stretched(tmp_path):
    values = np.full((20, 20), 1000, np.uint16)
    values[5:10, 5:10] = 2000
    img = load_image(write(tmp_path / "dark.png", values, "PNG"))
    assert set(np.unique(img.rgb)) == {4, 8}  # round(1000/257), round(2000/257)


def rgb16_tiff(pixels: np.ndarray) -> bytes:
    """An uncompressed little-endian RGB TIFF with 16 bits per sample (Pillow cannot write one)."""
    height, width, _ = pixels.shape
    data = pixels.astype("<u2").tobytes()
    entries = [
        (256, 3, 1, width),
        (257, 3, 1, height),
        (258, 3, 3, "bps"),
        (259, 3, 1, 1),
        (262, 3, 1, 2),
        (273, 4, 1, "data"),
        (277, 3, 1, 3),
        (278, 3, 1, height),
        (279, 4, 1, len(data)),
    ]
    ifd_size = 2 + 12 * len(entries) + 4
    bps_at = 8 + ifd_size
    data_at = bps_at + 6
    out = bytearray(b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(entries)))
    for tag, kind, count, value in entries:
        if value in ("bps", "data"):
            out += struct.pack("<HHII", tag, kind, count, bps_at if value == "bps" else data_at)
        elif kind == 3:
            out += struct.pack("<HHIHH", tag, kind, count, value, 0)
        else:
            out += struct.pack("<HHII", tag, kind, count, value)
    out += struct.pack("<I", 0) + struct.pack("<HHH", 16, 16, 16) + data
    return bytes(out)


def test_16_bit_rgb_tiff_is_within_one_level(tmp_path):
    values = np.stack([sixteen_bit_values()] * 3, axis=2)
    values[..., 1] = 65535 - values[..., 1]
    path = tmp_path / "rgb16.tif"
    path.write_bytes(rgb16_tiff(values))
    img = load_image(path)
    expected = np.round(values / 257.0)
    # Pillow reduces 16-bit RGB to 8 bits itself (high byte), at most one level low.
    assert np.abs(img.rgb - expected).max() <= 1
    assert img.rgb.shape == values.shape


def test_float_tiff_in_0_1_is_scaled_to_255(tmp_path):
    values = np.linspace(0, 1, 20 * 20, dtype=np.float32).reshape(20, 20)
    img = load_image(write(tmp_path / "f.tif", values, "TIFF"))
    assert img.meta.original_mode == "F"
    np.testing.assert_array_equal(img.rgb[..., 0], np.round(values * 255).astype(np.uint8))


def test_scale_to_uint8_rules():
    scale = load_mod._scale_to_uint8
    np.testing.assert_array_equal(
        scale(np.array([[0, 128, 129, 65535]], np.uint16), "I;16"), [[0, 0, 1, 255]]
    )
    np.testing.assert_array_equal(scale(np.array([[0, 257, 65535]], np.int32), "I"), [[0, 1, 255]])
    np.testing.assert_array_equal(scale(np.array([[-5, 2**31 - 1]], np.int32), "I"), [[0, 255]])
    np.testing.assert_array_equal(
        scale(np.array([[0.0, 0.5, 1.0, np.nan]], np.float32), "F"), [[0, 128, 255, 0]]
    )
    np.testing.assert_array_equal(scale(np.array([[0.0, 200.0]], np.float32), "F"), [[0, 200]])
    np.testing.assert_array_equal(scale(np.array([[0.0, 65535.0]], np.float32), "F"), [[0, 255]])


def test_rgba_is_composited_on_white(tmp_path):
    rgba = noise(20, 30)
    alpha = np.random.default_rng(2).integers(0, 256, (20, 30), dtype=np.uint8)
    alpha[0, :3] = (0, 255, 128)
    img = load_image(write(tmp_path / "a.png", np.dstack([rgba, alpha]), "PNG"))
    assert img.meta.original_mode == "RGBA"
    np.testing.assert_array_equal(img.rgb, on_white(rgba, alpha))
    np.testing.assert_array_equal(img.rgb[0, 0], [255, 255, 255])  # fully transparent


def test_la_is_composited_on_white(tmp_path):
    gray = noise(20, 30)[..., 0]
    alpha = noise(20, 30, seed=3)[..., 0]
    img = load_image(write(tmp_path / "la.png", np.dstack([gray, alpha]), "PNG"))
    assert img.meta.original_mode == "LA"
    np.testing.assert_array_equal(img.rgb, on_white(np.dstack([gray] * 3), alpha))


def palette_image(transparency=None) -> tuple[Image.Image, np.ndarray, np.ndarray]:
    colours = np.array([[10, 20, 30], [200, 40, 40], [40, 200, 40], [40, 40, 200]], np.uint8)
    index = (np.arange(20 * 30).reshape(20, 30) % 7 % 4).astype(np.uint8)
    image = Image.fromarray(index, mode="L").convert("P")
    image.putpalette(colours.flatten().tolist())
    image.putdata(index.flatten().tolist())
    return image, colours[index], index


def test_palette_without_transparency(tmp_path):
    image, rgb, _ = palette_image()
    img = load_image(write(tmp_path / "p.png", image, "PNG"))
    assert img.meta.original_mode == "P"
    np.testing.assert_array_equal(img.rgb, rgb)


def test_palette_with_transparent_index_on_white(tmp_path):
    image, rgb, index = palette_image()
    img = load_image(write(tmp_path / "p.png", image, "PNG", transparency=0))
    expected = rgb.copy()
    expected[index == 0] = 255
    np.testing.assert_array_equal(img.rgb, expected)


def test_palette_with_alpha_per_entry_on_white(tmp_path):
    image, rgb, index = palette_image()
    alphas = np.array([0, 128, 255, 64], np.uint8)
    img = load_image(write(tmp_path / "p.png", image, "PNG", transparency=alphas.tobytes()))
    np.testing.assert_array_equal(img.rgb, on_white(rgb, alphas[index]))


CMYK_COLOURS = {  # naive CMYK -> RGB, unambiguous for pure inks
    (0, 0, 0, 0): (255, 255, 255),
    (255, 0, 0, 0): (0, 255, 255),
    (0, 255, 0, 0): (255, 0, 255),
    (0, 0, 255, 0): (255, 255, 0),
    (0, 0, 0, 255): (0, 0, 0),
    (255, 255, 0, 0): (0, 0, 255),
}


def cmyk_blocks() -> tuple[Image.Image, np.ndarray]:
    cmyk = np.array(list(CMYK_COLOURS), np.uint8).reshape(2, 3, 4)
    rgb = np.array(list(CMYK_COLOURS.values()), np.uint8).reshape(2, 3, 3)
    cmyk = cmyk.repeat(BLOCK, axis=0).repeat(BLOCK, axis=1)
    rgb = rgb.repeat(BLOCK, axis=0).repeat(BLOCK, axis=1)
    image = Image.frombytes("CMYK", (cmyk.shape[1], cmyk.shape[0]), cmyk.tobytes())
    return image, rgb


def test_cmyk_tiff(tmp_path):
    image, rgb = cmyk_blocks()
    img = load_image(write(tmp_path / "c.tif", image, "TIFF"))
    assert img.meta.original_mode == "CMYK"
    np.testing.assert_array_equal(img.rgb, rgb)


def test_cmyk_jpeg(tmp_path):
    image, rgb = cmyk_blocks()
    img = load_image(write(tmp_path / "c.jpg", image, "JPEG", quality=95))
    assert img.meta.original_mode == "CMYK"
    assert np.abs(block_centres(img.rgb) - block_centres(rgb)).max() <= 8


def test_one_bit(tmp_path):
    bits = np.zeros((20, 30), bool)
    bits[::2, 1::3] = True
    img = load_image(write(tmp_path / "b.png", bits, "PNG"))
    assert img.meta.original_mode == "1"
    np.testing.assert_array_equal(img.rgb, np.dstack([bits.astype(np.uint8) * 255] * 3))


# ---- metadata ---------------------------------------------------------------------------


def exif_with(
    original: str | None = None,
    plain: str | None = None,
    make: str | None = None,
    model: str | None = None,
) -> Image.Exif:
    exif = Image.Exif()
    if make is not None:
        exif[271] = make
    if model is not None:
        exif[272] = model
    if plain is not None:
        exif[306] = plain
    if original is not None:
        exif.get_ifd(0x8769)[36867] = original
    return exif


def test_exif_date_and_camera(tmp_path):
    exif = exif_with("2026:01:15 10:42:07", "2026:03:01 08:00:00", "Apple", "iPhone 15 Pro")
    path = write(tmp_path / "d.jpg", noise(20, 30), "JPEG", exif=exif)
    meta = load_image(path).meta
    assert meta.datetime_original == datetime(2026, 1, 15, 10, 42, 7)
    assert meta.datetime_original.tzinfo is None
    assert meta.camera == "Apple iPhone 15 Pro"


@pytest.mark.parametrize(
    ("original", "plain", "expected"),
    [
        (None, "2025:12:31 23:59:59", datetime(2025, 12, 31, 23, 59, 59)),
        ("0000:00:00 00:00:00", "2025:12:31 23:59:59", datetime(2025, 12, 31, 23, 59, 59)),
        ("    :  :     :  :  ", None, None),
        ("2026:13:01 00:00:00", None, None),
        ("yesterday", None, None),
        (None, None, None),
    ],
)
def test_exif_date_fallback_and_junk(tmp_path, original, plain, expected):
    path = write(tmp_path / "d.jpg", noise(20, 30), "JPEG", exif=exif_with(original, plain))
    assert load_image(path).meta.datetime_original == expected


@pytest.mark.parametrize(
    ("make", "model", "expected"),
    [
        ("Canon", "Canon EOS R5", "Canon EOS R5"),
        ("  FotoFinder\x00", " Medicam 1000 ", "FotoFinder Medicam 1000"),
        ("Apple", None, "Apple"),
        (None, "Dermlite DL5", "Dermlite DL5"),
        ("   ", "", None),
    ],
)
def test_camera_name(tmp_path, make, model, expected):
    exif = exif_with(make=make, model=model)
    path = write(tmp_path / "c.jpg", noise(20, 30), "JPEG", exif=exif)
    assert load_image(path).meta.camera == expected


def files_with_exif(tmp_path: Path) -> list[Path]:
    exif = exif_with("2026:01:15 10:42:07", "2026:03:01 08:00:00", "Canon", "EOS R5")
    exif[0x0112] = 8
    pixels = blocks()
    paths = [
        write(tmp_path / "m.jpg", pixels, "JPEG", exif=exif),
        write(tmp_path / "m.png", pixels, "PNG", exif=exif),
        write(tmp_path / "m.tif", pixels, "TIFF", exif=exif),
        write(tmp_path / "m.webp", pixels, "WEBP", exif=exif, lossless=True),
    ]
    if heif_available():
        paths.append(write(tmp_path / "m.heic", pixels, "HEIF", exif=exif, quality=-1))
    return paths


def test_read_meta_matches_load_image_without_decoding(tmp_path, monkeypatch):
    paths = files_with_exif(tmp_path)
    loaded = {p: load_image(p).meta for p in paths}

    def no_decoding(self):
        raise AssertionError("read_meta decoded the pixels")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    for path in paths:
        meta = read_meta(path)
        assert meta == loaded[path], path.name
        assert meta.orientation == 8
        # pillow-heif stores the orientation as a HEIF transform of the pixels it is given,
        # so the HEIC shows them as they are; the other formats show them turned.
        assert meta.size == ((80, 48) if path.suffix == ".heic" else (48, 80))
        assert meta.camera == "Canon EOS R5"
        # TIFF keeps only IFD0 (Pillow writes no Exif sub-IFD there): DateTime fallback.
        expected = datetime(2026, 3, 1, 8) if path.suffix == ".tif" else datetime(2026, 1, 15)
        assert meta.datetime_original.date() == expected.date()


def test_to_dict_is_json_ready(tmp_path):
    path = write(tmp_path / "d.jpg", noise(20, 30), "JPEG", exif=exif_with("2026:01:15 10:42:07"))
    meta = load_image(path).meta
    data = json.loads(json.dumps(meta.to_dict()))
    assert data == {
        "path": str(path),
        "format": "JPEG",
        "original_mode": "RGB",
        "size": [30, 20],
        "orientation": 1,
        "datetime_original": "2026-01-15T10:42:07",
        "camera": None,
    }
    assert isinstance(meta, ImageMeta)


def test_loading_does_not_touch_the_input(tmp_path):
    exif = exif_with("2026:01:15 10:42:07", make="Canon", model="EOS R5")
    exif[0x0112] = 6
    path = write(tmp_path / "keep.jpg", noise(40, 60), "JPEG", exif=exif)
    past = 1_700_000_000_000_000_000
    os.utime(path, ns=(past, past))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    load_image(path)
    read_meta(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert path.stat().st_mtime_ns == past
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.jpg"]


# ---- refusals ---------------------------------------------------------------------------


def test_bomb_beyond_pillows_own_limit_is_refused_with_its_size(tmp_path):
    path = png_with_size(tmp_path / "bomb.png", 20000, 20000)
    err = assert_refused(path, "image is 20000x20000 px (400 MP), above the 100 MP limit")
    assert "max_pixels" in err.reason
    with pytest.raises(InputError, match="20000x20000"):
        read_meta(path)


@pytest.mark.filterwarnings("error")
def test_bomb_between_pillows_warning_and_our_limit_is_refused_quietly(tmp_path):
    path = png_with_size(tmp_path / "bomb.png", 12000, 12000)
    assert_refused(path, "image is 12000x12000 px (144 MP), above the 100 MP limit")


def test_real_image_above_a_lower_limit_is_refused(tmp_path):
    path = write(tmp_path / "big.png", np.zeros((1000, 1100), bool), "PNG")
    assert_refused(path, "1100x1000 px (1.1 MP), above the 1 MP limit", max_pixels=1_000_000)
    assert load_image(path, max_pixels=1_100_000).rgb.shape == (1000, 1100, 3)


@pytest.mark.filterwarnings("error")
def test_large_image_within_the_limit_raises_no_pillow_warning(tmp_path):
    # 95 MP: above PIL.Image.MAX_IMAGE_PIXELS (89.5 MP) but within hairtrack's 100 MP.
    path = png_with_size(tmp_path / "large.png", 10000, 9500)
    assert read_meta(path).size == (10000, 9500)
    assert_refused(path, "image data is truncated or corrupt")  # only 16x16 px of data


def test_missing_file(tmp_path):
    assert_refused(tmp_path / "nope.jpg", "file not found")
    with pytest.raises(InputError, match="file not found"):
        read_meta(tmp_path / "nope.jpg")


def test_directory(tmp_path):
    folder = tmp_path / "folder.jpg"
    folder.mkdir()
    assert_refused(folder, "is a directory")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    assert_refused(path, "file is empty")


def test_text_file_named_jpg(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("patient came back on Tuesday\n" * 20)
    assert_refused(path, "not a readable image (JPEG, PNG, TIFF, WebP or HEIC expected)")


def test_other_image_formats_are_not_parsed(tmp_path):
    path = write(tmp_path / "img.bmp", noise(20, 20), "BMP")
    assert_refused(path, "not a readable image")


@pytest.mark.parametrize(("fmt", "suffix"), [("JPEG", ".jpg"), ("PNG", ".png")])
def test_truncated_image(tmp_path, fmt, suffix):
    whole = write(tmp_path / f"whole{suffix}", noise(192, 256), fmt)
    data = whole.read_bytes()
    path = tmp_path / f"half{suffix}"
    path.write_bytes(data[: len(data) // 2])
    assert_refused(path, "image data is truncated or corrupt")
    assert read_meta(path).size == (256, 192)  # the header is intact


def test_too_small(tmp_path):
    path = write(tmp_path / "tiny.png", noise(8, 10), "PNG")
    assert_refused(path, "image is 10x8 px, below the minimum of 16 px a side")
    assert load_image(path, min_side=8).rgb.shape == (8, 10, 3)


def test_permission_denied(tmp_path, monkeypatch):
    path = write(tmp_path / "locked.png", noise(20, 20), "PNG")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(load_mod, "open", denied, raising=False)
    assert_refused(path, "permission denied")


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file"
)
def test_permission_denied_on_disk(tmp_path):
    path = write(tmp_path / "locked.png", noise(20, 20), "PNG")
    path.chmod(0)
    try:
        assert_refused(path, "permission denied")
    finally:
        path.chmod(0o644)


def test_heic_without_pillow_heif_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(load_mod, "_HEIF_MISSING", "ImportError: No module named 'pillow_heif'")
    path = tmp_path / "crown.heic"
    path.write_bytes(struct.pack(">I", 24) + b"ftypheic" + b"\x00" * 4 + b"mif1heic" + bytes(64))
    assert_refused(path, "pillow-heif")


# ---- save_png ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "array",
    [noise(20, 30), noise(20, 30)[..., 0], noise(20, 30)[..., :1]],
    ids=["rgb", "gray", "gray1"],
)
def test_save_png_round_trips(tmp_path, array):
    path = tmp_path / "out.png"
    save_png(path, array)
    with Image.open(path) as im:
        assert im.format == "PNG"
        assert im.mode == ("RGB" if array.ndim == 3 and array.shape[2] == 3 else "L")
        np.testing.assert_array_equal(np.asarray(im), np.squeeze(array))


def test_save_png_bool_mask_is_0_255(tmp_path):
    mask = np.zeros((20, 30), bool)
    mask[5:10, 3:7] = True
    path = tmp_path / "mask.png"
    save_png(path, mask)
    with Image.open(path) as im:
        np.testing.assert_array_equal(np.asarray(im), mask.astype(np.uint8) * 255)


def test_save_png_writes_no_metadata(tmp_path):
    path = tmp_path / "out.png"
    save_png(path, noise(20, 30))
    assert set(png_chunks(path)) == {b"IHDR", b"IDAT", b"IEND"}
    with Image.open(path) as im:
        assert len(im.getexif()) == 0
        assert "exif" not in im.info


def test_save_png_is_atomic_and_replaces(tmp_path):
    path = tmp_path / "out.png"
    save_png(path, noise(20, 30))
    save_png(path, noise(10, 12, seed=5))
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]
    with Image.open(path) as im:
        assert im.size == (12, 10)


def test_save_png_failure_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "out.png"
    save_png(path, noise(20, 30))
    before = path.read_bytes()

    def broken_save(self, fp, *args, **kwargs):
        fp.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_png(path, noise(10, 12))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


@pytest.mark.parametrize(
    "array",
    [np.zeros((4, 4), np.float32), np.zeros((4, 4, 4), np.uint8), np.zeros((0, 4), np.uint8)],
    ids=["float", "rgba", "empty"],
)
def test_save_png_refuses_bad_arrays(tmp_path, array):
    with pytest.raises(ValueError, match="save_png"):
        save_png(tmp_path / "x.png", array)
    assert list(tmp_path.iterdir()) == []


def test_no_warnings_escape_on_normal_loads(tmp_path):
    path = write(tmp_path / "img.jpg", noise(40, 60), "JPEG")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_image(path)
        read_meta(path)
