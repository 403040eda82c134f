import { describe, expect, it } from 'vitest';
import { ipSubnet } from '../../src/lib/ip-subnet.ts';

describe('ipSubnet', () => {
  it('keeps IPv4 addresses and unwraps IPv4-mapped IPv6', () => {
    expect(ipSubnet('203.0.113.7')).toBe('203.0.113.7');
    expect(ipSubnet('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('reduces IPv6 addresses to their /64', () => {
    expect(ipSubnet('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(ipSubnet('2001:0db8:0001:0002:ffff:0:0:9')).toBe('2001:db8:1:2::/64');
    expect(ipSubnet('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(ipSubnet('::1')).toBe('0:0:0:0::/64');
    expect(ipSubnet('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });
});
