// The session as this browser knows it: the `welcome` snapshot, then each event applied
// in seq order. Both the customer page and the console render from it.

import type {
  Cart,
  ChatLine,
  Order,
  Participant,
  SessionEvent,
  SessionState,
  SharedCard,
  Card,
  SessionStatus,
} from '../api/types';

export function applyEvent(state: SessionState, event: SessionEvent): SessionState {
  const data = event.data;
  const next: SessionState = { ...state, seq: event.seq };
  switch (event.kind) {
    case 'session.matched':
      next.shopper_id = String(data.shopper_id ?? '');
      if (state.status === 'requested') next.status = 'matched';
      break;
    case 'session.scheduled':
      next.status = 'scheduled';
      next.scheduled_for = String(data.scheduled_for ?? '');
      break;
    case 'session.started':
      next.status = 'live';
      next.started_at = event.at;
      break;
    case 'session.ended':
    case 'session.cancelled':
      next.status = (event.kind === 'session.ended' ? 'ended' : 'cancelled') as SessionStatus;
      next.ended_at = event.at;
      break;
    case 'participant.joined': {
      const joined = { ...(data.participant as Participant), connected: true };
      const others = state.participants.filter((p) => p.participant_id !== joined.participant_id);
      const known = others.length !== state.participants.length;
      next.participants = known
        ? state.participants.map((p) => (p.participant_id === joined.participant_id ? joined : p))
        : [...others, joined];
      break;
    }
    case 'participant.left':
      next.participants = state.participants.map((p) =>
        p.participant_id === data.participant_id ? { ...p, connected: false } : p,
      );
      break;
    case 'product.shared': {
      // A card is one event: the seq keeps it from showing twice.
      if (state.cards.some((c) => c.seq === event.seq)) break;
      const card: SharedCard = {
        ...(data.card as Card),
        seq: event.seq,
        by: event.by,
        note: (data.note as string | undefined) ?? null,
      };
      next.cards = [...state.cards, card];
      break;
    }
    case 'cart.updated':
      next.cart = data.cart as Cart;
      break;
    case 'order.created': {
      const order = data.order as Order;
      next.order = order;
      next.orders = [...state.orders, order];
      if (data.cart) next.cart = data.cart as Cart;
      break;
    }
    case 'chat.message': {
      if (state.chat.some((c) => c.seq === event.seq)) break;
      const line: ChatLine = { seq: event.seq, by: event.by, text: String(data.text ?? ''), at: event.at };
      next.chat = [...state.chat, line];
      break;
    }
    case 'consent.recorded': {
      if (!event.by) break;
      const given = state.consents[event.by] ?? [];
      const kind = String(data.consent);
      if (!given.includes(kind)) next.consents = { ...state.consents, [event.by]: [...given, kind] };
      break;
    }
    case 'survey.completed':
      next.survey = {
        by: event.by,
        score: Number(data.score),
        comment: (data.comment as string | undefined) ?? null,
        at: event.at,
      };
      break;
  }
  return next;
}

export function participantName(state: SessionState, id: string | null): string {
  return state.participants.find((p) => p.participant_id === id)?.name ?? '';
}

export function firstOfRole(state: SessionState, role: Participant['role']): Participant | undefined {
  return state.participants.find((p) => p.role === role);
}

export function cartCount(cart: Cart): number {
  return cart.lines.reduce((sum, line) => sum + line.quantity, 0);
}
