import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../helpers/net.js';
import { startHub, type TestHub, token } from './hub-helpers.js';

let hub: TestHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

describe('verified tokens are remembered, within their validity window only', () => {
  it('accepts a token again and again, and refuses it once it has expired', async () => {
    hub = await startHub();
    const shortLived = await token({ publish: ['*'] }, { expiresIn: 2 });
    for (let i = 0; i < 3; i++) {
      const response = await hub.publish({ topic: 'https://example.com/t', data: String(i) }, shortLived);
      expect(response.status).toBe(200);
    }
    await sleep(2100);
    const expired = await hub.publish({ topic: 'https://example.com/t', data: 'late' }, shortLived);
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toContain('invalid_token');
    expect(await expired.text()).toContain('expired');
  });

  it('refuses a token that is not valid yet, even after a valid one was remembered', async () => {
    hub = await startHub();
    const notYet = await token({ publish: ['*'] }, { claims: { nbf: Math.floor(Date.now() / 1000) + 60 } });
    const first = await hub.publish({ topic: 'https://example.com/t', data: 'x' }, notYet);
    const second = await hub.publish({ topic: 'https://example.com/t', data: 'x' }, notYet);
    expect([first.status, second.status]).toEqual([401, 401]);
  });
});
