// Generates an egresshub config with N tenants (no spokes) for scale benchmarks and tests: even tenants
// allow any destination, odd ones a wildcard and a name, ports 10001.. in one contiguous block.
import { stringify } from 'yaml';

export function manyTenantsConfig(n: number): string {
  const tenants = Array.from({ length: n }, (_, i) => ({
    name: `tenant-${String(i + 1).padStart(4, '0')}`,
    accounts: [String(200000000000 + i + 1)],
    port: 10000 + i + 1,
    allow: i % 2 === 0 ? '*' : [`*.example${i}.com`, `api.service${i}.org`],
  }));
  return stringify({
    name: 'egresshub',
    region: 'us-east-1',
    account: '111111111111',
    hub: { cidr: '10.0.0.0/16', availabilityZones: ['us-east-1a', 'us-east-1b'] },
    tenants,
  });
}

if (require.main === module) {
  process.stdout.write(manyTenantsConfig(Number(process.argv[2] ?? 1000)));
}
