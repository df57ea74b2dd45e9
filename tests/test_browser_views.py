"""Browser tests for view-only links, follow and history (docs/protocol.md §9),
in Debian's Chromium through Traefik against the real stack, two tabs each:

  - the Share menu shows both links; the view link opens a viewer page with
    no drawing tools (#status[data-role=viewer]) that shows the board live
    (pixels)                                         -> docs/screenshot-view-only.png
  - clicking someone in the presence list follows their view
    (#status[data-following]); panning yourself stops it; "follow me"
  - the history slider shows the board as of a seq (pixels of the history
    canvas); "Restore this version" appends ops that every tab applies, and
    undo takes them back                             -> docs/screenshot-history.png
"""
from __future__ import annotations

import time

import pytest

from test_browser import (  # noqa: F401 - fixtures are used by name
    BLUE, DOCS, RED, T, base, browser, ctx, ctx2, draw, front, open_board, park, pick_color,
    playwright_inst, save_side_by_side, wait_ids, wait_pixels, wait_saved, zigzag,
)

pytestmark = pytest.mark.timeout(240)

CANVAS_PIXELS_JS = """([sel, x0, y0, x1, y1, r, g, b, tol]) => {
  const c = document.querySelector(sel);
  if (!c) return -1;
  const k = window.devicePixelRatio || 1;
  const d = c.getContext('2d').getImageData(Math.round(x0 * k), Math.round(y0 * k),
    Math.round((x1 - x0) * k), Math.round((y1 - y0) * k)).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4)
    if (Math.abs(d[i] - r) <= tol && Math.abs(d[i + 1] - g) <= tol && Math.abs(d[i + 2] - b) <= tol) n++;
  return n;
}"""


def wait_canvas_pixels(page, sel, box, rgb, at_least=30, none=False, timeout=T / 1000):
    end = time.monotonic() + timeout
    n = -1
    while time.monotonic() < end:
        n = page.evaluate(CANVAS_PIXELS_JS, [sel, *box, *rgb, 40])
        if (n == 0) if none else (n >= at_least):
            return n
        time.sleep(0.1)
    raise AssertionError(f"{sel} {box}: {n} pixels of {rgb}, wanted {'none' if none else f'>= {at_least}'}")


def set_range(page, sel, value):
    page.evaluate("""([sel, v]) => {
      const el = document.querySelector(sel);
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, String(v));
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }""", [sel, value])


def hand_drag(page, x0, y0, dx, dy):
    front(page)
    page.keyboard.press("h")
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + dx, y0 + dy, steps=8)
    page.mouse.up()


def test_share_links_and_viewer_page(ctx, ctx2, base, wb_board):
    a = open_board(ctx, f"{base}/b/{wb_board}")
    a.wait_for_selector("#status[data-role='editor']", timeout=T)
    view = a.evaluate("window.__wb.viewId")
    assert view and view != wb_board and len(view) == 22
    front(a)
    a.click("#share")
    edit_link = a.locator("[data-link='edit']")
    view_link = a.locator("[data-link='view']")
    assert edit_link.inner_text().strip() == f"{base}/b/{wb_board}"
    assert view_link.inner_text().strip() == f"{base}/b/{view}"
    assert view_link.get_attribute("href") == f"{base}/b/{view}"
    a.click("#share")  # close the menu

    pick_color(a, RED)
    red = draw(a, zigzag(200, 180))
    wait_saved(a)

    b = open_board(ctx2, f"{base}/b/{view}")
    b.wait_for_selector("#status[data-role='viewer']", timeout=T)
    assert b.evaluate("window.__wb.role") == "viewer"
    # no drawing tools, no undo/redo/clear; a view-only mark
    assert b.locator("[data-tool='pen']").count() == 0
    assert b.locator("[data-tool='eraser']").count() == 0
    assert b.locator("#undo, #redo, #clear").count() == 0
    assert b.locator("[data-view-only]").count() == 1
    # the viewer sees the board and its live changes (pixels)
    wait_ids(b, [red])
    wait_pixels(b, (190, 170, 580, 260), RED, at_least=150)
    pick_color(a, BLUE)
    blue = draw(a, zigzag(200, 330))
    wait_ids(b, [red, blue])
    wait_pixels(b, (190, 320, 580, 410), BLUE, at_least=150)
    # the viewer's Share menu offers only the view link
    front(b)
    b.click("#share")
    assert b.locator("[data-link='edit']").count() == 0
    assert b.locator("[data-link='view']").inner_text().strip() == f"{base}/b/{view}"
    # the viewer's page never learned the board id
    assert wb_board not in b.content()
    front(a)
    a.click("#share")
    a.wait_for_selector("[data-link='view']", timeout=T)
    shots = [("editor: Share menu with both links", a.screenshot()), ("viewer: view-only link, no drawing tools", b.screenshot())]
    save_side_by_side(ctx, shots, DOCS / "screenshot-view-only.png")
    a.click("#share")
    # a mouse drag on the viewer's page draws nothing
    front(b)
    b.mouse.move(300, 500)
    b.mouse.down()
    b.mouse.move(500, 560, steps=8)
    b.mouse.up()
    green_free = draw(a, zigzag(650, 180, w=200))
    wait_ids(b, [red, blue, green_free])
    wait_ids(a, [red, blue, green_free])
    assert not a._wb_errors and not b._wb_errors  # noqa: SLF001


