import { EventEmitter } from 'eventemitter3';
import type { Position } from '../eventstore/index.js';
import type { ProjectorStatus } from './types.js';

/** A batch committed: the projector's checkpoint is now `position`. */
export interface ProgressEvent {
  name: string;
  version: number;
  position: Position;
  /** Events in the batch (including ones the projector skipped). */
  events: number;
}

export interface StatusEvent {
  name: string;
  version: number;
  status: ProjectorStatus;
  error?: string;
}

export interface SwitchEvent {
  name: string;
  from: number | undefined;
  to: number;
}

interface BusEvents {
  /** An append of this process committed (its last event's position): local projectors wake at once. */
  appended: [Position];
  progress: [ProgressEvent];
  status: [StatusEvent];
  switched: [SwitchEvent];
}

/** The in-process bus: appends committed here, projector progress; projectors, read-your-writes waiters and metrics listen. */
export type ProgressBus = EventEmitter<BusEvents>;

export const createProgressBus = (): ProgressBus => new EventEmitter<BusEvents>();
