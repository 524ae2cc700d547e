// Every visible string of the UI, in Vietnamese (default) and English, and the locale-aware
// formatting of times, numbers and durations. No DOM access at import time (the browser test
// imports this module in Node to check that both languages have the same keys).

const STORAGE_KEY = 'haidang.lang';
export const LANGS = ['vi', 'en'];

export const STRINGS = {
  vi: {
    'app.name': 'Hải Đăng',
    'skip': 'Chuyển đến nội dung chính',
    'nav.label': 'Điều hướng chính',
    'nav.search': 'Tìm kiếm',
    'nav.alerts': 'Cảnh báo',
    'nav.rules': 'Quy tắc',
    'nav.hosts': 'Máy chủ',
    'nav.audit': 'Nhật ký kiểm toán',
    'lang.label': 'Ngôn ngữ',
    'user.label': 'Người dùng: {user} ({role})',
    'role.admin': 'Quản trị viên',
    'role.analyst': 'Chuyên viên phân tích',
    'role.agency_viewer': 'Người xem theo cơ quan',
    'logout': 'Đăng xuất',
    'help.open': 'Phím tắt',
    'help.title': 'Phím tắt bàn phím',
    'help.slash': 'Đưa con trỏ vào ô truy vấn',
    'help.enter': 'Chạy tìm kiếm (trong ô truy vấn)',
    'help.esc': 'Thu gọn các dòng đang mở rộng, đóng hộp thoại',
    'help.arrows': 'Chuyển giữa các cột của biểu đồ; Enter để thu hẹp thời gian',
    'help.question': 'Mở bảng phím tắt này',
    'help.click': 'Alt/Shift + nhấp vào giá trị của trường: loại trừ giá trị đó',

    'login.title': 'Đăng nhập',
    'login.intro': 'Hệ thống giám sát an toàn thông tin của thành phố Hải Phòng.',
    'login.username': 'Tên đăng nhập',
    'login.password': 'Mật khẩu',
    'login.submit': 'Đăng nhập',
    'login.busy': 'Đang đăng nhập…',
    'login.failed': 'Sai tên đăng nhập hoặc mật khẩu.',
    'login.tooMany': 'Quá nhiều lần đăng nhập sai: tạm thời bị khóa. Hãy thử lại sau {minutes} phút.',
    'login.expired': 'Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại.',
    'login.loggedOut': 'Đã đăng xuất.',
    'login.required': 'Nhập tên đăng nhập và mật khẩu.',

    'loading': 'Đang tải…',
    'loadMore': 'Tải thêm',
    'refresh': 'Làm mới',
    'noResults': 'Không có kết quả.',
    'empty': '(trống)',
    'all': 'Tất cả',
    'filter': 'Lọc',
    'close': 'Đóng',
    'dash': '—',

    'err.network': 'Không kết nối được tới máy chủ Hải Đăng.',
    'err.forbidden': 'Bạn không có quyền thực hiện thao tác này.',
    'err.notFound': 'Không tìm thấy.',
    'err.timeout': 'Truy vấn vượt quá thời gian cho phép: hãy thu hẹp khoảng thời gian hoặc điều kiện.',
    'err.tooMany': 'Quá nhiều yêu cầu, hãy thử lại sau.',
    'err.badRequest': 'Yêu cầu không hợp lệ.',
    'err.server': 'Lỗi máy chủ ({status}).',
    'err.badResponse': 'Máy chủ trả về dữ liệu không đọc được.',

    'search.title': 'Tìm kiếm sự kiện',
    'search.query': 'Truy vấn',
    'search.placeholder': 'Ví dụ: sudo AND host:"web01"',
    'search.hint': 'Cú pháp: trường:giá trị, "cụm từ", ký tự đại diện ssh*, trường:[a TO b], AND / OR / NOT, (ngoặc). Từ không kèm trường được tìm trong dòng gốc. Phím / để nhập truy vấn.',
    'search.run': 'Tìm',
    'search.range': 'Khoảng thời gian',
    'range.now-15m': '15 phút qua',
    'range.now-1h': '1 giờ qua',
    'range.now-24h': '24 giờ qua',
    'range.now-7d': '7 ngày qua',
    'range.now-30d': '30 ngày qua',
    'range.custom': 'Tùy chỉnh…',
    'range.from': 'Từ',
    'range.to': 'Đến',
    'range.invalid': 'Khoảng thời gian không hợp lệ: cần cả "Từ" và "Đến", và "Từ" phải trước "Đến".',
    'search.export': 'Xuất NDJSON',
    'search.exporting': 'Đang xuất…',
    'search.exported': 'Đã xuất tệp {file}.',
    'search.summary': '{total} sự kiện · hiển thị {shown} · {took} ms',
    'search.none': 'Không có sự kiện nào trong khoảng thời gian này.',
    'search.results': 'Kết quả tìm kiếm',
    'search.histogram': 'Biểu đồ số sự kiện theo thời gian',
    'search.histogramHelp': 'Nhấp vào một cột (hoặc phím mũi tên rồi Enter) để thu hẹp khoảng thời gian.',
    'search.bar': '{start}: {count} sự kiện',
    'search.interval': 'mỗi cột {interval}',
    'search.max': 'tối đa {count}',
    'search.expand': 'Hiện chi tiết sự kiện',
    'search.details': 'Chi tiết',
    'search.openEvent': 'Mở sự kiện',
    'search.searchId': 'Tìm theo mã sự kiện',
    'search.filterFor': 'Lọc theo {field}: {value}',
    'search.filterOut': 'Loại trừ {field}: {value}',
    'search.fields': 'Trường',
    'search.fieldsHelp': 'Nhấp vào giá trị để lọc; Alt/Shift + nhấp hoặc nút − để loại trừ.',
    'search.other': 'giá trị khác: {count}',
    'search.noValues': 'Không có giá trị.',

    'field.id': 'Mã sự kiện',
    'field.timestamp': 'Thời gian',
    'field.host': 'Máy chủ',
    'field.agency': 'Cơ quan',
    'field.system': 'Hệ thống thông tin',
    'field.grade': 'Cấp độ',
    'field.source_type': 'Loại nguồn',
    'field.severity': 'Mức độ',
    'field.rule_id': 'Quy tắc',
    'field.rule_ids': 'Quy tắc khớp',
    'field.user.name': 'Người dùng',
    'field.source.ip': 'IP nguồn',
    'field.event.action': 'Hành động',
    'field.raw': 'Dòng gốc',

    'col.time': 'Thời gian',
    'col.host': 'Máy chủ',
    'col.agency': 'Cơ quan',
    'col.system': 'Hệ thống thông tin',
    'col.grade': 'Cấp độ',
    'col.sourceType': 'Loại nguồn',
    'col.severity': 'Mức độ',
    'col.raw': 'Dòng gốc',
    'col.level': 'Mức độ',
    'col.rule': 'Quy tắc',
    'col.count': 'Số lần',
    'col.firstSeen': 'Lần đầu',
    'col.lastSeen': 'Lần cuối',
    'col.status': 'Trạng thái',
    'col.assignee': 'Người được giao',
    'col.hits': 'Số lần khớp',
    'col.enabled': 'Kích hoạt',
    'col.kind': 'Loại',
    'col.tags': 'Nhãn',
    'col.id': 'Mã',
    'col.title': 'Tên quy tắc',
    'col.type': 'Kiểu nguồn',
    'col.connected': 'Kết nối',
    'col.lastActivity': 'Hoạt động lần cuối',
    'col.sourceTypes': 'Loại nguồn',
    'col.user': 'Người dùng',
    'col.address': 'Địa chỉ',
    'col.action': 'Hành động',
    'col.target': 'Đối tượng',
    'col.detail': 'Chi tiết',
    'col.comment': 'Ghi chú',
    'col.path': 'Tệp',
    'col.reason': 'Lý do',
    'col.ruleId': 'Mã quy tắc',
    'col.groupKey': 'Khóa gộp',

    'sev.informational': 'Thông tin',
    'sev.low': 'Thấp',
    'sev.medium': 'Trung bình',
    'sev.high': 'Cao',
    'sev.critical': 'Nghiêm trọng',
    'status.new': 'Mới',
    'status.acknowledged': 'Đã xác nhận',
    'status.assigned': 'Đã giao',
    'status.closed': 'Đã đóng',

    'event.title': 'Sự kiện',
    'event.notFound': 'Không tìm thấy sự kiện này, hoặc sự kiện không thuộc cơ quan của bạn.',
    'event.back': 'Về trang tìm kiếm',
    'event.fields': 'Các trường của sự kiện',

    'alerts.title': 'Cảnh báo',
    'alerts.filters': 'Bộ lọc cảnh báo',
    'alerts.rulePlaceholder': 'Mã hoặc tên quy tắc',
    'alerts.agencyPlaceholder': 'Tên cơ quan',
    'alerts.none': 'Không có cảnh báo nào khớp bộ lọc.',
    'alerts.shown': '{count} cảnh báo',
    'alert.title': 'Cảnh báo #{id}',
    'alert.back': 'Về danh sách cảnh báo',
    'alert.details': 'Thông tin',
    'alert.triage': 'Xử lý cảnh báo',
    'alert.comment': 'Ghi chú',
    'alert.commentHint': 'Ghi chú kèm theo thao tác (không bắt buộc, trừ khi chỉ thêm ghi chú).',
    'alert.assignee': 'Giao cho người dùng',
    'alert.needAssignee': 'Nhập tên người dùng được giao.',
    'alert.needComment': 'Nhập nội dung ghi chú.',
    'alert.statusLine': 'Trạng thái: {status}',
    'alert.assignedTo': 'Người được giao: {user}',
    'alert.done': 'Đã thực hiện "{action}". Trạng thái: {status}.',
    'alert.history': 'Lịch sử xử lý',
    'alert.noHistory': 'Chưa có thao tác nào.',
    'alert.events': 'Sự kiện khớp ({count})',
    'alert.noEvents': 'Không có sự kiện nào được lưu kèm cảnh báo.',
    'alert.searchEvents': 'Mở các sự kiện này trong Tìm kiếm',
    'alert.notFound': 'Không tìm thấy cảnh báo này, hoặc cảnh báo không thuộc cơ quan của bạn.',
    'alert.readOnly': 'Tài khoản xem theo cơ quan chỉ được xem, không được xử lý cảnh báo.',
    'action.acknowledge': 'Xác nhận',
    'action.assign': 'Giao cho',
    'action.close': 'Đóng',
    'action.reopen': 'Mở lại',
    'action.comment': 'Thêm ghi chú',

    'rules.title': 'Quy tắc phát hiện',
    'rules.summary': '{count} quy tắc đã nạp, {enabled} đang bật',
    'rules.failures': 'Quy tắc không nạp được ({count})',
    'rules.noFailures': 'Mọi tệp quy tắc đều nạp thành công.',
    'rules.filter': 'Lọc quy tắc',
    'rules.on': 'Đang bật',
    'rules.off': 'Đang tắt',
    'rules.toggle': 'Bật/tắt quy tắc: {title}',
    'rules.readOnly': 'Chỉ quản trị viên được bật/tắt quy tắc.',
    'kind.detection': 'Phát hiện',
    'kind.correlation': 'Tương quan',

    'hosts.title': 'Máy chủ và nguồn nhật ký',
    'hosts.summary': '{count} máy chủ, {connected} tác tử đang kết nối',
    'hosts.filter': 'Lọc máy chủ',
    'hosts.agent': 'Tác tử (agent)',
    'hosts.syslog': 'Syslog',
    'hosts.connected': 'Đang kết nối',
    'hosts.disconnected': 'Mất kết nối',
    'hosts.searchHost': 'Tìm sự kiện của {host}',

    'audit.title': 'Nhật ký kiểm toán',
    'audit.adminOnly': 'Chỉ quản trị viên được xem nhật ký kiểm toán.',
    'audit.filter': 'Lọc nhật ký',
    'audit.limit': 'Số bản ghi',
    'audit.shown': '{count} bản ghi',
    'act.login': 'Đăng nhập',
    'act.login_failed': 'Đăng nhập thất bại',
    'act.logout': 'Đăng xuất',
    'act.search': 'Tìm kiếm',
    'act.view_event': 'Xem sự kiện',
    'act.export': 'Xuất dữ liệu',
    'act.acknowledge': 'Xác nhận',
    'act.assign': 'Giao cho',
    'act.close': 'Đóng',
    'act.reopen': 'Mở lại',
    'act.comment': 'Ghi chú',
    'act.rule_enable': 'Bật quy tắc',
    'act.rule_disable': 'Tắt quy tắc',
    'act.create': 'Tạo cảnh báo',
    'act.created': 'Tạo cảnh báo',
  },
  en: {
    'app.name': 'Hải Đăng',
    'skip': 'Skip to main content',
    'nav.label': 'Main navigation',
    'nav.search': 'Search',
    'nav.alerts': 'Alerts',
    'nav.rules': 'Rules',
    'nav.hosts': 'Hosts',
    'nav.audit': 'Audit log',
    'lang.label': 'Language',
    'user.label': 'User: {user} ({role})',
    'role.admin': 'Administrator',
    'role.analyst': 'Analyst',
    'role.agency_viewer': 'Agency viewer',
    'logout': 'Log out',
    'help.open': 'Keyboard shortcuts',
    'help.title': 'Keyboard shortcuts',
    'help.slash': 'Focus the query bar',
    'help.enter': 'Run the search (in the query bar)',
    'help.esc': 'Collapse expanded rows, close dialogs',
    'help.arrows': 'Move between histogram bars; Enter narrows the time range',
    'help.question': 'Open this list of shortcuts',
    'help.click': 'Alt/Shift-click a field value: exclude that value',

    'login.title': 'Log in',
    'login.intro': 'Security monitoring of the Hai Phong city estate.',
    'login.username': 'User name',
    'login.password': 'Password',
    'login.submit': 'Log in',
    'login.busy': 'Logging in…',
    'login.failed': 'Wrong user name or password.',
    'login.tooMany': 'Too many failed attempts: login is locked for now. Try again in {minutes} minutes.',
    'login.expired': 'Your session has expired. Please log in again.',
    'login.loggedOut': 'Logged out.',
    'login.required': 'Enter your user name and password.',

    'loading': 'Loading…',
    'loadMore': 'Load more',
    'refresh': 'Refresh',
    'noResults': 'No results.',
    'empty': '(empty)',
    'all': 'All',
    'filter': 'Filter',
    'close': 'Close',
    'dash': '—',

    'err.network': 'Cannot reach the Hải Đăng server.',
    'err.forbidden': 'You are not allowed to do this.',
    'err.notFound': 'Not found.',
    'err.timeout': 'The query ran past its time limit: narrow the time range or the query.',
    'err.tooMany': 'Too many requests; try again later.',
    'err.badRequest': 'Bad request.',
    'err.server': 'Server error ({status}).',
    'err.badResponse': 'The server sent a response that cannot be read.',

    'search.title': 'Event search',
    'search.query': 'Query',
    'search.placeholder': 'e.g. sudo AND host:"web01"',
    'search.hint': 'Syntax: field:value, "phrases", wildcards ssh*, field:[a TO b], AND / OR / NOT, (parentheses). Bare words search the raw line. Press / to type a query.',
    'search.run': 'Search',
    'search.range': 'Time range',
    'range.now-15m': 'Last 15 minutes',
    'range.now-1h': 'Last hour',
    'range.now-24h': 'Last 24 hours',
    'range.now-7d': 'Last 7 days',
    'range.now-30d': 'Last 30 days',
    'range.custom': 'Custom…',
    'range.from': 'From',
    'range.to': 'To',
    'range.invalid': 'Invalid time range: both "From" and "To" are needed, and "From" must come first.',
    'search.export': 'Export NDJSON',
    'search.exporting': 'Exporting…',
    'search.exported': 'Exported {file}.',
    'search.summary': '{total} events · showing {shown} · {took} ms',
    'search.none': 'No events in this time range.',
    'search.results': 'Search results',
    'search.histogram': 'Events over time',
    'search.histogramHelp': 'Click a bar (or use the arrow keys and Enter) to narrow the time range.',
    'search.bar': '{start}: {count} events',
    'search.interval': '{interval} per bar',
    'search.max': 'max {count}',
    'search.expand': 'Show event details',
    'search.details': 'Details',
    'search.openEvent': 'Open event',
    'search.searchId': 'Search by event id',
    'search.filterFor': 'Filter for {field}: {value}',
    'search.filterOut': 'Filter out {field}: {value}',
    'search.fields': 'Fields',
    'search.fieldsHelp': 'Click a value to filter for it; Alt/Shift-click or the − button to exclude it.',
    'search.other': 'other values: {count}',
    'search.noValues': 'No values.',

    'field.id': 'Event id',
    'field.timestamp': 'Time',
    'field.host': 'Host',
    'field.agency': 'Agency',
    'field.system': 'Information system',
    'field.grade': 'Grade',
    'field.source_type': 'Source type',
    'field.severity': 'Severity',
    'field.rule_id': 'Rule',
    'field.rule_ids': 'Matched rules',
    'field.user.name': 'User',
    'field.source.ip': 'Source IP',
    'field.event.action': 'Action',
    'field.raw': 'Raw line',

    'col.time': 'Time',
    'col.host': 'Host',
    'col.agency': 'Agency',
    'col.system': 'Information system',
    'col.grade': 'Grade',
    'col.sourceType': 'Source type',
    'col.severity': 'Severity',
    'col.raw': 'Raw line',
    'col.level': 'Level',
    'col.rule': 'Rule',
    'col.count': 'Count',
    'col.firstSeen': 'First seen',
    'col.lastSeen': 'Last seen',
    'col.status': 'Status',
    'col.assignee': 'Assignee',
    'col.hits': 'Hits',
    'col.enabled': 'Enabled',
    'col.kind': 'Kind',
    'col.tags': 'Tags',
    'col.id': 'ID',
    'col.title': 'Title',
    'col.type': 'Source kind',
    'col.connected': 'Connection',
    'col.lastActivity': 'Last seen',
    'col.sourceTypes': 'Source types',
    'col.user': 'User',
    'col.address': 'Address',
    'col.action': 'Action',
    'col.target': 'Target',
    'col.detail': 'Detail',
    'col.comment': 'Comment',
    'col.path': 'File',
    'col.reason': 'Reason',
    'col.ruleId': 'Rule ID',
    'col.groupKey': 'Group key',

    'sev.informational': 'Informational',
    'sev.low': 'Low',
    'sev.medium': 'Medium',
    'sev.high': 'High',
    'sev.critical': 'Critical',
    'status.new': 'New',
    'status.acknowledged': 'Acknowledged',
    'status.assigned': 'Assigned',
    'status.closed': 'Closed',

    'event.title': 'Event',
    'event.notFound': 'No such event, or it is not in your agencies.',
    'event.back': 'Back to search',
    'event.fields': 'Event fields',

    'alerts.title': 'Alerts',
    'alerts.filters': 'Alert filters',
    'alerts.rulePlaceholder': 'Rule id or title',
    'alerts.agencyPlaceholder': 'Agency name',
    'alerts.none': 'No alerts match the filters.',
    'alerts.shown': '{count} alerts',
    'alert.title': 'Alert #{id}',
    'alert.back': 'Back to the alert list',
    'alert.details': 'Details',
    'alert.triage': 'Triage',
    'alert.comment': 'Comment',
    'alert.commentHint': 'A comment for the action (optional, except when only adding a comment).',
    'alert.assignee': 'Assign to user',
    'alert.needAssignee': 'Enter the user name to assign the alert to.',
    'alert.needComment': 'Enter a comment.',
    'alert.statusLine': 'Status: {status}',
    'alert.assignedTo': 'Assignee: {user}',
    'alert.done': '"{action}" done. Status: {status}.',
    'alert.history': 'History',
    'alert.noHistory': 'No actions yet.',
    'alert.events': 'Matched events ({count})',
    'alert.noEvents': 'No events are kept with this alert.',
    'alert.searchEvents': 'Open these events in Search',
    'alert.notFound': 'No such alert, or it is not in your agencies.',
    'alert.readOnly': 'Agency viewers can look at alerts but not triage them.',
    'action.acknowledge': 'Acknowledge',
    'action.assign': 'Assign',
    'action.close': 'Close',
    'action.reopen': 'Reopen',
    'action.comment': 'Add comment',

    'rules.title': 'Detection rules',
    'rules.summary': '{count} rules loaded, {enabled} enabled',
    'rules.failures': 'Rules that did not load ({count})',
    'rules.noFailures': 'Every rule file loaded.',
    'rules.filter': 'Filter rules',
    'rules.on': 'Enabled',
    'rules.off': 'Disabled',
    'rules.toggle': 'Enable or disable rule: {title}',
    'rules.readOnly': 'Only administrators can enable or disable rules.',
    'kind.detection': 'Detection',
    'kind.correlation': 'Correlation',

    'hosts.title': 'Hosts and log sources',
    'hosts.summary': '{count} hosts, {connected} agents connected',
    'hosts.filter': 'Filter hosts',
    'hosts.agent': 'Agent',
    'hosts.syslog': 'Syslog',
    'hosts.connected': 'Connected',
    'hosts.disconnected': 'Disconnected',
    'hosts.searchHost': 'Search the events of {host}',

    'audit.title': 'Audit log',
    'audit.adminOnly': 'Only administrators can see the audit log.',
    'audit.filter': 'Filter entries',
    'audit.limit': 'Entries',
    'audit.shown': '{count} entries',
    'act.login': 'Log in',
    'act.login_failed': 'Failed login',
    'act.logout': 'Log out',
    'act.search': 'Search',
    'act.view_event': 'View event',
    'act.export': 'Export',
    'act.acknowledge': 'Acknowledge',
    'act.assign': 'Assign',
    'act.close': 'Close',
    'act.reopen': 'Reopen',
    'act.comment': 'Comment',
    'act.rule_enable': 'Enable rule',
    'act.rule_disable': 'Disable rule',
    'act.create': 'Alert raised',
    'act.created': 'Alert raised',
  },
};

