"""Browser tests for shapes, text, selection and SVG export (issue #16), in
Debian's Chromium through Traefik against the real stack, two tabs each. The
pages act with real mouse and keyboard events; the other tab's CANVAS PIXELS
are read back, and the board API (/api/boards/{b}) is checked too:

  - each tool (rectangle, ellipse, line, arrow, text) draws in one tab and the
    other tab sees it, live while it is drawn (drafts) and once committed
                                                     -> docs/screenshot-shapes.png
  - select: click, move (the other tab sees the move live), resize by a
    handle, Ctrl+D duplicates, Delete erases; undo/redo of each of those;
    a freehand stroke moves too
  - text: edited again in place (an update of its text), by the text tool
    and by a double click with the select tool
  - history: the board as of a seq shows shapes where they were; "Restore
    this version" moves and restyles them back (update ops)
  - SVG export: the downloaded file has the elements with their geometry,
    colours, fill and text, and renders with those pixels
"""
from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET

import pytest

from test_browser import (  # noqa: F401 - fixtures are used by name
    BLUE, DOCS, GREEN, RED, T, base, browser, ctx, ctx2, front, open_board, park, pick_color,
    playwright_inst, save_side_by_side, visible_ids, wait_ids, wait_pixels, wait_saved, zigzag,
)

pytestmark = pytest.mark.timeout(300)

PURPLE = (0x70, 0x48, 0xE8)
SVG_NS = "{http://www.w3.org/2000/svg}"


def hexc(rgb) -> str:
    return f"#{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x}"


def tool(page, name: str):
    front(page)
    page.click(f"[data-tool='{name}']")
    page.wait_for_function("(t) => window.__wb.tool === t", arg=name, timeout=T)


def new_id(page, before: set[str]) -> str:
    page.wait_for_function("(n) => window.__wb.visibleIds.length > n", arg=len(before), timeout=T)
    new = [i for i in visible_ids(page) if i not in before]
    assert len(new) == 1, new
    return new[0]


def drag_shape(page, name: str, x0, y0, x1, y1) -> str:
    """Draw one shape with the tool by a real mouse drag; returns its id."""
    tool(page, name)
    before = set(visible_ids(page))
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=8)
    page.mouse.up()
    park(page)
    return new_id(page, before)


def type_text(page, x, y, text: str) -> str:
    tool(page, "text")
    before = set(visible_ids(page))
    page.mouse.click(x, y)
    page.wait_for_function("() => document.activeElement && document.activeElement.dataset.textEditor === '1'", timeout=T)
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    park(page)
    return new_id(page, before)


def element(page, eid: str):
    return page.evaluate("(id) => window.__wb.elements.find((e) => e.id === id) || null", eid)


def wait_element(page, eid: str, pred, what: str):
    end = time.monotonic() + T / 1000
    el = None
    while time.monotonic() < end:
        el = element(page, eid)
        if el is not None and pred(el):
            return el
        time.sleep(0.1)
    raise AssertionError(f"{eid}: wanted {what}, have {el}")


def api_board(page, base: str, board: str) -> dict:
    return page.evaluate("(u) => fetch(u, { cache: 'no-store' }).then((r) => r.json())", f"{base}/api/boards/{board}")


def wait_api(page, base, board, pred, what: str) -> dict:
    end = time.monotonic() + T / 1000
    j = None
    while time.monotonic() < end:
        j = api_board(page, base, board)
        if pred(j):
            return j
        time.sleep(0.2)
    raise AssertionError(f"/api/boards/{board}: wanted {what}, have {json.dumps(j)[:2000]}")


def by_id(j: dict) -> dict:
    return {e["id"]: e for e in j["strokes"]}


