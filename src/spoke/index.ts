export * from './egress-spoke';
export * from './spoke-stack';
export * from './template';