def test_follow_a_user_and_follow_me(ctx, ctx2, base, wb_board):
    a = open_board(ctx, f"{base}/b/{wb_board}")
    b = open_board(ctx2, f"{base}/b/{wb_board}")
    a_id = a.evaluate("window.__wb.client")
    b_id = b.evaluate("window.__wb.client")
    front(b)
    b.wait_for_selector(f"#presence .avatars li[data-client='{a_id}']", timeout=T)
    b.click(f"#presence .avatars li[data-client='{a_id}']")
    b.wait_for_selector(f"#status[data-following='{a_id}']", timeout=T)
    # a zooms and pans: b's view follows
    front(a)
    a.keyboard.press("+")
    a.keyboard.press("+")
    hand_drag(a, 600, 400, -150, -90)
    want = a.evaluate("window.__wb.view")
    assert want["scale"] > 1.4
    b.wait_for_function(
        """(w) => { const v = window.__wb.view;
             return Math.abs(v.scale - w.scale) < 1e-3 && Math.abs(v.ox - w.ox) < 1 && Math.abs(v.oy - w.oy) < 1; }""",
        arg=want, timeout=T)
    # what a draws appears at the same place on b's screen (same window size)
    front(a)
    a.keyboard.press("p")
    pick_color(a, RED)
    draw(a, zigzag(250, 200, w=300, h=50))
    wait_pixels(b, (240, 190, 560, 260), RED, at_least=150)
    # b pans itself: following stops
    hand_drag(b, 700, 450, 120, 60)
    b.wait_for_selector("#status:not([data-following])", timeout=T)
    # "follow me": a asks everyone to follow; b follows again without clicking a
    front(a)
    a.click("[data-follow-me]")
    a.wait_for_selector("[data-follow-me='1']", timeout=T)
    # b declined a by panning; a new presenter grabs it: c on a third context
    c = open_board(ctx, f"{base}/b/{wb_board}")
    c.wait_for_selector(f"#status[data-following='{a_id}']", timeout=T)
    want = a.evaluate("window.__wb.view")
    c.wait_for_function("(w) => Math.abs(window.__wb.view.scale - w.scale) < 1e-3", arg=want, timeout=T)
    # leaving with one click
    front(c)
    c.click("[data-unfollow]")
    c.wait_for_selector("#status:not([data-following])", timeout=T)
    # b can follow a again with a click on the presence list
    front(b)
    b.click(f"#presence .avatars li[data-client='{a_id}']")
    b.wait_for_selector(f"#status[data-following='{a_id}']", timeout=T)
    assert b_id != a_id
    for p in (a, b, c):
        assert not p._wb_errors, p._wb_errors  # noqa: SLF001


def test_history_slider_and_restore(ctx, ctx2, base, wb_board):
    a = open_board(ctx, f"{base}/b/{wb_board}")
    b = open_board(ctx2, f"{base}/b/{wb_board}")
    red_box, blue_box = (190, 170, 580, 260), (190, 320, 580, 410)
    pick_color(a, RED)
    red = draw(a, zigzag(200, 180))
    wait_saved(a)
    seq_red = a.evaluate("window.__wb.seq")
    pick_color(a, BLUE)
    blue = draw(a, zigzag(200, 330))
    wait_saved(a)
    seq_blue = a.evaluate("window.__wb.seq")
    front(a)
    a.click("#clear")
    a.click("#confirm-clear")
    wait_saved(a)
    wait_ids(b, [])
    seq_cleared = a.evaluate("window.__wb.seq")
    wait_pixels(b, red_box, RED, none=True)

    # the history panel shows the board as of a seq, read-only
    front(a)
    a.click("[data-history-open]")
    a.wait_for_selector("input[type=range][data-history]", timeout=T)
    assert int(a.get_attribute("input[data-history]", "max")) == seq_cleared
    set_range(a, "input[data-history]", seq_red)
    a.wait_for_selector(f"[data-history-canvas][data-history-seq='{seq_red}']", timeout=T)
    assert a.get_attribute("[data-history-canvas]", "data-history-strokes") == "1"
    wait_canvas_pixels(a, "[data-history-canvas]", red_box, RED, at_least=150)
    wait_canvas_pixels(a, "[data-history-canvas]", blue_box, BLUE, none=True)
    set_range(a, "input[data-history]", seq_blue)
    a.wait_for_selector(f"[data-history-canvas][data-history-seq='{seq_blue}']", timeout=T)
    wait_canvas_pixels(a, "[data-history-canvas]", blue_box, BLUE, at_least=150)
    set_range(a, "input[data-history]", seq_red)
    a.wait_for_selector(f"[data-history-canvas][data-history-seq='{seq_red}']", timeout=T)
    shots = [("history at #%d (read-only)" % seq_red, a.screenshot()), ("the live board (cleared)", b.screenshot())]
    # the live board underneath is unchanged meanwhile
    assert b.evaluate("window.__wb.committedIds") == []

    # restore this version: new ops, applied by every tab
    a.click("[data-restore]")
    a.wait_for_selector("[data-history-canvas]", state="detached", timeout=T)
    wait_ids(b, [red])
    wait_ids(a, [red])
    wait_pixels(b, red_box, RED, at_least=150)
    wait_pixels(b, blue_box, BLUE, none=True)
    wait_saved(a)
    assert a.evaluate("window.__wb.seq") > seq_cleared, "restoring appends ops, never rewrites the log"
    shots.append(("after Restore this version", b.screenshot()))
    save_side_by_side(ctx, shots, DOCS / "screenshot-history.png", cols=3)
    # undo of the restore
    front(a)
    a.keyboard.press("Control+z")
    wait_ids(b, [])
    wait_pixels(b, red_box, RED, none=True)
    assert blue != red
    for p in (a, b):
        assert not p._wb_errors, p._wb_errors  # noqa: SLF001
