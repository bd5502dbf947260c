import type { Request, Response } from 'express';

/** How long the hub keeps reading (and discarding) a body it answered without needing. */
export const LINGER_MS = 5_000;

/**
 * For an answer given before the request body was read (an upload refused early, or kept by
 * IgnoreIfExists): closing at once would reset a client still writing, which can then lose
 * the answer. Instead the rest of the body is read and discarded for up to LINGER_MS (long
 * enough for the client to read the answer and stop), then the connection is cut.
 */
export function lingerIfBodyUnread(req: Request, res: Response): void {
  if (req.complete) return;
  res.once('finish', () => {
    if (req.complete) return;
    req.unpipe();
    req.resume();
    const timer = setTimeout(() => req.socket.destroy(), LINGER_MS);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
  });
}
