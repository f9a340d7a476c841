/** Words as a learner and a marker would count them: runs of letters or digits, with inner ' and -. */
export function countWords(text: string): number {
  return text.match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu)?.length ?? 0
}
