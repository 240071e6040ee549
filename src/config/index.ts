export * from './errors';
export * from './load';
export * from './plan';
export * from './props';
export * from './schema';
export * from './warnings';
