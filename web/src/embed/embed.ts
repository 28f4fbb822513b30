// The embed snippet. A site adds
//   <script src="https://vitrine.example/embed.js" data-key="pk_…" async></script>
// and gets a "Shop with an expert" button that opens the customer experience in an
// overlay. Optional attributes: data-lang (en, es, pt, ca), data-product and
// data-collection (what the customer is looking at). Everything lives in a shadow root,
// so the site's styles and ours do not mix.

import en from '../i18n/en.json';
import es from '../i18n/es.json';
import pt from '../i18n/pt.json';
import ca from '../i18n/ca.json';
import { CLOSE_REQUEST } from './framed';

type Catalog = typeof en;
const CATALOGS: Record<string, Catalog> = { en, es, pt, ca };

const STYLE = `
  :host { all: initial; }
  .open { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; font: 600 16px/1.2 system-ui, sans-serif;
    background: #1f3a5f; color: #fff; border: 0; border-radius: 999px; padding: 14px 22px; cursor: pointer;
    box-shadow: 0 6px 20px rgba(0,0,0,.25); }
  .open:focus-visible, .close:focus-visible { outline: 3px solid #f0b429; outline-offset: 2px; }
  .overlay { position: fixed; inset: 0; z-index: 2147483001; background: rgba(10,20,30,.55); display: flex;
    align-items: center; justify-content: center; }
  .overlay[hidden] { display: none; }
  .frame { display: flex; flex-direction: column; width: min(1100px, 96vw); height: min(780px, 94vh); background: #fff;
    border-radius: 14px; overflow: hidden; box-shadow: 0 20px 60px rgba(0,0,0,.35); }
  .bar { display: flex; align-items: center; justify-content: space-between; gap: 12px; padding: 6px 8px 6px 16px;
    background: #1f3a5f; color: #fff; font: 600 15px system-ui, sans-serif; }
  iframe { border: 0; width: 100%; flex: 1; display: block; }
  .close { font: 600 14px system-ui, sans-serif; border: 0; border-radius: 999px; padding: 8px 14px; background: #fff;
    color: #1b2430; cursor: pointer; }
  @media (max-width: 640px) { .frame { width: 100vw; height: 100vh; border-radius: 0; } }
`;

function language(requested: string | undefined): string {
  const tags = requested ? [requested] : [...(navigator.languages ?? [navigator.language])];
  for (const tag of tags) {
    const primary = tag.toLowerCase().split(/[-_]/)[0];
    if (CATALOGS[primary]) return primary;
  }
  return 'en';
}

function install(script: HTMLScriptElement): void {
  const key = script.dataset.key;
  if (!key) {
    console.warn('Vitrine: the embed script needs a data-key attribute with the public key');
    return;
  }
  const origin = new URL(script.src).origin;
  const lang = language(script.dataset.lang);
  const text = CATALOGS[lang];

  const host = document.createElement('div');
  host.setAttribute('data-vitrine', '');
  const root = host.attachShadow({ mode: 'open' });
  const style = document.createElement('style');
  style.textContent = STYLE;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'open';
  button.textContent = text['embed.open'];
  button.setAttribute('aria-haspopup', 'dialog');
  const overlay = document.createElement('div');
  overlay.className = 'overlay';
  overlay.hidden = true;
  root.append(style, button, overlay);
  document.body.append(host);

  let frame: HTMLIFrameElement | null = null;
  const close = () => {
    // The frame stays, hidden, so a call in progress goes on and reopening returns to it.
    overlay.hidden = true;
    button.hidden = false;
    button.focus();
  };
  const open = () => {
    if (!frame) {
      const params = new URLSearchParams({ key, lang, embed: '1' });
      if (script.dataset.product) params.set('product_id', script.dataset.product);
      if (script.dataset.collection) params.set('collection', script.dataset.collection);
      const box = document.createElement('div');
      box.className = 'frame';
      box.setAttribute('role', 'dialog');
      box.setAttribute('aria-modal', 'true');
      box.setAttribute('aria-label', text['embed.dialog']);
      const bar = document.createElement('div');
      bar.className = 'bar';
      const title = document.createElement('span');
      title.textContent = text['embed.dialog'];
      const closeButton = document.createElement('button');
      closeButton.type = 'button';
      closeButton.className = 'close';
      closeButton.textContent = text['common.close'];
      closeButton.addEventListener('click', close);
      frame = document.createElement('iframe');
      frame.title = text['embed.dialog'];
      frame.allow = 'camera; microphone; display-capture; autoplay';
      frame.src = `${origin}/widget?${params}`;
      bar.append(title, closeButton);
      box.append(bar, frame);
      overlay.append(box);
    }
    overlay.hidden = false;
    button.hidden = true;
    frame.focus();
  };
  button.addEventListener('click', open);
  overlay.addEventListener('click', (e) => e.target === overlay && close());
  root.addEventListener('keydown', (e) => (e as KeyboardEvent).key === 'Escape' && close());
  // With the focus inside the frame, Escape reaches the framed page, which asks us to close.
  // Only our own frame, from our own origin, may ask.
  addEventListener('message', (e) => {
    if (!frame || e.source !== frame.contentWindow || e.origin !== origin) return;
    if ((e.data as { type?: unknown } | null)?.type === CLOSE_REQUEST && !overlay.hidden) close();
  });
  (window as unknown as { Vitrine?: object }).Vitrine = { open, close };
}

const current = document.currentScript as HTMLScriptElement | null;
if (current) {
  if (document.body) install(current);
  else addEventListener('DOMContentLoaded', () => install(current));
}
