// Real servers on 127.0.0.1 only, for the doctor to diagnose: a tiny DNS server (A records, NXDOMAIN
// otherwise), an HTTPS origin with a certificate made by openssl for the test, a forward proxy that
// tunnels CONNECT like Squid and refuses listed hosts with Squid's 403, and a "proxy down" endpoint.
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LOOPBACK = '127.0.0.1';

export interface Running {
  readonly port: number;
  close(): Promise<void>;
}

function portOf(server: net.Server): number {
  return (server.address() as net.AddressInfo).port;
}

function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

function track(server: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

/** A DNS server answering A queries for `records` (name → IPv4, or several comma-separated), NXDOMAIN for any other name. */
export async function startDns(records: Record<string, string>): Promise<Running & { readonly server: string }> {
  const sock: UdpSocket = createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    let i = 12;
    const labels: string[] = [];
    while (i < msg.length && msg[i]! > 0) {
      labels.push(msg.subarray(i + 1, i + 1 + msg[i]!).toString('latin1'));
      i += msg[i]! + 1;
    }
    const question = msg.subarray(12, i + 5);
    const qtype = msg.readUInt16BE(i + 1);
    const name = labels.join('.').toLowerCase();
    const ips = records[name]?.split(',');
    const header = Buffer.alloc(12);
    header.writeUInt16BE(msg.readUInt16BE(0), 0);
    header.writeUInt16BE(0x8180 | (ips === undefined ? 3 : 0), 2);
    header.writeUInt16BE(1, 4);
    // A (1) answers carry the IPv4 records, AAAA (28) the IPv6 ones (written with ':').
    const answers = (ips ?? []).filter((ip) => (qtype === 28 ? ip.includes(':') : qtype === 1 && !ip.includes(':')));
    header.writeUInt16BE(answers.length, 6);
    const parts = [header, question];
    for (const ip of answers) {
      const rdata = ip.includes(':') ? ipv6Bytes(ip) : Buffer.from(ip.split('.').map(Number));
      const rr = Buffer.alloc(12 + rdata.length);
      rr.writeUInt16BE(0xc00c, 0);
      rr.writeUInt16BE(qtype, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(60, 6);
      rr.writeUInt16BE(rdata.length, 10);
      rdata.copy(rr, 12);
      parts.push(rr);
    }
    sock.send(Buffer.concat(parts), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, LOOPBACK, resolve));
  const port = sock.address().port;
  return { port, server: `${LOOPBACK}:${port}`, close: () => new Promise((resolve) => sock.close(() => resolve())) };
}

function ipv6Bytes(ip: string): Buffer {
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export interface Cert {
  readonly cert: string;
  readonly key: string;
  readonly certFile: string;
}

/** A self-signed certificate for `name`, made with the openssl CLI. */
export function makeCert(name: string): Cert {
  const dir = mkdtempSync(join(tmpdir(), 'egresshub-doctor-cert-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-addext',
      `subjectAltName=DNS:${name}`,
    ],
    { stdio: 'ignore' },
  );
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile };
}

/** A plain HTTP origin. */
export async function startHttpOrigin(): Promise<Running> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('hello over plain http\n');
  });
  const sockets = track(server);
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  return { port: portOf(server), close: closer(server, sockets) };
}

export async function startOrigin(cert: Cert): Promise<Running> {
  const server = https.createServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(req.method === 'HEAD' ? undefined : 'hello from the origin\n');
  });
  const sockets = track(server);
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  return { port: portOf(server), close: closer(server, sockets) };
}

export interface ProxyOptions {
  /** Host name → loopback port the proxy tunnels it to (its own "DNS"). */
  readonly upstream: Record<string, number>;
  /** Hosts refused with Squid's 403 ERR_ACCESS_DENIED. */
  readonly deny: readonly string[];
}

/** A forward proxy: CONNECT to a known host is tunnelled to its loopback port, denied hosts get 403. */
export async function startProxy(opts: ProxyOptions): Promise<Running & { readonly requests: string[] }> {
  const requests: string[] = [];
  // Plain HTTP arrives in absolute form (GET http://host:port/path), as clients send it to a proxy.
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res.writeHead(400, { server: 'squid', 'x-squid-error': 'ERR_INVALID_URL 0' }).end();
      return;
    }
    if (opts.deny.includes(url.hostname)) {
      res.writeHead(403, { server: 'squid', 'x-squid-error': 'ERR_ACCESS_DENIED 0' }).end();
      return;
    }
    const target = opts.upstream[url.hostname];
    if (target === undefined) {
      res.writeHead(503, { server: 'squid', 'x-squid-error': 'ERR_DNS_FAIL 0' }).end();
      return;
    }
    const upstream = http.request(
      { host: LOOPBACK, port: target, method: req.method, path: url.pathname + url.search, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502, { server: 'squid', 'x-squid-error': 'ERR_CONNECT_FAIL 0' }).end());
    req.pipe(upstream);
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket) => {
    requests.push(`CONNECT ${req.url}`);
    const [host = '', port = '443'] = (req.url ?? '').split(/:(?=\d+$)/);
    if (opts.deny.includes(host)) {
      client.end('HTTP/1.1 403 Forbidden\r\nServer: squid\r\nX-Squid-Error: ERR_ACCESS_DENIED 0\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const target = opts.upstream[host];
    if (target === undefined) {
      client.end('HTTP/1.1 503 Service Unavailable\r\nServer: squid\r\nX-Squid-Error: ERR_DNS_FAIL 0\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const upstream = net.connect(target, LOOPBACK, () => {
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    const drop = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', drop);
    client.on('error', drop);
    void port;
  });
  const sockets = track(server);
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  return { port: portOf(server), requests, close: closer(server, sockets) };
}

/** Accepts TCP and hangs up at once: a resource endpoint whose proxy behind it is down. */
export async function startProxyDown(): Promise<Running> {
  const server = net.createServer((s) => s.destroy());
  const sockets = track(server);
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  return { port: portOf(server), close: closer(server, sockets) };
}

/** Accepts TCP and never answers: a hung proxy, to prove the per-step timeout. */
export async function startSilent(): Promise<Running> {
  const server = net.createServer(() => undefined);
  const sockets = track(server);
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  return { port: portOf(server), close: closer(server, sockets) };
}

/** A loopback port with nothing listening (bound, then released). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const port = portOf(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
