// `egresshub diff`: what deploying a new config does to the stacks of the old one, and whether it
// replaces anything users hold (the resource gateway, resource configurations, endpoints, IPs, the VPC).
export * from './diff';
export * from './protected';
export * from './snapshot';
export * from './refused';
export * from './assembly';
export * from './deployed';
export * from './hub-changes';
