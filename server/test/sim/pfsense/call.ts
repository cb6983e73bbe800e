// One API call as the endpoint handlers see it, and the route table type.
import type { ApplyArea, PfSenseModel } from './model.js';
import type { ControlParameters, RequestData } from './request-data.js';

export interface Call {
  method: string;
  /** Request data without control parameters: an object, or an array for plural PUT. */
  data: RequestData;
  control: ControlParameters;
  model: PfSenseModel;
  /** Runs the area's apply now (async=false) or in the background. */
  requestApply(area: ApplyArea, async: boolean): void;
}

export type Handler = (call: Call) => unknown;
export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
export type Routes = Map<string, Partial<Record<Method, Handler>>>;

export function addRoute(routes: Routes, path: string, handlers: Partial<Record<Method, Handler>>): void {
  routes.set(path, { ...routes.get(path), ...handlers });
}
