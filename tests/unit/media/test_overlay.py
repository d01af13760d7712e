from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops
from pydantic import ValidationError

from plait.media.overlay import (
    Anchor,
    LayoutResult,
    Plate,
    Rect,
    TextLayer,
    _break_word,
    draw_layers,
    layout,
)

BG = (30, 60, 90)
SIZE = (400, 300)
PARAGRAPH = (
    "Fresh bread every morning from our wood-fired oven, with butter from the "
    "farm down the road and jam we make ourselves every single summer."
)


def canvas(size: tuple[int, int] = SIZE, mode: str = "RGB") -> Image.Image:
    return Image.new(mode, size, BG)


def changed(before: Image.Image, after: Image.Image) -> Rect | None:
    """Bounds of every pixel that differs; both images must be opaque."""
    assert after.mode == "RGBA"
    assert after.getchannel("A").getextrema() == (255, 255)
    return ImageChops.difference(before.convert("RGB"), after.convert("RGB")).getbbox()


def inside(inner: Rect, outer: Rect) -> bool:
    return (
        inner[0] >= outer[0]
        and inner[1] >= outer[1]
        and inner[2] <= outer[2]
        and inner[3] <= outer[3]
    )


def draw(layer: TextLayer, size: tuple[int, int] = SIZE) -> tuple[Rect | None, LayoutResult]:
    img = canvas(size)
    return changed(img, draw_layers(img, [layer])), layout(size, layer)


def colours(img: Image.Image, mode: str = "RGB") -> set[tuple[int, ...]]:
    counted = img.convert(mode).getcolors(1_000_000) or []
    return {c for _, c in counted if isinstance(c, tuple)}


# --- staying inside the box -----------------------------------------------------------------


@pytest.mark.parametrize(
    "layer",
    [
        TextLayer(text="Hello"),
        TextLayer(text=PARAGRAPH, size=90, min_size=30),
        TextLayer(text=PARAGRAPH, shrink_to_fit=False, size=48),
        TextLayer(text="Stroked", stroke_width=12, size=120),
        TextLayer(text="gjpqy ÅÉ", size=200, box_height=0.2, shrink_to_fit=False),
        TextLayer(text="Edge", anchor="center", x=0.0, y=1.0, box_width=0.6),
        TextLayer(text=PARAGRAPH, anchor="bottom", y=1.0, box_height=0.1, min_size=20),
    ],
    ids=["short", "paragraph", "no-shrink", "stroke", "descenders", "edge", "overflow-up"],
)
def test_every_changed_pixel_lies_inside_the_box(layer: TextLayer) -> None:
    drawn, result = draw(layer)
    assert drawn is not None
    assert inside(drawn, result.box), (drawn, result.box)


def test_text_bbox_covers_what_is_drawn() -> None:
    drawn, result = draw(TextLayer(text=PARAGRAPH, stroke_width=3))
    assert not result.clipped
    assert drawn is not None
    assert result.text_bbox is not None
    assert inside(drawn, result.text_bbox)
    assert inside(result.text_bbox, result.box)
    # and it is tight: the bbox is not much bigger than the ink
    assert drawn[2] - drawn[0] >= result.text_bbox[2] - result.text_bbox[0] - 8


