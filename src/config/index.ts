export * from './errors';
export * from './load';
export * from './plan';
export * from './schema';
