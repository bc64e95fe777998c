/**
 * The one rule for a display name shown to other players, whoever vouched for it (a guest's
 * request, a guest token, a studio token's claim): 1-24 letters, digits, spaces and `_ . -` after
 * trimming, else `fallback`. Names reach every client in the arena, so anything else (markup,
 * control characters, 200 characters of padding) is replaced rather than echoed.
 */
const NAME_PATTERN = /^[\p{L}\p{N} _.-]{1,24}$/u;

export function displayName(requested: unknown, fallback: string): string {
  if (typeof requested === "string") {
    const trimmed = requested.trim();
    if (NAME_PATTERN.test(trimmed)) return trimmed;
  }
  return fallback;
}