@settings(max_examples=60, deadline=None)
@given(
    text=st.lists(
        st.sampled_from(["a", "W", "I", "g", "j", "é", "e\u0301", "ß", "—", ".", " ", "\n"]),
        max_size=40,
    ).map("".join),
    img_size=st.tuples(st.integers(30, 260), st.integers(30, 260)),
    box=st.tuples(st.floats(0.02, 1.0), st.floats(0.02, 1.0)),
    xy=st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)),
    anchor=st.sampled_from(get_args(Anchor)),
    align=st.sampled_from(["left", "center", "right"]),
    sizes=st.tuples(st.integers(6, 90), st.integers(4, 30)),
    shrink=st.booleans(),
    stroke=st.integers(0, 6),
    spacing=st.floats(0.5, 2.0),
    font=st.tuples(st.sampled_from(["inter", "dejavu-sans"]), st.booleans()),
    plate=st.one_of(st.none(), st.tuples(st.integers(0, 24), st.integers(0, 24))),
)
def test_property_drawing_stays_inside_the_box(
    text: str,
    img_size: tuple[int, int],
    box: tuple[float, float],
    xy: tuple[float, float],
    anchor: Anchor,
    align: Any,
    sizes: tuple[int, int],
    shrink: bool,
    stroke: int,
    spacing: float,
    font: tuple[str, bool],
    plate: tuple[int, int] | None,
) -> None:
    layer = TextLayer(
        text=text,
        font=font[0],
        bold=font[1],
        size=sizes[0],
        min_size=sizes[1],
        color="#ffffff",
        align=align,
        anchor=anchor,
        x=xy[0],
        y=xy[1],
        box_width=box[0],
        box_height=box[1],
        shrink_to_fit=shrink,
        line_spacing=spacing,
        stroke_width=stroke,
        stroke_color="#000000",
        plate=None if plate is None else Plate(color="#ff00ff", padding=plate[0], radius=plate[1]),
    )
    drawn, result = draw(layer, img_size)
    allowed = result.box
    if plate is not None:
        pad = plate[0]
        grown = (allowed[0] - pad, allowed[1] - pad, allowed[2] + pad, allowed[3] + pad)
        allowed = (
            max(0, grown[0]),
            max(0, grown[1]),
            min(img_size[0], grown[2]),
            min(img_size[1], grown[3]),
        )
        if result.plate_box is not None:
            assert inside(result.plate_box, allowed)
    if drawn is not None:
        assert inside(drawn, allowed), (drawn, allowed)
    if text.strip() and not result.clipped:
        assert drawn is not None, "text that fits must show"
    if not text.strip():
        assert drawn is None


# --- shrinking and wrapping -----------------------------------------------------------------


def test_short_text_keeps_the_full_size() -> None:
    result = layout(SIZE, TextLayer(text="Sale", size=64))
    assert result.font_size == 64
    assert result.lines == ("Sale",)
    assert not result.clipped


def test_longer_text_shrinks_to_the_largest_size_that_fits() -> None:
    short = layout(SIZE, TextLayer(text="Bread", size=64))
    long = layout(SIZE, TextLayer(text=PARAGRAPH, size=64))
    assert short.font_size == 64
    assert 12 <= long.font_size < 64
    assert not long.clipped
    assert len(long.lines) > 1
    # one pixel larger would not have fitted
    bigger = layout(SIZE, TextLayer(text=PARAGRAPH, size=long.font_size + 1, shrink_to_fit=False))
    assert bigger.clipped


def test_text_that_never_fits_is_drawn_at_min_size_and_clipped() -> None:
    layer = TextLayer(text=PARAGRAPH * 4, size=40, min_size=14, box_height=0.15)
    drawn, result = draw(layer)
    assert result.font_size == 14
    assert result.clipped
    assert result.text_bbox is not None
    assert not inside(result.text_bbox, result.box)
    assert drawn is not None
    assert inside(drawn, result.box)


def test_without_shrink_to_fit_the_size_is_kept_and_the_text_clipped() -> None:
    result = layout(SIZE, TextLayer(text=PARAGRAPH, size=48, shrink_to_fit=False))
    assert result.font_size == 48
    assert result.clipped


def test_min_size_above_size_uses_size() -> None:
    result = layout(SIZE, TextLayer(text=PARAGRAPH, size=10, min_size=30))
    assert result.font_size == 10


def test_lines_wrap_at_word_boundaries() -> None:
    text = "one two three four five six seven eight nine ten"
    result = layout(SIZE, TextLayer(text=text, size=40, shrink_to_fit=False, box_height=1.0))
    assert len(result.lines) > 1
    assert " ".join(result.lines) == text
    assert not result.clipped


def test_explicit_newlines_start_new_lines() -> None:
    layer = TextLayer(text="Top\nBottom", size=40, line_spacing=2.0, box_height=0.6)
    drawn, result = draw(layer)
    assert result.lines == ("Top", "Bottom")
    assert drawn is not None
    # there is a band of untouched rows between the two lines
    rows = _inked_rows(layer)
    assert rows[0]
    assert rows[-1]
    assert not all(rows), "the two lines touch"


def test_a_blank_line_is_kept() -> None:
    result = layout(SIZE, TextLayer(text="A\n\nB", size=30, box_height=1.0))
    assert result.lines == ("A", "", "B")
    assert result.origins[2][1] - result.origins[0][1] == 2 * round(30 * 1.2)


