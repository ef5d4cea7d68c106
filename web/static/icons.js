// Icons for drive items, on every page that shows them (the drive, and webmail's drive
// picker).

// The kind of an item, for its icon: from the content type or, failing that, the extension.
// app.css draws each kind with an SVG of Debian's bootstrap-icons (served under /icons/).
export function kindOf(entry) {
  if (entry.type === 'folder') return 'folder';
  const type = (entry.content_type || '').toLowerCase();
  const ext = entry.name.includes('.') ? entry.name.split('.').pop().toLowerCase() : '';
  if (type.startsWith('image/')) return 'image';
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('audio/')) return 'audio';
  if (type === 'application/pdf') return 'pdf';
  if (['zip', 'tar', 'gz', '7z', 'rar'].includes(ext)) return 'archive';
  if (['xls', 'xlsx', 'ods', 'csv'].includes(ext)) return 'sheet';
  if (['ppt', 'pptx', 'odp', 'key'].includes(ext)) return 'slides';
  if (['js', 'ts', 'py', 'c', 'cc', 'cpp', 'h', 'java', 'go', 'rs', 'sh', 'json', 'html', 'css'].includes(ext)) {
    return 'code';
  }
  if (type.startsWith('text/') || ['md', 'txt', 'doc', 'docx', 'odt', 'rtf'].includes(ext)) return 'text';
  return 'file';
}

// The item's icon, hidden from screen readers (the name beside it says what it is).
export function iconFor(entry, size = '') {
  const icon = document.createElement('span');
  icon.className = `pc-icon pc-icon-${kindOf(entry)}${size ? ` pc-icon-${size}` : ''}`;
  icon.setAttribute('aria-hidden', 'true');
  icon.dataset.kind = kindOf(entry);
  return icon;
}