def test_each_tool_draws_and_the_other_tab_sees_it(ctx, ctx2, base, wb_board):
    a = open_board(ctx, f"{base}/b/{wb_board}")
    b = open_board(ctx2, f"{base}/b/{wb_board}")

    # a rectangle: the other tab sees it while it is being dragged (draft), then committed
    pick_color(a, RED)
    tool(a, "rect")
    before = set(visible_ids(a))
    a.mouse.move(120, 160)
    a.mouse.down()
    a.mouse.move(280, 260, steps=8)
    wait_pixels(b, (110, 150, 290, 270), RED, at_least=150)  # the draft, drawn in b
    assert b.evaluate("window.__wb.visibleIds.length") == 0
    a.mouse.up()
    park(a)
    rect = new_id(a, before)

    pick_color(a, BLUE)
    ell = drag_shape(a, "ellipse", 340, 160, 500, 260)
    pick_color(a, GREEN)
    line = drag_shape(a, "line", 120, 320, 280, 420)
    pick_color(a, PURPLE)
    arrow = drag_shape(a, "arrow", 340, 320, 500, 420)
    pick_color(a, RED)
    text = type_text(a, 600, 200, "Hello shapes")
    wait_saved(a)

    wait_ids(b, [rect, ell, line, arrow, text])
    wait_ids(a, [rect, ell, line, arrow, text])
    # b's canvas: every element's pixels where it was drawn, nothing inside the unfilled rect
    wait_pixels(b, (110, 150, 290, 270), RED, at_least=300)
    wait_pixels(b, (130, 175, 270, 245), RED, none=True)
    wait_pixels(b, (330, 150, 510, 270), BLUE, at_least=300)
    wait_pixels(b, (110, 310, 290, 430), GREEN, at_least=150)
    wait_pixels(b, (330, 310, 510, 430), PURPLE, at_least=150)
    wait_pixels(b, (590, 170, 800, 215), RED, at_least=80)  # the text's glyphs

    # the board API has them with their type, geometry and style
    j = wait_api(a, base, wb_board, lambda j: len(j["strokes"]) == 5, "5 elements")
    assert [e["id"] for e in j["strokes"]] == [rect, ell, line, arrow, text]
    els = by_id(j)
    assert els[rect] == {"type": "shape", "id": rect, "kind": "rect", "x1": 120, "y1": 160, "x2": 280, "y2": 260,
                         "color": hexc(RED), "width": 4, "by": a.evaluate("window.__wb.client")}
    assert (els[ell]["kind"], els[ell]["color"], els[ell]["x2"], els[ell]["y2"]) == ("ellipse", hexc(BLUE), 500, 260)
    assert (els[line]["kind"], els[line]["x1"], els[line]["y1"], els[line]["x2"], els[line]["y2"]) == ("line", 120, 320, 280, 420)
    assert (els[arrow]["kind"], els[arrow]["color"]) == ("arrow", hexc(PURPLE))
    assert "fill" not in els[rect]
    t = els[text]
    assert (t["type"], t["text"], t["color"], t["size"]) == ("text", "Hello shapes", hexc(RED), 24)
    assert 590 <= t["x"] <= 610

    # a filled rectangle (the Fill toggle)
    front(a)
    a.click("[data-fill]")
    a.wait_for_selector("[data-fill='1']", timeout=T)
    pick_color(a, BLUE)
    filled = drag_shape(a, "rect", 600, 300, 760, 420)
    wait_ids(b, [rect, ell, line, arrow, text, filled])
    el = element(b, filled)
    assert el["fill"].startswith("#") and el["fill"] != hexc(BLUE)
    fill_rgb = tuple(int(el["fill"][i:i + 2], 16) for i in (1, 3, 5))
    wait_pixels(b, (620, 320, 740, 400), fill_rgb, at_least=2000)
    a.click("[data-fill]")

    tool(a, "select")
    a.mouse.click(340 + 2, 210)  # the ellipse's left edge
    a.wait_for_function("(id) => JSON.stringify(window.__wb.selection) === JSON.stringify([id])", arg=ell, timeout=T)
    park(a)
    shots = [("shapes, arrow and text drawn in this tab (ellipse selected)", a.screenshot()),
             ("the other tab, live", b.screenshot())]
    save_side_by_side(ctx, shots, DOCS / "screenshot-shapes.png")
    assert not a._wb_errors and not b._wb_errors  # noqa: SLF001


