export * from './egress-hub';
export * from './hub-stack';
export * from './proxy-fleet';
export * from './user-data';
