export * from './access-log';
export * from './report';
export * from './render';
export * from './sources';
