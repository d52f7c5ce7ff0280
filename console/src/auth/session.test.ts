import { describe, expect, it } from 'vitest';
import { can, sessionFromToken } from './session';
import { token } from '../test/harness';

describe('sessionFromToken', () => {
  it('reads the tenant and role claims', () => {
    const s = sessionFromToken(token({ 'custom:tenant': 'acme', 'custom:role': 'operator', email: 'a@b.c' }));
    expect(s).toMatchObject({ tenantId: 'acme', role: 'operator', subject: 'a@b.c' });
  });

  it('takes the highest role of the Cognito groups, as the API does', () => {
    const s = sessionFromToken(token({ 'custom:tenant': 'acme', 'cognito:groups': ['viewer', 'admin'] }));
    expect(s?.role).toBe('admin');
  });

  it('refuses a token without a tenant or a role, or expired', () => {
    expect(sessionFromToken(token({ 'custom:role': 'admin' }))).toBeNull();
    expect(sessionFromToken(token({ 'custom:tenant': 't', 'custom:role': 'root' }))).toBeNull();
    expect(sessionFromToken(token({ 'custom:tenant': 't', 'custom:role': 'admin', exp: 1 }))).toBeNull();
    expect(sessionFromToken('not-a-jwt')).toBeNull();
  });

  it('ranks roles', () => {
    expect(can('viewer', 'operator')).toBe(false);
    expect(can('operator', 'operator')).toBe(true);
    expect(can('admin', 'operator')).toBe(true);
    expect(can(undefined, 'viewer')).toBe(false);
  });
});
