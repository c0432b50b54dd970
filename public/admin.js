// Progressive enhancement for the admin pages; everything works without it.
// - A submit button with data-confirm="…" asks for a second press in place (its words
//   change for a few seconds), then posts with confirm=yes; without JavaScript the server
//   asks on a confirmation step instead.
// - A button with data-copy="ID" copies the text of #ID (the secret stays selectable).
(() => {
  const live = document.createElement('span');
  live.className = 'sr-only';
  live.setAttribute('role', 'status');
  document.body.append(live);

  const arm = (button) => {
    button.dataset.label = button.textContent;
    button.textContent = button.dataset.confirm;
    button.classList.add('armed');
    live.textContent = button.dataset.confirm;
    button.dataset.timer = setTimeout(() => disarm(button), 6000);
  };
  const disarm = (button) => {
    clearTimeout(Number(button.dataset.timer));
    button.textContent = button.dataset.label;
    button.classList.remove('armed');
    delete button.dataset.timer;
  };

  document.addEventListener('click', (event) => {
    const confirmButton = event.target.closest('button[data-confirm]');
    if (confirmButton && confirmButton.form) {
      if (!confirmButton.classList.contains('armed')) {
        event.preventDefault();
        arm(confirmButton);
        return;
      }
      const field = document.createElement('input');
      Object.assign(field, { type: 'hidden', name: 'confirm', value: 'yes' });
      confirmButton.form.append(field);
      return;
    }
    const copyButton = event.target.closest('button[data-copy]');
    if (copyButton) copy(copyButton);
  });

  const copy = async (button) => {
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    const text = source.textContent.trim();
    let done = false;
    try {
      await navigator.clipboard.writeText(text);
      done = true;
    } catch {
      // Not a secure context (plain http to a LAN address): select it and copy the old way.
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      done = document.execCommand && document.execCommand('copy');
    }
    const label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    button.textContent = done ? button.dataset.copied : button.dataset.failed;
    live.textContent = button.textContent;
    setTimeout(() => { button.textContent = label; }, 2500);
  };

  for (const button of document.querySelectorAll('button[data-copy]')) button.hidden = false;
})();