def test_a_long_word_shrinks_before_it_is_broken() -> None:
    result = layout(SIZE, TextLayer(text="Internationalization", size=64, box_width=0.5))
    assert result.lines == ("Internationalization",)
    assert result.font_size < 64
    assert not result.clipped


def test_a_word_too_long_even_at_min_size_is_broken_and_stays_inside() -> None:
    word = "W" * 80
    layer = TextLayer(text=word, size=40, min_size=12, box_width=0.3, box_height=0.9)
    drawn, result = draw(layer)
    assert len(result.lines) > 1
    assert "".join(result.lines) == word
    assert not result.clipped
    assert drawn is not None
    assert inside(drawn, result.box)
    assert drawn[3] - drawn[1] > 0.5 * (result.box[3] - result.box[1])


def test_breaking_keeps_an_accent_with_its_letter() -> None:
    word = "e\u0301" * 60
    result = layout(SIZE, TextLayer(text=word, size=30, min_size=30, box_width=0.2, box_height=1))
    assert len(result.lines) > 1
    assert "".join(result.lines) == word
    assert all(not line.startswith("\u0301") for line in result.lines)
    # where a cut would land between a letter and its accent, it moves before the letter
    assert _break_word("e\u0301" * 3, lambda piece: len(piece) <= 3) == ["e\u0301"] * 3


# --- placing --------------------------------------------------------------------------------


def _inked_rows(layer: TextLayer) -> list[bool]:
    img = canvas()
    out = draw_layers(img, [layer]).convert("RGB")
    diff = ImageChops.difference(img, out).convert("L")
    bbox = diff.getbbox()
    assert bbox is not None
    return [
        diff.crop((0, y, SIZE[0], y + 1)).getbbox() is not None for y in range(bbox[1], bbox[3])
    ]


@pytest.mark.parametrize(
    ("anchor", "expected"),
    [
        ("top-left", (200, 150, 400, 300)),
        ("top", (100, 150, 300, 300)),
        ("top-right", (0, 150, 200, 300)),
        ("left", (200, 75, 400, 225)),
        ("center", (100, 75, 300, 225)),
        ("right", (0, 75, 200, 225)),
        ("bottom-left", (200, 0, 400, 150)),
        ("bottom", (100, 0, 300, 150)),
        ("bottom-right", (0, 0, 200, 150)),
    ],
)
def test_the_anchor_point_of_the_box_sits_at_x_y(anchor: Anchor, expected: Rect) -> None:
    layer = TextLayer(text="Hi", anchor=anchor, box_width=0.5, box_height=0.5, size=40)
    drawn, result = draw(layer, (400, 300))
    assert result.box == expected
    assert drawn is not None
    assert inside(drawn, expected)


@pytest.mark.parametrize(
    ("anchor", "hugs"), [("top", "top"), ("center", "middle"), ("bottom", "bottom")]
)
def test_the_text_hugs_the_anchored_side_of_the_box(anchor: Anchor, hugs: str) -> None:
    layer = TextLayer(text="Hi", anchor=anchor, y=0.5, box_height=0.9, size=40)
    drawn, result = draw(layer)
    assert drawn is not None
    gap_above = drawn[1] - result.box[1]
    gap_below = result.box[3] - drawn[3]
    if hugs == "top":
        assert gap_above < 20 < gap_below
    elif hugs == "bottom":
        assert gap_below < 20 < gap_above
    else:
        assert abs(gap_above - gap_below) < 20


def test_a_box_past_the_edge_is_clamped_to_the_image() -> None:
    result = layout((400, 300), TextLayer(text="Hi", anchor="center", x=0.0, y=0.0))
    assert result.box == (0, 0, 180, 45)


def test_a_box_entirely_off_the_image_draws_nothing() -> None:
    drawn, result = draw(TextLayer(text="Hi", anchor="left", x=1.0))
    assert drawn is None
    assert result.clipped


@pytest.mark.parametrize("align", ["left", "center", "right"])
def test_alignment_moves_the_text_within_the_box(align: Any) -> None:
    layer = TextLayer(text="Hi", align=align, size=40, box_width=0.9)
    drawn, result = draw(layer)
    assert drawn is not None
    left_gap = drawn[0] - result.box[0]
    right_gap = result.box[2] - drawn[2]
    if align == "left":
        assert left_gap <= 6
        assert right_gap > 200
    elif align == "right":
        assert right_gap <= 6
        assert left_gap > 200
    else:
        assert abs(left_gap - right_gap) <= 6


