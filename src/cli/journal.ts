import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { FileError } from './rows.js';

/**
 * The run's journal: JSON Lines, one header, then one entry per row as it settles. Each line is
 * written and flushed to disk before the next row's outcome, so a run killed at any point
 * leaves every settled row recorded. `--resume` skips the rows recorded as done.
 *
 * A row killed in flight has no entry; resuming sends it again with the same idempotency key
 * (derived from the row), and the vendor replays it instead of refunding twice.
 */
export interface JournalHeader {
  type: 'header';
  /** 2 since keys are derived with `KEY_DERIVATION` (cbm2: from refund ids); 1 before (cbm1: from amounts). */
  version: 2;
  /** How this run derived the keys of rows without idempotency_key. */
  keys: string;
  provider: string;
  /** SHA-256 of the refunds file: resuming against an edited file is refused. */
  fileHash: string;
  rows: number;
  /** How the file's amounts were read: resuming with another unit would send other amounts. */
  amountUnit: string | null;
}

export interface JournalEntry {
  type: 'row';
  row: number;
  conversionId: string;
  idempotencyKey: string | undefined;
  outcome: 'refunded' | 'duplicate' | 'failed';
  status?: string;
  error?: { class: string; code?: string | undefined; message: string; retryable: boolean; ambiguous: boolean };
}

export class Journal {
  readonly #fd: number;

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /** A new journal; refuses to replace an existing one (that is what `--resume` is for). */
  static create(path: string, header: JournalHeader): Journal {
    if (existsSync(path)) {
      throw new FileError(
        `${path} exists: a run of this file was started before. Add --resume to skip the rows it finished, or remove the journal to start over`,
      );
    }
    const journal = new Journal(openSync(path, 'wx'));
    journal.#write(header);
    return journal;
  }

  /** Reopens a journal to append to it; returns the rows already done (refunded or duplicate). */
  static resume(path: string, expected: Omit<JournalHeader, 'type' | 'version'>): { journal: Journal; done: Set<number> } {
    if (!existsSync(path)) throw new FileError(`--resume: there is no journal at ${path}`);
    const lines = readFileSync(path, 'utf8').split('\n');
    const done = new Set<number>();
    let header: JournalHeader | undefined;
    for (const [index, line] of lines.entries()) {
      if (line.trim() === '') continue;
      let entry: JournalHeader | JournalEntry;
      try {
        entry = JSON.parse(line) as JournalHeader | JournalEntry;
      } catch {
        // Only the last line can be cut short (the run was killed while writing it).
        if (index >= lines.length - 2) break;
        throw new FileError(`${path}, line ${index + 1}: not a journal line`);
      }
      if (entry.type === 'header') header = entry;
      else if (entry.outcome === 'refunded' || entry.outcome === 'duplicate') done.add(entry.row);
      else done.delete(entry.row);
    }
    if (!header) throw new FileError(`${path} is not a clawback journal (no header)`);
    if ((header as { version: number }).version !== 2 || header.keys !== expected.keys) {
      // Finishing it here would send its unfinished rows under keys derived another way; a row
      // in flight when that run stopped (applied, not journaled) would then be refunded again.
      throw new FileError(
        `${path} was written by an earlier clawback, which derived the keys of rows without idempotency_key from their amounts (cbm1_…). Resuming it here would send its unfinished rows under new keys, and a row that was in flight when that run stopped could be refunded twice. Finish that run with the clawback version that started it (its --resume replays those rows), then use this version for new files`,
      );
    }
    if (header.provider !== expected.provider) {
      throw new FileError(`${path} is a journal of a ${header.provider} run, not ${expected.provider}`);
    }
    if (header.fileHash !== expected.fileHash || header.rows !== expected.rows) {
      throw new FileError(
        `${path} was written for a different version of the refunds file: the file changed since that run. Either put the file back as it was and --resume, or run the edited file as a new run with its own journal (--journal <new path>, without --resume): rows the earlier run refunded are sent with the same idempotency keys, so the vendor replays them instead of refunding again`,
      );
    }
    if (header.amountUnit !== expected.amountUnit) {
      throw new FileError(
        `${path} was written by a run with --amount-unit ${header.amountUnit ?? '(none)'}; resume with the same --amount-unit, or the amounts would be read differently`,
      );
    }
    return { journal: new Journal(openSync(path, 'a')), done };
  }

  record(entry: JournalEntry): void {
    this.#write(entry);
  }

  close(): void {
    closeSync(this.#fd);
  }

  #write(line: JournalHeader | JournalEntry): void {
    writeSync(this.#fd, `${JSON.stringify(line)}\n`);
    fdatasyncSync(this.#fd);
  }
}
