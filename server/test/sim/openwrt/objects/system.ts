// procd's `system board` / `system info`: the release version is what the driver gates on.
import { UBUS, type OpenWrtModel, type UbusObject } from '../model.js';

export function systemObject(model: OpenWrtModel): UbusObject {
  return {
    board: {
      args: {},
      handler: () => {
        const { board, version } = model;
        const description = `OpenWrt ${version} ${board.revision}`;
        return {
          status: UBUS.OK,
          data: {
            kernel: board.kernel,
            hostname: board.hostname,
            system: 'Intel(R) Xeon(R) CPU',
            model: board.model,
            board_name: board.boardName,
            rootfs_type: 'squashfs',
            release: { distribution: 'OpenWrt', version, revision: board.revision, codename: version === 'SNAPSHOT' ? 'SNAPSHOT' : 'ok', target: board.target, description, builddate: '1786000000' },
          },
        };
      },
    },
    info: {
      args: {},
      handler: () => ({
        status: UBUS.OK,
        data: { localtime: model.clock.now(), uptime: model.clock.now() - 1_786_400_000 + 120, load: [2048, 1024, 512], memory: { total: 249_446_400, free: 180_000_000, shared: 90_000, buffered: 4_000_000, available: 190_000_000, cached: 20_000_000 }, root: { total: 102_400, free: 90_000, used: 12_400, avail: 90_000 }, tmp: { total: 121_800, free: 121_000, used: 800, avail: 121_000 }, swap: { total: 0, free: 0 } },
      }),
    },
  };
}