def test_lines_are_aligned_each_on_its_own() -> None:
    result = layout(SIZE, TextLayer(text="A long first line\nShort", align="right", size=30))
    assert result.text_bbox is not None
    lefts = [x for x, _ in result.origins]
    assert lefts[1] > lefts[0]


# --- looks ----------------------------------------------------------------------------------


def test_the_text_is_drawn_in_its_colour() -> None:
    out = draw_layers(canvas(), [TextLayer(text="MMMM", color="#ff0000", size=80)])
    assert (255, 0, 0) in colours(out)


def test_a_translucent_colour_blends_with_the_image() -> None:
    out = draw_layers(canvas(), [TextLayer(text="MMMM", color="#ffffff80", size=80)])
    assert (255, 255, 255) not in colours(out)
    blended = (143, 158, 173)  # halfway between BG and white
    assert any(all(abs(a - b) <= 2 for a, b in zip(c, blended, strict=True)) for c in colours(out))


def test_the_plate_is_behind_the_text_in_its_colour() -> None:
    layer = TextLayer(text="Deal", size=50, plate=Plate(color="#ff0000", padding=10, radius=0))
    img = canvas()
    out = draw_layers(img, [layer])
    result = layout(SIZE, layer)
    assert result.plate_box is not None
    assert result.text_bbox is not None
    tb, pb = result.text_bbox, result.plate_box
    assert pb == (tb[0] - 10, tb[1] - 10, tb[2] + 10, tb[3] + 10)
    assert out.getpixel((pb[0], pb[1])) == (255, 0, 0, 255)
    assert out.getpixel((pb[2] - 1, pb[3] - 1)) == (255, 0, 0, 255)
    assert out.getpixel((pb[0] - 1, pb[1])) == (*BG, 255)
    assert changed(img, out) == pb
    assert (255, 255, 255) in colours(out)


