// Picks the page by path: the customer call, the widget, the shopper console or the
// admin. Staff pages load on demand, so the customer's page stays small.

import { render, type ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { t, type MessageKey } from './i18n';
import { CustomerApp } from './customer/CustomerApp';
import { WidgetApp } from './customer/WidgetApp';
import { passEscapeToParent } from './embed/framed';
import './styles.css';

type PageProps = { onLanguage(): void };

function Lazy({ load, onLanguage }: { load: () => Promise<ComponentType<PageProps>> } & PageProps) {
  const [Page, setPage] = useState<ComponentType<PageProps> | null>(null);
  useEffect(() => {
    load().then((page) => setPage(() => page));
  }, []);
  return Page ? <Page onLanguage={onLanguage} /> : null;
}

function Root() {
  // Changing the language re-renders every page from the top.
  const [, setLanguage] = useState(0);
  const onLanguage = () => setLanguage((n) => n + 1);
  const path = location.pathname;
  const customer = /^\/s\/([^/]+)\/?$/.exec(path);

  if (customer) return <CustomerApp sessionId={decodeURIComponent(customer[1])} onLanguage={onLanguage} />;
  if (path === '/widget') return <WidgetApp />;
  if (path === '/console')
    return <Lazy onLanguage={onLanguage} load={() => import('./console/ConsoleApp').then((m) => m.ConsoleApp)} />;
  if (path === '/admin')
    return <Lazy onLanguage={onLanguage} load={() => import('./admin/AdminApp').then((m) => m.AdminApp)} />;
  return (
    <main class="screen">
      <h1>{t('app.name')}</h1>
      <ul>
        <li>
          <a href="/console">{t('console.title')}</a>
        </li>
        <li>
          <a href="/admin">{t('admin.title')}</a>
        </li>
      </ul>
    </main>
  );
}

const titles: Record<string, MessageKey> = { '/console': 'console.title', '/admin': 'admin.title' };
document.title = t(titles[location.pathname] ?? 'app.name');
passEscapeToParent();
render(<Root />, document.getElementById('app')!);