def test_select_move_resize_duplicate_delete_undo_redo(ctx, ctx2, base, wb_board):
    a = open_board(ctx, f"{base}/b/{wb_board}")
    b = open_board(ctx2, f"{base}/b/{wb_board}")
    pick_color(a, RED)
    rect = drag_shape(a, "rect", 150, 150, 300, 250)
    wait_ids(b, [rect])
    wait_pixels(b, (140, 140, 310, 260), RED, at_least=300)

    # click the outline selects it
    tool(a, "select")
    a.mouse.click(150, 200)
    a.wait_for_function("(id) => JSON.stringify(window.__wb.selection) === JSON.stringify([id])", arg=rect, timeout=T)

    # drag it by (250, 100): the other tab sees the move while it happens (update drafts)
    a.mouse.move(150, 200)
    a.mouse.down()
    a.mouse.move(400, 300, steps=10)
    wait_pixels(b, (390, 240, 560, 360), RED, at_least=300)
    wait_pixels(b, (140, 140, 310, 230), RED, none=True)
    a.mouse.up()
    park(a)
    wait_element(b, rect, lambda e: (e["x1"], e["y1"], e["x2"], e["y2"]) == (400, 250, 550, 350), "moved by (250, 100)")
    j = wait_api(a, base, wb_board, lambda j: by_id(j).get(rect, {}).get("x1") == 400, "rect moved in the API")
    assert (by_id(j)[rect]["x2"], by_id(j)[rect]["y2"]) == (550, 350)

    # resize by the bottom-right handle (the selection box includes half the line width + 1)
    a.mouse.move(553, 353)
    a.mouse.down()
    a.mouse.move(653, 403, steps=8)
    a.mouse.up()
    park(a)
    el = wait_element(b, rect, lambda e: e["x2"] > 630 and e["y2"] > 390, "resized to about (650, 400)")
    assert abs(el["x1"] - 400) <= 3 and abs(el["y1"] - 250) <= 3  # the anchor (top-left) stays
    wait_pixels(b, (560, 360, 670, 420), RED, at_least=100)

    # Ctrl+D: a copy with a new id, selected; Delete erases the copy
    front(a)
    a.keyboard.press("Control+d")
    a.wait_for_function("() => window.__wb.visibleIds.length === 2", timeout=T)
    copy = [i for i in visible_ids(a) if i != rect][0]
    assert a.evaluate("window.__wb.selection") == [copy]
    wait_ids(b, [rect, copy])
    cel = element(b, copy)
    assert cel["type"] == "shape" and cel["kind"] == "rect" and abs(cel["x1"] - el["x1"] - 24) < 0.11
    a.keyboard.press("Delete")
    wait_ids(b, [rect])

    # undo: the delete, the duplicate, the resize, the move; then redo the move
    front(a)
    a.keyboard.press("Control+z")
    wait_ids(b, [rect, copy])
    a.keyboard.press("Control+z")
    wait_ids(b, [rect])
    a.keyboard.press("Control+z")
    wait_element(b, rect, lambda e: (e["x1"], e["y1"], e["x2"], e["y2"]) == (400, 250, 550, 350), "resize undone")
    a.keyboard.press("Control+z")
    wait_element(b, rect, lambda e: (e["x1"], e["y1"], e["x2"], e["y2"]) == (150, 150, 300, 250), "move undone")
    wait_pixels(b, (140, 140, 310, 260), RED, at_least=300)
    wait_pixels(b, (390, 300, 560, 360), RED, none=True)
    a.keyboard.press("Control+Shift+z")
    wait_element(b, rect, lambda e: (e["x1"], e["y1"]) == (400, 250), "move redone")

    # a freehand stroke moves too (its points)
    tool(a, "pen")
    pick_color(a, BLUE)
    before = set(visible_ids(a))
    pts = zigzag(150, 450, w=200, h=40, n=4)
    a.mouse.move(*pts[0])
    a.mouse.down()
    for p in pts[1:]:
        a.mouse.move(*p, steps=4)
    a.mouse.up()
    park(a)
    stroke = new_id(a, before)
    wait_ids(b, [rect, stroke])
    p0 = element(b, stroke)["points"]
    tool(a, "select")
    a.mouse.move(*pts[0])
    a.mouse.down()
    a.mouse.move(pts[0][0] + 300, pts[0][1] - 20, steps=8)
    a.mouse.up()
    park(a)
    p1 = wait_element(b, stroke, lambda e: e["points"][0] != p0[0], "stroke moved")["points"]
    assert len(p1) == len(p0)
    assert all(abs(p1[i] - p0[i] - 300) < 0.11 for i in range(0, len(p0), 2))
    assert all(abs(p1[i] - p0[i] + 20) < 0.11 for i in range(1, len(p0), 2))
    wait_pixels(b, (440, 420, 660, 500), BLUE, at_least=100)
    # a box selects both; the other tab's state equals the API's
    a.mouse.move(100, 100)
    a.mouse.down()
    a.mouse.move(720, 560, steps=6)
    a.mouse.up()
    a.wait_for_function("() => window.__wb.selection.length === 2", timeout=T)
    wait_saved(a)
    j = api_board(a, base, wb_board)
    assert j["strokes"] == b.evaluate("window.__wb.elements")
    assert not a._wb_errors and not b._wb_errors  # noqa: SLF001


