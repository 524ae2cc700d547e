// The HTTP API client (docs/api/openapi.yaml): JSON in and out, the session cookie, the CSRF
// token on every POST, `{"error": ...}` messages turned into ApiError, 401 sends the user back to
// the login form.

import { t } from './i18n.js';

let csrfToken = '';
let onUnauthorized = () => {};

export function setCsrf(token) {
  csrfToken = token || '';
}

/** Called (once per burst) when a request answers 401: the session is gone. */
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

export class ApiError extends Error {
  constructor(status, message, retryAfter = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

function fallbackMessage(status) {
  switch (status) {
    case 400:
      return t('err.badRequest');
    case 403:
      return t('err.forbidden');
    case 404:
      return t('err.notFound');
    case 408:
      return t('err.timeout');
    case 429:
      return t('err.tooMany');
    default:
      return t('err.server', { status });
  }
}

/**
 * Call the API. `query` values that are empty are left out. Resolves to the parsed JSON (null for
 * 204), or to the Response itself with `raw: true` (export). Rejects with ApiError, or with the
 * AbortError of `signal`.
 */
export async function api(path, { method = 'GET', query, body, signal, raw = false } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, String(value));
  }
  const headers = { Accept: raw ? 'application/x-ndjson, application/json' : 'application/json' };
  if (method !== 'GET') {
    headers['X-CSRF-Token'] = csrfToken;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
  }
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal,
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, t('err.network'));
  }
  if (!response.ok) {
    let message = '';
    try {
      const data = await response.json();
      if (data && typeof data.error === 'string') message = data.error;
    } catch {
      // not JSON: use our own message
    }
    const error = new ApiError(response.status, message || fallbackMessage(response.status), response.headers.get('Retry-After'));
    if (response.status === 401 && path !== '/api/v1/login' && path !== '/api/v1/me') {
      error.message = t('login.expired');
      onUnauthorized(error);
    }
    throw error;
  }
  if (raw) return response;
  if (response.status === 204) return null;
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(response.status, t('err.badResponse'));
  }
}
