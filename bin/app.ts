// CDK app entry for `npx cdk synth|deploy`: reads the config named by the `config` context value
// (default ./egresshub.yaml) and builds the hub and spoke stacks from its plan.
import { App } from 'aws-cdk-lib';
import { buildPlan, DEFAULT_CONFIG_FILE, loadConfigFile } from '../src/config';
import { buildApp } from '../src/app';

// A throwaway App only to read context (-c config=FILE, -c egresshub:resourceConfigurationArn:<tenant>=ARN).
const probe = new App({ autoSynth: false });
const configFile: unknown = probe.node.tryGetContext('config');
const plan = buildPlan(loadConfigFile(typeof configFile === 'string' ? configFile : DEFAULT_CONFIG_FILE));
// The CDK CLI makes the lookups (the proxy image) with credentials and records them in cdk.context.json.
buildApp(plan, { liveLookups: true }).synth();
