#!/usr/bin/env node
// The receiving end of the fanout benchmark's transfer reference: one TLS websocket server that
// takes one connection, writes its binary messages to a file (with backpressure: the socket is
// paused while the file write drains) and hashes them, the way a tentacle receives a package.
// On the text message "end" it answers {"bytes":N,"sha256":"..."} and exits once the peer closes.
// Usage: node wss-sink.mjs <cert.pem> <key.pem> <output-file> <max-message-bytes>
// Prints {"event":"ready","port":N} on stdout once it listens on 127.0.0.1 (port 0).
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import https from 'node:https';
import { finished } from 'node:stream/promises';
import { WebSocketServer } from 'ws';

const [certFile, keyFile, outFile, maxPayloadText] = process.argv.slice(2);
if (!certFile || !keyFile || !outFile || !maxPayloadText) {
  process.stderr.write('usage: node wss-sink.mjs <cert.pem> <key.pem> <output-file> <max-message-bytes>\n');
  process.exit(2);
}

const server = https.createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) });
const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: Number(maxPayloadText) });
/** @param {string} message */
const fail = (message) => {
  process.stderr.write(`wss sink: ${message}\n`);
  process.exit(1);
};

wss.once('connection', (ws) => {
  const out = createWriteStream(outFile, { flags: 'wx' });
  const hash = createHash('sha256');
  let bytes = 0;
  out.on('error', (error) => fail(error.message));
  ws.on('message', (data, isBinary) => {
    const chunk = /** @type {Buffer} */ (data);
    if (!isBinary) {
      if (chunk.toString() !== 'end') return fail(`unexpected text message ${chunk.toString().slice(0, 80)}`);
      out.end();
      void finished(out).then(() => ws.send(JSON.stringify({ bytes, sha256: hash.digest('hex') })), (error) => fail(error.message));
      return;
    }
    bytes += chunk.length;
    hash.update(chunk);
    if (!out.write(chunk)) {
      ws.pause();
      out.once('drain', () => ws.resume());
    }
  });
  ws.on('close', () => process.exit(0));
  ws.on('error', (error) => fail(error.message));
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ event: 'ready', port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});

for (const name of ['SIGTERM', 'SIGINT']) process.once(name, () => process.exit(0));
