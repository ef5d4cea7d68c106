// A small menu button, styled like Bootstrap's dropdowns but not one of them: the Debian
// bundle ships without Popper, which Bootstrap's dropdowns need, and Bootstrap's key handler
// (on the document, in the capture phase) would take keys in any .dropdown-menu. Enter, Space or a click opens it,
// arrows move through its items, Escape or a click elsewhere closes it.
let open = null;  // {toggle, menu} of the menu shown

function close(refocus = false) {
  if (!open) return;
  const { toggle, menu } = open;
  open = null;
  menu.classList.remove('show');
  toggle.setAttribute('aria-expanded', 'false');
  if (refocus) toggle.focus();
}

function items(menu) {
  return [...menu.querySelectorAll('.dropdown-item')];
}

function show(toggle, menu) {
  close();
  menu.classList.add('show');
  toggle.setAttribute('aria-expanded', 'true');
  open = { toggle, menu };
}

// Wires `toggle` (a button) to `menu` (a .pc-menu after it, in a .pc-menu-wrap).
export function menuButton(toggle, menu) {
  toggle.setAttribute('aria-haspopup', 'true');
  toggle.setAttribute('aria-expanded', 'false');
  toggle.addEventListener('click', (e) => {
    e.stopPropagation();
    if (open && open.menu === menu) close();
    else show(toggle, menu);
  });
  toggle.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowDown') return;
    e.preventDefault();
    e.stopPropagation();
    show(toggle, menu);
    items(menu)[0]?.focus();
  });
  menu.addEventListener('keydown', (e) => {
    const list = items(menu);
    const i = list.indexOf(document.activeElement);
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = (i + (e.key === 'ArrowDown' ? 1 : -1) + list.length) % list.length;
      list[next]?.focus();
    }
  });
  // An item chosen closes the menu (its own handler runs first).
  menu.addEventListener('click', () => close());
}

document.addEventListener('click', () => close());
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') close(true);
});
