// The privacy notice a customer accepts before anything else happens: no camera, no
// connection and no session until they agree.

import { useEffect, useRef } from 'preact/hooks';
import { t } from '../i18n';

interface Props {
  onAccept(): void;
  onDecline(): void;
}

export function Consent({ onAccept, onDecline }: Props) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <main class="screen consent" data-testid="consent" aria-labelledby="consent-title">
      <h1 id="consent-title" tabIndex={-1} ref={heading}>
        {t('consent.title')}
      </h1>
      <p>{t('consent.intro')}</p>
      <ul>
        <li>{t('consent.camera')}</li>
        <li>{t('consent.data')}</li>
        <li>{t('consent.noRecording')}</li>
      </ul>
      <div class="actions">
        <button type="button" class="primary" data-testid="consent-accept" onClick={onAccept}>
          {t('consent.accept')}
        </button>
        <button type="button" data-testid="consent-decline" onClick={onDecline}>
          {t('consent.decline')}
        </button>
      </div>
    </main>
  );
}

export function Declined({ onReview }: { onReview(): void }) {
  return (
    <main class="screen" data-testid="declined">
      <h1>{t('consent.declinedTitle')}</h1>
      <p>{t('consent.declinedBody')}</p>
      <button type="button" onClick={onReview}>
        {t('consent.review')}
      </button>
    </main>
  );
}

const consentKey = (sessionId: string) => `vitrine.consent.${sessionId}`;

export function hasConsented(sessionId: string): boolean {
  try {
    return localStorage.getItem(consentKey(sessionId)) === 'privacy';
  } catch {
    return false;
  }
}

export function rememberConsent(sessionId: string): void {
  try {
    localStorage.setItem(consentKey(sessionId), 'privacy');
  } catch {
    // Private modes without storage ask again after a reload, which is harmless.
  }
}
