// One mediasoup-client transport over the session's `media.transport.*` and `media.produce`
// commands: the server creates its half, the browser connects when it first has media to
// move, and each new producer is announced to the server, which gives it its id.

import type { Device, types } from 'mediasoup-client';
import type { SendCommand } from './link';

export type Direction = 'send' | 'recv';

/** The server's half of a transport, as `media.transport.create` answers it. */
interface ServerTransport {
  id: string;
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
}

/**
 * The role the server's half is told it has, so that this browser takes `browserRole`;
 * mediasoup-client reads a fixed remote role as a request to take the other one.
 */
function serverDtls(dtls: types.DtlsParameters, browserRole?: 'client' | 'server'): types.DtlsParameters {
  if (!browserRole) return dtls;
  return { ...dtls, role: browserRole === 'server' ? 'client' : 'server' };
}

export async function openTransport(
  device: Device,
  send: SendCommand,
  direction: Direction,
  browserRole?: 'client' | 'server',
): Promise<types.Transport> {
  const data = (await send('media.transport.create', { direction })) as unknown as ServerTransport;
  const options: types.TransportOptions = {
    id: data.id,
    iceParameters: data.iceParameters,
    iceCandidates: data.iceCandidates,
    dtlsParameters: serverDtls(data.dtlsParameters, browserRole),
  };
  const transport = direction === 'send' ? device.createSendTransport(options) : device.createRecvTransport(options);

  transport.on('connect', ({ dtlsParameters }, done, fail) => {
    send('media.transport.connect', { transport_id: transport.id, dtls_parameters: dtlsParameters }).then(
      () => done(),
      fail,
    );
  });

  transport.on('produce', ({ kind, rtpParameters, appData }, done, fail) => {
    const fields: Record<string, unknown> = { transport_id: transport.id, kind, rtp_parameters: rtpParameters };
    if (typeof appData.source === 'string') fields.source = appData.source;
    send('media.produce', fields).then((reply) => done({ id: String(reply.producer_id) }), fail);
  });

  transport.on('connectionstatechange', (state) => {
    // Not an error of the page: the call goes on, only this direction's media stops.
    if (state === 'failed') console.warn(`media: the ${direction} transport failed`);
  });
  return transport;
}
