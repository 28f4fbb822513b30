//! The ledger's operations: joins, receipts, stamps, and the final count.

use super::*;

impl SessionLedger {
    /// A ledger for `receives.len()` participants; `echo` says whether senders receive
    /// their own events (Vitrine) or only acks (the peers).
    pub fn new(receives: &[bool], echo: bool) -> Self {
        Self {
            members: receives
                .iter()
                .map(|&r| MemberRecord {
                    receives: r,
                    ..MemberRecord::default()
                })
                .collect(),
            events: Vec::new(),
            stamps: BTreeMap::new(),
            early: HashMap::new(),
            echo,
            max_acked: 0,
            max_seen: 0,
            final_seq: None,
        }
    }

    /// A participant's record.
    pub fn member(&self, m: usize) -> &MemberRecord {
        &self.members[m]
    }

    /// A participant joined with a welcome standing for `seq`. The first join fixes what
    /// it should receive from then on; a later one (a resume) marks the seqs up to `seq`
    /// as catch-up. Returns whether this was the first join.
    pub fn joined(&mut self, m: usize, seq: u64) -> bool {
        let r = &mut self.members[m];
        r.connected = true;
        r.joins += 1;
        r.catchup_until = seq;
        if r.start_after.is_some() {
            return false;
        }
        r.start_after = Some(seq);
        r.contiguous = seq;
        r.max_seen = seq;
        true
    }

    /// Whether a participant is connected and has everything up to its last welcome.
    pub fn caught_up(&self, m: usize) -> bool {
        let r = &self.members[m];
        r.connected && r.contiguous >= r.catchup_until
    }

    /// A participant's connection ended.
    pub fn left(&mut self, m: usize) {
        self.members[m].connected = false;
    }

    /// Where a participant would resume: the last seq up to which it has everything.
    pub fn resume_point(&self, m: usize) -> Option<u64> {
        let r = &self.members[m];
        r.start_after.map(|_| r.contiguous)
    }

    /// Records an event `seq` of `kind` arriving at participant `m` at `now`. When the
    /// sender's stamp is known the fan-out sample is pushed to `samples`; otherwise the
    /// receipt waits for the stamp. `own` receipts (the sender's echo) get no sample.
    pub fn received(
        &mut self,
        m: usize,
        seq: u64,
        kind: &'static str,
        now: Micros,
        own: bool,
        samples: &mut Vec<FanoutSample>,
    ) -> Receipt {
        let idx = (seq as usize).wrapping_sub(1);
        if seq > 0 {
            if self.events.len() < seq as usize {
                self.events.resize(seq as usize, EventInfo::default());
            }
            self.events[idx].kind.get_or_insert(kind);
        }
        self.max_seen = self.max_seen.max(seq);

        let echo = self.echo;
        let events = &self.events;
        let r = &mut self.members[m];
        let catchup = seq <= r.catchup_until;
        let Some(start) = r.start_after.filter(|&s| seq > s) else {
            r.before_start += 1;
            return Receipt {
                first: false,
                catchup,
            };
        };
        let slot = (seq - start - 1) as usize;
        if r.counts.len() <= slot {
            r.counts.resize(slot + 1, 0);
        }
        r.counts[slot] = r.counts[slot].saturating_add(1);
        let first = r.counts[slot] == 1;
        if first && seq < r.max_seen {
            r.reorders += 1;
        }
        r.max_seen = r.max_seen.max(seq);
        advance(r, m, start, echo, events);

        if first && !own && is_stamped_kind(kind) {
            match self.stamps.get(&seq) {
                Some(s) => samples.push(FanoutSample {
                    kind,
                    scheduled: s.scheduled,
                    written: s.written,
                    received: now,
                    catchup,
                }),
                None => self.early.entry(seq).or_default().push(Early {
                    kind,
                    received: now,
                    catchup,
                }),
            }
        }
        Receipt { first, catchup }
    }

    /// Records the send time of event `seq` (from its reply, or at send for the peers)
    /// and resolves receipts that arrived before it.
    pub fn stamped(&mut self, seq: u64, stamp: Stamp, samples: &mut Vec<FanoutSample>) {
        if self.events.len() < seq as usize {
            self.events.resize(seq as usize, EventInfo::default());
        }
        if seq > 0 {
            self.events[seq as usize - 1].sender = Some(stamp.sender);
        }
        if let Some(waiting) = self.early.remove(&seq) {
            samples.extend(waiting.into_iter().map(|e| FanoutSample {
                kind: e.kind,
                scheduled: stamp.scheduled,
                written: stamp.written,
                received: e.received,
                catchup: e.catchup,
            }));
        }
        self.stamps.insert(seq, stamp);
        // Stamps arrive in roughly seq order: drop the oldest once they are stale.
        while let Some((&first, s)) = self.stamps.first_key_value() {
            if stamp.written.saturating_sub(s.written) < STAMP_TTL_US {
                break;
            }
            self.stamps.remove(&first);
        }
        // A sender that does not receive its own events still counts them as its own.
        if !self.echo {
            for (m, r) in self.members.iter_mut().enumerate() {
                if let Some(start) = r.start_after {
                    advance(r, m, start, false, &self.events);
                }
            }
        }
    }

    /// Notes an event's kind known to the sender (the peers number their own events).
    pub fn sent_kind(&mut self, seq: u64, kind: &'static str) {
        if self.events.len() < seq as usize {
            self.events.resize(seq as usize, EventInfo::default());
        }
        if seq > 0 {
            self.events[seq as usize - 1].kind.get_or_insert(kind);
        }
    }

    /// A command's event was confirmed.
    pub fn acked(&mut self, seq: u64) {
        self.max_acked = self.max_acked.max(seq);
    }

