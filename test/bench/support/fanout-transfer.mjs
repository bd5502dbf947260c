// A component of the fanout benchmark's floor that `unzip` leaves out: moving the zip's bytes to
// every target over TLS websockets. One sender (this process, like the hub) streams the zip to
// `count` receiver processes (like the tentacles) at once, in 256 KiB binary messages gated on
// bufferedAmount; each receiver writes it to disk and hashes it. Reported, not part of the target.
import { WebSocket } from 'ws';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PROTOCOL_LIMITS } from '@cuttle/shared';
import { spawnNode, waitForEvent } from './processes.mjs';

const SINK_SCRIPT = path.join(import.meta.dirname, 'wss-sink.mjs');

/**
 * @param {import('./processes.mjs').Scope} scope
 * @param {{ zip: string, sha256: string, dir: string, count: number, certFile: string, keyFile: string, untimed?: (receiverPids: number[]) => Promise<void>, onStop?: () => void }} options
 *   untimed: runs after the receivers are up, before the clock starts; onStop: right after it stops
 * @returns {Promise<{ totalMs: number, eachMs: number[] }>}
 */
export async function measureTransfer(scope, { zip, sha256, dir, count, certFile, keyFile, untimed, onStop }) {
  const files = Array.from({ length: count }, (_, index) => path.join(dir, `transfer-${index + 1}.bin`));
  try {
    const sinks = files.map((file) => spawnNode(scope, [SINK_SCRIPT, certFile, keyFile, file, String(PROTOCOL_LIMITS.maxBinaryMessageBytes)]));
    const ports = await Promise.all(sinks.map(async (sink, index) => Number((await waitForEvent(sink, 'ready', `transfer receiver ${index + 1}`)).port)));
    await untimed?.(sinks.map((sink) => sink.pid));
    const started = performance.now();
    const eachMs = await Promise.all(
      ports.map(async (port) => {
        const result = await sendFile(port, zip);
        if (result.sha256 !== sha256) throw new Error(`the transfer reference received ${result.bytes} bytes with SHA-256 ${result.sha256}, not the zip's ${sha256}`);
        return performance.now() - started;
      }),
    );
    const totalMs = performance.now() - started;
    onStop?.();
    await Promise.all(sinks.map((sink) => sink.exited));
    return { totalMs, eachMs };
  } finally {
    await Promise.all(files.map((file) => rm(file, { force: true })));
  }
}

/**
 * Streams `file` to the receiver on `port` and resolves with its answer.
 * @param {number} port @param {string} file
 * @returns {Promise<{ bytes: number, sha256: string }>}
 */
function sendFile(port, file) {
  // loopback reference only: the receiver's certificate is the hub's, which pins by fingerprint, not by name
  const ws = new WebSocket(`wss://127.0.0.1:${port}`, { perMessageDeflate: false, rejectUnauthorized: false });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('close', (code) => reject(new Error(`the transfer receiver closed the connection (${code}) before answering`)));
    ws.once('message', (data) => {
      try {
        resolve(JSON.parse(String(data)));
      } catch (error) {
        reject(error);
      }
      ws.close();
    });
    ws.once('open', () => {
      void (async () => {
        /** @type {Promise<void> | undefined} */
        let pending;
        for await (const chunk of createReadStream(file, { highWaterMark: PROTOCOL_LIMITS.packageChunkBytes })) {
          const sent = new Promise((done, failed) => ws.send(chunk, { binary: true }, (error) => (error ? failed(error) : done(undefined))));
          sent.catch(() => undefined); // a failed send also closes the socket, which rejects above
          if (ws.bufferedAmount >= PROTOCOL_LIMITS.sendHighWaterBytes) await sent;
          pending = sent;
        }
        await pending;
        ws.send('end');
      })().catch(reject);
    });
  });
}
