/** Small DOM helpers: elements are built with text nodes only (no HTML strings, so nothing from the API is ever parsed as markup). */

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Readonly<Record<string, string | boolean | undefined>> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el as T;
}

/** Says `text` to screen readers (the polite live region). */
export function announce(text: string): void {
  const region = byId('announcer');
  region.textContent = '';
  // A new text node after a clear is announced even when the text repeats.
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}