    /// The highest seq known to exist.
    pub fn max_known(&self) -> u64 {
        self.max_acked
            .max(self.max_seen)
            .max(self.final_seq.unwrap_or(0))
    }

    /// Whether every connected participant has everything up to the highest known seq.
    pub fn drained(&self) -> bool {
        let top = self.max_known();
        self.members
            .iter()
            .filter(|r| r.connected && r.receives && r.start_after.is_some())
            .all(|r| r.contiguous >= top)
    }

    /// Events read from the server's log after the highest seq seen: they exist, so
    /// they were expected.
    pub fn logged(&mut self, seq: u64, kind: &'static str) {
        self.sent_kind(seq, kind);
        self.final_seq = Some(self.final_seq.unwrap_or(0).max(seq));
    }

    /// Counts deliveries up to the final seq (or the highest known).
    pub fn account(&self) -> Accounting {
        let last = self.max_known();
        let mut acc = Accounting::default();
        for (m, r) in self.members.iter().enumerate() {
            let Some(start) = r.start_after.filter(|_| r.receives) else {
                continue;
            };
            acc.participants += 1;
            acc.total.reordered += r.reorders;
            acc.total.unexpected += r.before_start;
            for seq in start + 1..=last.max(start) {
                let info = self
                    .events
                    .get(seq as usize - 1)
                    .copied()
                    .unwrap_or_default();
                if !self.echo && info.sender == Some(m) {
                    continue;
                }
                let kind = info.kind.unwrap_or("unknown");
                let count = r
                    .counts
                    .get((seq - start - 1) as usize)
                    .copied()
                    .unwrap_or(0);
                let tally = acc.by_kind.entry(kind).or_default();
                tally.expected += 1;
                acc.total.expected += 1;
                if count == 0 {
                    tally.missing += 1;
                    acc.total.missing += 1;
                } else {
                    let extra = u64::from(count - 1);
                    tally.delivered += 1;
                    tally.duplicates += extra;
                    acc.total.delivered += 1;
                    acc.total.duplicates += extra;
                }
            }
            let beyond: u64 = r
                .counts
                .iter()
                .skip(last.saturating_sub(start) as usize)
                .map(|&c| u64::from(c))
                .sum();
            acc.total.unexpected += beyond;
        }
        acc
    }
}

/// Moves a participant's contiguous mark past every seq it has, or need not have.
fn advance(r: &mut MemberRecord, m: usize, start: u64, echo: bool, events: &[EventInfo]) {
    loop {
        let next = r.contiguous + 1;
        let slot = (next - start - 1) as usize;
        let have = r.counts.get(slot).is_some_and(|&c| c > 0);
        let own = !echo
            && events
                .get(next as usize - 1)
                .is_some_and(|e| e.sender == Some(m));
        if !(have || own) {
            return;
        }
        r.contiguous = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(sender: usize, at: Micros) -> Stamp {
        Stamp {
            scheduled: at,
            written: at,
            sender,
        }
    }

    #[test]
    fn gaps_duplicates_and_reorderings_are_counted_exactly() {
        let mut l = SessionLedger::new(&[true, true], true);
        let mut s = Vec::new();
        l.joined(0, 2);
        l.joined(1, 2);
        for seq in [3, 4, 5] {
            l.received(0, seq, "chat.message", 10, false, &mut s);
        }
        // Participant 1: misses 4, gets 3 twice, and 5 before 3.
        l.received(1, 5, "chat.message", 10, false, &mut s);
        l.received(1, 3, "chat.message", 10, false, &mut s);
        l.received(1, 3, "chat.message", 10, false, &mut s);
        l.acked(5);
        let a = l.account();
        assert_eq!(a.total.expected, 6);
        assert_eq!(a.total.delivered, 5);
        assert_eq!(a.total.missing, 1);
        assert_eq!(a.total.duplicates, 1);
        assert_eq!(a.total.reordered, 1);
        assert!(!l.drained());
        assert_eq!(l.resume_point(1), Some(3));
    }

    #[test]
    fn early_receipts_wait_for_the_senders_stamp() {
        let mut l = SessionLedger::new(&[true, true], true);
        let mut s = Vec::new();
        l.joined(0, 0);
        l.joined(1, 0);
        l.received(1, 1, "product.shared", 500, false, &mut s);
        l.received(0, 1, "product.shared", 400, true, &mut s);
        assert!(s.is_empty());
        l.stamped(1, stamp(0, 100), &mut s);
        assert_eq!(s.len(), 1, "the sender's own echo gets no sample");
        assert_eq!(s[0].received - s[0].scheduled, 400);
    }

    #[test]
    fn without_echo_a_sender_expects_none_of_its_own_events() {
        let mut l = SessionLedger::new(&[false, true, true], false);
        let mut s = Vec::new();
        for m in 0..3 {
            l.joined(m, 0);
        }
        for seq in 1..=3 {
            l.sent_kind(seq, "card");
            l.stamped(seq, stamp(0, seq), &mut s);
            l.acked(seq);
            l.received(1, seq, "card", 10, false, &mut s);
            l.received(2, seq, "card", 10, false, &mut s);
        }
        let a = l.account();
        assert_eq!(a.total.expected, 6);
        assert!(a.total.is_exact());
        assert!(l.drained());
    }

    #[test]
    fn events_found_only_in_the_log_count_as_missing() {
        let mut l = SessionLedger::new(&[true], true);
        let mut s = Vec::new();
        l.joined(0, 0);
        l.received(0, 1, "participant.joined", 1, false, &mut s);
        l.logged(2, "participant.left");
        let a = l.account();
        assert_eq!(a.total.missing, 1);
        assert_eq!(a.by_kind["participant.left"].missing, 1);
    }
}
