/** The signed-in session: the bearer token in sessionStorage and what its claims say. */
export type Role = 'viewer' | 'operator' | 'admin';

export interface Session {
  token: string;
  tenantId: string;
  role: Role;
  subject: string;
  expiresAt: number; // ms since epoch
}

const KEY = 'csms.console.token';
const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

function decodeClaims(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) throw new Error('not a JWT');
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

function roleFrom(claims: Record<string, unknown>): Role | null {
  const candidates: unknown[] = [claims['custom:role']];
  const groups = claims['cognito:groups'];
  if (Array.isArray(groups)) candidates.push(...groups);
  else if (typeof groups === 'string') candidates.push(...groups.replace(/[[\],]/g, ' ').split(/\s+/));
  const roles = candidates.filter((c): c is Role => c === 'viewer' || c === 'operator' || c === 'admin');
  return roles.sort((a, b) => RANK[b] - RANK[a])[0] ?? null;
}

/** The session a token describes, or null when it names no tenant or role or has expired. */
export function sessionFromToken(token: string, now = Date.now()): Session | null {
  let claims: Record<string, unknown>;
  try {
    claims = decodeClaims(token);
  } catch {
    return null;
  }
  const tenantId = claims['custom:tenant'];
  const role = roleFrom(claims);
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : Number.POSITIVE_INFINITY;
  if (typeof tenantId !== 'string' || !role || exp <= now) return null;
  return { token, tenantId, role, subject: String(claims.email ?? claims.sub ?? ''), expiresAt: exp };
}

export function storeToken(token: string): Session | null {
  const session = sessionFromToken(token);
  if (session) sessionStorage.setItem(KEY, token);
  return session;
}

export function storedSession(): Session | null {
  const token = sessionStorage.getItem(KEY);
  if (!token) return null;
  const session = sessionFromToken(token);
  if (!session) sessionStorage.removeItem(KEY);
  return session;
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}

export function can(role: Role | undefined, needed: Role): boolean {
  return role !== undefined && RANK[role] >= RANK[needed];
}
