/**
 * HMAC-SHA256 and SHA-256 with Web Crypto, so they run in Node, Deno, Bun and edge runtimes
 * alike: Affonso's request signatures, the vendors' webhook signatures, derived keys and
 * credential fingerprints.
 */

const encoder = new TextEncoder();

/** A signer for one secret; the key is imported once, on first use. */
export function hmacSha256(secret: string): (message: string | Uint8Array) => Promise<Uint8Array> {
  let key: Promise<CryptoKey> | undefined;
  return async (message) => {
    key ??= globalThis.crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const data = typeof message === 'string' ? encoder.encode(message) : message;
    return new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', await key, data as BufferSource));
  };
}

/** The SHA-256 of `text` (UTF-8) in hex, with Web Crypto. */
export async function sha256Hex(text: string): Promise<string> {
  return toHex(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', encoder.encode(text))));
}

export const toHex = (bytes: Uint8Array): string => Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');

/** The bytes of a hex string, or undefined when it is not one (odd length, other characters). */
export function fromHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  const bytes = new Uint8Array(text.length / 2);
  for (let index = 0; index < bytes.length; index++) bytes[index] = Number.parseInt(text.slice(index * 2, index * 2 + 2), 16);
  return bytes;
}

/** Equal bytes, compared in time that depends only on the length (no early exit on the first difference). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let index = 0; index < a.length; index++) difference |= (a[index] as number) ^ (b[index] as number);
  return difference === 0;
}
