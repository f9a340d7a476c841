import { z } from 'zod'
import { LoginBody, RegisterBody, UserRole } from '@vstep/contracts'
import { PASSWORD_MAX } from './passwords'

/** `client: "web"` puts the refresh token in an httpOnly cookie; `"mobile"` (default) returns it in JSON. */
export const AuthLoginBody = LoginBody.extend({ client: z.enum(['web', 'mobile']).optional() })
export const AuthRegisterBody = RegisterBody

/** Mobile clients send the refresh token here; web clients send no body and rely on the cookie. */
export const RefreshBody = z.object({ refreshToken: z.string().min(1).max(200).optional() }).optional()

const Password = z
  .string()
  .min(1)
  .max(PASSWORD_MAX * 4)
export const ChangePasswordBody = z.object({ currentPassword: Password, newPassword: Password })
export const DeleteMeBody = z.object({ password: Password })

export const SessionView = z.object({
  id: z.uuid(),
  createdAt: z.string(),
  lastUsedAt: z.string(),
  expiresAt: z.string(),
  userAgent: z.string().nullable(),
  ip: z.string().nullable(),
  current: z.boolean(),
})
export const SessionList = z.object({ items: z.array(SessionView) })
export const IdParams = z.object({ id: z.uuid() })
export const RoleBody = z.object({ role: UserRole })
