import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { resolveConfig } from '../../src/config/load.js';

const root = join(import.meta.dirname, '..', '..');
const infra = join(root, 'infra');
const read = (...p: string[]) => readFileSync(join(infra, ...p), 'utf8');

type Service = {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  depends_on?: string[];
  volumes?: string[];
  ports?: string[];
  expose?: string[];
  networks?: string[];
};

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown>; networks: Record<string, unknown> };
  const services = compose.services;
  const controllers = Object.entries(services).filter(([, s]) => s.image?.startsWith('sekha-controller'));

  it('has the primary, a streaming replica, Chroma, Ollama, three API replicas, one projector and nginx', () => {
    const roles = controllers.map(([, s]) => s.command!.join(' '));
    expect(roles.filter((r) => r === 'serve --role api')).toHaveLength(3);
    expect(roles.filter((r) => r === 'serve --role projector')).toHaveLength(1);
    for (const name of ['postgres', 'postgres-replica', 'chroma', 'ollama', 'nginx']) expect(services, name).toHaveProperty(name);
    expect(services['postgres-replica']!.environment!.PRIMARY_HOST).toBe('postgres');
    expect(read('postgres', 'replica-entrypoint.sh')).toMatch(/pg_basebackup .*-R/);
    expect(services.postgres!.command!.join(' ')).toContain('wal_level=replica');
  });

  it('every service it names exists: depends_on, URLs in the environment, mounted files', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const dep of s.depends_on ?? []) expect(services, `${name} depends on ${dep}`).toHaveProperty(dep);
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        const host = /^[a-z]+:\/\/(?:[^@/]*@)?([a-z0-9-]+):(\d+)/.exec(String(value));
        if (host) expect(services, `${name} ${key} → ${host[1]}`).toHaveProperty(host[1]!);
      }
      for (const volume of s.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(join(infra, source)), `${name} mounts ${source}`).toBe(true);
        else expect(compose.volumes, `${name} volume ${source}`).toHaveProperty(source);
      }
      for (const net of s.networks ?? []) expect(compose.networks).toHaveProperty(net);
    }
  });

  it('ports line up: URLs name the port each service listens on; nginx upstreams are the API replicas on their PORT', () => {
    const listens: Record<string, string> = { postgres: '5432', 'postgres-replica': '5432', chroma: '8000', ollama: '11434', redis: '6379' };
    for (const [name, s] of controllers) listens[name] = s.environment!.PORT!;
    for (const [name, s] of Object.entries(services)) {
      for (const [key, value] of Object.entries(s.environment ?? {})) {
        const host = /^[a-z]+:\/\/(?:[^@/]*@)?([a-z0-9-]+):(\d+)/.exec(String(value));
        if (host) expect(host[2], `${name} ${key}`).toBe(listens[host[1]!]);
      }
      for (const p of s.ports ?? []) {
        const container = p.split(':').pop()!;
        if (name === 'nginx') expect(read('nginx.conf')).toMatch(new RegExp(`listen ${container};`));
        else expect(container, `${name} publishes ${p}`).toBe(listens[name]);
      }
    }
    const nginx = read('nginx.conf');
    expect(nginx).toMatch(/upstream sekha_api \{\s*least_conn;/);
    const upstreams = [...nginx.matchAll(/^\s*server ([a-z0-9-]+):(\d+)/gm)].map((m) => [m[1]!, m[2]!]);
    const apis = controllers.filter(([, s]) => s.command!.includes('api')).map(([n]) => n);
    expect(upstreams.map(([h]) => h).sort()).toEqual(apis.sort());
    for (const [host, port] of upstreams as [string, string][]) {
      expect(services[host]!.expose).toContain(port);
      expect(services[host]!.environment!.PORT).toBe(port);
    }
    expect(services.nginx!.volumes!.some((v) => v.startsWith('./nginx.conf:'))).toBe(true);
  });

  it('controllers get a configuration the loader accepts (non-loopback bind with keys, trusted proxy = the network)', () => {
    const [, api] = controllers[0]!;
    const env = Object.fromEntries(
      Object.entries(api.environment!).map(([k, v]) => [k, String(v).replace(/\$\{SEKHA_API_KEYS:\?[^}]*\}/, `ci:${'k'.repeat(40)}:read`).replace(/\$\{(\w+):-([^}]*)\}/g, '$2')]),
    );
    const config = resolveConfig(undefined, env)._unsafeUnwrap();
    expect(config.api.keys).toHaveLength(1);
    expect(config.server.trusted_proxies).toEqual([(compose.networks.sekha as { ipam: { config: { subnet: string }[] } }).ipam.config[0]!.subnet]);
    expect(config.database.read_url).toContain('postgres-replica');
    expect(api.build!.dockerfile).toBe('infra/Dockerfile');
    expect(existsSync(join(infra, '..', api.build!.dockerfile))).toBe(true);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  it('is multi-stage, runs as a non-root user, and starts the sekha bin', () => {
    expect(dockerfile.match(/^FROM /gm)!.length).toBeGreaterThanOrEqual(2);
    const lastStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(lastStage).toMatch(/^USER (?!root)\w+/m);
    expect(lastStage).toContain('ENTRYPOINT ["node", "bin/sekha.mjs"]');
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(?:--\S+ )*(.+) \S+$/gm)) {
      for (const source of m[1]!.split(' ')) expect(existsSync(join(root, source)), `COPY ${source}`).toBe(true);
    }
  });
});

