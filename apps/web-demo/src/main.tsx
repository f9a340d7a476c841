import { createRoot } from 'react-dom/client'
import { App } from './App'
import { RouterProvider } from './routing/router'
import { SessionProvider } from './session/SessionProvider'

async function loadConfig(): Promise<{ apiUrl: string }> {
  // The web server's own file (not an API route): where the API lives.
  const res = await fetch('/config.json')
  if (!res.ok) throw new Error(`config.json: ${res.status}`)
  return (await res.json()) as { apiUrl: string }
}

const root = createRoot(document.getElementById('root')!)
loadConfig().then(
  ({ apiUrl }) =>
    root.render(
      <RouterProvider>
        <SessionProvider apiUrl={apiUrl}>
          <App />
        </SessionProvider>
      </RouterProvider>,
    ),
  (error: unknown) => {
    document.getElementById('boot-error')!.textContent =
      `The app could not start: ${error instanceof Error ? error.message : String(error)}`
    document.getElementById('boot-error')!.hidden = false
  },
)
