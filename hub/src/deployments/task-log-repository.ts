import type { LogStream, TaskLogEntry } from '@cuttle/shared';
import type { Db } from '../db/open-database.js';

export type NewLogLine = Omit<TaskLogEntry, 'seq'>;

interface LogRow {
  seq: number;
  at: string;
  machine: string | null;
  stream: string;
  text: string;
}

const toEntry = (row: LogRow): TaskLogEntry => ({ seq: row.seq, at: row.at, machine: row.machine, stream: row.stream as LogStream, text: row.text });

/** The stored lines of task logs, numbered 1, 2, 3... per task. */
export class TaskLogRepository {
  constructor(private readonly db: Db) {}

  /** Appends the lines in one transaction and returns them with their numbers. */
  append(taskId: number, lines: readonly NewLogLine[]): TaskLogEntry[] {
    if (lines.length === 0) return [];
    return this.db.transaction(() => {
      const last = (this.db.prepare('SELECT MAX(seq) AS seq FROM task_log WHERE task_id = ?').get(taskId) as { seq: number | null }).seq ?? 0;
      const insert = this.db.prepare('INSERT INTO task_log (task_id, seq, at, machine, stream, text) VALUES (?, ?, ?, ?, ?, ?)');
      return lines.map((line, index) => {
        const entry: TaskLogEntry = { seq: last + index + 1, ...line };
        insert.run(taskId, entry.seq, entry.at, entry.machine, entry.stream, entry.text);
        return entry;
      });
    })();
  }

  /** Lines after `since`, oldest first, at most `limit`. */
  read(taskId: number, since: number, limit: number): TaskLogEntry[] {
    return (
      this.db.prepare('SELECT seq, at, machine, stream, text FROM task_log WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?').all(taskId, since, limit) as LogRow[]
    ).map(toEntry);
  }
}
