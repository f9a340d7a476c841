/**
 * Same rule as the API's `countWords` (apps/api/src/submissions/text.ts): runs of letters or digits,
 * with inner ' and -. Kept in step by hand so the live count matches the server's `wordCount`.
 */
export function countWords(text: string): number {
  return text.match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu)?.length ?? 0
}
