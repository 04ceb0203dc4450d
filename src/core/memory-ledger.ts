import {
  DEFAULT_RETENTION_MS,
  decideClaim,
  decideRecord,
  decideResolve,
  defineLedger,
  ledgerId,
  refusedSettlement,
  type LedgerEntry,
  type LedgerStore,
  type RefundLedger,
} from './ledger.js';

/** `memoryLedger(options)`'s options. */
export interface MemoryLedgerOptions {
  /** Default 30 days. */
  retentionMs?: number;
  /** Epoch milliseconds (for tests). */
  now?: () => number;
}

/**
 * A ledger in this process's memory: for one process, and for tests. A fleet shares
 * `redisLedger` or `postgresLedger` instead.
 */
export function memoryLedger(options: MemoryLedgerOptions = {}): RefundLedger {
  const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
  const now = options.now ?? (() => Date.now());
  const entries = new Map<string, LedgerEntry>();
  const live = (id: string) => {
    const entry = entries.get(id);
    if (entry && entry.expiresAt <= now()) entries.delete(id);
    return entries.get(id);
  };
  const apply = (id: string, next: LedgerEntry | undefined | 'keep') => {
    if (next === 'keep') return;
    if (next) entries.set(id, next);
    else entries.delete(id);
  };
  return defineLedger({
    retentionMs,
    async claim(key, request) {
      const id = ledgerId(key);
      const { claim, write } = decideClaim(live(id), key, request, now(), retentionMs);
      if (write) entries.set(id, write);
      return claim;
    },
    async record(key, holder, outcome, deadline) {
      if (now() > deadline) return;
      const id = ledgerId(key);
      apply(id, decideRecord(live(id), holder, outcome, now(), retentionMs));
    },
    async get(id) {
      return live(id);
    },
    async list(filter = {}) {
      return [...entries.keys()]
        .map(live)
        .filter((entry): entry is LedgerEntry => entry !== undefined && (filter.state === undefined || entry.state === filter.state))
        .sort((a, b) => b.updatedAt - a.updatedAt)
        .slice(0, filter.limit ?? 100);
    },
    async resolve(id, outcome) {
      const decision = decideResolve(live(id), outcome, now(), retentionMs);
      if ('refused' in decision) throw refusedSettlement(id, decision.refused);
      apply(id, decision.write);
      return live(id);
    },
  } satisfies LedgerStore);
}
