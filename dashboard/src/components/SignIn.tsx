import { useState } from 'react'
import type { FormEvent } from 'react'
import { api, setKey } from '../lib/api'
import type { Me } from '../lib/api'
import { useToasts } from './Toasts'

export function SignIn({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [key, setValue] = useState('')
  const [busy, setBusy] = useState(false)
  const toasts = useToasts()

  async function submit(e: FormEvent) {
    e.preventDefault()
    setBusy(true)
    setKey(key.trim())
    try {
      const me = await api.me()
      // A wrong key's error, or the last session's, is over now.
      toasts.clear()
      onSignedIn(me)
    } catch (error) {
      setKey(null)
      toasts.error(error)
    } finally {
      setBusy(false)
    }
  }

  return (
    <main className="signin">
      <form onSubmit={submit} className="card">
        <h1>Herald</h1>
        <p className="muted">Sign in with your business's API key. It is kept for this tab only.</p>
        <label>
          API key
          <input
            name="api_key"
            type="password"
            autoComplete="off"
            value={key}
            onChange={(e) => setValue(e.target.value)}
            placeholder="hrld_..."
            required
          />
        </label>
        <button type="submit" disabled={busy || !key.trim()}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  )
}
