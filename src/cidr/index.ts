// CIDR planning: parse an inventory, find overlaps and Transit Gateway readiness, allocate new blocks.
export * from './allocate';
export * from './analyze';
export * from './aws';
export * from './block';
export * from './inventory';
