// Chinese and English. Every visible word of the page goes through t(); the daemon's own
// messages (reasons, errors) are shown as the daemon wrote them, beside our translation of
// their code.
const dict = {
  zh: {
    title: '分拣台', station: '工位屏', dashboard: '看板', search: '包裹查询', actions: '操作',
    live: '实时', stale: '数据过期', staleLong: '没有实时数据', reason: '原因',
    login: '登录', logout: '退出', user: '用户名', password: '密码', loggedInAs: '已登录',
    notLoggedIn: '未登录(只读)', role: '角色', cancel: '取消',
    lane: '格口', courier: '快递', waiting: '等待包裹…', lastParcels: '最近包裹',
    reprint: '补打面单', reprintLast: '补打上一件', soundOn: '声音已开', soundOff: '开启声音',
    ok: '正常', exception: '异常', overflow: '溢出格口', attempt: '第{n}次',
    order: '订单', codes: '条码', weight: '重量', time: '时间', parcel: '包裹',
    throughput: '每小时处理量', readRate: '读码率', exceptionRate: '异常率',
    decided: '已分拣', diverted: '已落格', exceptions: '异常', inFlight: '在途',
    latency: '决策延迟', p50: '中位', p99: 'P99', recirculated: '回流', labels: '面单',
    lanes: '格口', couriers: '快递容量', devices: '设备状态', alarms: '报警', noAlarms: '无报警',
    ack: '确认', acked: '已确认', by: '由', exceptionsByReason: '异常原因',
    used: '已用', left: '剩余', unlimited: '不限', cutoff: '截单', toCutoff: '距截单',
    cutoffPassed: '已过截单', up: '在线', down: '离线', since: '自',
    state_open: '开放', state_full: '已满', state_no_bag: '待换袋', state_disabled: '已停用', state_exception: '异常口',
    kind_courier: '快递', kind_overflow: '溢出', kind_exception: '异常',
    degraded: '降级运行:分拣机离线,请按面单人工分拣',
    searchHint: '扫描或输入任意条码、订单号或包裹号', searchBtn: '查询', byCode: '条码',
    byOrder: '订单号', byParcel: '包裹号', notFound: '没有找到', trace: '全程追踪',
    reads: '读码', decisions: '决策', labelJobs: '面单任务', sortCommands: '分拣指令',
    confirmations: '落格确认', ranked: '候选快递排名', excluded: '排除的快递', score: '得分',
    capacity: '容量', region: '区域', price: '价格', preferred: '指定', cost: '运费', why: '为什么落选', winner: '选中',
    lostBy: '得分低 {d}(主要差在{k})', rule: '规则', noRead: '未读到',
    labelPreview: '面单预览', labelPreviewNone: '未选定快递,没有快递面单', labelZoom: '点击放大/缩小', labelSource: '打印机指令({lang})',
    acked_at: '确认于', sent: '发出', outcome: '结果', printer: '打印机', destination: '目的地',
    orderNone: '没有匹配的订单(未知条码)', state: '状态',
    laneActions: '格口操作', enable: '启用', disable: '停用', reassign: '改派给', reassignDo: '改派',
    closeBag: '封袋', manifests: '交接清单', handoverScan: '交接扫袋', bagId: '袋号', closeManifest: '关闭清单', picked: '已交接', sorted: '已分拣', issues: '异常', reprintBy: '补打(包裹号或条码)', planTitle: '分拣方案',
    planConfig: '方案文件(守护进程所在机器上的路径)', planRecord: '录制文件(用于试运行)',
    dryRun: '试运行', activate: '启用方案', confirmActivate: '确定启用这个分拣方案吗?',
    orderActions: '订单拦截', orderCancel: '取消订单', orderHold: '暂停', orderRelease: '恢复',
    result: '结果', done: '完成', refused: '被拒绝', needsRole: '需要角色:{r}',
    changed: '变化的包裹', events: '事件', before: '之前', after: '之后', audit: '操作日志',
    refresh: '刷新', language: 'English', perHour: '件/小时', parcels: '件',
    staleBanner: '数据过期 — 没有实时数据', min: '分钟', now: '现在', unknown: '未知',
    degradedShort: '降级', noData: '暂无数据', of: '/', fill: '装袋', kg: '千克',
    reports: '报表', reportChart: '各时段包裹量', reportPeriods: '按时段', reportCouriers: '按快递',
    reportCapacity: '快递容量使用', reportLanes: '按格口', reportPeriod: '周期', perHourShort: '按小时',
    perDay: '按天', reportFrom: '从', reportTo: '到', reportLoad: '生成报表', reportCsv: '导出 CSV',
    reportParcels: '包裹数', sorted: '已分拣到快递', recirculationRate: '回流率', missorts: '交接错分',
    notTaken: '未取走', notOnManifest: '不在交接单', reportPeriodCol: '时段', total: '合计',
    noCourier: '(无快递:异常)', day: '日期',
  },
  en: {
    title: 'Sort station', station: 'Station', dashboard: 'Dashboard', search: 'Parcel search',
    actions: 'Actions', live: 'LIVE', stale: 'STALE', staleLong: 'no live data',
    reason: 'reason', login: 'Log in', logout: 'Log out', user: 'User', password: 'Password',
    loggedInAs: 'Logged in', notLoggedIn: 'Not logged in (view only)', role: 'role',
    cancel: 'Cancel', lane: 'Lane', courier: 'Courier', waiting: 'Waiting for a parcel…',
    lastParcels: 'Last parcels', reprint: 'Reprint', reprintLast: 'Reprint last label',
    soundOn: 'Sound on', soundOff: 'Turn sound on', ok: 'OK', exception: 'Exception',
    overflow: 'overflow lane', attempt: 'attempt {n}', order: 'Order', codes: 'Codes',
    weight: 'Weight', time: 'Time', parcel: 'Parcel', throughput: 'Parcels per hour',
    readRate: 'Read rate', exceptionRate: 'Exception rate', decided: 'Decided',
    diverted: 'Diverted', exceptions: 'Exceptions', inFlight: 'In flight',
    latency: 'Decision latency', p50: 'p50', p99: 'p99', recirculated: 'Recirculated',
    labels: 'Labels', lanes: 'Lanes', couriers: 'Courier capacity', devices: 'Devices',
    alarms: 'Alarms', noAlarms: 'No alarms', ack: 'Acknowledge', acked: 'acknowledged',
    by: 'by', exceptionsByReason: 'Exceptions by reason', used: 'used', left: 'left',
    unlimited: 'no limit', cutoff: 'cutoff', toCutoff: 'to cutoff', cutoffPassed: 'cutoff passed',
    up: 'up', down: 'down', since: 'since', state_open: 'open', state_full: 'full', state_no_bag: 'no bag',
    state_disabled: 'disabled', state_exception: 'exception', kind_courier: 'courier',
    kind_overflow: 'overflow', kind_exception: 'exception',
    degraded: 'Degraded: the sorter is away — sort by hand from the label',
    searchHint: 'Scan or type any code, order id or parcel id', searchBtn: 'Search',
    byCode: 'Code', byOrder: 'Order id', byParcel: 'Parcel id', notFound: 'Not found',
    trace: 'Full trace', reads: 'Reads', decisions: 'Decisions', labelJobs: 'Label jobs',
    sortCommands: 'Sort commands', confirmations: 'Confirmations',
    ranked: 'Ranked couriers', excluded: 'Excluded couriers', score: 'score',
    capacity: 'capacity', region: 'region', price: 'price', preferred: 'preferred', cost: 'cost', why: 'Why it lost',
    winner: 'chosen', lostBy: 'scored {d} lower (mostly {k})', rule: 'rule', noRead: 'no read',
    labelPreview: 'Label preview',
    labelPreviewNone: 'No courier was chosen: there is no courier label', labelZoom: 'Click to zoom in or out',
    labelSource: 'Printer code ({lang})',
    acked_at: 'acknowledged', sent: 'sent', outcome: 'outcome', printer: 'printer',
    destination: 'Destination', orderNone: 'No order matches (unknown code)', state: 'State',
    laneActions: 'Lanes', enable: 'Enable', disable: 'Disable', reassign: 'Reassign to', reassignDo: 'Reassign',
    closeBag: 'Close bag', manifests: 'Manifests', handoverScan: 'Handover scan', bagId: 'Bag id', closeManifest: 'Close manifest', picked: 'picked up', sorted: 'sorted', issues: 'issues', reprintBy: 'Reprint (parcel id or code)', planTitle: 'Sort plan',
    planConfig: "Plan file (a path on the daemon's machine)",
    planRecord: 'Recorded events (for the dry run)', dryRun: 'Dry run', activate: 'Activate',
    confirmActivate: 'Activate this sort plan now?', orderActions: 'Orders',
    orderCancel: 'Cancel order', orderHold: 'Hold', orderRelease: 'Release', result: 'Result',
    done: 'Done', refused: 'Refused', needsRole: 'needs role: {r}', changed: 'parcels changed',
    events: 'events', before: 'before', after: 'after', audit: 'Audit log', refresh: 'Refresh',
    language: '中文', perHour: 'parcels/h', parcels: 'parcels',
    staleBanner: 'STALE — no live data', min: 'min', now: 'now', unknown: 'unknown',
    degradedShort: 'degraded', noData: 'no data yet', of: '/', fill: 'bag', kg: 'kg',
    reports: 'Reports', reportChart: 'Parcels per period', reportPeriods: 'By period',
    reportCouriers: 'By courier', reportCapacity: 'Courier capacity used', reportLanes: 'By lane',
    reportPeriod: 'Period', perHourShort: 'per hour', perDay: 'per day', reportFrom: 'From',
    reportTo: 'To', reportLoad: 'Run report', reportCsv: 'Export CSV', reportParcels: 'Parcels',
    sorted: 'Sorted to a courier', recirculationRate: 'Recirculation rate',
    missorts: 'Missorts at handover', notTaken: 'Not taken', notOnManifest: 'Not on manifest',
    reportPeriodCol: 'Period', total: 'Total', noCourier: '(no courier: exception)', day: 'Day',
  },
};

