#!/usr/bin/env node
// The upload baseline: a bare node:http server that streams each request body to one file
// on disk and answers 201, nothing else (no auth, no hashing, no fsync, no database).
// Usage: node test/bench/baseline-sink.mjs <output-file>
// Prints {"event":"ready","port":N} on stdout once it listens on 127.0.0.1 (port 0).
import { createWriteStream } from 'node:fs';
import http from 'node:http';
import { pipeline } from 'node:stream/promises';

const outFile = process.argv[2];
if (!outFile) {
  process.stderr.write('usage: node baseline-sink.mjs <output-file>\n');
  process.exit(2);
}

const server = http.createServer({ requestTimeout: 0, headersTimeout: 60_000 }, (req, res) => {
  pipeline(req, createWriteStream(outFile)).then(
    () => res.writeHead(201, { 'Content-Type': 'application/json' }).end('{"stored":true}'),
    (error) => {
      process.stderr.write(`baseline sink: ${error.message}\n`);
      if (!res.headersSent) res.writeHead(500).end();
    },
  );
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ event: 'ready', port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});

for (const name of ['SIGTERM', 'SIGINT']) {
  process.once(name, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
