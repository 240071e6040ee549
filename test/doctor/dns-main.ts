// Runs the test DNS server as its own process (the lab test starts it inside a spoke namespace, on that
// namespace's loopback, to stand in for the private hosted zone): `dns-main.ts name=ip ...`.
import { startDns } from './servers';

const records = Object.fromEntries(process.argv.slice(2).map((a) => a.split('=') as [string, string]));
startDns(records).then(
  (dns) => process.stdout.write(`listening ${dns.server}\n`),
  (e: unknown) => {
    process.stderr.write(`${String(e)}\n`);
    process.exit(1);
  },
);