def test_text_edit_in_place(ctx, ctx2, base, wb_board):
    a = open_board(ctx, f"{base}/b/{wb_board}")
    b = open_board(ctx2, f"{base}/b/{wb_board}")
    pick_color(a, BLUE)
    t = type_text(a, 200, 200, "first")
    wait_ids(b, [t])
    # Shift+Enter is a newline; a click on the text with the text tool edits it
    tool(a, "text")
    a.mouse.click(205, 195)
    a.wait_for_function("() => document.activeElement && document.activeElement.value === 'first'", timeout=T)
    a.keyboard.press("Shift+Enter")
    a.keyboard.type("second line")
    a.keyboard.press("Escape")
    wait_element(b, t, lambda e: e["text"] == "first\nsecond line", "edited text")
    assert b.evaluate("window.__wb.visibleIds") == [t]
    wait_pixels(b, (190, 215, 400, 250), BLUE, at_least=40)  # the second line's glyphs
    # an empty text adds nothing
    tool(a, "text")
    a.mouse.click(500, 400)
    a.wait_for_function("() => document.activeElement && document.activeElement.dataset.textEditor === '1'", timeout=T)
    a.keyboard.press("Enter")
    front(a)
    a.keyboard.press("Control+z")  # undo the edit
    wait_element(b, t, lambda e: e["text"] == "first", "edit undone")
    wait_saved(a)
    assert a.evaluate("() => window.__wb.visibleIds") == [t]
    # select tool: a double click on the text edits it
    tool(a, "select")
    a.mouse.dblclick(210, 200)
    a.wait_for_function("() => document.activeElement && document.activeElement.value === 'first'", timeout=T)
    a.keyboard.type("!")
    a.keyboard.press("Enter")
    wait_element(b, t, lambda e: e["text"] == "first!", "edited by double click")
    assert not a._wb_errors and not b._wb_errors  # noqa: SLF001


