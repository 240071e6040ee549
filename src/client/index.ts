// Client side of egresshub: the proxy environment of a project server and the ways to install it
// (setup script, SSM document + State Manager association, launch-template user data).
export * from './client-proxy-setup';
export * from './env';
export * from './setup-script';
