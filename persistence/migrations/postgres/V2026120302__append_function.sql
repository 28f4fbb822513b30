-- Appends a group of batches in one statement, so a group commit costs one round trip and
-- one commit. Each batch is checked in order against its session row (locked first): a
-- newer stored epoch fences it, a different last seq is a conflict, a missing row is no
-- session. Only batches that pass are written. Events and command records are given
-- flattened, each with the 1-based index of its batch and, for events, the 1-based position
-- within that batch.
--
-- outcome per batch: 0 appended, 1 seq conflict, 2 fenced, 3 no such session; with the
-- stored seq and epoch at the time it was checked.
CREATE FUNCTION vitrine_append(
    p_tenant text[], p_session text[], p_expected bigint[], p_epoch bigint[],
    p_count integer[], p_status text[], p_shopper text[], p_started timestamptz[],
    p_ended timestamptz[],
    e_batch integer[], e_position integer[], e_kind text[], e_at timestamptz[],
    e_by text[], e_data jsonb[],
    c_batch integer[], c_participant text[], c_command text[], c_reply jsonb[],
    c_at timestamptz[]
) RETURNS TABLE (outcome smallint, stored_seq bigint, stored_epoch bigint)
LANGUAGE plpgsql AS $$
DECLARE
    n integer := coalesce(array_length(p_tenant, 1), 0);
    locked jsonb;
    row_key text;
    row_now jsonb;
    ok boolean[] := array_fill(false, ARRAY[n]);
    base bigint[] := array_fill(0::bigint, ARRAY[n]);
    outcomes smallint[] := array_fill(0::smallint, ARRAY[n]);
    seqs bigint[] := array_fill(0::bigint, ARRAY[n]);
    epochs bigint[] := array_fill(0::bigint, ARRAY[n]);
BEGIN
    -- Lock every session row of the group, in a fixed order, and read seq and epoch.
    SELECT coalesce(jsonb_object_agg(s.tenant_id || chr(31) || s.session_id,
                                     jsonb_build_array(s.seq, s.owner_epoch)), '{}')
      INTO locked
      FROM (SELECT s.tenant_id, s.session_id, s.seq, s.owner_epoch
              FROM sessions s
              JOIN (SELECT DISTINCT t, id FROM unnest(p_tenant, p_session) AS k(t, id)) k
                ON s.tenant_id = k.t AND s.session_id = k.id
             ORDER BY s.tenant_id, s.session_id
               FOR UPDATE OF s) s;

    -- Check each batch in order; later batches of a session follow the earlier ones.
    FOR i IN 1 .. n LOOP
        row_key := p_tenant[i] || chr(31) || p_session[i];
        row_now := locked -> row_key;
        IF row_now IS NULL THEN
            outcomes[i] := 3;
        ELSE
            seqs[i] := (row_now ->> 0)::bigint;
            epochs[i] := (row_now ->> 1)::bigint;
            IF p_epoch[i] < epochs[i] THEN
                outcomes[i] := 2;
            ELSIF p_expected[i] <> seqs[i] THEN
                outcomes[i] := 1;
            ELSE
                ok[i] := true;
                base[i] := seqs[i];
                locked := jsonb_set(locked, ARRAY[row_key], jsonb_build_array(
                    seqs[i] + p_count[i], greatest(epochs[i], p_epoch[i])));
            END IF;
        END IF;
    END LOOP;

    INSERT INTO session_events (tenant_id, session_id, seq, kind, at, by_participant, data)
    SELECT p_tenant[e.b], p_session[e.b], base[e.b] + e.pos, e.kind, e.at, e.by, e.data
      FROM unnest(e_batch, e_position, e_kind, e_at, e_by, e_data)
           AS e(b, pos, kind, at, by, data)
     WHERE ok[e.b];

    UPDATE sessions s
       SET seq = u.seq,
           owner_epoch = greatest(s.owner_epoch, u.epoch),
           status = coalesce(u.status, s.status),
           shopper_id = coalesce(u.shopper, s.shopper_id),
           started_at = coalesce(u.started, s.started_at),
           ended_at = coalesce(u.ended, s.ended_at)
      FROM (SELECT a.t, a.id,
                   max(base[a.i] + p_count[a.i]) AS seq,
                   max(a.ep) AS epoch,
                   (array_agg(a.st ORDER BY a.i DESC) FILTER (WHERE a.st IS NOT NULL))[1]
                       AS status,
                   (array_agg(a.sh ORDER BY a.i DESC) FILTER (WHERE a.sh IS NOT NULL))[1]
                       AS shopper,
                   (array_agg(a.sa ORDER BY a.i DESC) FILTER (WHERE a.sa IS NOT NULL))[1]
                       AS started,
                   (array_agg(a.ea ORDER BY a.i DESC) FILTER (WHERE a.ea IS NOT NULL))[1]
                       AS ended
              FROM unnest(p_tenant, p_session, p_epoch, p_status, p_shopper, p_started,
                          p_ended) WITH ORDINALITY AS a(t, id, ep, st, sh, sa, ea, i)
             WHERE ok[a.i]
             GROUP BY a.t, a.id) u
     WHERE s.tenant_id = u.t AND s.session_id = u.id;

    INSERT INTO command_results (tenant_id, session_id, participant_id, command_id, reply, at)
    SELECT p_tenant[c.b], p_session[c.b], c.participant, c.command, c.reply, c.at
      FROM unnest(c_batch, c_participant, c_command, c_reply, c_at)
           AS c(b, participant, command, reply, at)
     WHERE ok[c.b]
    ON CONFLICT DO NOTHING;

    RETURN QUERY SELECT outcomes[g], seqs[g], epochs[g] FROM generate_series(1, n) AS g ORDER BY g;
END;
$$;
