// rpcd's `uci` object over the model: per-session deltas (uci-store.ts), the apply state machine
// (uci-apply.ts), and rpcd's own config ACL on top of uhttpd's ubus ACL: reading a config needs
// `uci/<config>/read`, changing it `uci/<config>/write`, else [6].
import { UBUS, type OpenWrtModel, type UbusContext, type UbusObject, type UbusReply } from '../model.js';

type Mode = 'read' | 'write';

function withConfig(model: OpenWrtModel, mode: Mode, run: (ctx: UbusContext, config: string, args: Record<string, unknown>) => UbusReply, counted = false) {
  return (ctx: UbusContext, args: Record<string, unknown>): UbusReply => {
    if (typeof args.config !== 'string') return { status: UBUS.INVALID_ARGUMENT };
    if (!ctx.access('uci', args.config, mode)) return { status: UBUS.PERMISSION_DENIED };
    if (counted) model.writes++;
    return run(ctx, args.config, args);
  };
}

export function uciObject(model: OpenWrtModel): UbusObject {
  const { uci, apply } = model;
  const get = withConfig(model, 'read', (ctx, config, args) => uci.get(ctx.sid, config, args));
  const selector = { section: 'string', type: 'string', match: 'object' } as const;
  return {
    configs: { args: {}, handler: () => ({ status: UBUS.OK, data: { configs: uci.packageNames() } }) },
    get: { args: { config: 'string', ...selector, option: 'string' }, handler: get },
    state: { args: { config: 'string', ...selector, option: 'string' }, handler: get },
    add: { args: { config: 'string', type: 'string', name: 'string', values: 'object' }, handler: withConfig(model, 'write', (ctx, config, args) => uci.add(ctx.sid, config, args), true) },
    set: { args: { config: 'string', ...selector, values: 'object' }, handler: withConfig(model, 'write', (ctx, config, args) => uci.set(ctx.sid, config, args), true) },
    delete: { args: { config: 'string', ...selector, option: 'string', options: 'array' }, handler: withConfig(model, 'write', (ctx, config, args) => uci.delete(ctx.sid, config, args), true) },
    rename: { args: { config: 'string', section: 'string', option: 'string', name: 'string' }, handler: withConfig(model, 'write', (ctx, config, args) => uci.rename(ctx.sid, config, args), true) },
    order: { args: { config: 'string', sections: 'array' }, handler: withConfig(model, 'write', (ctx, config, args) => uci.order(ctx.sid, config, args), true) },
    changes: {
      args: { config: 'string' },
      handler: (ctx, args) => {
        if (args.config === undefined) return uci.changes(ctx.sid, null, (config) => ctx.access('uci', config, 'read'));
        if (typeof args.config !== 'string') return { status: UBUS.INVALID_ARGUMENT };
        if (!ctx.access('uci', args.config, 'read')) return { status: UBUS.PERMISSION_DENIED };
        return uci.changes(ctx.sid, args.config, () => true);
      },
    },
    revert: {
      args: { config: 'string' },
      handler: withConfig(model, 'write', (ctx, config) => {
        if (apply.pending) return { status: UBUS.PERMISSION_DENIED };
        if (!uci.hasPackage(config)) return { status: UBUS.NOT_FOUND };
        uci.revert(ctx.sid, config);
        return { status: UBUS.OK };
      }),
    },
    commit: {
      args: { config: 'string' },
      handler: withConfig(model, 'write', (ctx, config) => {
        if (apply.pending) return { status: UBUS.PERMISSION_DENIED };
        if (!uci.hasPackage(config)) return { status: UBUS.NOT_FOUND };
        uci.commit(ctx.sid, config);
        return { status: UBUS.OK };
      }),
    },
    apply: { args: { rollback: 'boolean', timeout: 'number' }, handler: (ctx, args) => ({ status: apply.apply(ctx.sid, args) }) },
    confirm: { args: {}, handler: (ctx) => ({ status: apply.confirm(ctx.sid) }) },
    rollback: { args: {}, handler: (ctx) => ({ status: apply.rollback(ctx.sid) }) },
    reload_config: {
      args: {},
      handler: () => {
        for (const config of uci.packageNames()) model.runtime.configChanged(config);
        return { status: UBUS.OK };
      },
    },
  };
}
