export * from './egress-hub';
export * from './hub-stack';
export * from './proxy-fleet';
export * from './user-data';
export * from './tenant-endpoints';
export * from './tenants-stack';
export * from './domain-verification';
export * from './observability';
