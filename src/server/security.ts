/**
 * MLflow 3's request-origin protection, kept simple.
 *
 * - DNS rebinding: a server bound to loopback only answers requests whose Host header names a
 *   loopback host (localhost, 127.0.0.1, [::1], any port) or one of `allowedHosts`; anything else
 *   gets `403 text/plain`. A page on evil.example whose name is re-pointed at 127.0.0.1 is refused.
 *   A server bound elsewhere does not check Host (it is reachable by other names on purpose).
 * - Cross-site writes: a POST/PUT/PATCH/DELETE carrying an Origin header whose host is not
 *   loopback (or allowed) gets `403 text/plain`, whatever the bind address (`Origin: null`, sent by
 *   sandboxed pages, is refused too).
 * `/health` and `/version` are exempt, as in MLflow.
 */

/** Host-header names that mean "this machine" (MLflow 3 accepts these with any port). */
const LOCAL_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '0.0.0.0']);

/** A Host-header name that refers to this machine. */
export function isLocalHostName(host: string): boolean {
  const h = host.toLowerCase();
  return LOCAL_NAMES.has(h) || /^127(?:\.\d{1,3}){3}$/.test(h) || h.endsWith('.localhost');
}

/** A bind address reachable only from this machine (0.0.0.0 and :: are every interface). */
export function isLoopbackAddress(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/** `host[:port]` → host (IPv6 keeps its brackets off). */
export function hostnameOf(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end === -1 ? h : h.slice(1, end);
  }
  const colon = h.lastIndexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(value);
}

export class RequestGuard {
  private readonly allowed: string[];
  constructor(
    private readonly boundToLoopback: boolean,
    allowedHosts: string[] = [],
  ) {
    this.allowed = allowedHosts.map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
  }

  private hostAllowed(hostHeader: string): boolean {
    const name = hostnameOf(hostHeader);
    if (isLocalHostName(name)) return true;
    const full = hostHeader.trim().toLowerCase();
    return this.allowed.some((p) => p === '*' || globMatch(p, name) || globMatch(p, full));
  }

  /** The 403 text for a refused request, or undefined when it may proceed. */
  check(method: string, path: string, headers: { host?: string; origin?: string }): string | undefined {
    if (path === '/health' || path === '/version') return undefined;
    if (this.boundToLoopback && headers.host !== undefined && !this.hostAllowed(headers.host)) {
      return 'Invalid Host header - possible DNS rebinding attack detected';
    }
    const origin = headers.origin;
    if (origin !== undefined && origin !== '' && ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) {
      let originHost: string;
      try {
        originHost = new URL(origin).host;
      } catch {
        return 'Cross-origin request blocked';
      }
      if (!this.hostAllowed(originHost)) return 'Cross-origin request blocked';
    }
    return undefined;
  }
}
