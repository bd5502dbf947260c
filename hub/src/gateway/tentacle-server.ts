import https from 'node:https';
import type { Logger } from 'pino';
import type { TlsMaterial } from '../tls/certificate.js';

/**
 * The TLS listener tentacles connect to. For now it answers every request with 503
 * (the tentacle gateway is not there yet); the certificate and port are final.
 */
export function createTentacleServer(tls: TlsMaterial, log: Logger): https.Server {
  const server = https.createServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, (_req, res) => {
    res.writeHead(503, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'not-available', message: 'This hub does not accept tentacle connections yet.' } }));
  });
  server.on('upgrade', (_req, socket) => {
    socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  server.on('tlsClientError', (error) => log.debug({ err: error }, 'tentacle TLS handshake failed'));
  return server;
}
