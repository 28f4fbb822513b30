// `/console`: the shopper console. Sign in with a staff token, pick a customer from the
// queue, run the call.

import { useState } from 'preact/hooks';
import { api } from '../api/http';
import { t } from '../i18n';
import { LanguagePicker } from '../ui/common';
import { keepToken, staffOf, StaffLogin, storedToken } from '../ui/StaffLogin';
import { ConsoleCall } from './ConsoleCall';
import { Queue } from './Queue';

export function ConsoleApp({ onLanguage }: { onLanguage(): void }) {
  const [token, setToken] = useState(() => storedToken('console'));
  const [sessionId, setSessionId] = useState<string | null>(() => new URLSearchParams(location.hash.slice(1)).get('session'));
  const staff = token ? staffOf(token) : null;

  const open = (id: string | null) => {
    history.replaceState(history.state, '', id ? `#session=${encodeURIComponent(id)}` : location.pathname + location.search);
    setSessionId(id);
  };

  return (
    <div class="staff-page">
      <header class="topbar">
        <span class="brand">{t('console.title')}</span>
        {staff && <span class="muted">{staff.name}</span>}
        <LanguagePicker onChange={onLanguage} />
        {token && (
          <button
            type="button"
            data-testid="sign-out"
            onClick={() => {
              keepToken('console', null);
              setToken(null);
              open(null);
            }}
          >
            {t('login.signOut')}
          </button>
        )}
      </header>
      {!token ? (
        <StaffLogin
          title={t('console.signInTitle')}
          check={async (value) => {
            await api(`/v1/sessions?status=requested&limit=1`, { token: value });
          }}
          onSignedIn={(value) => {
            keepToken('console', value);
            setToken(value);
          }}
        />
      ) : sessionId ? (
        <ConsoleCall key={sessionId} token={token} sessionId={sessionId} onLeave={() => open(null)} />
      ) : (
        <Queue token={token} userId={staff?.userId ?? null} onOpen={open} />
      )}
    </div>
  );
}
