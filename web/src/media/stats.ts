// Reading the counters the pages and tests need out of `RTCPeerConnection.getStats()`
// reports. Each mediasoup transport is one peer connection, so a link adds up its two.

import type { InboundStats, MediaStats, TransportSecurity } from './link';

export function emptyInbound(): InboundStats {
  return {
    audio: { bytesReceived: 0, packetsReceived: 0, framesDecoded: 0 },
    video: { bytesReceived: 0, packetsReceived: 0, framesDecoded: 0 },
  };
}

/** Media bytes sent and received: the RTP streams' counters, so RTCP and ICE checks do not count. */
export function addRtpBytes(total: MediaStats, report: RTCStatsReport): void {
  report.forEach((entry) => {
    if (entry.type === 'outbound-rtp') total.bytesSent += entry.bytesSent ?? 0;
    if (entry.type === 'inbound-rtp') total.bytesReceived += entry.bytesReceived ?? 0;
  });
}

export function addInbound(total: InboundStats, report: RTCStatsReport): void {
  report.forEach((entry) => {
    if (entry.type !== 'inbound-rtp') return;
    const counters = entry.kind === 'audio' ? total.audio : entry.kind === 'video' ? total.video : null;
    if (!counters) return;
    counters.bytesReceived += entry.bytesReceived ?? 0;
    counters.packetsReceived += entry.packetsReceived ?? 0;
    counters.framesDecoded += entry.framesDecoded ?? 0;
  });
}

/** The `transport` entry of a report: one per peer connection, since mediasoup bundles. */
export function security(direction: TransportSecurity['direction'], report: RTCStatsReport): TransportSecurity {
  let found: TransportSecurity = {
    direction,
    dtlsState: null,
    dtlsRole: null,
    dtlsCipher: null,
    srtpCipher: null,
    tlsVersion: null,
  };
  report.forEach((entry) => {
    if (entry.type !== 'transport') return;
    found = {
      direction,
      dtlsState: entry.dtlsState ?? null,
      dtlsRole: entry.dtlsRole ?? null,
      dtlsCipher: entry.dtlsCipher ?? null,
      srtpCipher: entry.srtpCipher ?? null,
      tlsVersion: entry.tlsVersion ?? null,
    };
  });
  return found;
}
