/**
 * A `fetch` for Eden built on XMLHttpRequest, because fetch cannot report upload progress. Eden
 * still builds the request (URL, multipart body from the File, headers, credentials) and parses the
 * answer, so the upload stays a typed `treaty<App>` call; only the transport differs.
 */
export function progressFetch(onProgress: (sent: number, total: number) => void): typeof fetch {
  const send = (input: RequestInfo | URL, init: RequestInit = {}) =>
    new Promise<Response>((resolve, reject) => {
      const xhr = new XMLHttpRequest()
      xhr.open(init.method ?? 'GET', String(input))
      xhr.withCredentials = init.credentials === 'include'
      xhr.responseType = 'blob'
      new Headers(init.headers).forEach((value, name) => {
        xhr.setRequestHeader(name, value)
      })
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) onProgress(e.loaded, e.total)
      }
      xhr.onload = () => {
        const headers = new Headers()
        for (const line of xhr
          .getAllResponseHeaders()
          .trim()
          .split(/[\r\n]+/)) {
          const at = line.indexOf(':')
          if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim())
        }
        const empty = xhr.status === 204 || xhr.status === 304
        resolve(new Response(empty ? null : (xhr.response as Blob), { status: xhr.status, statusText: xhr.statusText, headers }))
      }
      // Eden turns a rejected fetch into its "network error" (503) result, as for fetch itself.
      xhr.onerror = () => reject(new TypeError('Network request failed'))
      xhr.onabort = () => reject(new DOMException('Aborted', 'AbortError'))
      init.signal?.addEventListener('abort', () => xhr.abort())
      xhr.send((init.body ?? null) as XMLHttpRequestBodyInit | null)
    })
  return send as typeof fetch
}