// Exception codes of the daemon (docs/protocol.md) in words.
const exceptions = {
  zh: {
    none: '正常', no_read: '未读到条码', unknown_code: '条码无对应订单', multi_read: '一次读到两件包裹',
    duplicate: '重复:包裹已分拣过', cancelled: '订单已取消', held: '订单已暂停',
    no_eligible_courier: '没有快递可以承运', wait_next_wave: '已过截单,等下一波次',
    recirculation_limit: '回流次数过多', rejected: '分拣机拒收', lost: '分拣机丢失包裹',
    degraded: '分拣机离线,人工分拣',
  },
  en: {
    none: 'OK', no_read: 'No read: no barcode could be read',
    unknown_code: 'Unknown code: matches no order', multi_read: 'Multi-read: two parcels in one read',
    duplicate: 'Duplicate: already sorted', cancelled: 'Order cancelled', held: 'Order on hold',
    no_eligible_courier: 'No courier can take it',
    wait_next_wave: "Cutoff passed: waits for tomorrow's wave",
    recirculation_limit: 'Recirculated too often', rejected: 'Rejected by the sorter',
    lost: 'Lost by the sorter', degraded: 'Sorter away: sort by hand',
  },
};

const errors = {
  zh: {
    unauthenticated: '需要登录', forbidden: '权限不足', login_failed: '用户名或密码错误',
    rate_limited: '登录失败太多次,请稍候', not_found: '不存在', not_implemented: '暂不可用',
    bad_value: '参数错误', missing_field: '缺少参数', wrong_type: '参数类型错误',
    config_error: '配置文件有错误', conflict: '当前状态不允许', io_error: '文件写入失败', daemon_unreachable: '连不上守护进程', internal: '内部错误',
  },
  en: {
    unauthenticated: 'Login needed', forbidden: 'Not allowed for your role',
    login_failed: 'Wrong user name or password', rate_limited: 'Too many failed logins: wait',
    not_found: 'Not found', not_implemented: 'Not available yet', bad_value: 'Bad value',
    missing_field: 'Missing field', wrong_type: 'Wrong type', config_error: 'Configuration errors', conflict: 'Not possible now', io_error: 'A file could not be written',
    daemon_unreachable: 'The daemon is not reachable', internal: 'Internal error',
  },
};

let lang = (typeof localStorage !== 'undefined' && localStorage.getItem('sortd.lang')) || 'zh';
const listeners = [];

export function getLang() { return lang; }
export function setLang(l) {
  lang = l === 'en' ? 'en' : 'zh';
  try { localStorage.setItem('sortd.lang', lang); } catch { /* private mode */ }
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  listeners.forEach((f) => f(lang));
}
export function onLang(f) { listeners.push(f); }

export function t(key, vars) {
  let s = dict[lang][key] ?? dict.en[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, v);
  return s;
}
export function tException(code) {
  return exceptions[lang][code] ?? exceptions.en[code] ?? code;
}
export function tError(code) {
  return errors[lang][code] ?? errors.en[code] ?? code;
}
