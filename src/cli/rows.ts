import { parse } from 'csv-parse/sync';
import { toMinorUnits } from '../core/money.js';
import { isPlainObject } from '../core/validation.js';

/** The columns (CSV) or keys (JSON Lines) a refunds file may have, and the refund() option each fills. */
export const COLUMNS = ['conversion_id', 'amount', 'currency', 'email', 'uid', 'reason', 'refund_id', 'idempotency_key'] as const;
export type Column = (typeof COLUMNS)[number];

/** How the `amount` column is written: `minor` (4950 = 49.50, as refund() takes it) or `major` (49.50). */
export type AmountUnit = 'minor' | 'major';

/** One data row of the file: its number (the first data row is 1) and its cells. */
export interface Row {
  row: number;
  cells: Partial<Record<Column, string>>;
}

/** The refund() options a row stands for, minus the provider; or why it stands for none. */
export type RowRequest =
  | {
      row: number;
      ok: true;
      options: {
        conversionId: string;
        amount?: { value: number; currency: string };
        customer?: { email: string } | { uid: string };
        reason?: string;
        refundId?: string;
        idempotencyKey?: string;
      };
    }
  | { row: number; ok: false; problems: string[] };

/** A problem with the file as a whole: nothing is sent. */
export class FileError extends Error {
  override name = 'FileError';
}

/** Edit distance, for "did you mean": a column one or two typos away from a known one. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (const [i, charA] of [...a].entries()) {
    const current = [i + 1];
    for (const [j, charB] of [...b].entries()) {
      current.push(Math.min((previous[j + 1] as number) + 1, (current[j] as number) + 1, (previous[j] as number) + (charA === charB ? 0 : 1)));
    }
    previous = current;
  }
  return previous[b.length] as number;
}

function closest(column: string): string | undefined {
  const normalised = column.toLowerCase().replace(/[\s-]/g, '_');
  return COLUMNS.find((known) => distance(known, normalised) <= 2);
}

function checkColumns(columns: readonly string[], where: string, requireConversionId: boolean): void {
  const unknown = columns.filter((column) => !(COLUMNS as readonly string[]).includes(column));
  if (unknown.length > 0) {
    const named = unknown.map((column) => {
      const suggestion = closest(column);
      return suggestion ? `"${column}" (did you mean "${suggestion}"?)` : `"${column}"`;
    });
    throw new FileError(`${where}: unknown column ${named.join(', ')}. Known columns: ${COLUMNS.join(', ')}`);
  }
  if (requireConversionId && !columns.includes('conversion_id')) throw new FileError(`${where}: no conversion_id column`);
}

/** Empty cells are absent; every value is kept as the text it was written as. */
function cellsOf(record: Record<string, unknown>, row: number, where: string): Row {
  const cells: Partial<Record<Column, string>> = {};
  for (const [column, value] of Object.entries(record)) {
    if (value === null || value === undefined || value === '') continue;
    if (typeof value === 'object' || typeof value === 'boolean') {
      throw new FileError(`${where}, row ${row}: ${column} must be a string or a number, got ${JSON.stringify(value)}`);
    }
    cells[column as Column] = String(value).trim();
    if (cells[column as Column] === '') delete cells[column as Column];
  }
  return { row, cells };
}

/** Reads a CSV file with a header line. */
export function parseCsv(text: string, where: string): Row[] {
  let records: Array<Record<string, string>>;
  try {
    records = parse(text, { columns: true, bom: true, skip_empty_lines: true, trim: true });
  } catch (error) {
    throw new FileError(`${where}: not a valid CSV file: ${(error as Error).message}`);
  }
  checkColumns(Object.keys(records[0] ?? { conversion_id: '' }), where, true);
  return records.map((record, index) => cellsOf(record, index + 1, where));
}

/** Reads a JSON Lines file: one object per line; blank lines are skipped. */
export function parseJsonLines(text: string, where: string): Row[] {
  const rows: Row[] = [];
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      throw new FileError(`${where}, line ${index + 1}: not valid JSON: ${(error as Error).message}`);
    }
    if (!isPlainObject(record)) {
      throw new FileError(`${where}, line ${index + 1}: must be a JSON object`);
    }
    checkColumns(Object.keys(record), `${where}, line ${index + 1}`, false);
    rows.push(cellsOf(record, rows.length + 1, where));
  }
  return rows;
}

/**
 * A row as refund() options. `amountUnit` must be given when a row has an amount: a file of
 * "4950" and a file of "49.50" look alike to a program, and the difference is 100×.
 */
export function toRequest(row: Row, amountUnit: AmountUnit | undefined): RowRequest {
  const { conversion_id, amount, currency, email, uid, reason, refund_id, idempotency_key } = row.cells;
  const problems: string[] = [];
  if (!conversion_id) problems.push('conversion_id: is empty');
  let money: { value: number; currency: string } | undefined;
  if (amount !== undefined) {
    if (!currency) problems.push('currency: is required with an amount');
    if (!amountUnit) {
      problems.push('amount: say how amounts are written with --amount-unit minor (4950 = 49.50) or --amount-unit major (49.50)');
    } else if (currency) {
      const value =
        amountUnit === 'minor'
          ? /^\d+$/.test(amount)
            ? Number(amount)
            : undefined
          : toMinorUnits(amount, currency.toUpperCase());
      if (value === undefined) {
        problems.push(
          amountUnit === 'minor'
            ? `amount: "${amount}" is not a whole number of minor units (--amount-unit minor: 4950 = 49.50)`
            : `amount: "${amount}" is not an amount in ${currency.toUpperCase()} with at most its number of decimals (--amount-unit major)`,
        );
      } else {
        money = { value, currency };
      }
    }
  } else if (currency) {
    problems.push('currency: is given without an amount (an empty amount means a full refund)');
  }
  if (email && uid) problems.push('email, uid: give one of them, not both');
  if (problems.length > 0) return { row: row.row, ok: false, problems };
  return {
    row: row.row,
    ok: true,
    options: {
      conversionId: conversion_id as string,
      ...(money ? { amount: money } : {}),
      ...(email ? { customer: { email } } : uid ? { customer: { uid } } : {}),
      ...(reason ? { reason } : {}),
      ...(refund_id ? { refundId: refund_id } : {}),
      ...(idempotency_key ? { idempotencyKey: idempotency_key } : {}),
    },
  };
}
