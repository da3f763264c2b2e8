// What one client may cost `bert serve`: how long it may take to send a request, how large its
// headers may be, how long an idle or stalled connection is kept, how many connections are open at
// once. Each default is the value `bert serve` uses; a request that breaks one is answered or cut
// off by Node's HTTP server before any of our code runs.
import type { ServerOptions as HttpServerOptions } from 'node:http';

export interface HttpLimits {
  /** Longest a client may take to send its request headers (slowloris); default 10 s. */
  headersTimeoutMs: number;
  /** Longest a client may take to send its whole request, body included; default 30 s. */
  requestTimeoutMs: number;
  /**
   * A connection with no traffic either way for this long is closed; this also ends a client that
   * stops reading its responses (our writes stall, nothing moves). Default 60 s: longer than any
   * model call, which keeps a socket silent while it runs.
   */
  idleTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long; default 5 s (Node's). */
  keepAliveTimeoutMs: number;
  /** Requests one keep-alive connection may carry (0: no limit); default 1000. */
  maxRequestsPerSocket: number;
  /** Largest request head (request line and headers); larger gets 431. Default 16 KiB (Node's). */
  maxHeaderBytes: number;
  /** Connections open at once; more are refused at accept. Default 1024. */
  maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxRequestsPerSocket: 1000,
  maxHeaderBytes: 16 * 1024,
  maxConnections: 1024,
};

/** Fastify's server options for `limits`. */
export function fastifyHttpOptions(limits: HttpLimits): {
  connectionTimeout: number;
  keepAliveTimeout: number;
  requestTimeout: number;
  maxRequestsPerSocket: number;
  http: HttpServerOptions;
} {
  return {
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      // Node checks the header and request timeouts every this often (its default is 30 s, which
      // would let a slow client hold a connection up to 30 s past its deadline).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, limits.headersTimeoutMs / 4)),
    },
  };
}