def test_eraser_on_shapes_and_text_and_a_viewer_sees_them(ctx, ctx2, base, wb_board):
    a = open_board(ctx, f"{base}/b/{wb_board}")
    a.wait_for_selector("#status[data-role='editor']", timeout=T)
    view = a.evaluate("() => window.__wb.viewId")
    b = open_board(ctx2, f"{base}/b/{view}")
    b.wait_for_selector("#status[data-role='viewer']", timeout=T)
    for name in ("select", "rect", "ellipse", "line", "arrow", "text"):
        assert b.locator(f"[data-tool='{name}']").count() == 0, name
    pick_color(a, BLUE)
    ell = drag_shape(a, "ellipse", 150, 150, 300, 250)
    pick_color(a, RED)
    text = type_text(a, 400, 200, "erase me")
    arrow = drag_shape(a, "arrow", 150, 350, 300, 420)
    wait_ids(b, [ell, text, arrow])
    wait_pixels(b, (140, 140, 310, 260), BLUE, at_least=300)
    wait_pixels(b, (390, 170, 560, 215), RED, at_least=60)
    # one eraser drag through the ellipse's outline and the text
    tool(a, "eraser")
    a.mouse.move(140, 200)
    a.mouse.down()
    a.mouse.move(480, 200, steps=20)
    a.mouse.up()
    park(a)
    wait_ids(b, [arrow])
    wait_pixels(b, (140, 140, 310, 260), BLUE, none=True)
    wait_pixels(b, (390, 170, 560, 215), RED, none=True)
    # undo brings both back
    front(a)
    a.keyboard.press("Control+z")
    wait_ids(b, [ell, text, arrow])
    wait_pixels(b, (140, 140, 310, 260), BLUE, at_least=300)
    assert not a._wb_errors and not b._wb_errors  # noqa: SLF001


def set_range(page, sel, value):
    page.evaluate("""([sel, v]) => {
      const el = document.querySelector(sel);
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, String(v));
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }""", [sel, value])


def test_history_shows_and_restores_moved_shapes(ctx, ctx2, base, wb_board):
    a = open_board(ctx, f"{base}/b/{wb_board}")
    b = open_board(ctx2, f"{base}/b/{wb_board}")
    pick_color(a, RED)
    rect = drag_shape(a, "rect", 150, 150, 300, 250)
    wait_saved(a)
    seq_drawn = a.evaluate("() => window.__wb.seq")
    # move it and make it blue
    tool(a, "select")
    a.mouse.move(150, 200)
    a.mouse.down()
    a.mouse.move(450, 300, steps=8)
    a.mouse.up()
    park(a)  # a's cursor (in its presence colour) out of b's pixel boxes
    pick_color(a, BLUE)
    wait_element(b, rect, lambda e: e["x1"] == 450 and e["color"] == hexc(BLUE), "moved and blue")
    wait_saved(a)
    # the history canvas at seq_drawn shows it red, where it was
    front(a)
    a.click("[data-history-open]")
    a.wait_for_selector("input[type=range][data-history]", timeout=T)
    set_range(a, "input[data-history]", seq_drawn)
    a.wait_for_selector(f"[data-history-canvas][data-history-seq='{seq_drawn}']", timeout=T)
    n = a.evaluate("""() => {
      const c = document.querySelector('[data-history-canvas]');
      const k = window.devicePixelRatio || 1;
      const d = c.getContext('2d').getImageData(140 * k, 140 * k, 170 * k, 120 * k).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] > 180 && d[i + 1] < 90 && d[i + 2] < 90) n++;
      return n;
    }""")
    assert n > 300, n
    # restore: update ops move it back and make it red again, in every tab
    a.click("[data-restore]")
    a.wait_for_selector("[data-history-canvas]", state="detached", timeout=T)
    wait_element(b, rect, lambda e: (e["x1"], e["y1"], e["x2"], e["y2"], e["color"]) == (150, 150, 300, 250, hexc(RED)), "restored")
    wait_pixels(b, (140, 140, 310, 260), RED, at_least=300)
    wait_pixels(b, (440, 240, 610, 360), BLUE, none=True)
    # undo of the restore
    front(a)
    a.keyboard.press("Control+z")
    wait_element(b, rect, lambda e: e["x1"] == 450 and e["color"] == hexc(BLUE), "restore undone")
    assert not a._wb_errors and not b._wb_errors  # noqa: SLF001


