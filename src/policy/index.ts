export * from './squid-conf';
