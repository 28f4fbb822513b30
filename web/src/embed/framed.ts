// The app's side of the embed snippet's overlay. Inside the snippet's frame the keyboard
// focus is in this page, so Escape would never reach the snippet: this page passes it on
// as a close request, unless a part of the page used it (the cart drawer closing).

/** The message a framed page posts to ask the snippet to close its overlay. */
export const CLOSE_REQUEST = 'vitrine:close-overlay';

export function passEscapeToParent(): void {
  if (window.parent === window) return;
  addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || e.defaultPrevented) return;
    // The request carries nothing private, and the framing site's origin is not known
    // here; the snippet checks that the message comes from its own frame.
    window.parent.postMessage({ type: CLOSE_REQUEST }, '*');
  });
}