COUNT_SVG_JS = """async ([svg, rgbs]) => {
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  const img = new Image();
  await new Promise((res, rej) => { img.onload = res; img.onerror = rej; img.src = url; });
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  return rgbs.map(([r, g, b]) => {
    let n = 0;
    for (let i = 0; i < d.length; i += 4)
      if (Math.abs(d[i] - r) <= 40 && Math.abs(d[i + 1] - g) <= 40 && Math.abs(d[i + 2] - b) <= 40) n++;
    return n;
  });
}"""


def test_svg_export(ctx, ctx2, base, wb_board, tmp_path):
    a = open_board(ctx, f"{base}/b/{wb_board}")
    b = open_board(ctx2, f"{base}/b/{wb_board}")
    pick_color(a, RED)
    rect = drag_shape(a, "rect", 150, 150, 300, 250)
    pick_color(a, BLUE)
    ell = drag_shape(a, "ellipse", 350, 150, 500, 250)
    pick_color(a, PURPLE)
    arrow = drag_shape(a, "arrow", 150, 300, 300, 360)
    pick_color(a, GREEN)
    front(a)
    a.click("[data-width='8']")
    tool(a, "pen")
    before = set(visible_ids(a))
    pts = zigzag(350, 300, w=150, h=60, n=4)
    a.mouse.move(*pts[0])
    a.mouse.down()
    for p in pts[1:]:
        a.mouse.move(*p, steps=4)
    a.mouse.up()
    park(a)
    stroke = new_id(a, before)
    pick_color(a, RED)
    text = type_text(a, 560, 200, "SVG <text> & more")
    wait_ids(b, [rect, ell, arrow, stroke, text])

    # the other tab exports what it received
    front(b)
    with b.expect_download() as dl:
        b.click("#export-svg")
    path = tmp_path / "board.svg"
    dl.value.save_as(path)
    assert dl.value.suggested_filename.endswith(".svg")
    svg = path.read_text()
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    items = [e for e in root if e.get("data-id")]
    assert [e.get("data-id") for e in items] == [rect, ell, arrow, stroke, text]
    r, e, ar, s, t = items
    assert r.tag == f"{SVG_NS}rect"
    assert (float(r.get("x")), float(r.get("y")), float(r.get("width")), float(r.get("height"))) == (150, 150, 150, 100)
    assert (r.get("stroke"), r.get("fill"), r.get("stroke-width")) == (hexc(RED), "none", "4")
    assert e.tag == f"{SVG_NS}ellipse"
    assert (float(e.get("cx")), float(e.get("cy")), float(e.get("rx")), float(e.get("ry"))) == (425, 200, 75, 50)
    assert e.get("stroke") == hexc(BLUE)
    assert ar.tag == f"{SVG_NS}path" and ar.get("data-kind") == "arrow" and ar.get("stroke") == hexc(PURPLE)
    assert ar.get("d").startswith("M150 300 L300 360 M")
    assert s.tag == f"{SVG_NS}path" and s.get("stroke") == hexc(GREEN) and s.get("stroke-width") == "8"
    assert s.get("d").startswith("M") and "Q" in s.get("d")
    assert t.tag == f"{SVG_NS}text" and t.get("fill") == hexc(RED) and t.get("font-size") == "36"
    assert "".join(t.itertext()) == "SVG <text> & more"
    # its rendering has the pixels of each colour
    n_red, n_blue, n_purple, n_green = b.evaluate(COUNT_SVG_JS, [svg, [RED, BLUE, PURPLE, GREEN]])
    assert n_red > 600 and n_blue > 400 and n_purple > 150 and n_green > 400, (n_red, n_blue, n_purple, n_green)
    assert not a._wb_errors and not b._wb_errors  # noqa: SLF001
