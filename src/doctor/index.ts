// The doctor: checks a consumer host's path to its tenant proxy (see doctor.ts), and the pure NO_PROXY reading.
export * from './doctor';
export * from './no-proxy';
export * from './probes';
