// The customer's cart, as the session mirrors it: lines with quantity controls, the
// subtotal, and checkout for the customer. Both sides edit the same cart.

import { useState } from 'preact/hooks';
import type { Cart, Order } from '../api/types';
import { money, number, t } from '../i18n';
import { ErrorNote, errorText } from './common';

interface Props {
  cart: Cart;
  editable: boolean;
  setQuantity(variantId: string, quantity: number): Promise<unknown>;
  checkout?(): Promise<unknown>;
}

export function CartView({ cart, editable, setQuantity, checkout }: Props) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  if (cart.lines.length === 0) {
    return (
      <div class="cart" data-testid="cart">
        <p class="muted" data-testid="cart-empty">
          {t('cart.empty')}
        </p>
        <ErrorNote error={error} />
      </div>
    );
  }

  return (
    <div class="cart" data-testid="cart" data-version={cart.version}>
      <ul class="cart-lines">
        {cart.lines.map((line) => (
          <li key={line.variant_id} data-testid="cart-line" data-variant={line.variant_id}>
            <span class="line-title">{line.title}</span>
            <span class="line-qty">
              {editable ? (
                <>
                  <button
                    type="button"
                    aria-label={t('cart.decrease', { title: line.title })}
                    disabled={busy}
                    onClick={() => run(() => setQuantity(line.variant_id, line.quantity - 1))}
                  >
                    −
                  </button>
                  <span data-testid="line-quantity" aria-label={t('cart.quantity')}>
                    {number(line.quantity)}
                  </span>
                  <button
                    type="button"
                    aria-label={t('cart.increase', { title: line.title })}
                    disabled={busy || line.quantity >= 999}
                    onClick={() => run(() => setQuantity(line.variant_id, line.quantity + 1))}
                  >
                    +
                  </button>
                  <button
                    type="button"
                    class="link"
                    disabled={busy}
                    onClick={() => run(() => setQuantity(line.variant_id, 0))}
                  >
                    {t('cart.remove')}
                  </button>
                </>
              ) : (
                <span data-testid="line-quantity">× {number(line.quantity)}</span>
              )}
            </span>
            <span class="line-total">{money(line.line_total)}</span>
          </li>
        ))}
      </ul>
      <p class="subtotal">
        <span>{t('cart.subtotal')}</span>
        <strong data-testid="cart-subtotal">{money(cart.subtotal)}</strong>
      </p>
      {checkout && (
        <button type="button" class="primary wide" data-testid="checkout" disabled={busy || !editable} onClick={() => run(checkout)}>
          {t('cart.checkout')}
        </button>
      )}
      <ErrorNote error={error} />
    </div>
  );
}

/** An order placed in the session; `level` is that of its heading in the page's outline. */
export function OrderSummary({ order, level = 3 }: { order: Order; level?: 2 | 3 }) {
  const Heading = level === 2 ? 'h2' : 'h3';
  const titleId = `order-${order.order_id}`;
  return (
    <section class="order" data-testid="order" data-order={order.order_id} aria-labelledby={titleId}>
      <Heading id={titleId}>{t('order.placed')}</Heading>
      <p class="muted">{t('order.number', { id: order.order_id })}</p>
      <ul>
        {order.lines.map((line) => (
          <li key={line.variant_id}>
            {line.title} × {number(line.quantity)} — {money(line.line_total)}
          </li>
        ))}
      </ul>
      <p class="subtotal">
        <span>{t('order.total')}</span>
        <strong data-testid="order-total">{money(order.total)}</strong>
      </p>
    </section>
  );
}
