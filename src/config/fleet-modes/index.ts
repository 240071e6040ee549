// The fleet modes, CDK-free: MODES is the one list. The config schema's enum, ProxyMode, the cost CLI's --fleet
// choices and the cost model's fleet derive from it; a mode is added by one file here (and its CDK side in
// src/hub/fleet-modes/), then the compiler names every Record<ProxyMode, …> and switch that must decide.
import type { FleetModeDescriptor } from './mode';
import { multiAz } from './multi-az';
import { nlb } from './nlb';
import { single } from './single';

export type { DrainKind, FleetModeDescriptor, LabRouting } from './mode';

/** Every fleet mode, in the order docs and choices list them. */
export const MODES = [single, multiAz, nlb] as const;

/** A fleet mode's name (hub.proxy.mode). */
export type ProxyMode = (typeof MODES)[number]['name'];

/** The mode a config without hub.proxy.mode gets. */
export const DEFAULT_PROXY_MODE: ProxyMode = multiAz.name;

/** The mode names, for the config schema's enum and the CLI's choices. */
export const PROXY_MODES = MODES.map((m) => m.name) as unknown as readonly [ProxyMode, ...ProxyMode[]];

const BY_NAME: Readonly<Record<ProxyMode, FleetModeDescriptor<ProxyMode>>> = Object.fromEntries(MODES.map((m) => [m.name, m])) as Record<
  ProxyMode,
  FleetModeDescriptor<ProxyMode>
>;

/** The descriptor of a mode. */
export function fleetMode(name: ProxyMode): FleetModeDescriptor<ProxyMode> {
  return BY_NAME[name];
}

/** The descriptor of a mode named by the user or a template, or undefined when no mode has that name. */
export function fleetModeNamed(name: string): FleetModeDescriptor<ProxyMode> | undefined {
  return MODES.find((m) => m.name === name);
}