let current = null;

function stored() {
  try {
    return globalThis.localStorage?.getItem(STORAGE_KEY) ?? null;
  } catch {
    return null;
  }
}

/** The current language: the saved choice, else Vietnamese. */
export function getLang() {
  if (!current) {
    const saved = stored();
    current = LANGS.includes(saved) ? saved : 'vi';
  }
  return current;
}

/** Switch language and remember the choice. */
export function setLang(lang) {
  if (!LANGS.includes(lang)) return;
  current = lang;
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, lang);
  } catch {
    // private mode: the choice lasts for this page only
  }
}

/** Translate `key`, replacing `{name}` with `params.name`. Unknown keys show as themselves. */
export function t(key, params) {
  const table = STRINGS[getLang()];
  let text = table[key] ?? STRINGS.vi[key] ?? key;
  if (params) {
    text = text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  }
  return text;
}

/** Translate `prefix + value` when there is such a key, else show the value itself. */
export function tMaybe(prefix, value) {
  if (value === null || value === undefined || value === '') return t('dash');
  const key = prefix + value;
  return key in STRINGS[getLang()] ? t(key) : String(value);
}

const pad = (n, width = 2) => String(n).padStart(width, '0');

/** `2026-11-27 15:31:02` (and `.123` when there are milliseconds), in the browser's time zone. */
export function fmtTime(value, { date = true } = {}) {
  if (value === null || value === undefined || value === '') return t('dash');
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  let text = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (d.getMilliseconds()) text += `.${pad(d.getMilliseconds(), 3)}`;
  if (date) text = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${text}`;
  return text;
}

/** A value for `<input type="datetime-local" step="1">` (local time). */
export function toLocalInput(value) {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtNumber(n) {
  if (typeof n !== 'number') return n === null || n === undefined ? t('dash') : String(n);
  return new Intl.NumberFormat(getLang()).format(n);
}

/** "5 phút trước" / "5 minutes ago". */
export function fmtRelative(value) {
  const d = new Date(value);
  if (!value || Number.isNaN(d.getTime())) return '';
  const seconds = Math.round((d.getTime() - Date.now()) / 1000);
  const rtf = new Intl.RelativeTimeFormat(getLang(), { numeric: 'auto' });
  const abs = Math.abs(seconds);
  if (abs < 60) return rtf.format(seconds, 'second');
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), 'hour');
  return rtf.format(Math.round(seconds / 86400), 'day');
}

/** A duration in milliseconds in the largest whole unit: "5 phút", "1 hour". */
export function fmtDuration(ms) {
  const units = [
    ['day', 86400000],
    ['hour', 3600000],
    ['minute', 60000],
    ['second', 1000],
    ['millisecond', 1],
  ];
  for (const [unit, size] of units) {
    if (ms >= size && ms % size === 0) {
      return new Intl.NumberFormat(getLang(), { style: 'unit', unit, unitDisplay: 'long' }).format(ms / size);
    }
  }
  return new Intl.NumberFormat(getLang(), { style: 'unit', unit: 'millisecond' }).format(ms);
}