describe('Kubernetes manifests', () => {
  const docs = readdirSync(join(infra, 'k8s'))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(read('k8s', f)).map((d) => d.toJS() as any));
  const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
  const deployments = byKind('Deployment');

  it('has API and projector Deployments, a Service, an HPA on CPU, a ConfigMap and a Secret', () => {
    expect(deployments.map((d) => d.spec.template.spec.containers[0].args.join(' ')).sort()).toEqual(['serve --role api', 'serve --role projector']);
    for (const kind of ['Service', 'HorizontalPodAutoscaler', 'ConfigMap', 'Secret']) expect(byKind(kind).length, kind).toBeGreaterThan(0);
  });

  it('Service selectors and targetPorts match a Deployment’s pods and container ports', () => {
    for (const svc of byKind('Service')) {
      const target = deployments.find((d) => Object.entries(svc.spec.selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v));
      expect(target, svc.metadata.name).toBeDefined();
      const ports = target.spec.template.spec.containers.flatMap((c: any) => c.ports);
      for (const p of svc.spec.ports) {
        expect(ports.some((cp: any) => cp.name === p.targetPort || cp.containerPort === p.targetPort), `${svc.metadata.name} → ${p.targetPort}`).toBe(true);
      }
    }
  });

  it('Deployments select their own pods, probe named ports, and reference existing ConfigMaps and Secrets', () => {
    for (const d of deployments) {
      for (const [k, v] of Object.entries(d.spec.selector.matchLabels)) expect(d.spec.template.metadata.labels[k]).toBe(v);
      const pod = d.spec.template.spec;
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      for (const c of pod.containers) {
        const portNames = c.ports.map((p: any) => p.name);
        for (const probe of [c.readinessProbe, c.livenessProbe]) expect(portNames).toContain(probe.httpGet.port);
        expect(c.readinessProbe.httpGet.path).toBe('/ready');
        for (const from of c.envFrom ?? []) expect(byKind('Secret').map((s) => s.metadata.name)).toContain(from.secretRef.name);
      }
      for (const v of pod.volumes.filter((v: any) => v.configMap)) expect(byKind('ConfigMap').map((c) => c.metadata.name)).toContain(v.configMap.name);
      // The grace period outlasts the server's own shutdown grace.
      const toml = parseToml(byKind('ConfigMap')[0].data['config.toml']) as { server: { shutdown_grace_ms: number } };
      expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(toml.server.shutdown_grace_ms);
    }
  });

  it('the HPA scales the API Deployment on CPU; the ConfigMap’s config.toml is valid', () => {
    const [hpa] = byKind('HorizontalPodAutoscaler');
    const api = deployments.find((d) => d.metadata.name === hpa.spec.scaleTargetRef.name);
    expect(api.spec.template.spec.containers[0].args).toContain('api');
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
    const keys = (byKind('Secret')[0].stringData.SEKHA_API_KEYS as string).replace('CHANGE_ME_TO_A_KEY_OF_32_OR_MORE_CHARACTERS', 'k'.repeat(40));
    expect(resolveConfig(byKind('ConfigMap')[0].data['config.toml'], { SEKHA_API_KEYS: keys }).isOk()).toBe(true);
  });
});
