// The shopper's call: the customer large, their own preview small, screen share, catalog
// search with one-click push, the shared cards, the customer's cart, chat and ending.

import { useRef, useState } from 'preact/hooks';
import type { Card } from '../api/types';
import { t } from '../i18n';
import { useLocalMedia } from '../media/useLocalMedia';
import { useMediaLink } from '../media/useMediaLink';
import { firstOfRole } from '../session/state';
import { useSession } from '../session/useSession';
import { CartView, OrderSummary } from '../ui/CartView';
import { Chat } from '../ui/Chat';
import { ErrorNote, errorText } from '../ui/common';
import { VideoStage } from '../ui/VideoStage';
import { CatalogSearch } from './CatalogSearch';

interface Props {
  token: string;
  sessionId: string;
  onLeave(): void;
}

export function ConsoleCall({ token, sessionId, onLeave }: Props) {
  const session = useSession(token, sessionId);
  const { state, me, send } = session;
  // Simulcast: an observer or a weak link gets a smaller layer of the shopper's camera.
  const media = useMediaLink(session, { simulcast: true });
  const link = media.link;
  const over = state?.status === 'ended' || state?.status === 'cancelled';
  const local = useLocalMedia(link, state !== null && !over);
  const [error, setError] = useState<string | null>(null);
  const confirm = useRef<HTMLDialogElement>(null);

  const run = async (action: () => Promise<unknown>) => {
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(errorText(e));
    }
  };

  if (session.refusal) {
    return (
      <main class="screen" data-testid="session-refused">
        <h1>{t('console.cannotOpenTitle')}</h1>
        <p>{t('console.cannotOpenBody')}</p>
        <button type="button" onClick={onLeave}>
          {t('console.backToQueue')}
        </button>
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

  const customer = firstOfRole(state, 'customer');
  const live = state.status === 'live';
  const remoteStatus = over
    ? t(`status.${state.status}`)
    : customer?.connected
      ? media.available
        ? t('call.connectingVideo')
        : t('call.videoUnavailable')
      : t('console.customerAway');

  return (
    <div class="call console-call" data-testid="console-call" data-status={state.status}>
      <div class="console-main">
        <div class="call-status">
          <h1>{customer?.name ?? t('common.customer')}</h1>
          <span class={`status status-${state.status}`} data-testid="session-status">
            {t(`status.${state.status}`)}
          </span>
          {session.link !== 'open' && (
            <span class="link-state" role="status">
              {t('common.reconnecting')}
            </span>
          )}
        </div>
        <VideoStage
          remoteName={customer?.name ?? t('common.customer')}
          remoteStatus={remoteStatus}
          remoteStream={(customer && media.remote[customer.participant_id]) ?? null}
          mediaAvailable={media.available}
          local={local}
          screenShare
        >
          {!live && !over && (
            <button type="button" class="primary" data-testid="start-call" onClick={() => run(() => send('session.start'))}>
              {t('console.startCall')}
            </button>
          )}
          {!over && (
            <button type="button" class="danger" data-testid="end-call" onClick={() => confirm.current?.showModal()}>
              {live ? t('console.endCall') : t('console.cancelSession')}
            </button>
          )}
          {over && (
            <button type="button" data-testid="back-to-queue" onClick={onLeave}>
              {t('console.backToQueue')}
            </button>
          )}
        </VideoStage>
        <ErrorNote error={error} />
        <Chat state={state} me={me.participantId} send={(text) => send('chat.send', { text })} disabled={over} />
      </div>
      <div class="console-side">
        <CatalogSearch
          canPush={live}
          search={async (query) => {
            const data = await send('catalog.search', { query, limit: 12 });
            return (data.products as Card[]) ?? [];
          }}
          push={(product_id, note) => send('card.push', note ? { product_id, note } : { product_id })}
        />
        <section aria-labelledby="shared-title">
          <h2 id="shared-title">{t('console.shared')}</h2>
          {state.cards.length === 0 ? (
            <p class="muted">{t('console.nothingShared')}</p>
          ) : (
            <ul class="shared" data-testid="shared-cards">
              {state.cards.map((card) => (
                <li key={card.seq}>{card.title}</li>
              ))}
            </ul>
          )}
        </section>
        <section aria-labelledby="console-cart-title" data-testid="console-cart">
          <h2 id="console-cart-title">{t('console.customerCart')}</h2>
          {state.order && <OrderSummary order={state.order} />}
          <CartView
            cart={state.cart}
            editable={live}
            setQuantity={(variant_id, quantity) => send('cart.set_quantity', { variant_id, quantity })}
          />
        </section>
      </div>
      <dialog ref={confirm} class="confirm" aria-labelledby="end-title">
        <form method="dialog">
          <h2 id="end-title">{live ? t('console.endConfirm') : t('console.cancelConfirm')}</h2>
          <div class="actions">
            <button value="cancel" type="submit">
              {t('common.cancel')}
            </button>
            <button
              value="end"
              type="submit"
              class="danger"
              data-testid="confirm-end"
              onClick={() => run(() => send('session.end'))}
            >
              {live ? t('console.endCall') : t('console.cancelSession')}
            </button>
          </div>
        </form>
      </dialog>
    </div>
  );
}
