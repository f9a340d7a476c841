export type PasswordCost = { memoryKib: number; timeCost: number }

export const hashPassword = (password: string, cost: PasswordCost): Promise<string> =>
  Bun.password.hash(password, { algorithm: 'argon2id', memoryCost: cost.memoryKib, timeCost: cost.timeCost })

/** False for a wrong password and for a malformed stored hash (Bun throws on those). */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    return await Bun.password.verify(password, hash)
  } catch {
    return false
  }
}

/** Emails compare case-insensitively and without surrounding spaces. */
export const normaliseEmail = (email: string): string => email.trim().toLowerCase()
