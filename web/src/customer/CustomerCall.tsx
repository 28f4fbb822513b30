// The customer's call: the shopper large, their own preview small, the products the
// shopper shares, the chat, the cart drawer, and the survey once the call ends.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { SessionState } from '../api/types';
import { t } from '../i18n';
import { useLocalMedia } from '../media/useLocalMedia';
import { useMediaLink } from '../media/useMediaLink';
import { cartCount, firstOfRole } from '../session/state';
import { useSession } from '../session/useSession';
import { CartView, OrderSummary } from '../ui/CartView';
import { Chat } from '../ui/Chat';
import { ErrorNote, LanguagePicker, errorText } from '../ui/common';
import { ProductCard } from '../ui/ProductCard';
import { VideoStage } from '../ui/VideoStage';
import { Survey } from './Survey';

function remoteStatus(state: SessionState, mediaAvailable: boolean): string {
  const shopper = firstOfRole(state, 'shopper');
  if (state.status === 'requested' || state.status === 'scheduled') return t('call.waitingForShopper');
  if (state.status === 'matched') return t('call.shopperJoining');
  if (shopper && shopper.connected === false) return t('call.shopperReconnecting');
  return mediaAvailable ? t('call.connectingVideo') : t('call.videoUnavailable');
}

export function CustomerCall({ token, sessionId, onLanguage }: { token: string; sessionId: string; onLanguage(): void }) {
  const session = useSession(token, sessionId);
  const { state, me, send } = session;
  // The customer sends one camera layer: the shopper is usually the only one watching.
  const media = useMediaLink(session);
  const link = media.link;
  const over = state?.status === 'ended' || state?.status === 'cancelled';
  const local = useLocalMedia(link, state !== null && !over);
  const [tab, setTab] = useState<'products' | 'chat'>('products');
  const [cartOpen, setCartOpen] = useState(false);
  const [consentError, setConsentError] = useState<string | null>(null);
  const seenCards = useRef(0);

  // The consent given on the first screen is recorded once the session is reachable.
  useEffect(() => {
    if (!state || !me) return;
    if (state.consents[me.participantId]?.includes('privacy')) return;
    send('consent.give', { kind: 'privacy' }).catch((e) => setConsentError(errorText(e)));
  }, [me?.participantId, state !== null]);

  useEffect(() => {
    if (tab === 'products' && state) seenCards.current = state.cards.length;
  }, [tab, state?.cards.length]);

  if (session.refusal) {
    return (
      <main class="screen" data-testid="link-invalid">
        <h1>{t('customer.linkInvalidTitle')}</h1>
        <p>{t('customer.linkInvalidBody')}</p>
      </main>
    );
  }
  if (!state || !me) {
    return (
      <main class="screen" aria-busy="true">
        <p>{t('common.connecting')}</p>
      </main>
    );
  }
  if (state.status === 'cancelled') {
    return (
      <main class="screen" data-testid="cancelled">
        <h1>{t('customer.cancelledTitle')}</h1>
        <p>{t('customer.cancelledBody')}</p>
      </main>
    );
  }
  if (state.status === 'ended') {
    // The call may end while the customer checks out: what they bought stays in view.
    const orders = state.orders.map((order) => <OrderSummary key={order.order_id} order={order} level={2} />);
    if (state.survey) {
      return (
        <main class="screen" data-testid="thanks">
          <h1>{t('survey.thanksTitle')}</h1>
          <p>{t('survey.thanksBody')}</p>
          {orders}
        </main>
      );
    }
    return (
      <Survey submit={(score, comment) => send('survey.submit', comment ? { score, comment } : { score })}>
        {orders}
      </Survey>
    );
  }

  const live = state.status === 'live';
  const shopper = firstOfRole(state, 'shopper');
  const count = cartCount(state.cart);
  const unseen = Math.max(0, state.cards.length - seenCards.current);
  const cards = [...state.cards].reverse();

  return (
    <div class="call customer-call" data-testid="customer-call" data-status={state.status}>
      <header class="topbar">
        <span class="brand">{t('app.name')}</span>
        {session.link !== 'open' && (
          <span class="link-state" role="status" data-testid="link-state">
            {t('common.reconnecting')}
          </span>
        )}
        <LanguagePicker onChange={onLanguage} />
        <button
          type="button"
          class="cart-button"
          data-testid="open-cart"
          aria-haspopup="dialog"
          aria-expanded={cartOpen}
          onClick={() => setCartOpen(true)}
        >
          {t('cart.button')}{' '}
          <span class={count > 0 ? 'badge' : 'badge empty'} data-testid="cart-count">
            {count}
          </span>
        </button>
      </header>
      <VideoStage
        remoteName={shopper?.name ?? ''}
        remoteStatus={remoteStatus(state, media.available)}
        remoteStream={(shopper && media.remote[shopper.participant_id]) ?? null}
        mediaAvailable={media.available}
        local={local}
      />
      <ErrorNote error={consentError} />
      <section class="panel" aria-label={t('call.panel')}>
        <div class="tabs" role="tablist">
          <button
            type="button"
            role="tab"
            id="tab-products"
            aria-selected={tab === 'products'}
            aria-controls="pane-products"
            data-testid="tab-products"
            onClick={() => setTab('products')}
          >
            {t('call.products')} {unseen > 0 && tab !== 'products' && <span class="badge">{unseen}</span>}
          </button>
          <button
            type="button"
            role="tab"
            id="tab-chat"
            aria-selected={tab === 'chat'}
            aria-controls="pane-chat"
            data-testid="tab-chat"
            onClick={() => setTab('chat')}
          >
            {t('chat.title')}
          </button>
        </div>
        <div id="pane-products" role="tabpanel" aria-labelledby="tab-products" class={tab === 'products' ? 'pane active' : 'pane'}>
          <h2 class="pane-title">{t('call.products')}</h2>
          {cards.length === 0 ? (
            <p class="muted" data-testid="no-cards">
              {t('call.noProductsYet')}
            </p>
          ) : (
            <div class="cards" aria-live="polite">
              {cards.map((card) => (
                <ProductCard
                  key={card.seq}
                  card={card}
                  disabled={!live}
                  onAdd={async (variantId) => {
                    await send('cart.add', { variant_id: variantId, quantity: 1 });
                  }}
                />
              ))}
            </div>
          )}
        </div>
        <div id="pane-chat" role="tabpanel" aria-labelledby="tab-chat" class={tab === 'chat' ? 'pane active' : 'pane'}>
          <h2 class="pane-title">{t('chat.title')}</h2>
          <Chat state={state} me={me.participantId} send={(text) => send('chat.send', { text })} />
        </div>
      </section>
      {cartOpen && (
        <CartDrawer onClose={() => setCartOpen(false)}>
          {state.order && <OrderSummary order={state.order} />}
          <CartView
            cart={state.cart}
            editable={live}
            setQuantity={(variant_id, quantity) => send('cart.set_quantity', { variant_id, quantity })}
            checkout={() => send('checkout')}
          />
        </CartDrawer>
      )}
    </div>
  );
}

function CartDrawer({ onClose, children }: { onClose(): void; children: preact.ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  const drawer = useRef<HTMLElement>(null);
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    heading.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        // Used here: the embed's overlay around this page stays open.
        e.preventDefault();
        return onClose();
      }
      // Tab stays inside the drawer while it is open, as in any modal dialog.
      if (e.key !== 'Tab' || !drawer.current) return;
      const focusable = [...drawer.current.querySelectorAll<HTMLElement>('button:not([disabled]), select, input, [tabindex="-1"]')];
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    };
    // On the document, so it runs before the window's listener that passes Escape on.
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      opener?.focus();
    };
  }, []);
  return (
    <div class="drawer-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <aside class="drawer" ref={drawer} role="dialog" aria-modal="true" aria-labelledby="cart-title" data-testid="cart-drawer">
        <header>
          <h2 id="cart-title" tabIndex={-1} ref={heading}>
            {t('cart.title')}
          </h2>
          <button type="button" data-testid="close-cart" onClick={onClose}>
            {t('common.close')}
          </button>
        </header>
        {children}
      </aside>
    </div>
  );
}
