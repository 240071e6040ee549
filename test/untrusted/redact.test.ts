import { describe, expect, it } from 'vitest';
import { redactUrls } from '../../src/untrusted/redact';

describe('redactUrls', () => {
  it.each([
    ['a proxy URL', 'http://u:p@h:3128', 'http://u:***@h:3128'],
    [
      'inside a sentence',
      'HTTPS_PROXY=http://alice:s3cr%40t@proxy.corp:8080 from env',
      'HTTPS_PROXY=http://alice:***@proxy.corp:8080 from env',
    ],
    ['a raw @ in the password', 'http://u:p@ss@h:1/x@y', 'http://u:***@h:1/x@y'],
    ['an empty user', 'http://:pw@h', 'http://:***@h'],
    ['two URLs', 'see http://a:b@c and https://d:e@f/g', 'see http://a:***@c and https://d:***@f/g'],
    ['an @ in the path only', 'http://h:1/path@x', 'http://h:1/path@x'],
    ['a user without a password', 'http://tok@h', 'http://tok@h'],
    ['no URL', 'user:pass@host', 'user:pass@host'],
  ])('%s', (_title, text, shown) => {
    expect(redactUrls(text)).toBe(shown);
  });
});
