// `/admin`: sessions with filters and their detail, and the shoppers. Pages are chosen
// by the address's fragment (`#/sessions`, `#/sessions/{id}`, `#/shoppers`).

import { useEffect, useState } from 'preact/hooks';
import { api } from '../api/http';
import { t } from '../i18n';
import { LanguagePicker } from '../ui/common';
import { keepToken, StaffLogin, storedToken } from '../ui/StaffLogin';
import { SessionDetail } from './SessionDetail';
import { SessionList } from './SessionList';
import { Shoppers } from './Shoppers';

function route(): string[] {
  return location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
}

export function AdminApp({ onLanguage }: { onLanguage(): void }) {
  const [token, setToken] = useState(() => storedToken('admin'));
  const [path, setPath] = useState(route);

  useEffect(() => {
    const onHash = () => setPath(route());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  const [page, id] = path;
  return (
    <div class="staff-page admin">
      <header class="topbar">
        <span class="brand">{t('admin.title')}</span>
        {token && (
          <nav aria-label={t('admin.nav')}>
            <a href="#/sessions" aria-current={page !== 'shoppers' ? 'page' : undefined} data-testid="nav-sessions">
              {t('admin.sessions')}
            </a>
            <a href="#/shoppers" aria-current={page === 'shoppers' ? 'page' : undefined} data-testid="nav-shoppers">
              {t('admin.shoppers')}
            </a>
          </nav>
        )}
        <LanguagePicker onChange={onLanguage} />
        {token && (
          <button
            type="button"
            onClick={() => {
              keepToken('admin', null);
              setToken(null);
            }}
          >
            {t('login.signOut')}
          </button>
        )}
      </header>
      {!token ? (
        <StaffLogin
          title={t('admin.signInTitle')}
          check={async (value) => {
            await api('/v1/sessions?limit=1', { token: value });
          }}
          onSignedIn={(value) => {
            keepToken('admin', value);
            setToken(value);
          }}
        />
      ) : page === 'shoppers' ? (
        <Shoppers token={token} />
      ) : page === 'sessions' && id ? (
        <SessionDetail key={id} token={token} sessionId={id} />
      ) : (
        <SessionList token={token} />
      )}
    </div>
  );
}
