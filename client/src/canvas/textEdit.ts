// Text editing on the canvas: a textarea over the board at the text's place
// and zoom. Enter or Escape finishes (Shift+Enter is a newline), leaving
// the field finishes too; an empty text adds nothing (an emptied existing
// text is erased). Sends drafts of the text while typing. Part of PointerInput.

import { MAX_TEXT_BYTES, type Text } from '../lib/types';
import { ASCENT, FONT_FAMILY, LINE_HEIGHT, textSize } from '../lib/textmetrics';
import type { Viewport } from './viewport';

const DRAFT_MS = 100;

/** The text without NULs, cut to the protocol's bound in UTF-8 bytes at a whole code point. */
export function clipText(v: string): string {
  const t = v.replace(/\0/g, '');
  if (t.length * 3 <= MAX_TEXT_BYTES) return t;
  let bytes = 0;
  let end = 0;
  for (const ch of t) {
    const cp = ch.codePointAt(0)!;
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + n > MAX_TEXT_BYTES) break;
    bytes += n;
    end += ch.length;
  }
  return t.slice(0, end);
}

export interface TextHost {
  /** draft of the text as typed so far */
  draft(t: Text): void;
  /** finished: the text (null when empty), and the element it edits (null: a new text) */
  done(t: Text | null, original: Text | null): void;
}

export class TextEditor {
  readonly text: Text;
  private readonly ta: HTMLTextAreaElement;
  private lastDraft = 0;
  private draftTimer = 0;
  private closed = false;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly vp: Viewport,
    private readonly host: TextHost,
    text: Text,
    private readonly original: Text | null,
  ) {
    this.text = { ...text };
    const ta = document.createElement('textarea');
    ta.className = 'text-editor';
    ta.dataset.textEditor = '1';
    ta.spellcheck = false;
    ta.value = text.text;
    ta.setAttribute('aria-label', 'Text');
    ta.addEventListener('keydown', (e) => this.onKey(e));
    ta.addEventListener('input', () => this.onInput());
    ta.addEventListener('blur', () => this.finish());
    ta.addEventListener('pointerdown', (e) => e.stopPropagation());
    this.ta = ta;
    (canvas.parentElement ?? document.body).appendChild(ta);
    this.layout();
    // focus after the pointer event that opened the editor is done
    requestAnimationFrame(() => {
      if (this.closed) return;
      ta.focus();
      ta.setSelectionRange(ta.value.length, ta.value.length);
    });
  }

  /** Place and size the field over the text's world position. */
  layout(): void {
    const s = this.vp.scale;
    const fs = this.text.size * s;
    const { w, h } = textSize(this.ta.value || ' ', this.text.size);
    const st = this.ta.style;
    st.left = `${this.canvas.offsetLeft + this.text.x * s + this.vp.ox}px`;
    // the field's first baseline sits about 0.97 em below its top (half the
    // leading plus the font's ascent); the canvas draws it ASCENT below y
    st.top = `${this.canvas.offsetTop + this.text.y * s + this.vp.oy + (ASCENT - 0.97) * fs}px`;
    st.font = `${fs}px ${FONT_FAMILY}`;
    st.lineHeight = String(LINE_HEIGHT);
    st.color = this.text.color;
    st.width = `${Math.max(fs, w * s + fs)}px`;
    st.height = `${Math.max(fs * LINE_HEIGHT, h * s) + 4}px`;
  }

  private onKey(e: KeyboardEvent): void {
    e.stopPropagation();
    if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Escape') {
      e.preventDefault();
      this.finish();
    }
  }

  private current(): string {
    return clipText(this.ta.value);
  }

  private onInput(): void {
    this.text.text = this.current();
    this.layout();
    const wait = DRAFT_MS - (performance.now() - this.lastDraft);
    if (wait > 0) {
      if (!this.draftTimer) this.draftTimer = window.setTimeout(() => this.sendDraft(), wait);
      return;
    }
    this.sendDraft();
  }

  private sendDraft(): void {
    this.draftTimer = 0;
    if (this.closed) return;
    this.lastDraft = performance.now();
    if (this.text.text.trim()) this.host.draft({ ...this.text });
  }

  /** Finish editing (idempotent). */
  finish(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.draftTimer);
    this.text.text = this.current();
    this.ta.remove();
    this.host.done(this.text.text.trim() ? { ...this.text } : null, this.original);
  }
}
