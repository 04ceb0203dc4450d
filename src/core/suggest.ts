// The "did you mean" of a misspelt option, as the compiler would give it.

/**
 * Edit distance (insertions, deletions, substitutions), case-insensitive. Twelve lines of our own
 * rather than a dependency in every bundle for what only words an error message.
 */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, index) => index);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (x[i - 1] === y[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[y.length] as number;
}

/**
 * The known key a misspelt one most likely meant, as TypeScript suggests one: the nearest by edit
 * distance, when that is at most a third of the key's length (`ammount` → `amount`, `baseUrl` →
 * `baseURL`), or a different case.
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const d = distance(key, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}
