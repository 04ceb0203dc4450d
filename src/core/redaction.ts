/**
 * Keeps secrets (the API key, Affonso's signing secret) out of everything clawback hands back:
 * error bodies and messages, `raw`, hook events, log lines. A hostile or careless vendor can
 * echo a key in many spellings; each one a vendor could plausibly produce is replaced.
 */

const REDACTED = '[redacted]';

/** Where a secret could hide in text. */
function spellings(secret: string): string[] {
  const forms = new Set([secret, encodeURIComponent(secret), encodeURIComponent(secret).toLowerCase()]);
  // Inside a longer base64 string (a base64-encoded header or body), the secret's characters land
  // on one of three alignments; each encodes to a fixed run of base64 characters, minus the
  // partial ones at either end. Standard and URL-safe alphabets.
  const bytes = new TextEncoder().encode(secret);
  for (let offset = 0; offset < 3; offset++) {
    const padded = new Uint8Array(offset + bytes.length);
    padded.set(bytes, offset);
    let binary = '';
    for (const byte of padded) binary += String.fromCharCode(byte);
    const encoded = btoa(binary).replace(/=+$/, '');
    const start = Math.ceil((offset * 4) / 3);
    const end = Math.floor((padded.length * 4) / 3);
    const core = encoded.slice(start, end);
    // Too short a run would match unrelated text; a key has enough characters for a long one.
    if (core.length >= 8) {
      forms.add(core);
      forms.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return [...forms].filter((form) => form.length >= 4).sort((a, b) => b.length - a.length);
}

export interface Redactor {
  /** The text with every spelling of every secret replaced by `[redacted]`. */
  text(text: string): string;
  /**
   * A parsed JSON value with every string (and key) redacted, deeply: JSON escapes (`\u0073k_…`,
   * `\/`) spell a secret in ways the raw text does not show. Unchanged parts are shared; a
   * `"__proto__"` key stays an own data property, never a prototype.
   */
  value<T>(value: T): T;
}

export function createRedactor(secrets: readonly string[]): Redactor {
  const forms = secrets.filter((secret) => secret.length >= 4).flatMap(spellings);
  const text = (input: string): string => {
    let output = input;
    for (const form of forms) if (output.includes(form)) output = output.split(form).join(REDACTED);
    return output;
  };
  const value = <T>(input: T): T => {
    if (typeof input === 'string') return text(input) as T;
    if (typeof input !== 'object' || input === null) return input;
    if (Array.isArray(input)) {
      const items = input.map(value);
      return (items.every((item, index) => item === input[index]) ? input : items) as T;
    }
    let changed = false;
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(input)) {
      const safeKey = text(key);
      const safeItem = value(item);
      if (safeKey !== key || safeItem !== item) changed = true;
      Object.defineProperty(copy, safeKey, { value: safeItem, enumerable: true, writable: true, configurable: true });
    }
    return (changed ? copy : input) as T;
  };
  return { text, value };
}
