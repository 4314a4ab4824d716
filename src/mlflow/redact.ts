/**
 * Secrets never reach output, logs or errors. Everything mlv writes to stderr passes through
 * `redactSecrets`; the client registers the token and password it was configured with.
 */

const secrets = new Set<string>();

/** Remembers a secret value so that it is masked wherever it would be printed. */
export function registerSecret(value: string | undefined): void {
  // Very short values would mask innocent text ("a", "1"); they are not real secrets anyway.
  if (value && value.length >= 4) secrets.add(value);
}

/** `https://user:pass@host/x` → `https://***@host/x`; also drops `?token=`-style query values. */
export function redactUri(uri: string): string {
  return redactSecrets(uri);
}

const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi;
const AUTH_HEADER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
const SECRET_QUERY = /([?&](?:token|access_token|password|secret|sig|signature|api_key|apikey)=)[^&\s#]+/gi;

export function redactSecrets(text: string): string {
  let out = text.replace(USERINFO, '$1***@').replace(AUTH_HEADER, '$1 ***').replace(SECRET_QUERY, '$1***');
  for (const s of secrets) {
    if (out.includes(s)) out = out.split(s).join('***');
    const encoded = encodeURIComponent(s);
    if (encoded !== s && out.includes(encoded)) out = out.split(encoded).join('***');
  }
  return out;
}
