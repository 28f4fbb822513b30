// The NPS survey shown when the call ends: a 0–10 score and an optional comment, below
// whatever the page shows first (the orders of the call).

import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { number, t } from '../i18n';
import { ErrorNote, errorText } from '../ui/common';

/** Longest comment the server accepts, in characters. */
const MAX_COMMENT_CHARS = 2000;

interface Props {
  submit(score: number, comment: string | null): Promise<unknown>;
  children?: ComponentChildren;
}

export function Survey({ submit, children }: Props) {
  const [score, setScore] = useState<number | null>(null);
  const [comment, setComment] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const onSubmit = async (e: Event) => {
    e.preventDefault();
    if (score === null) return setError(t('survey.pickScore'));
    if ([...comment].length > MAX_COMMENT_CHARS) return setError(t('survey.tooLong', { max: MAX_COMMENT_CHARS }));
    setBusy(true);
    setError(null);
    try {
      await submit(score, comment.trim() || null);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="screen survey" data-testid="survey" aria-labelledby="survey-title">
      <h1 id="survey-title">{t('survey.title')}</h1>
      {children}
      <form onSubmit={onSubmit} noValidate>
        <fieldset>
          <legend>{t('survey.question')}</legend>
          <div class="scores">
            {Array.from({ length: 11 }, (_, n) => (
              <label key={n} class={score === n ? 'score chosen' : 'score'}>
                <input
                  type="radio"
                  name="score"
                  value={n}
                  checked={score === n}
                  data-testid={`score-${n}`}
                  onChange={() => setScore(n)}
                />
                <span>{number(n)}</span>
              </label>
            ))}
          </div>
          <p class="scale muted">
            <span>{t('survey.unlikely')}</span>
            <span>{t('survey.likely')}</span>
          </p>
        </fieldset>
        <label class="field">
          <span>{t('survey.comment')}</span>
          <textarea
            data-testid="survey-comment"
            rows={3}
            maxLength={MAX_COMMENT_CHARS}
            value={comment}
            onInput={(e) => setComment((e.currentTarget as HTMLTextAreaElement).value)}
          />
        </label>
        <ErrorNote error={error} />
        <button type="submit" class="primary" data-testid="survey-submit" disabled={busy}>
          {t('survey.submit')}
        </button>
      </form>
    </main>
  );
}
