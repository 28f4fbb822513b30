// The session's chat: messages with their author and time, and a box to write.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { ChatLine, SessionState } from '../api/types';
import { t, time } from '../i18n';
import { participantName } from '../session/state';
import { ErrorNote, errorText } from './common';

/** Longest message the server accepts, in characters. */
const MAX_CHAT_CHARS = 4000;

interface Props {
  state: SessionState;
  me: string;
  send(text: string): Promise<unknown>;
  disabled?: boolean;
}

export function Chat({ state, me, send, disabled }: Props) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const list = useRef<HTMLOListElement>(null);

  useEffect(() => {
    list.current?.lastElementChild?.scrollIntoView({ block: 'nearest' });
  }, [state.chat.length]);

  const submit = async (e: Event) => {
    e.preventDefault();
    const trimmed = text.trim();
    if (!trimmed) return setError(t('chat.emptyMessage'));
    if ([...text].length > MAX_CHAT_CHARS) return setError(t('chat.tooLong', { max: MAX_CHAT_CHARS }));
    setBusy(true);
    setError(null);
    try {
      await send(trimmed);
      setText('');
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="chat" aria-label={t('chat.title')} data-testid="chat">
      <ol class="chat-lines" ref={list} aria-live="polite">
        {state.chat.length === 0 && <li class="muted">{t('chat.empty')}</li>}
        {state.chat.map((line: ChatLine) => (
          <li key={line.seq} class={line.by === me ? 'mine' : 'theirs'} data-testid="chat-line">
            <span class="who">
              {line.by === me ? t('chat.you') : participantName(state, line.by)} · <time dateTime={line.at}>{time(line.at)}</time>
            </span>
            <span class="text">{line.text}</span>
          </li>
        ))}
      </ol>
      <form class="chat-form" onSubmit={submit} noValidate>
        <label class="visually-hidden" for="chat-input">
          {t('chat.placeholder')}
        </label>
        <input
          id="chat-input"
          data-testid="chat-input"
          value={text}
          maxLength={MAX_CHAT_CHARS}
          placeholder={t('chat.placeholder')}
          autocomplete="off"
          disabled={disabled}
          onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
        />
        <button type="submit" data-testid="chat-send" disabled={busy || disabled}>
          {t('chat.send')}
        </button>
      </form>
      <ErrorNote error={error} />
    </section>
  );
}
