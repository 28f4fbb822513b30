// `/s/{session_id}?t={token}`: the page a customer opens from a join link. The token
// moves from the address into this tab's storage, so it stays out of history and
// referrers and survives a reload.

import { useState } from 'preact/hooks';
import { t } from '../i18n';
import { Consent, Declined, hasConsented, rememberConsent } from './Consent';
import { CustomerCall } from './CustomerCall';

const tokenKey = (sessionId: string) => `vitrine.token.${sessionId}`;

/** Keeps the token for this tab; false when the browser gives this page no storage. */
export function storeToken(sessionId: string, token: string): boolean {
  try {
    sessionStorage.setItem(tokenKey(sessionId), token);
    return sessionStorage.getItem(tokenKey(sessionId)) === token;
  } catch {
    // Without storage the token stays in the address instead.
    return false;
  }
}

function takeToken(sessionId: string): string | null {
  const url = new URL(location.href);
  const fromLink = url.searchParams.get('t');
  if (fromLink) {
    if (storeToken(sessionId, fromLink)) {
      url.searchParams.delete('t');
      history.replaceState(history.state, '', url);
    }
    return fromLink;
  }
  try {
    return sessionStorage.getItem(tokenKey(sessionId));
  } catch {
    return null;
  }
}

export function CustomerApp({ sessionId, onLanguage }: { sessionId: string; onLanguage(): void }) {
  const [token] = useState(() => takeToken(sessionId));
  const [phase, setPhase] = useState<'consent' | 'declined' | 'call'>(() => (hasConsented(sessionId) ? 'call' : 'consent'));

  if (!token) {
    return (
      <main class="screen" data-testid="link-invalid">
        <h1>{t('customer.linkInvalidTitle')}</h1>
        <p>{t('customer.linkIncomplete')}</p>
      </main>
    );
  }
  if (phase === 'consent') {
    return (
      <Consent
        onAccept={() => {
          rememberConsent(sessionId);
          setPhase('call');
        }}
        onDecline={() => setPhase('declined')}
      />
    );
  }
  if (phase === 'declined') return <Declined onReview={() => setPhase('consent')} />;
  return <CustomerCall token={token} sessionId={sessionId} onLanguage={onLanguage} />;
}
