import pytest
from PIL import Image

from plait.errors import MediaError
from plait.media.resize import MAX_SIDE, Fit, contain_size, resize

RED = (255, 0, 0)
GREEN = (0, 255, 0)
BLUE = (0, 0, 255)


def near(pixel: object, expected: tuple[int, ...], tolerance: int = 12) -> bool:
    assert isinstance(pixel, tuple)
    return len(pixel) == len(expected) and all(
        abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True)
    )


def halves(size: tuple[int, int] = (400, 200), mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue."""
    img = Image.new(mode, size, RED)
    img.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return img


def stripes() -> Image.Image:
    """600x200: red, green and blue vertical thirds."""
    img = Image.new("RGB", (600, 200), RED)
    img.paste(GREEN, (200, 0, 400, 200))
    img.paste(BLUE, (400, 0, 600, 200))
    return img


def test_contain_fits_inside_the_box_keeping_aspect() -> None:
    out = resize(halves(), 100, 100, "contain")
    assert out.size == (100, 50)
    assert near(out.getpixel((10, 25)), RED)
    assert near(out.getpixel((90, 25)), BLUE)


def test_contain_scales_up_to_the_largest_size_that_fits() -> None:
    assert resize(halves((100, 50)), 400, 400, "contain").size == (400, 200)
    assert resize(halves((50, 100)), 400, 400, "contain").size == (200, 400)


def test_contain_is_the_default_fit() -> None:
    assert resize(halves(), 100, 100).size == (100, 50)


def test_cover_fills_the_box_and_keeps_the_centre() -> None:
    out = resize(stripes(), 150, 150, "cover")
    assert out.size == (150, 150)
    for x in (0, 2, 75, 147, 149):
        for y in (0, 75, 149):
            assert near(out.getpixel((x, y)), GREEN, tolerance=16), (x, y)


def test_cover_crops_top_and_bottom_of_a_tall_image() -> None:
    img = Image.new("RGB", (100, 300), RED)
    img.paste(GREEN, (0, 100, 100, 200))
    out = resize(img, 50, 50, "cover")
    assert out.size == (50, 50)
    assert near(out.getpixel((25, 1)), GREEN, tolerance=16)
    assert near(out.getpixel((25, 48)), GREEN, tolerance=16)


def test_fill_stretches_to_the_exact_size() -> None:
    out = resize(halves(), 50, 300, "fill")
    assert out.size == (50, 300)
    assert near(out.getpixel((5, 150)), RED)
    assert near(out.getpixel((45, 150)), BLUE)


def test_pad_centres_the_image_on_the_pad_colour() -> None:
    out = resize(halves(), 100, 100, "pad", "#00ff00")
    assert out.size == (100, 100)
    assert out.mode == "RGB"
    # the contained image is 100x50, so 25 rows of padding above and below
    for y in (0, 24, 75, 99):
        assert out.getpixel((50, y)) == GREEN, y
    assert near(out.getpixel((10, 50)), RED)
    assert near(out.getpixel((90, 50)), BLUE)


def test_pad_of_a_tall_image_pads_left_and_right() -> None:
    out = resize(halves((100, 400)), 200, 200, "pad", "#000")
    assert out.size == (200, 200)
    assert out.getpixel((10, 100)) == (0, 0, 0)
    assert out.getpixel((190, 100)) == (0, 0, 0)
    assert near(out.getpixel((80, 100)), RED)
    assert near(out.getpixel((120, 100)), BLUE)


def test_pad_with_a_translucent_colour_gives_transparent_borders() -> None:
    out = resize(halves(), 100, 100, "pad", "#11223300")
    assert out.mode == "RGBA"
    assert out.getpixel((50, 5)) == (0x11, 0x22, 0x33, 0)
    assert near(out.getpixel((10, 50)), (*RED, 255))


def test_pad_keeps_the_image_alpha() -> None:
    img = Image.new("RGBA", (200, 100), (255, 0, 0, 128))
    out = resize(img, 100, 100, "pad", "#ffffff")
    assert out.mode == "RGBA"
    assert out.getpixel((50, 5)) == (255, 255, 255, 255)
    assert near(out.getpixel((50, 50)), (255, 0, 0, 128), tolerance=2)


@pytest.mark.parametrize("fit", ["contain", "cover", "fill", "pad"])
def test_one_side_keeps_aspect_whatever_the_fit(fit: Fit) -> None:
    assert resize(halves(), 100, None, fit).size == (100, 50)
    assert resize(halves(), None, 50, fit).size == (100, 50)
    assert resize(halves(), None, 1000, fit).size == (2000, 1000)


def test_one_side_never_makes_a_zero_side() -> None:
    assert resize(Image.new("RGB", (1000, 10)), 10, None).size == (10, 1)


def test_one_side_refuses_a_result_over_the_limit() -> None:
    with pytest.raises(MediaError, match="over the 8192-pixel limit"):
        resize(Image.new("RGB", (10, 100)), 1000, None)


def test_returns_a_new_image_and_leaves_the_input_alone() -> None:
    img = halves()
    before = img.tobytes()
    out = resize(img, 400, 200, "fill")
    assert out is not img
    assert img.tobytes() == before


def test_palette_images_are_resampled_smoothly() -> None:
    img = halves(mode="RGB").quantize(2)
    out = resize(img, 40, 20, "fill")
    assert out.mode == "RGB"
    assert near(out.getpixel((5, 10)), RED, tolerance=20)
    # LANCZOS on RGB blends across the red/blue edge; nearest-neighbour would not
    edge = out.getpixel((20, 10))
    assert isinstance(edge, tuple)
    assert 0 < edge[0] < 255


def test_grey_images_stay_grey() -> None:
    out = resize(Image.new("L", (40, 20), 77), 20, 10, "contain")
    assert out.mode == "L"
    assert out.getpixel((10, 5)) == 77


def test_neither_side_is_an_error() -> None:
    with pytest.raises(MediaError, match="width, a height, or both"):
        resize(halves(), None, None)


@pytest.mark.parametrize(
    ("width", "height"),
    [(0, 10), (10, 0), (-5, None), (None, -1), (MAX_SIDE + 1, 10), (10, MAX_SIDE + 1)],
)
def test_sides_out_of_range_are_errors(width: int | None, height: int | None) -> None:
    with pytest.raises(MediaError, match="out of range; use 1 to 8192"):
        resize(halves(), width, height)


def test_the_largest_side_is_allowed() -> None:
    assert resize(Image.new("L", (4, 2)), MAX_SIDE, None).size == (MAX_SIDE, MAX_SIDE // 2)


def test_unknown_fit_is_an_error() -> None:
    with pytest.raises(MediaError, match="unknown fit 'stretch'"):
        resize(halves(), 10, 10, "stretch")  # type: ignore[arg-type]


def test_bad_pad_colour_is_an_error() -> None:
    with pytest.raises(MediaError, match="not a colour"):
        resize(halves(), 100, 100, "pad", "white")


@pytest.mark.parametrize(
    ("size", "box", "expected"),
    [
        ((400, 200), (100, 100), (100, 50)),
        ((200, 400), (100, 100), (50, 100)),
        ((300, 300), (100, 50), (50, 50)),
        ((10_000, 1), (100, 100), (100, 1)),
        ((3, 2), (3000, 3000), (3000, 2000)),
    ],
)
def test_contain_size(
    size: tuple[int, int], box: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert contain_size(size, box) == expected