def test_the_plate_has_rounded_corners() -> None:
    layer = TextLayer(text="Deal", size=50, plate=Plate(color="#ff0000", padding=10, radius=12))
    out = draw_layers(canvas(), [layer])
    pb = layout(SIZE, layer).plate_box
    assert pb is not None
    assert out.getpixel((pb[0], pb[1])) == (*BG, 255)
    assert out.getpixel((pb[0], (pb[1] + pb[3]) // 2)) == (255, 0, 0, 255)


def test_the_plate_is_clamped_to_the_image() -> None:
    layer = TextLayer(
        text="Corner", anchor="top-left", align="left", x=0, y=0, size=30, plate=Plate(padding=40)
    )
    result = layout(SIZE, layer)
    assert result.plate_box is not None
    assert result.plate_box[:2] == (0, 0)


def test_a_plate_covers_only_the_visible_part_of_clipped_text() -> None:
    layer = TextLayer(
        text=PARAGRAPH * 3, size=30, shrink_to_fit=False, plate=Plate(color="#f00", padding=5)
    )
    result = layout(SIZE, layer)
    box, pb = result.box, result.plate_box
    assert result.clipped
    assert pb is not None
    assert inside(pb, (box[0] - 5, box[1] - 5, box[2] + 5, box[3] + 5))


def test_no_plate_when_none_of_the_text_shows() -> None:
    # a one-pixel-high box above the letters: the text is laid out but clipped away
    layer = TextLayer(
        text="a", size=20, anchor="top-left", x=0, y=0, box_height=1 / 300, plate=Plate()
    )
    drawn, result = draw(layer)
    assert result.clipped
    assert result.plate_box is None
    assert drawn is None


def test_the_stroke_outlines_the_letters() -> None:
    plain = TextLayer(text="Stroke", size=60, shrink_to_fit=False)
    stroked = plain.model_copy(update={"stroke_width": 4, "stroke_color": "#ff0000"})
    out = draw_layers(canvas(), [stroked])
    assert (255, 0, 0) in colours(out)
    assert (255, 255, 255) in colours(out)
    a, b = layout(SIZE, plain).text_bbox, layout(SIZE, stroked).text_bbox
    assert a is not None
    assert b is not None
    assert (b[2] - b[0]) - (a[2] - a[0]) == 8
    assert (b[3] - b[1]) - (a[3] - a[1]) == 8


def test_later_layers_are_drawn_on_top() -> None:
    under = TextLayer(text="X", size=40, plate=Plate(color="#0000ff", padding=30, radius=0))
    over = TextLayer(text="X", size=40, plate=Plate(color="#00ff00", padding=20, radius=0))
    out = draw_layers(canvas(), [under, over])
    pb_over = layout(SIZE, over).plate_box
    pb_under = layout(SIZE, under).plate_box
    assert pb_over is not None
    assert pb_under is not None
    assert out.getpixel(pb_over[:2]) == (0, 255, 0, 255)
    assert out.getpixel(pb_under[:2]) == (0, 0, 255, 255)


@pytest.mark.parametrize("text", ["", "   ", "\n\n", " \t \n "])
def test_empty_text_draws_nothing(text: str) -> None:
    layer = TextLayer(text=text, stroke_width=3, plate=Plate(color="#f00"))
    drawn, result = draw(layer)
    assert drawn is None
    assert result.lines == ()
    assert result.plate_box is None
    assert not result.clipped


# --- the function itself --------------------------------------------------------------------


def test_draw_layers_returns_a_new_rgba_image_and_leaves_the_input_alone() -> None:
    img = canvas()
    before = img.tobytes()
    out = draw_layers(img, [TextLayer(text="Hi")])
    assert out is not img
    assert out.mode == "RGBA"
    assert out.size == SIZE
    assert img.tobytes() == before


def test_no_layers_gives_an_rgba_copy() -> None:
    img = canvas()
    out = draw_layers(img, [])
    assert out.mode == "RGBA"
    assert changed(img, out) is None


@pytest.mark.parametrize("mode", ["L", "P", "RGBA"])
def test_any_input_mode_works(mode: str) -> None:
    img = canvas().convert(mode)
    out = draw_layers(img, [TextLayer(text="Hi", size=60)])
    assert out.mode == "RGBA"
    assert (255, 255, 255) in colours(out)


def test_drawing_on_a_transparent_image_keeps_the_colour_pure() -> None:
    img = Image.new("RGBA", SIZE, (0, 0, 0, 0))
    out = draw_layers(img, [TextLayer(text="MMMM", color="#ff8000", size=80)])
    pixels = colours(out, "RGBA")
    assert (255, 128, 0, 255) in pixels
    # anti-aliased edges are translucent orange, never darkened towards black
    edges = [c for c in pixels if 0 < c[3] < 255]
    assert edges
    assert all(c[:3] == (255, 128, 0) for c in edges)


def test_drawing_is_deterministic() -> None:
    layers = [TextLayer(text=PARAGRAPH, stroke_width=2, plate=Plate())]
    assert draw_layers(canvas(), layers).tobytes() == draw_layers(canvas(), layers).tobytes()


# --- the models -----------------------------------------------------------------------------


def test_defaults() -> None:
    layer = TextLayer(text="x")
    assert (layer.font, layer.bold, layer.size, layer.min_size) == ("inter", False, 64, 12)
    assert (layer.align, layer.anchor, layer.x, layer.y) == ("center", "center", 0.5, 0.5)
    assert (layer.box_width, layer.box_height, layer.line_spacing) == (0.9, 0.3, 1.2)
    assert layer.plate is None
    assert Plate() == Plate(color="#000000aa", padding=16, radius=12)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("color", "white", "not a colour"),
        ("stroke_color", "#12", "not a colour"),
        ("font", "comic", "use one of: inter, dejavu-sans"),
        ("x", 1.5, "less than or equal to 1"),
        ("box_width", 0, "greater than 0"),
        ("size", 0, "greater than or equal to 1"),
        ("stroke_width", -1, "greater than or equal to 0"),
        ("anchor", "middle", "top-left"),
        ("colour", "#fff", "Extra inputs are not permitted"),
    ],
)
def test_bad_config_is_rejected(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TextLayer.model_validate({"text": "x", field: value})


def test_bad_plate_colour_is_rejected() -> None:
    with pytest.raises(ValidationError, match="not a colour"):
        Plate(color="black")


def test_every_field_is_described_in_the_json_schema() -> None:
    schema = TextLayer.model_json_schema()
    for model in (schema, schema["$defs"]["Plate"]):
        for name, prop in model["properties"].items():
            assert prop.get("description"), name
    assert schema["properties"]["font"]["enum"] == ["inter", "dejavu-sans"]
    assert schema["properties"]["color"]["pattern"].startswith("^#")
