export * from './squid-conf';
export * from './log-daemon';
