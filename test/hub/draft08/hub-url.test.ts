// The hub URL a request reached, and the resource identifier derived from it when none is configured.
import { describe, expect, it } from 'vitest';
import { requestHubUrl, resourceIdentifierOf } from '../../../src/hub/hub-url.js';

const PATH = '/.well-known/mercure';

describe('hub URL', () => {
  it('comes from the Host header (or :authority) and the connection', () => {
    expect(
      requestHubUrl({ host: 'hub.example.com' }, { encrypted: true, hubPath: PATH, trustProxy: false }),
    ).toBe('https://hub.example.com/.well-known/mercure');
    expect(
      requestHubUrl(
        { ':authority': '127.0.0.1:3000' },
        { encrypted: false, hubPath: PATH, trustProxy: false },
      ),
    ).toBe('http://127.0.0.1:3000/.well-known/mercure');
    expect(requestHubUrl({}, { encrypted: false, hubPath: PATH, trustProxy: false })).toBe(
      'http://localhost/.well-known/mercure',
    );
    expect(requestHubUrl({ host: 'a b' }, { encrypted: false, hubPath: PATH, trustProxy: false })).toBe(
      'http://localhost/.well-known/mercure',
    );
  });

  it('takes X-Forwarded-Proto and X-Forwarded-Host behind a trusted proxy only', () => {
    const headers = {
      host: '10.0.0.5:3000',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'hub.example.com, proxy',
    };
    expect(requestHubUrl(headers, { encrypted: false, hubPath: PATH, trustProxy: true })).toBe(
      'https://hub.example.com/.well-known/mercure',
    );
    expect(requestHubUrl(headers, { encrypted: false, hubPath: PATH, trustProxy: false })).toBe(
      'http://10.0.0.5:3000/.well-known/mercure',
    );
  });

  it('is the resource identifier unless one is configured', () => {
    expect(resourceIdentifierOf(undefined, 'https://h/.well-known/mercure')).toBe(
      'https://h/.well-known/mercure',
    );
    expect(resourceIdentifierOf('urn:hub', 'https://h/.well-known/mercure')).toBe('urn:hub');
  });
});
