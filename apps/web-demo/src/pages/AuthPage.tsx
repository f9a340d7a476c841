import { useState, type FormEvent } from 'react'
import type { ShownProblem } from '../api/problem'
import { Field } from '../components/Field'
import { fieldError, ProblemAlert } from '../components/ProblemAlert'
import { useSession } from '../session/SessionProvider'

const FIELDS = ['email', 'password', 'displayName'] as const

/** Sign up (register, then sign in as a web client) or sign in. */
export function AuthPage({ notice }: { notice: ShownProblem | null }) {
  const { signIn, signUp } = useSession()
  const [mode, setMode] = useState<'signup' | 'signin'>(notice?.title === 'Session expired' ? 'signin' : 'signup')
  const [problem, setProblem] = useState<ShownProblem | null>(notice)
  const [busy, setBusy] = useState(false)

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault()
    const data = new FormData(e.currentTarget)
    const email = String(data.get('email') ?? '').trim()
    const password = String(data.get('password') ?? '')
    const displayName = String(data.get('displayName') ?? '').trim() || email.split('@')[0] || 'Learner'
    setBusy(true)
    setProblem(null)
    const failed = mode === 'signup' ? await signUp(email, password, displayName) : await signIn(email, password)
    setBusy(false)
    setProblem(failed)
  }

  const choose = (next: 'signup' | 'signin') => {
    setMode(next)
    setProblem(null)
  }

  return (
    <section className="card auth" aria-labelledby="auth-title">
      <h2 id="auth-title">{mode === 'signup' ? 'Create an account' : 'Welcome back'}</h2>
      <div className="tabs" role="tablist" aria-label="Account">
        <button
          type="button"
          role="tab"
          id="tab-signup"
          aria-selected={mode === 'signup'}
          aria-controls="auth-form"
          onClick={() => choose('signup')}
        >
          Sign up
        </button>
        <button
          type="button"
          role="tab"
          id="tab-signin"
          aria-selected={mode === 'signin'}
          aria-controls="auth-form"
          onClick={() => choose('signin')}
        >
          Sign in
        </button>
      </div>
      <form
        id="auth-form"
        role="tabpanel"
        aria-labelledby={mode === 'signup' ? 'tab-signup' : 'tab-signin'}
        noValidate
        onSubmit={(e) => void submit(e)}
      >
        {mode === 'signup' && (
          <Field id="displayName" label="Display name" error={fieldError(problem, 'displayName')}>
            {(a) => <input {...a} name="displayName" autoComplete="nickname" />}
          </Field>
        )}
        <Field id="email" label="Email" error={fieldError(problem, 'email')}>
          {(a) => <input {...a} name="email" type="email" autoComplete="email" required />}
        </Field>
        <Field
          id="password"
          label="Password"
          hint={mode === 'signup' ? 'At least 8 characters.' : undefined}
          error={fieldError(problem, 'password')}
        >
          {(a) => (
            <input {...a} name="password" type="password" autoComplete={mode === 'signup' ? 'new-password' : 'current-password'} required />
          )}
        </Field>
        <ProblemAlert problem={problem} placed={FIELDS} id="auth-problem" />
        <button type="submit" className="primary" disabled={busy}>
          {mode === 'signup' ? 'Create account' : 'Sign in'}
        </button>
      </form>
    </section>
  )
}
